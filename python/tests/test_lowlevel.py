"""The low level on its own: shapes, memory shared without copies, the
rules and schedules training, and every misuse raising an exception whose
message says what was wrong."""
import math

import numpy as np
import pytest

import dnic
from dnic import _core

from conftest import blobs


def small(rule="sg", hidden=3, seed=1, **kw):
    net = dnic.Network(6, [16] * hidden, 3, max_batch=32, seed=seed)
    net.set_optimizer("adam", 1e-2)
    dni = dnic.DNI(net, rule, seed=seed, **kw)
    dni.set_interface_optimizer("adam", 1e-2)
    return net, dni


def train(step, X, y, epochs=5, batch=32, seed=1):
    order = dnic.BatchOrder(X.shape[0], batch, seed=seed)
    for _ in range(epochs * order.steps_per_epoch):
        rows = order.next()
        step(X[rows], y[rows])


def test_shapes_and_parameter_names():
    net = dnic.Network(6, [(16, "tanh", True), 8], 3, seed=2)
    assert (net.input_dim, net.output_dim, net.num_layers, net.classes) == (6, 3, 3, 3)
    p = net.parameters()
    assert p["layer0.weight"].shape == (6, 16) and p["layer2.weight"].shape == (8, 3)
    assert {"layer0.bn.gamma", "layer0.bn.running_mean"} <= set(p) and "layer1.bn.gamma" not in p


def test_input_that_is_already_float32_c_order_is_not_copied():
    X = np.ones((4, 6), dtype=np.float32)
    assert _core.features(X, 6) is X
    F = np.asfortranarray(np.ones((4, 6), dtype=np.float32))
    assert not np.shares_memory(_core.features(F, 6), F)  # converted once, as it must be
    assert _core.features(np.ones((4, 6)), 6).dtype == np.float32


def test_parameters_are_the_networks_own_memory():
    net = dnic.Network(6, [16], 3, seed=2)
    X = np.ones((2, 6), dtype=np.float32)
    before = net.outputs(X).copy()
    net.parameters()["layer1.bias"][:] = 5.0  # written through the view
    np.testing.assert_allclose(net.outputs(X) - before, 5.0, rtol=1e-6)
    weights = net.parameters()["layer0.weight"]
    del net  # the view keeps the network alive
    assert np.isfinite(weights).all() and weights.shape == (6, 16)


@pytest.mark.parametrize("rule", sorted(dnic.RULES))
def test_every_rule_learns_blobs(rule):
    X, y = blobs(800, seed=3)
    net, dni = small(rule, seed=3)
    before = net.evaluate(X, y)[1]
    train(dni.train_step, X, y, epochs=8)
    loss, accuracy = net.evaluate(X, y)
    assert accuracy > max(0.8, before), (rule, before, accuracy)
    assert math.isfinite(loss)


def test_sg_interface_losses_and_alignment():
    X, y = blobs(400, seed=4)
    net, dni = small("sg", track_alignment=True, seed=4)
    assert dni.boundaries == [2]
    train(dni.train_step, X, y, epochs=3)
    (loss,), (cosine,) = dni.interface_losses, dni.alignments
    assert math.isfinite(loss) and -1 <= cosine <= 1


@pytest.mark.parametrize("schedule", ["pipeline", "async"])
def test_unlocked_schedules_train(schedule):
    X, y = blobs(800, seed=5)
    net, dni = small("sg", seed=5)
    with dnic.Pipeline(dni, schedule, queue=2) as pipe:
        assert pipe.num_blocks == 2
        train(pipe.tick, X, y, epochs=8)
        pipe.flush()
        steps = pipe.block_steps()
    assert steps == [8 * 25, 8 * 25]
    assert net.evaluate(X, y)[1] > 0.8


def test_predict_and_probabilities_any_number_of_rows():
    X, y = blobs(100, seed=6)
    net, dni = small("backprop", seed=6)
    train(dni.train_step, X, y)
    many = np.repeat(X, 3, axis=0)  # 300 rows > max_batch 32
    p = net.predict_proba(many)
    assert p.shape == (300, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(net.predict(many), p.argmax(axis=1))
    loss, accuracy = net.evaluate(X, y)
    assert accuracy == np.mean(net.predict(X) == y)
    assert net.predict(np.empty((0, 6), dtype=np.float32)).shape == (0,)


@pytest.mark.parametrize("X,words", [
    (np.ones(6), "must be 2-D"),
    (np.ones((4, 5)), "has 5 features; the network takes 6"),
    (np.array([["a"] * 6] * 4), "must hold numbers"),
    (np.array([[None] * 6] * 4), "must hold numbers"),
    (np.full((4, 6), np.nan), "NaN or infinity"),
    (np.ones((4, 6)) * 1j, "must be real"),
])
def test_bad_features_raise_value_error_saying_why(X, words):
    net = dnic.Network(6, [8], 3)
    with pytest.raises(ValueError, match=words):
        net.train_step(X, np.zeros(len(X), dtype=np.int32))


@pytest.mark.parametrize("y,words", [
    (np.array([0, 1, 3, 0]), "holds 3, outside the 3 classes"),
    (np.array([0, 1, -1, 0]), "holds -1, outside the 3 classes"),
    (np.array([0.5, 1, 1, 0]), "integer class indices"),
    (np.zeros(3, dtype=int), "one per row of X"),
    (np.zeros((4, 1), dtype=int), "must be 1-D"),
])
def test_bad_labels_raise_value_error_saying_why(y, words):
    net = dnic.Network(6, [8], 3)
    with pytest.raises(ValueError, match=words):
        net.train_step(np.ones((4, 6)), y)


def test_core_refusals_carry_the_cores_words():
    net = dnic.Network(6, [8], 3, max_batch=4)
    with pytest.raises(dnic.DnicValueError, match="train_step: .*max_batch") as caught:
        net.train_step(np.ones((5, 6)), np.zeros(5, dtype=np.int32))
    assert caught.value.status == "DNIC_ERR_BATCH_TOO_LARGE"
    with pytest.raises(dnic.DnicValueError, match=r"Network: .*max_batch = 0") as caught:
        dnic.Network(6, [8], 3, max_batch=0)  # the core's own detail names the field and its value
    assert caught.value.status == "DNIC_ERR_SIZE" and "max_batch" in dnic.last_error()
    with pytest.raises(ValueError, match="activation 'swish' is not one of identity, relu, sigmoid, tanh"):
        dnic.Network(6, [(8, "swish", False)], 3)
    with pytest.raises(ValueError, match="rule 'sgd' is not one of"):
        dnic.DNI(net, "sgd")
    with pytest.raises(ValueError, match="'mid' needs at least 2 hidden layers"):
        dnic.DNI(net, "sg")
    three = dnic.Network(6, [8, 8, 8], 3)
    with pytest.raises(ValueError, match=r"sg_at 3: a boundary must lie after hidden layer 1 \.\.\. 2, below the last"):
        dnic.DNI(three, "sg", at=[3])  # as dnic train --sg-at 3 refuses it


def test_calls_out_of_order_raise_runtime_errors():
    X, y = blobs(64, seed=7)
    net, dni = small("sg", seed=7)
    pipe = dnic.Pipeline(dni)
    with pytest.raises(dnic.DnicStateError) as caught:
        dni.train_step(X[:32], y[:32])  # the pipeline holds the blocks
    assert caught.value.status == "DNIC_ERR_STATE"
    with pytest.raises(dnic.DnicStateError):
        dnic.Pipeline(dni)  # a second pipeline on the same DNI
    pipe.close()
    pipe.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        pipe.tick(X[:32], y[:32])
    dni.train_step(X[:32], y[:32])  # the DNI is its own again


def test_batch_order_is_a_permutation_per_epoch():
    order = dnic.BatchOrder(10, 4, seed=3)
    epoch = np.concatenate([order.next().copy() for _ in range(order.steps_per_epoch)])
    assert sorted(epoch) == list(range(10)) and order.steps_per_epoch == 3
    again = dnic.BatchOrder(10, 4, seed=3)
    np.testing.assert_array_equal(again.next(), epoch[:4])


def test_one_openmp_runtime_serves_dnic_and_its_gemm_libraries():
    """The GEMM libraries dnic loads (oneDNN, OpenBLAS: built for libgomp)
    bind to the libomp libdnic brings, as in the command line: training on
    2 threads starts no thread pool beside the one set_num_threads started
    (a second runtime spun against it and ran 2 threads 20x slower)."""
    import subprocess
    import sys
    script = (
        "import os, numpy as np, dnic\n"
        "dnic.set_num_threads(2)\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "net = dnic.Network(64, [256, 256], 10, max_batch=64)\n"
        "for _ in range(5): net.train_step(np.ones((64, 64), np.float32), np.zeros(64, np.int32))\n"
        "print(before, len(os.listdir('/proc/self/task')))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == out[1], "threads before and after training: %s" % out


@pytest.mark.parametrize("value", ["", "abc", "-1", "2,abc", "99999"])
def test_junk_thread_counts_in_the_environment_warn_once_and_train(value):
    """libomp aborts the process on these (an assertion in its settings
    parser) and libgomp prints lines of its own: the package fixes the
    variable at import, with one warning, as the command line does."""
    import os
    import subprocess
    import sys
    script = ("import numpy as np, dnic\n"
              "net = dnic.Network(8, [16], 2)\n"
              "net.train_step(np.ones((4, 8)), np.zeros(4, np.int32))\n"
              "print('trained')\n")
    env = dict(os.environ, OMP_NUM_THREADS=value)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and done.stdout == "trained\n", done.stderr
    assert "OMP_NUM_THREADS" in done.stderr and done.stderr.count("RuntimeWarning") == 1, done.stderr
    for foreign in ("OMP:", "libgomp:", "Assertion"):
        assert foreign not in done.stderr, done.stderr


def test_environment_cleaning_rules():
    from dnic import _environment
    env = {"OMP_NUM_THREADS": " 2 , 1 ", "OMP_THREAD_LIMIT": "x"}
    with pytest.warns(RuntimeWarning, match="OMP_THREAD_LIMIT='x' is not a thread count"):
        _environment.clean(env, cpus=4)
    assert env == {"OMP_NUM_THREADS": "2,1"}
    env = {"OMP_NUM_THREADS": "8,2"}
    with pytest.warns(RuntimeWarning, match="more than the 4 CPUs"):
        _environment.clean(env, cpus=4)
    assert env == {"OMP_NUM_THREADS": "4,2"}
