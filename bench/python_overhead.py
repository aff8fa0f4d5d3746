"""One epoch of Fashion-MNIST through the Python package (784-256-256-256-10
relu, Adam, batch 64, the rule given): its low-level loop, timed around the
loop alone, or (third argument "classifier") DNIClassifier.fit, timed whole
(input checks included); prints "samples/s N". Run by
bench/python_overhead.sh."""
import gzip
import sys
import time

import numpy as np

import dnic

rule = sys.argv[1] if len(sys.argv) > 1 else "sg"
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
mode = sys.argv[3] if len(sys.argv) > 3 else "loop"
root = "/usr/share/datasets/fashion-mnist/"
with gzip.open(root + "train-images-idx3-ubyte.gz") as f:
    X = (np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784) / np.float32(255)).astype(np.float32)
with gzip.open(root + "train-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read(), dtype=np.uint8, offset=8).astype(np.int32)
dnic.set_num_threads(threads)
if mode == "classifier":
    model = dnic.DNIClassifier(rule=rule, epochs=1, seed=1)
    start = time.perf_counter()
    model.fit(X, y)
    print("samples/s %d" % (X.shape[0] / (time.perf_counter() - start)))
    sys.exit(0)
net = dnic.Network(784, [256, 256, 256], 10, max_batch=64, seed=1)
net.set_optimizer("adam", 1e-3)
trainer = dnic.DNI(net, rule, seed=1)
trainer.set_interface_optimizer("adam", 1e-3)
order = dnic.BatchOrder(X.shape[0], 64, seed=1)
start = time.perf_counter()
for _ in range(order.steps_per_epoch):
    rows = order.next()
    trainer.train_step(X[rows], y[rows])
seconds = time.perf_counter() - start
print("samples/s %d" % (X.shape[0] / seconds))
