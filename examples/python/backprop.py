#!/usr/bin/env python3
"""examples/python/backprop.py -- a dnic classifier the scikit-learn way.

    python3 examples/python/backprop.py [seed]

Needs the dnic package (pip install ./python). The task is "XOR blobs":
four Gaussian blobs at the corners of a square, opposite corners sharing a
class, so the hidden layers matter. A scikit-learn pipeline scales the
inputs and trains dnic.DNIClassifier with plain backprop (2 -> 32 relu ->
32 relu -> 2, Adam); the script prints the test accuracy and exits
non-zero if it is below MIN_TEST_ACCURACY.
"""
import sys

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import dnic

MIN_TEST_ACCURACY = 0.95


def xor_blobs(n_per_blob, rng):
    corners = np.array([[-2, -2], [2, 2], [-2, 2], [2, -2]], dtype=np.float32)
    y = np.repeat([0, 0, 1, 1], n_per_blob)
    X = corners[np.repeat(np.arange(4), n_per_blob)] + rng.normal(scale=0.7, size=(4 * n_per_blob, 2))
    return X.astype(np.float32), np.array(["same", "other"])[y]  # labels of any kind


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    X, y = xor_blobs(150, np.random.default_rng(seed))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=seed)
    model = make_pipeline(StandardScaler(),
                          dnic.DNIClassifier(rule="backprop", hidden=2, width=32, epochs=30, lr=1e-2, batch_size=32,
                                             seed=seed))
    model.fit(X_train, y_train)
    accuracy = model.score(X_test, y_test)
    print("dnic %s, backprop through DNIClassifier: test accuracy %.4f" % (dnic.core_version(), accuracy))
    if accuracy < MIN_TEST_ACCURACY:
        sys.exit("backprop.py: FAIL test accuracy %.4f < %.2f" % (accuracy, MIN_TEST_ACCURACY))
    print("OK test accuracy %.4f >= %.2f" % (accuracy, MIN_TEST_ACCURACY))


if __name__ == "__main__":
    main()
