"""One PyTorch measurement: python3 worker_torch.py WORKLOAD RULE BATCH THREADS STEPS
prints samples/s and the loss on a fixed probe batch after training (the
same as JAX's: a check that both do the same work). Eager mode,
torch.set_num_threads(THREADS)."""
import sys
import time

import numpy as np
import torch

import workload as wl

name, rule, batch, threads, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
torch.manual_seed(1)
x_np, y_np = wl.data()
x, y = torch.from_numpy(x_np), torch.from_numpy(y_np).long()
params = []
for W, b in wl.init(name):
    params += [torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)]
k = wl.boundary(name) if rule == "sg" else None
sg = [torch.zeros(wl.WIDTH, wl.WIDTH, requires_grad=True), torch.zeros(wl.CLASSES, wl.WIDTH, requires_grad=True),
      torch.zeros(wl.WIDTH, requires_grad=True)] if rule == "sg" else []
opt = torch.optim.SGD(params + sg, lr=wl.LR)
n_layers = len(params) // 2


def block(h, lo, hi):
    for i in range(lo, hi):
        h = h @ params[2 * i] + params[2 * i + 1]
        if i < n_layers - 1:
            h = torch.relu(h)
    return h


def step(idx):
    xb, yb = x[idx], y[idx]
    opt.zero_grad(set_to_none=False)
    if rule == "backprop":
        torch.nn.functional.cross_entropy(block(xb, 0, n_layers), yb).backward()
    else:
        h = block(xb, 0, k)
        hd = h.detach().requires_grad_()
        torch.nn.functional.cross_entropy(block(hd, k, n_layers), yb).backward()
        target = hd.grad * len(idx)  # the per-example gradient at h
        s = hd.detach() @ sg[0] + sg[1][yb] + sg[2]
        (0.5 * ((s - target) ** 2).sum(1).mean()).backward()
        h.backward(s.detach() / len(idx))
    opt.step()


batches = wl.batches(batch)
for _ in range(10):
    step(torch.from_numpy(next(batches)))
t0 = time.perf_counter()
for _ in range(steps):
    step(torch.from_numpy(next(batches)))
rate = batch * steps / (time.perf_counter() - t0)
with torch.no_grad():  # the loss on the first 256 rows: PyTorch and JAX do the same steps, so these agree
    probe = torch.nn.functional.cross_entropy(block(x[:256], 0, n_layers), y[:256]).item()
print(rate, probe)
