"""One JAX measurement: python3 worker_jax.py WORKLOAD RULE BATCH THREADS STEPS
prints samples/s and the loss on a fixed probe batch after training. The whole step (gather, forward, backward, SGD) is one
jitted function; the thread count is set before jax loads (XLA_FLAGS) and
by the cores compare.py pins it to."""
import os
import sys
import time

name, rule, batch, threads, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
# XLA's CPU backend runs its Eigen pool on the cores taskset gives it (the
# caller pins THREADS cores); with one thread, no pool at all
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           f" --xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'}")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import workload as wl  # noqa: E402

x_np, y_np = wl.data()
x, y = jnp.asarray(x_np), jnp.asarray(y_np)
params = [tuple(map(jnp.asarray, layer)) for layer in wl.init(name)]
n_layers = len(params)
k = wl.boundary(name)


def block(ps, h, last):
    for i, (W, b) in enumerate(ps):
        h = h @ W + b
        if not (last and i == len(ps) - 1):
            h = jax.nn.relu(h)
    return h


def ce(logits, yb):
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], axis=1))


@jax.jit
def step_backprop(ps, idx):
    xb, yb = x[idx], y[idx]
    grads = jax.grad(lambda p: ce(block(p, xb, True), yb))(ps)
    return jax.tree_util.tree_map(lambda p, g: p - wl.LR * g, ps, grads)


@jax.jit
def step_sg(state, idx):
    ps, (A, B, C) = state
    xb, yb = x[idx], y[idx]
    lower, upper = ps[:k], ps[k:]
    h, lower_vjp = jax.vjp(lambda p: block(p, xb, False), lower)
    g_upper, g_h = jax.grad(lambda p, hh: ce(block(p, hh, True), yb), argnums=(0, 1))(upper, h)
    target = g_h * idx.shape[0]
    onehot = jax.nn.one_hot(yb, wl.CLASSES)
    sg_loss = lambda sgp: 0.5 * jnp.mean(jnp.sum((h @ sgp[0] + onehot @ sgp[1] + sgp[2] - target) ** 2, axis=1))
    g_sg = jax.grad(sg_loss)((A, B, C))
    s = h @ A + onehot @ B + C
    (g_lower,) = lower_vjp(s / idx.shape[0])
    upd = lambda p, g: p - wl.LR * g
    return (jax.tree_util.tree_map(upd, lower + upper, list(g_lower) + list(g_upper)),
            jax.tree_util.tree_map(upd, (A, B, C), g_sg))


if rule == "backprop":
    state, step = params, step_backprop
else:
    z = jnp.zeros
    state, step = (params, (z((wl.WIDTH, wl.WIDTH)), z((wl.CLASSES, wl.WIDTH)), z(wl.WIDTH))), step_sg
batches = wl.batches(batch)
for _ in range(10):
    state = step(state, jnp.asarray(next(batches)))
jax.block_until_ready(state)
t0 = time.perf_counter()
for _ in range(steps):
    state = step(state, jnp.asarray(next(batches)))
jax.block_until_ready(state)
rate = batch * steps / (time.perf_counter() - t0)
ps = state if rule == "backprop" else state[0]
print(rate, float(ce(block(ps, x[:256], True), y[:256])))
