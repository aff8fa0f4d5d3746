"""One checkpoint format: `dnic train --save`'s files load in Python with
every tensor and counter, Python's save() is read by `dnic eval` and
continued by `dnic train --resume` bit for bit, and garbled files are
refused with a ValueError naming the problem."""
import hashlib
import json
import re

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

import dnic

SPEC = "npy:X.npy,y.npy,Xt.npy,yt.npy"

# (flags of dnic train, the same run's rule and settings in Python)
RUNS = {
    "backprop": (["--rule", "backprop", "--no-batchnorm"], dict(rule="backprop", batchnorm=False)),
    "sg": (["--rule", "sg", "--no-batchnorm"], dict(rule="sg", batchnorm=False)),
    "sg-bn": (["--rule", "sg", "--batchnorm"], dict(rule="sg", batchnorm=True)),
    "sgprop": (["--rule", "sgprop", "--no-batchnorm"], dict(rule="sgprop", batchnorm=False)),
    "fa": (["--rule", "fa", "--no-batchnorm"], dict(rule="fa", batchnorm=False)),
    "dfa": (["--rule", "dfa", "--batchnorm"], dict(rule="dfa", batchnorm=True)),
    "kickback": (["--rule", "kickback", "--no-batchnorm"], dict(rule="kickback", batchnorm=False)),
    "sg-at-1,2": (["--rule", "sg", "--no-batchnorm", "--sg-at", "1,2"], dict(rule="sg", batchnorm=False, at=[1, 2])),
    "sg-mlp": (["--rule", "sg", "--no-batchnorm", "--sg-kind", "mlp", "--sg-hidden", "16", "--sg-batchnorm"],
               dict(rule="sg", batchnorm=False, kind="mlp", mlp_hidden=(16,), mlp_batchnorm=True)),
}


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Relative --data files name tmp_path's, in Python as for the command line."""
    monkeypatch.chdir(tmp_path)


def cli_train(cli, cwd, run, steps, save="m.st"):
    flags, _ = RUNS[run]
    cli(["train", "--data", SPEC, "--hidden", 3, "--width", 32, "--steps", steps, "--seed", 7, "--threads", 1,
         "--save", save, "--quiet"] + flags, cwd)
    return cwd / save


def python_run(X, y, run, steps, seed=7, batch=64, lr=1e-3, interface_optimizer=("adam", 1e-3)):
    """The same run as cli_train, in Python: (network, dni or None, order)."""
    _, s = RUNS[run]
    s = dict(s)
    rule, batchnorm = s.pop("rule"), s.pop("batchnorm")
    net = dnic.Network(X.shape[1], [(32, "relu", batchnorm)] * 3, 3, max_batch=batch, seed=seed)
    net.set_optimizer("adam", lr)
    dni = None if rule == "backprop" else dnic.DNI(net, rule, seed=seed, **s)
    if dni is not None:
        dni.set_interface_optimizer(*interface_optimizer)
    order = dnic.BatchOrder(X.shape[0], batch, seed=seed)
    for _ in range(steps):
        rows = order.next()
        (dni or net).train_step(X[rows], y[rows])
    return net, dni, order


def tensors_of(network, dni):
    """Every tensor of a run by its checkpoint name, as the file stores it."""
    out = {}
    state = network.optimizer_state()
    for name, value in network.parameters().items():
        out[name] = value
        if name in state["m"]:
            out["optimizer.m." + name], out["optimizer.v." + name] = state["m"][name], state["v"][name]
    for k in ([] if dni is None else dni.boundaries):
        istate = dni.interface_optimizer_state(k)
        for name, value in dni.interface_parameters(k).items():
            out["interface%d.%s" % (k, name)] = value
            if name in istate["m"]:
                out["optimizer.m.interface%d.%s" % (k, name)] = istate["m"][name]
                out["optimizer.v.interface%d.%s" % (k, name)] = istate["v"][name]
    return out


def assert_same_tensors(file_tensors, network, dni):
    ours = tensors_of(network, dni)
    assert set(ours) == set(file_tensors) - {"pipeline.inflight"}
    for name, value in ours.items():
        np.testing.assert_array_equal(value, file_tensors[name].reshape(value.shape), err_msg=name)


def printed_score(stdout):
    """(accuracy, loss) as `dnic eval` prints them."""
    m = re.search(r"test accuracy (\d\.\d{4}) \(test loss (\d+\.\d{4})", stdout)
    assert m, stdout
    return m.group(1), m.group(2)


def steps_of(path):
    with safe_open(str(path), "np") as f:
        m = f.metadata()
    return m["step"], m["optimizer_step"], m["interface_steps"]


# -- command line -> Python -------------------------------------------------------

@pytest.mark.parametrize("run", sorted(RUNS))
def test_a_cli_checkpoint_loads_with_every_tensor_and_scores_the_same(cli, npy_data, tmp_path, run):
    (_, _, Xt, yt), _ = npy_data
    path = cli_train(cli, tmp_path, run, steps=30)
    loaded = dnic.checkpoint.load(path)
    assert (loaded.dni is None) == (run == "backprop")
    assert_same_tensors(load_file(str(path)), loaded.network, loaded.dni)
    step, optimizer_step, interface_steps = steps_of(path)
    assert loaded.step == int(step) == 30 and loaded.network.step == int(optimizer_step)
    if loaded.dni is not None:
        top_first = sorted(loaded.dni.boundaries, reverse=True)
        assert ",".join(str(loaded.dni.interface_step(k)) for k in top_first) == interface_steps
    assert loaded.classes == 3 and loaded.config["interfaces"]["rule"] == RUNS[run][1]["rule"]
    loss, accuracy = loaded.network.evaluate(Xt, yt)
    theirs = printed_score(cli(["eval", "--checkpoint", path, "--data", SPEC, "--threads", 1], tmp_path).stdout)
    assert ("%.4f" % accuracy, "%.4f" % loss) == theirs


def test_a_cli_pipeline_checkpoint_loads_with_the_blocks_values(cli, npy_data, tmp_path):
    (_, _, Xt, yt), _ = npy_data
    cli(["train", "--data", SPEC, "--hidden", 3, "--width", 32, "--rule", "sg", "--schedule", "pipeline", "--steps", 25,
         "--seed", 7, "--threads", 1, "--save", "m.st", "--quiet"], tmp_path)
    loaded = dnic.checkpoint.load(tmp_path / "m.st")
    assert loaded.config["training"]["schedule"] == "pipeline"
    assert_same_tensors(load_file(str(tmp_path / "m.st")), loaded.network, loaded.dni)
    loss, accuracy = loaded.network.evaluate(Xt, yt)
    theirs = printed_score(cli(["eval", "--checkpoint", "m.st", "--data", SPEC, "--threads", 1], tmp_path).stdout)
    assert ("%.4f" % accuracy, "%.4f" % loss) == theirs


# -- Python -> command line -------------------------------------------------------

@pytest.mark.parametrize("run", ["backprop", "sg", "dfa", "sg-mlp"])
def test_a_python_checkpoint_scores_the_same_in_dnic_eval(cli, npy_data, tmp_path, run):
    (X, y, Xt, yt), _ = npy_data
    net, dni, order = python_run(X, y, run, steps=25)
    dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order, data=SPEC)
    loss, accuracy = net.evaluate(Xt, yt)
    done = cli(["eval", "--checkpoint", "p.st", "--data", SPEC, "--threads", 1], tmp_path)
    assert printed_score(done.stdout) == ("%.4f" % accuracy, "%.4f" % loss)
    assert done.stderr == ""   # the data is recognised as the run's: no warning


@pytest.mark.parametrize("run", sorted(RUNS))
@pytest.mark.parametrize("saved_at", [25, 30])   # mid-epoch, and at an epoch's end (10 batches an epoch)
def test_dnic_train_resume_continues_a_python_run_bit_for_bit(cli, npy_data, tmp_path, run, saved_at):
    (X, y, _, _), _ = npy_data
    net, dni, order = python_run(X, y, run, steps=saved_at)
    dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order, data=SPEC, config={"training": {"steps": saved_at}})
    cli(["train", "--resume", "p.st", "--steps", 45, "--threads", 1, "--save", "r.st", "--quiet"], tmp_path)
    straight_net, straight_dni, _ = python_run(X, y, run, steps=45)
    assert_same_tensors(load_file(str(tmp_path / "r.st")), straight_net, straight_dni)
    step, optimizer_step, interface_steps = steps_of(tmp_path / "r.st")
    assert (int(step), int(optimizer_step)) == (45, straight_net.step)
    if straight_dni is not None:
        top_first = sorted(straight_dni.boundaries, reverse=True)
        assert interface_steps == ",".join(str(straight_dni.interface_step(k)) for k in top_first)


def test_interfaces_with_an_optimizer_of_their_own_resume_bit_for_bit(cli, npy_data, tmp_path):
    """interfaces.optimizer is written when it is not the network's."""
    (X, y, _, _), _ = npy_data
    net, dni, order = python_run(X, y, "sg", steps=25, interface_optimizer=("momentum", 0.02))
    dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order, data=SPEC)
    assert dnic.checkpoint.load(tmp_path / "p.st").config["interfaces"]["optimizer"]["kind"] == "momentum"
    cli(["train", "--resume", "p.st", "--steps", 40, "--threads", 1, "--quiet"], tmp_path)
    straight_net, straight_dni, _ = python_run(X, y, "sg", steps=40, interface_optimizer=("momentum", 0.02))
    assert_same_tensors(load_file(str(tmp_path / "p.st")), straight_net, straight_dni)


def test_a_one_output_logistic_network_round_trips_and_scores_the_same(cli, npy_data, tmp_path):
    """Its output weight (32, 1) is stored 2-D, as the command line stores it."""
    (X, y, Xt, yt), _ = npy_data
    y, yt = (y > 0).astype(np.int32), (yt > 0).astype(np.int32)
    np.save(tmp_path / "yb.npy", y)
    np.save(tmp_path / "ytb.npy", yt)
    net = dnic.Network(X.shape[1], [32, 32], 1, loss="logistic", max_batch=64, seed=3)
    net.set_optimizer("adam", 1e-3)
    order = dnic.BatchOrder(X.shape[0], 64, seed=3)
    for _ in range(15):
        rows = order.next()
        net.train_step(X[rows], y[rows])
    spec = "npy:X.npy,yb.npy,Xt.npy,ytb.npy"
    dnic.checkpoint.save(tmp_path / "p.st", net, order=order, data=spec)
    assert load_file(str(tmp_path / "p.st"))["layer2.weight"].shape == (32, 1)
    loaded = dnic.checkpoint.load(tmp_path / "p.st")
    assert loaded.classes == 2
    np.testing.assert_array_equal(loaded.network.outputs(Xt), net.outputs(Xt))
    loss, accuracy = net.evaluate(Xt, yt)
    done = cli(["eval", "--checkpoint", "p.st", "--data", spec, "--threads", 1], tmp_path)
    assert printed_score(done.stdout) == ("%.4f" % accuracy, "%.4f" % loss)


def test_dnic_analyze_reads_a_python_checkpoint(cli, npy_data, tmp_path):
    (X, y, _, _), _ = npy_data
    net, dni, order = python_run(X, y, "sg", steps=10)
    dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order)
    cli(["analyze", "norms", "--checkpoint", "p.st", "--out", "norms", "--threads", 1], tmp_path)
    [model] = json.loads((tmp_path / "norms" / "norms.json").read_text())
    squares = [float((net.parameters()["layer%d.weight" % l].astype(np.float64) ** 2).sum()) for l in range(3)]
    assert model["boundaries"] == [2]
    np.testing.assert_allclose(model["shares"], np.array(squares) / sum(squares), rtol=1e-12)


@pytest.mark.parametrize("steps", [9, 10, 25])
def test_the_data_order_state_is_the_one_dnic_train_saves(cli, npy_data, tmp_path, steps):
    (X, y, _, _), _ = npy_data
    cli_train(cli, tmp_path, "sg", steps=steps)
    net, dni, order = python_run(X, y, "sg", steps=steps)
    dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order, data=SPEC)
    ours, theirs = (dnic.checkpoint.load(tmp_path / name) for name in ("p.st", "m.st"))
    for key in ("step", "epoch_rng", "position", "in_epoch", "samples"):
        assert ours.trainer_state[key] == theirs.trainer_state[key], key
    for key in ("step", "epoch", "data_position", "data_rng", "optimizer_step", "interface_steps", "classes", "data_files"):
        assert ours.metadata[key] == theirs.metadata[key], key
    assert {k: ours.config[k] for k in ("data", "model")} == {k: theirs.config[k] for k in ("data", "model")}
    assert ours.config["training"]["steps"] == theirs.config["training"]["steps"] == steps


def test_a_python_run_resumed_without_steps_has_finished(cli, npy_data, tmp_path):
    """As a `dnic train --save` run that ended: --steps N continues it."""
    (X, y, _, _), _ = npy_data
    net, dni, order = python_run(X, y, "sg", steps=12)
    dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order, data=SPEC)
    done = cli(["train", "--resume", "p.st", "--threads", 1], tmp_path)
    assert "already finished: step 12 of 12" in done.stdout, done.stdout


def test_interface_steps_are_written_top_first_as_the_command_line_reads_them(cli, npy_data, tmp_path):
    """Each boundary's own counter reaches the command line's interface at
    that boundary (the core numbers them top first)."""
    (X, y, _, _), _ = npy_data
    net, dni, order = python_run(X, y, "dfa", steps=10)
    for k in dni.boundaries:            # 1, 2, 3
        dni.set_interface_step(k, 10 * k)
    dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order, data=SPEC)
    assert steps_of(tmp_path / "p.st")[2] == "30,20,10"
    assert [dnic.checkpoint.load(tmp_path / "p.st").dni.interface_step(k) for k in (1, 2, 3)] == [10, 20, 30]
    cli(["train", "--resume", "p.st", "--steps", 11, "--threads", 1, "--save", "r.st", "--quiet"], tmp_path)
    assert steps_of(tmp_path / "r.st")[2] == "31,21,11"


def test_a_loaded_checkpoint_continues_in_python_as_the_cli_does(cli, npy_data, tmp_path):
    (X, y, _, _), _ = npy_data
    cli_train(cli, tmp_path, "sg", steps=25)
    loaded = dnic.checkpoint.load(tmp_path / "m.st")
    order = loaded.batch_order(X.shape[0])
    for _ in range(20):
        rows = order.next()
        loaded.dni.train_step(X[rows], y[rows])
    cli(["train", "--resume", "m.st", "--steps", 45, "--threads", 1, "--quiet"], tmp_path)
    assert_same_tensors(load_file(str(tmp_path / "m.st")), loaded.network, loaded.dni)


def test_synthetic_data_is_recorded_by_its_seed_as_dnic_train_records_it(cli, tmp_path):
    cli(["train", "--data", "synth:xor-2d", "--hidden", 2, "--width", 16, "--activation", "tanh", "--steps", 10,
         "--seed", 5, "--threads", 1, "--save", "m.st", "--quiet"], tmp_path)
    theirs = dnic.checkpoint.load(tmp_path / "m.st")
    dnic.checkpoint.save(tmp_path / "p.st", theirs.network, theirs.dni, data="synth:xor-2d", step=10)
    assert dnic.checkpoint.load(tmp_path / "p.st").metadata["data_files"] == theirs.metadata["data_files"]
    done = cli(["train", "--resume", "p.st", "--steps", 12, "--threads", 1, "--quiet"], tmp_path)
    assert done.stderr == ""   # the data is known to be the run's


def test_a_checkpoint_of_arrays_in_memory_needs_data_named_and_then_resumes(cli, npy_data, tmp_path):
    (X, y, Xt, yt), _ = npy_data
    net, dni, order = python_run(X, y, "sg", steps=10)
    dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order)  # no data= : arrays in memory
    before = hashlib.sha256((tmp_path / "p.st").read_bytes()).hexdigest()
    for args in (["eval", "--checkpoint", "p.st"], ["train", "--resume", "p.st", "--steps", 20]):
        done = cli(args + ["--threads", 1], tmp_path, check=False)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "trained on arrays in memory (from Python)" in done.stderr and "give --data" in done.stderr, done.stderr
    loss, accuracy = net.evaluate(Xt, yt)
    done = cli(["eval", "--checkpoint", "p.st", "--data", SPEC, "--threads", 1], tmp_path)
    assert printed_score(done.stdout) == ("%.4f" % accuracy, "%.4f" % loss)
    assert "cannot check" in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert hashlib.sha256((tmp_path / "p.st").read_bytes()).hexdigest() == before
    # with the same data named, dnic train continues it exactly
    cli(["train", "--resume", "p.st", "--data", SPEC, "--steps", 20, "--threads", 1, "--save", "r.st", "--quiet"],
        tmp_path)
    straight_net, straight_dni, _ = python_run(X, y, "sg", steps=20)
    assert_same_tensors(load_file(str(tmp_path / "r.st")), straight_net, straight_dni)


# -- Python -> Python ----------------------------------------------------------

@pytest.mark.parametrize("run", sorted(RUNS))
def test_save_then_load_gives_the_same_tensors_steps_and_settings(npy_data, tmp_path, run):
    (X, y, _, _), _ = npy_data
    net, dni, order = python_run(X, y, run, steps=13)
    dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order, data=None)
    loaded = dnic.checkpoint.load(tmp_path / "p.st")
    theirs = tensors_of(loaded.network, loaded.dni)
    ours = tensors_of(net, dni)
    assert set(theirs) == set(ours)
    for name in ours:
        np.testing.assert_array_equal(theirs[name], ours[name], err_msg=name)
    assert loaded.step == 13 and loaded.network.step == net.step
    if dni is not None:
        assert loaded.dni.boundaries == dni.boundaries and loaded.dni.settings == dni.settings
        assert [loaded.dni.interface_step(k) for k in dni.boundaries] == [dni.interface_step(k) for k in dni.boundaries]
        assert loaded.dni.interface_optimizer == dni.interface_optimizer
    assert loaded.network.layers == net.layers and loaded.network.optimizer == net.optimizer
    assert loaded.batch_order(X.shape[0]).next().tolist() == order.next().tolist()


def test_metadata_of_the_callers_own_is_kept_and_ignored_by_the_command_line(cli, npy_data, tmp_path):
    (X, y, Xt, yt), _ = npy_data
    net, dni, order = python_run(X, y, "sg", steps=10)
    labels = json.dumps(["cat", "dog", "eel"])
    dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order, metadata={"sklearn_classes": labels})
    assert dnic.checkpoint.load(tmp_path / "p.st").metadata["sklearn_classes"] == labels
    loss, accuracy = net.evaluate(Xt, yt)
    done = cli(["eval", "--checkpoint", "p.st", "--data", SPEC, "--threads", 1], tmp_path)
    assert printed_score(done.stdout) == ("%.4f" % accuracy, "%.4f" % loss)
    for bad in ({"step": "3"}, {"run_log": "/tmp/x"}, {"n": 3}):
        with pytest.raises(ValueError, match="metadata"):
            dnic.checkpoint.save(tmp_path / "q.st", net, dni, order=order, metadata=bad)
    assert not (tmp_path / "q.st").exists()


def test_save_replaces_a_file_atomically_and_leaves_no_temporary(npy_data, tmp_path):
    (X, y, _, _), _ = npy_data
    net, dni, order = python_run(X, y, "sg", steps=3)
    (tmp_path / "p.st").write_bytes(b"old")
    dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert dnic.checkpoint.load(tmp_path / "p.st").step == 3


def test_save_refuses_classes_the_outputs_do_not_stand_for(npy_data, tmp_path):
    (X, y, _, _), _ = npy_data
    net, dni, order = python_run(X, y, "sg", steps=1)
    with pytest.raises(ValueError, match="classes 4 does not fit the network's 3 outputs under the ce loss"):
        dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order, classes=4)
    assert not (tmp_path / "p.st").exists()


def test_save_refuses_data_files_that_are_not_there(npy_data, tmp_path):
    (X, y, _, _), _ = npy_data
    net, dni, order = python_run(X, y, "sg", steps=1)
    with pytest.raises(ValueError, match="no such file"):
        dnic.checkpoint.save(tmp_path / "p.st", net, dni, order=order, data="npy:absent.npy,y.npy")
    assert not (tmp_path / "p.st").exists()


def test_without_pyyaml_checkpoints_say_what_to_install(good, tmp_path, monkeypatch):
    """`import dnic` does not need PyYAML; a checkpoint names it."""
    monkeypatch.setitem(__import__("sys").modules, "yaml", None)
    with pytest.raises(ImportError, match="dnic checkpoints need the pyyaml package: pip install pyyaml"):
        dnic.checkpoint.load(tmp_path / "good.st")


# -- garbled files -------------------------------------------------------------

@pytest.fixture
def good(npy_data, tmp_path):
    """A Python checkpoint of an sg run: (tensors, metadata)."""
    (X, y, _, _), _ = npy_data
    net, dni, order = python_run(X, y, "sg", steps=5)
    dnic.checkpoint.save(tmp_path / "good.st", net, dni, order=order)
    with safe_open(str(tmp_path / "good.st"), "np") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata())


def garbled(tmp_path, tensors, metadata):
    save_file(tensors, str(tmp_path / "bad.st"), metadata=metadata)
    return tmp_path / "bad.st"


def test_a_file_that_is_not_safetensors_is_refused(tmp_path):
    (tmp_path / "bad.st").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(ValueError, match="bad.st: not a safetensors file"):
        dnic.checkpoint.load(tmp_path / "bad.st")


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="absent.st: no such file"):
        dnic.checkpoint.load(tmp_path / "absent.st")


@pytest.mark.parametrize("change,words", [
    (lambda t, m: m.update(format="dnic-checkpoint-0"), "not a dnic checkpoint (metadata format is 'dnic-checkpoint-0')"),
    (lambda t, m: m.pop("format"), "metadata format is missing"),
    (lambda t, m: m.pop("config"), "no model description"),
    (lambda t, m: m.update(config="model: [unclosed"), "metadata config is not YAML"),
    (lambda t, m: m.update(input_dim="six"), "metadata input_dim is missing or not an integer"),
    (lambda t, m: m.update(trainer_state="{}"), "metadata trainer_state is missing or not valid"),
    (lambda t, m: m.update(step="99"), "metadata step '99' contradicts trainer_state (5)"),
    (lambda t, m: m.update(interface_steps="5,5"), "metadata interface_steps '5,5' does not match the 1 interfaces"),
    (lambda t, m: t.pop("layer1.weight"), "tensor 'layer1.weight' is missing"),
    (lambda t, m: t.pop("optimizer.v.interface2.A"), "tensor 'optimizer.v.interface2.A' is missing"),
    (lambda t, m: t.update({"layer1.weight": np.zeros((32, 31), np.float32)}),
     "tensor 'layer1.weight' has shape [32, 31], the model description needs [32, 32]"),
    (lambda t, m: t.update({"layer0.bias": np.zeros(32, np.float64)}), "tensor 'layer0.bias' is float64, not float32"),
    (lambda t, m: t["layer2.bias"].__setitem__(3, np.nan), "tensor 'layer2.bias' contains NaN or infinity"),
    (lambda t, m: t["optimizer.v.layer0.bias"].__setitem__(0, -1.0), "tensor 'optimizer.v.layer0.bias' has a negative value"),
    (lambda t, m: t.update({"layer9.weight": np.zeros((2, 2), np.float32)}), "tensor 'layer9.weight' is not part of the model"),
    (lambda t, m: m.update(config=m["config"].replace("loss: ce", "loss: hinge", 1)), "does not build a network: loss 'hinge'"),
    (lambda t, m: m.update(config="- 1\n- 2\n"), "metadata config is not a mapping of settings"),
    (lambda t, m: m.update(config=m["config"].replace("layers:", "hidden-layers:", 1)), "metadata config lacks model.layers"),
    (lambda t, m: m.update(config=m["config"].replace("rule: sg", "rule: magic", 1)), "its interfaces do not build: rule 'magic'"),
    (lambda t, m: m.update(classes="0"), "metadata classes 0 lies outside 1..4194304"),
    (lambda t, m: m.update(classes="4"), "metadata classes 4 does not fit output_dim 3 under the model's loss"),
])
def test_a_garbled_checkpoint_is_refused_naming_the_problem(good, tmp_path, change, words):
    tensors, metadata = {k: v.copy() for k, v in good[0].items()}, dict(good[1])
    change(tensors, metadata)
    path = garbled(tmp_path, tensors, metadata)
    with pytest.raises(ValueError) as refused:
        dnic.checkpoint.load(path)
    assert str(refused.value).startswith(str(path) + ": ") and words in str(refused.value)


def test_the_config_is_the_command_lines(good, tmp_path):
    """The written config holds what --print-config would for the run, read
    back by the command line (eval accepts it) and by PyYAML."""
    config = dnic.checkpoint.load(tmp_path / "good.st").config
    assert config["model"]["layers"] == [{"width": 32, "activation": "relu", "batchnorm": False}] * 3
    assert config["interfaces"]["rule"] == "sg" and config["interfaces"]["at"] == "mid"
    assert config["optimizer"]["kind"] == "adam" and config["optimizer"]["lr"] == 0.001
    assert config["training"] == {"batch": 64, "seed": 7, "schedule": "locked", "steps": 5}
    assert json.loads(good[1]["trainer_state"])["step"] == 5
