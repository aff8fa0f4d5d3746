"""The low-level calls, driven as `dnic train` drives them, give the
command line's parameters bit for bit: same seed, same batches (BatchOrder),
same optimizers, one thread."""
import numpy as np
import pytest
from safetensors.numpy import load_file

import dnic


def train_like_cli(X, y, rule, steps, seed, schedule="locked", batch=64, lr=1e-3, batchnorm=False):
    net = dnic.Network(X.shape[1], [(32, "relu", batchnorm)] * 3, 3, max_batch=batch, seed=seed)
    net.set_optimizer("adam", lr)
    dni = dnic.DNI(net, rule, seed=seed)
    dni.set_interface_optimizer("adam", lr)
    order = dnic.BatchOrder(X.shape[0], batch, seed=seed)
    if schedule == "locked":
        for _ in range(steps):
            rows = order.next()
            dni.train_step(X[rows], y[rows])
    else:
        with dnic.Pipeline(dni, schedule) as pipe:
            for _ in range(steps):
                rows = order.next()
                pipe.tick(X[rows], y[rows])
    return net


@pytest.mark.parametrize("rule,schedule,lr,batchnorm", [
    ("backprop", "locked", 1e-3, False), ("sg", "locked", 1e-3, False), ("sg", "locked", 1e-3, True),
    ("sgprop", "locked", 1e-3, False), ("dfa", "locked", 1e-3, True),
    ("sg", "pipeline", 5e-4, False),  # the default rate of 2 unlocked blocks: 1e-3 / 2
])
def test_parameters_equal_the_command_lines(cli, npy_data, tmp_path, rule, schedule, lr, batchnorm):
    (X, y, _, _), spec = npy_data
    steps = 25  # crosses an epoch boundary (10 batches of 64 rows, the last of 24)
    cli(["train", "--data", spec, "--hidden", "3", "--width", "32", "--rule", rule, "--schedule", schedule,
         "--batchnorm" if batchnorm else "--no-batchnorm",
         "--steps", steps, "--seed", 7, "--threads", 1, "--save", "m.st", "--quiet"], tmp_path)
    theirs = load_file(str(tmp_path / "m.st"))
    ours = train_like_cli(X, y, rule, steps, seed=7, schedule=schedule, lr=lr, batchnorm=batchnorm).parameters()
    assert set(ours) == {k for k in theirs if k.startswith("layer")}
    for name, value in ours.items():
        np.testing.assert_array_equal(value, theirs[name].reshape(value.shape), err_msg=name)
