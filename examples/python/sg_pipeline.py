#!/usr/bin/env python3
"""examples/python/sg_pipeline.py -- synthetic gradients, blocks in parallel.

    python3 examples/python/sg_pipeline.py [seed]

Needs the dnic package (pip install ./python). The same XOR blobs as
backprop.py, on the low-level API: a network of three hidden layers cut in
two blocks by a synthetic-gradient interface (a cDNI after hidden layer
2), trained by the pipeline schedule: at every tick the lower block learns
from the interface's predicted gradient while the upper block works on the
previous batch. Prints the test accuracy and each block's busy and waiting
time; exits non-zero if the accuracy is below MIN_TEST_ACCURACY.
"""
import sys

import numpy as np

import dnic

MIN_TEST_ACCURACY = 0.95


def xor_blobs(n_per_blob, rng):
    corners = np.array([[-2, -2], [2, 2], [-2, 2], [2, -2]], dtype=np.float32)
    y = np.repeat([0, 0, 1, 1], n_per_blob).astype(np.int32)
    X = corners[np.repeat(np.arange(4), n_per_blob)] + rng.normal(scale=0.7, size=(4 * n_per_blob, 2))
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order]


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    X, y = xor_blobs(150, np.random.default_rng(seed))
    X_train, y_train, X_test, y_test = X[:480], y[:480], X[480:], y[480:]

    net = dnic.Network(2, [32, 32, 32], 2, max_batch=32, seed=seed)   # relu, softmax cross-entropy
    net.set_optimizer("adam", 5e-3)
    sg = dnic.DNI(net, "sg", at=[2], seed=seed)                         # the cDNI after hidden layer 2
    sg.set_interface_optimizer("adam", 5e-3)
    order = dnic.BatchOrder(len(X_train), 32, seed=seed)
    with dnic.Pipeline(sg, "pipeline") as pipe:
        for _ in range(40 * order.steps_per_epoch):
            rows = order.next()
            pipe.tick(X_train[rows], y_train[rows])
        pipe.flush()
        stats = pipe.block_stats()
    # leaving the `with` block handed the network the blocks' parameters
    loss, accuracy = net.evaluate(X_test, y_test)
    print("sg, pipeline: test accuracy %.4f (loss %.4f)" % (accuracy, loss))
    for s, (busy, wait) in enumerate(stats):
        print("  block %d: %.3f s computing, %.3f s waiting" % (s, busy, wait))
    if accuracy < MIN_TEST_ACCURACY:
        sys.exit("sg_pipeline.py: FAIL test accuracy %.4f < %.2f" % (accuracy, MIN_TEST_ACCURACY))
    print("OK test accuracy %.4f >= %.2f" % (accuracy, MIN_TEST_ACCURACY))


if __name__ == "__main__":
    main()
