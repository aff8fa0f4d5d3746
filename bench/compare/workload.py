"""The workloads every framework runs, defined once so that dnic, PyTorch
and JAX do the same work per step (see README.md in this folder).

W1: 784-256-256-256-10 relu; W2: 20 hidden layers x 256 relu (784 in, 10
out). Softmax cross-entropy, plain SGD lr 0.01, He-uniform init. Data:
60,000 x 784 uniform [0, 1) with 10 random classes, seeded, resident in
memory; every step gathers its batch from a fresh permutation each epoch,
as dnic does. Rule "backprop" is the plain network; "sg" places one linear
conditioned synthetic gradient (cDNI: s = hA + onehot(y)B + C, zero at
the start) after hidden layer ceil(H/2): the upper block learns from the
loss, the SG from the gradient the upper block sends to h (per example,
l2 loss), the lower block from s / batch, as dnic's locked schedule does.
"""
import numpy as np

WORKLOADS = {"w1": 3, "w2": 20}
INPUT, WIDTH, CLASSES, ROWS, LR = 784, 256, 10, 60_000, 0.01


def hidden_layers(workload):
    return WORKLOADS[workload]


def boundary(workload):
    """Hidden layers below the SG (dnic's --sg-at mid: ceil(H/2))."""
    return (hidden_layers(workload) + 1) // 2


def data(seed=2026):
    rng = np.random.default_rng(seed)
    x = rng.random((ROWS, INPUT), dtype=np.float32)
    y = rng.integers(0, CLASSES, ROWS).astype(np.int32)
    return x, y


def init(workload, seed=1):
    """[(W, b)] for every layer, He-uniform weights, zero biases."""
    rng = np.random.default_rng(seed)
    dims = [INPUT] + [WIDTH] * hidden_layers(workload) + [CLASSES]
    layers = []
    for fan_in, fan_out in zip(dims[:-1], dims[1:]):
        bound = np.sqrt(6.0 / fan_in)
        layers.append((rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                       np.zeros(fan_out, np.float32)))
    return layers


def batches(batch, seed=7):
    """Endless batch index arrays, a new permutation every epoch."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(ROWS).astype(np.int64)
        for start in range(0, ROWS - batch + 1, batch):
            yield order[start:start + batch]


def flops(workload, rule, batch):
    """GEMM FLOPs of one step (forward, backward, SG), as dnic counts them."""
    dims = [INPUT] + [WIDTH] * hidden_layers(workload) + [CLASSES]
    total = 0
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        total += 2 * batch * a * b * (2 if i == 0 else 3)
    if rule == "sg":
        total += 2 * 2 * batch * WIDTH * WIDTH
    return total
