"""One checkpoint format for Python and the command line: `dnic train
--save`'s safetensors file (docs/cli.md, "Checkpoint layout").

save() writes a file `dnic eval --checkpoint`, `dnic analyze` and `dnic
train --resume` read; load() reads theirs (and its own) back into a
Network and a DNI. The schema, as Sources/Dnic/Checkpoint/Checkpoint.swift
writes and checks it:

- tensors: the network's by their names ("layer0.weight" (in, out), ...),
  the interfaces' as "interface{k}.<name>" (k: the hidden layer the
  interface follows), and "optimizer.m.<name>" / "optimizer.v.<name>" for
  every trainable tensor of either; all float32.
- string metadata: format (dnic-checkpoint-1), config (the run's settings,
  YAML), input_dim, output_dim, classes, step, epoch, optimizer_step,
  interface_steps (top interface first, as the core numbers them),
  trainer_state (JSON: step, data order position and RNG, metric sums),
  data_position, data_rng, run_id, run_segment, dnic_version, and
  data_files (the data's files, sizes and CRC-32) when the data is known.
"""
import json
import os
import secrets
import tempfile
import zlib

import importlib

import numpy as np

from . import _core
from .batches import DATA_SEED_SALT, BatchOrder
from .dni import DNI
from .network import Network

FORMAT = "dnic-checkpoint-1"
# the config's data of a run on arrays in memory: no data the command line
# can read (it says "unknown data source" and a resume is refused)
IN_MEMORY = "python:arrays"

# the command line's names where they differ from the package's
_ACTIVATION_TO_CLI = {"identity": "linear"}
_ACTIVATION_FROM_CLI = {"linear": "identity"}
_CLI_INITS = ("he-uniform", "he-normal", "glorot-uniform", "glorot-normal")
_MAX_STEP = 1 << 53
# metadata the command line reads besides what save() writes (Checkpoint.swift)
_SCHEMA_KEYS = {"config", "data_files", "run_log", "run_tensorboard", "run_save_best", "early_stopping", "checkpoint_every",
                "run_log_pending", "pipeline_inflight", "torch_sequential"}
# the roles of a run's files, in its dataset's order (DataRecord.check)
_NPY_ROLES = {2: ["train-features", "train-labels"], 4: ["train-features", "train-labels", "test-features", "test-labels"]}


def _library(module, package):
    """A dependency of checkpoints, imported when first used, so that `import
    dnic` works without it; missing, an ImportError says what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError("dnic checkpoints need the %s package: pip install %s" % (package, package)) from None


class Checkpoint:
    """A loaded checkpoint: `network` (parameters, optimizer state and step
    restored, its optimizer set as the config says), `dni` (the interfaces
    likewise, or None for backprop), `config` (the run's settings, a dict),
    `classes`, `step` (training steps taken), `metadata` (every string of
    the file's metadata) and `trainer_state` (its JSON, parsed)."""

    def __init__(self, network, dni, config, classes, metadata, trainer_state):
        self.network, self.dni, self.config, self.classes = network, dni, config, classes
        self.metadata, self.trainer_state = metadata, trainer_state

    @property
    def step(self):
        return self.trainer_state["step"]

    def batch_order(self, n):
        """The data order of the run, continued where the checkpoint stopped,
        for its training set of n rows: the next batches `dnic train
        --resume` would take."""
        order = BatchOrder(n, self.config["training"]["batch"], seed=self.config["training"]["seed"])
        state = self.trainer_state
        order.restore(int(state["epoch_rng"]), state["position"], state["in_epoch"])
        return order


# -- save --------------------------------------------------------------------

def save(path, network, dni=None, *, order=None, step=None, data=None, classes=None, config=None, metadata=None):
    """Writes `network` (and `dni`'s interfaces) to `path`, atomically (a
    temporary file beside it, then os.replace), as `dnic train --save` does.

    order   the BatchOrder the run drew its batches from: where the data
            order stands, so `dnic train --resume` continues with the next
            batch (without it the resumed run starts a fresh data order).
    step    training steps taken (default: the network's optimizer steps).
    data    the `--data` value of the data the run was trained on, as the
            command line reads it (e.g. "npy:X.npy,y.npy,Xt.npy,yt.npy").
            Its files are recorded (absolute path, size, CRC-32) as `dnic
            train` records them: `dnic train --resume` then reads them
            again without --data and refuses changed files, and `dnic eval`
            warns when it scores the training files. Without it the
            config's data is "python:arrays" (no files): the commands then
            need --data SRC naming the same data as files (`dnic eval`
            scores it, `dnic train --resume` continues it), and warn
            that they cannot check it (docs/python.md, Checkpoints).
    classes the classes the outputs stand for (default: the network's).
    config  settings to write over the ones taken from the objects, as a
            nested dict of the config's keys, e.g. {"training": {"steps":
            100, "seed": 7}}: training.batch and training.seed must be the
            run's for a resume to continue it (defaults: the order's batch
            size, else the network's max_batch; the network's seed).
    metadata more metadata strings of the caller's own (e.g. a classifier's
            label names as JSON), kept beside the schema's, which they may
            not replace; the command line ignores them.
    """
    if dni is not None and dni.network is not network:
        raise ValueError("the DNI given trains another network")
    classes = _classes_of(network.loss, network.output_dim) if classes is None else int(classes)
    if _output_width(network.loss, classes) != network.output_dim:
        raise ValueError("classes %d does not fit the network's %d outputs under the %s loss (the command line would "
                         "refuse the file)" % (classes, network.output_dim, network.loss))
    step = network.step if step is None else int(step)
    if not 0 <= step <= _MAX_STEP:
        raise ValueError("step %d is not a count of training steps" % step)
    settings = run_config(network, dni, order, data)
    overrides = config or {}
    if not {"steps", "epochs"} & set(overrides.get("training") or {}):
        # the run so far, as `dnic train --save` records a run that ended:
        # `dnic train --resume F --steps N` continues it to N steps
        settings["training"]["steps"] = max(step, 1)
    _merge(settings, overrides)
    boundaries = [] if dni is None else sorted(dni.boundaries, reverse=True)   # the core's order: top first

    tensors = {}
    moments = {}
    state = network.optimizer_state()
    for name, value in network.parameters().items():
        tensors[name] = _stored(name, value)
        if name in state["m"]:
            moments["optimizer.m." + name] = _stored(name, state["m"][name])
            moments["optimizer.v." + name] = _stored(name, state["v"][name])
    for k in boundaries:
        istate = dni.interface_optimizer_state(k)
        for name, value in dni.interface_parameters(k).items():
            full = "interface%d.%s" % (k, name)
            tensors[full] = _stored(name, value)
            if name in istate["m"]:
                moments["optimizer.m." + full] = _stored(name, istate["m"][name])
                moments["optimizer.v." + full] = _stored(name, istate["v"][name])
    tensors.update(moments)

    if order is not None:
        epoch_rng, position, in_epoch = order.state()
        steps_per_epoch = order.steps_per_epoch
    else:
        epoch_rng, position, in_epoch = (int(settings["training"]["seed"]) ^ DATA_SEED_SALT) & 0xFFFFFFFFFFFFFFFF, 0, False
        steps_per_epoch = 1
    batch = int(settings["training"]["batch"])
    samples = step * batch
    if order is not None and in_epoch:
        # the rows the run has read, when every step so far came from this order
        this_epoch = -(-position // order.batch)
        if step >= this_epoch and (step - this_epoch) % order.steps_per_epoch == 0:
            samples = (step - this_epoch) // order.steps_per_epoch * order.n + position
    trainer_state = {"step": step, "epoch_rng": str(epoch_rng), "position": position, "in_epoch": in_epoch,
                     "loss_sum": 0.0, "loss_count": 0, "interface_loss_sums": [0.0] * len(boundaries),
                     "interface_alignment_sums": [0.0] * len(boundaries), "samples": samples,
                     "training_seconds": 0.0}
    extra = dict(metadata or {})
    metadata = {
        "format": FORMAT, "dnic_version": _core.ffi.string(_core.lib.dnic_version()).decode(),
        "step": str(step),
        "epoch": repr(step / max(steps_per_epoch, 1)), "data_position": str(position), "data_rng": str(epoch_rng),
        "trainer_state": json.dumps(trainer_state), "optimizer_step": str(network.step),
        "interface_steps": ",".join(str(dni.interface_step(k)) for k in boundaries),
        "input_dim": str(network.input_dim), "output_dim": str(network.output_dim), "classes": str(classes),
        # a checkpoint made in Python starts a run of its own
        "run_id": secrets.token_hex(8), "run_segment": secrets.token_hex(8),
    }
    for key, value in extra.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError("metadata %r: keys and values must be strings" % (key,))
        if key in metadata or key in _SCHEMA_KEYS:
            raise ValueError("metadata %r is the checkpoint format's own; choose another name" % key)
    metadata.update(extra)
    yaml = _library("yaml", "pyyaml")
    metadata["config"] = yaml.safe_dump(settings, sort_keys=False, allow_unicode=True)
    record = data_record(data, int(settings["training"]["seed"])) if data is not None else None
    if record is not None:
        metadata["data_files"] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    _write_atomically(path, tensors, metadata)


def run_config(network, dni=None, order=None, data=None):
    """The run's settings as `dnic train` writes them in a checkpoint
    (--print-config's keys), taken from the network, interfaces and order."""
    if (network.bn_momentum, network.bn_eps) != (0.1, 1e-5):
        raise ValueError("the command line's batch norm has momentum 0.1 and eps 1e-5; this network's (%g, %g) "
                         "cannot be written in its config" % (network.bn_momentum, network.bn_eps))
    if network.init not in _CLI_INITS:
        raise ValueError("init %r has no command-line setting (one of %s)" % (network.init, ", ".join(_CLI_INITS)))
    layers = [{"width": int(w), "activation": _ACTIVATION_TO_CLI.get(a, a), "batchnorm": bool(bn)}
              for w, a, bn in network.layers[:-1]]
    if dni is None:
        interfaces = {"rule": "backprop", "at": "none"}
    else:
        interfaces = dict(dni.settings)
        if not isinstance(interfaces["at"], str):
            interfaces["at"] = [int(k) for k in np.atleast_1d(interfaces["at"])]
        if dni.interface_optimizer != network.optimizer:
            interfaces["optimizer"] = dict(dni.interface_optimizer)
    return {
        "data": data if data is not None else IN_MEMORY,
        "model": {"layers": layers, "loss": network.loss, "init": network.init},
        "interfaces": interfaces,
        "optimizer": dict(network.optimizer),
        "training": {"batch": order.batch if order is not None else network.max_batch, "seed": network.seed,
                     "schedule": "locked"},
    }


def data_record(data, seed):
    """The checkpoint's data_files for the `--data` value `data`: npy (two or
    four files), csv (one or two) or npz files, measured as `dnic train`
    measures them; fashion-mnist, mnist and idx:DIR by their four IDX files;
    synthetic data by its seed."""
    if data in _IDX_DIRECTORIES:
        variable, default = _IDX_DIRECTORIES[data]
        return _idx_record(data, os.environ.get(variable) or default, seed)
    if not isinstance(data, str) or ":" not in data:
        raise ValueError("data %r is not a --data value such as npy:X.npy,y.npy" % (data,))
    kind, rest = data.split(":", 1)
    names = rest.split(",")
    if kind == "npy" and len(names) in _NPY_ROLES:
        roles = _NPY_ROLES[len(names)]
    elif kind == "csv" and len(names) in (1, 2):
        roles = ["train", "test"][:len(names)]
    elif kind == "npz" and len(names) == 1:
        roles = ["train"]
    elif kind == "synth":
        return {"data": data, "seed": int(seed), "files": []}   # generated from the seed: no files
    elif kind == "idx":
        return _idx_record(data, rest, seed)
    else:
        raise ValueError("data %r: a checkpoint records npy:X,y[,XTEST,YTEST], csv:TRAIN[,TEST] or npz:FILE data" % data)
    return {"data": data, "seed": int(seed), "files": [_measure(role, name) for role, name in zip(roles, names)]}


# the directories the command line reads fashion-mnist and mnist from (and the variables that move them)
_IDX_DIRECTORIES = {"fashion-mnist": ("DNIC_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"),
                    "mnist": ("DNIC_MNIST_DIR", "/usr/share/datasets/mnist")}
_IDX_FILES = [("train-images", "train-images-idx3-ubyte"), ("train-labels", "train-labels-idx1-ubyte"),
              ("test-images", "t10k-images-idx3-ubyte"), ("test-labels", "t10k-labels-idx1-ubyte")]


def _idx_record(data, directory, seed):
    """The four IDX files of `directory` as the command line finds them:
    each NAME or NAME.gz, the raw file preferred."""
    files = []
    for role, name in _IDX_FILES:
        found = [path for path in (os.path.join(directory, name), os.path.join(directory, name + ".gz"))
                 if os.path.isfile(path)]
        if not found:
            raise ValueError("data %s: %s not found in %s (nor %s.gz)" % (data, name, directory, name))
        files.append(_measure(role, found[0]))
    return {"data": data, "seed": int(seed), "files": files}


def _measure(role, name):
    """A file as DataRecord holds it: absolute path (lexically, as the
    command line makes it), size in bytes, CRC-32 as 8 hex digits."""
    if not os.path.isfile(name):
        raise ValueError("data file %s: no such file (the checkpoint records the files the run was trained on)" % name)
    crc, size = 0, 0
    with open(name, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            crc, size = zlib.crc32(chunk, crc), size + len(chunk)
    return {"role": role, "path": os.path.abspath(name), "bytes": size, "crc32": "%08x" % crc}


def _output_width(loss, classes):
    """The network outputs `classes` classes take (ModelDescription.outputWidth)."""
    return 1 if loss == "logistic" and classes == 2 else classes


def _classes_of(loss, outputs):
    return 2 if loss == "logistic" and outputs == 1 else outputs


def _stored(name, value):
    """A tensor as the command line stores it: float32, weight matrices 2-D
    even with one column."""
    value = np.ascontiguousarray(value, dtype=np.float32)
    if value.ndim == 1 and name.split(".")[-1] in ("weight", "A", "B"):
        value = value.reshape(-1, 1)
    return value.copy()


def _merge(into, overrides):
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _write_atomically(path, tensors, metadata):
    save_file = _library("safetensors.numpy", "safetensors").save_file
    path = os.fspath(path)
    fd, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp",
                                     dir=os.path.dirname(os.path.abspath(path)))
    os.close(fd)
    try:
        save_file(tensors, temporary, metadata=metadata)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


# -- load --------------------------------------------------------------------

def load(path, max_batch=None):
    """Reads a checkpoint of `dnic train` or of save(): a Checkpoint whose
    network and interfaces continue the run. `max_batch` bounds the rows
    of one training step (default: the run's batch size). A file that is
    not one, or does not match its own description, raises ValueError
    naming the problem."""
    yaml, safetensors = _library("yaml", "pyyaml"), _library("safetensors", "safetensors")
    path = os.fspath(path)

    def bad(why):
        return ValueError("%s: %s" % (path, why))

    try:
        with safetensors.safe_open(path, "np") as f:
            metadata = dict(f.metadata() or {})
            if metadata.get("format") != FORMAT:
                raise bad("not a dnic checkpoint (metadata format is %s)" %
                          (repr(metadata["format"]) if "format" in metadata else "missing"))
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except safetensors.SafetensorError as error:
        raise bad("not a safetensors file (%s)" % error) from None
    except FileNotFoundError:
        raise bad("no such file") from None

    if "config" not in metadata:
        raise bad("no model description (config) in the metadata")
    try:
        config = yaml.safe_load(metadata["config"])
    except yaml.YAMLError as error:
        raise bad("metadata config is not YAML: %s" % str(error).replace("\n", " ")) from None
    if not isinstance(config, dict):
        raise bad("metadata config is not a mapping of settings")
    model, training = config.get("model") or {}, config.get("training") or {}
    interfaces = config.get("interfaces") or {"rule": "backprop"}

    def integer(key, low, high):
        try:
            value = int(metadata[key])
        except (KeyError, ValueError):
            raise bad("metadata %s is missing or not an integer" % key) from None
        if not low <= value <= high:
            raise bad("metadata %s %d lies outside %d..%d" % (key, value, low, high))
        return value

    input_dim, output_dim = integer("input_dim", 1, 1 << 24), integer("output_dim", 1, 1 << 22)
    classes, optimizer_step = integer("classes", 1, 1 << 22), integer("optimizer_step", 0, _MAX_STEP)
    try:
        trainer_state = json.loads(metadata["trainer_state"])
        for key in ("step", "position", "epoch_rng", "in_epoch"):
            trainer_state[key]
    except (KeyError, ValueError, TypeError):
        raise bad("metadata trainer_state is missing or not valid (JSON with step, position, epoch_rng, in_epoch)") from None
    for key, value in (("step", trainer_state["step"]), ("data_position", trainer_state["position"]),
                       ("data_rng", trainer_state["epoch_rng"])):
        if key in metadata and metadata[key] != str(value):
            raise bad("metadata %s %r contradicts trainer_state (%s)" % (key, metadata[key], value))

    try:
        layers = [(int(l["width"]), _ACTIVATION_FROM_CLI.get(l.get("activation", "relu"), l.get("activation", "relu")),
                   bool(l.get("batchnorm", False))) for l in model["layers"]]
    except (KeyError, TypeError, ValueError):
        raise bad("metadata config lacks model.layers (width, activation, batchnorm of each hidden layer)") from None
    dims = [input_dim] + [w for w, _, _ in layers] + [output_dim]
    if _output_width(model.get("loss", "ce"), classes) != output_dim:
        raise bad("metadata classes %d does not fit output_dim %d under the model's loss" % (classes, output_dim))

    used = set()

    def stored(key, shape, second_moment=False):
        if key not in tensors:
            raise bad("tensor %r is missing: the file does not match its own model description" % key)
        value = tensors[key]
        if value.dtype != np.float32:
            raise bad("tensor %r is %s, not float32" % (key, value.dtype))
        want = tuple(shape)
        if len(want) == 1 and key.split(".")[-1] in ("weight", "A", "B"):
            want = (want[0], 1)   # a weight matrix of one column is stored 2-D
        if tuple(value.shape) != want:
            raise bad("tensor %r has shape %s, the model description needs %s" % (key, list(value.shape), list(want)))
        if not np.isfinite(value).all():
            raise bad("tensor %r contains NaN or infinity" % key)
        if second_moment and (value < 0).any():
            raise bad("tensor %r has a negative value: a second moment is a mean of squares" % key)
        used.add(key)
        return value.reshape(shape)

    # the weights' shapes before building anything: a small file must not make us allocate a network it cannot hold
    for l in range(len(dims) - 1):
        stored("layer%d.weight" % l, (dims[l], dims[l + 1]))
    try:
        network = Network(input_dim, layers, output_dim, loss=model.get("loss", "ce"), init=model.get("init", "he-uniform"),
                          max_batch=int(max_batch or training.get("batch", 64)), seed=int(training.get("seed", 1)))
        network.set_optimizer(**_optimizer(config.get("optimizer")))
    except (_core.DnicError, ValueError, TypeError) as error:
        raise bad("its model description does not build a network: %s" % error) from None
    _restore(network.parameters(), network.optimizer_state(), "", stored)
    network.set_step(optimizer_step)

    dni = None
    if interfaces.get("rule", "backprop") != "backprop" or interfaces.get("at", "none") != "none":
        dni = _interfaces(network, interfaces, config, bad)
        top_first = sorted(dni.boundaries, reverse=True)
        for k in top_first:
            _restore(dni.interface_parameters(k), dni.interface_optimizer_state(k), "interface%d." % k, stored)
        text = metadata.get("interface_steps", "")
        try:
            steps = [int(t) for t in text.split(",")] if text else []
        except ValueError:
            steps = None
        if steps is None or len(steps) != len(top_first) or not all(0 <= t <= _MAX_STEP for t in steps):
            raise bad("metadata interface_steps %r does not match the %d interfaces" % (text, len(top_first)))
        for k, t in zip(top_first, steps):
            dni.set_interface_step(k, t)
    extra = sorted(set(tensors) - used - {"pipeline.inflight"})
    if extra:
        raise bad("tensor %r is not part of the model description" % extra[0])
    return Checkpoint(network, dni, config, classes, metadata, trainer_state)


def _restore(parameters, state, prefix, stored):
    for name, value in parameters.items():
        value[...] = stored(prefix + name, value.shape)
    for name, value in state["m"].items():
        value[...] = stored("optimizer.m." + prefix + name, value.shape)
    for name, value in state["v"].items():
        value[...] = stored("optimizer.v." + prefix + name, value.shape, second_moment=True)


def _optimizer(spec):
    """An optimizer's settings from a config, numbers as floats (YAML 1.1,
    which PyYAML reads, takes the command line's 1e-08 for text)."""
    spec = dict(spec or {})
    kind = spec.pop("kind", "sgd")
    return dict(kind=kind, **{key: float(value) for key, value in spec.items() if value is not None})


def _interfaces(network, spec, config, bad):
    at = spec.get("at", "mid")
    if isinstance(at, str) and at not in ("none", "mid", "every", "output"):
        at = [int(k) for k in at.split(",")]
    try:
        dni = DNI(network, spec.get("rule", "sg"), at=at, kind=spec.get("kind"), target=spec.get("target"),
                  loss=spec.get("loss"), signal=spec.get("signal"), alpha=spec.get("alpha"),
                  mlp_hidden=tuple(spec.get("hidden") or ()), mlp_batchnorm=bool(spec.get("batchnorm", False)),
                  warmup=int(spec.get("warmup", 0)), centre=spec.get("centre", "auto"),
                  track_alignment=bool(spec.get("track-alignment", False)))
        dni.set_interface_optimizer(**_optimizer(spec.get("optimizer") or config.get("optimizer")))
    except (_core.DnicError, ValueError, TypeError) as error:
        raise bad("its interfaces do not build: %s" % error) from None
    return dni
