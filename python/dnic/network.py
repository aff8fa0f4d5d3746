"""dnic.Network: a feed-forward network of dnic's C core (dnic_net_t),
trained with backprop by train_step, or through dnic.DNI with interfaces."""
import numpy as np

from ._core import check, features, ffi, floats, ints, labels, lib, view

ACTIVATIONS = {"identity": lib.DNIC_ACT_IDENTITY, "relu": lib.DNIC_ACT_RELU, "sigmoid": lib.DNIC_ACT_SIGMOID,
               "tanh": lib.DNIC_ACT_TANH}
LOSSES = {"mse": lib.DNIC_LOSS_MSE, "ce": lib.DNIC_LOSS_SOFTMAX_CE, "logistic": lib.DNIC_LOSS_LOGISTIC}
INITS = {"glorot-uniform": lib.DNIC_INIT_GLOROT_UNIFORM, "glorot-normal": lib.DNIC_INIT_GLOROT_NORMAL,
         "he-uniform": lib.DNIC_INIT_HE_UNIFORM, "he-normal": lib.DNIC_INIT_HE_NORMAL, "zero": lib.DNIC_INIT_ZERO}
OPTIMIZERS = {"sgd": lib.DNIC_OPT_SGD, "momentum": lib.DNIC_OPT_MOMENTUM, "adam": lib.DNIC_OPT_ADAM}


def choice(table, value, what):
    if value not in table:
        raise ValueError("%s %r is not one of %s" % (what, value, ", ".join(sorted(table))))
    return table[value]


def optimizer_config(kind="adam", lr=None, momentum=0.9, beta1=0.9, beta2=0.999, eps=1e-8, l2=0.0):
    """A dnic_optim_config: the core's defaults for `kind` (SGD and momentum
    lr 0.01, Adam 1e-3) with the values given."""
    cfg = lib.dnic_optim_default(choice(OPTIMIZERS, kind, "optimizer"))
    if lr is not None:
        cfg.lr = lr
    cfg.momentum, cfg.beta1, cfg.beta2, cfg.eps, cfg.l2 = momentum, beta1, beta2, eps, l2
    check(lib.dnic_optim_validate(ffi.new("dnic_optim_config *", cfg)), "optimizer %s" % kind)
    return cfg


class Network:
    """Hidden layers `layers` (a list of (width, activation, batchnorm)
    tuples, or of widths for relu without batch norm) and an output layer
    of `outputs` units under `loss` ("ce" softmax cross-entropy, "logistic",
    "mse"). `max_batch` bounds the rows of one training step; evaluate and
    predict take any number of rows. Parameters start from `seed` (the
    same seed gives the same network as `dnic train --seed`)."""

    def __init__(self, input_dim, layers, outputs, loss="ce", init="he-uniform", max_batch=256, seed=1,
                 bn_momentum=0.1, bn_eps=1e-5):
        specs = [(layer, "relu", False) if isinstance(layer, (int, np.integer)) else tuple(layer) for layer in layers]
        specs.append((outputs, "identity", False))
        self._layer_descs = ffi.new("dnic_layer_desc[]", len(specs))
        for d, (width, activation, batchnorm) in zip(self._layer_descs, specs):
            d.width, d.act, d.batchnorm = int(width), choice(ACTIVATIONS, activation, "activation"), int(bool(batchnorm))
        desc = ffi.new("dnic_net_desc *")
        lib.dnic_net_desc_defaults(desc)
        desc.input_dim, desc.n_layers, desc.layers = int(input_dim), len(specs), self._layer_descs
        desc.loss, desc.init, desc.max_batch = choice(LOSSES, loss, "loss"), choice(INITS, init, "init"), int(max_batch)
        desc.bn_momentum, desc.bn_eps = bn_momentum, bn_eps
        out = ffi.new("dnic_net_t **")
        check(lib.dnic_net_create(out, desc, int(seed) & 0xFFFFFFFFFFFFFFFF), "Network")
        self._handle = ffi.gc(out[0], lib.dnic_net_free)
        self.loss = loss
        self.layers = specs
        self.init, self.seed, self.bn_momentum, self.bn_eps = init, int(seed), bn_momentum, bn_eps  # a checkpoint's config
        self.optimizer = optimizer_settings("sgd")  # the core's default until set_optimizer

    # -- shape ---------------------------------------------------------
    @property
    def input_dim(self):
        return lib.dnic_net_input_dim(self._handle)

    @property
    def output_dim(self):
        return lib.dnic_net_output_dim(self._handle)

    @property
    def num_layers(self):
        """Hidden layers + the output layer."""
        return lib.dnic_net_num_layers(self._handle)

    @property
    def max_batch(self):
        return lib.dnic_net_max_batch(self._handle)

    @property
    def classes(self):
        """Classes its outputs stand for (one logistic output: 2)."""
        return 2 if self.output_dim == 1 else self.output_dim

    # -- parameters ----------------------------------------------------
    def parameters(self):
        """Every tensor by its documented name ("layer0.weight" (in, out),
        "layer0.bias", "layer0.bn.gamma", ...), as numpy arrays that SHARE
        the core's memory: writing to them changes the network."""
        n = ffi.new("size_t *")
        block = view(lib.dnic_net_params(self._handle, n), n[0], self)
        out = {}
        info = ffi.new("dnic_tensor_info *")
        for i in range(lib.dnic_net_num_tensors(self._handle)):
            check(lib.dnic_net_tensor(self._handle, i, info), "tensor %d" % i)
            tensor = block[info.offset:info.offset + info.size]
            out[ffi.string(info.name).decode()] = tensor.reshape(info.rows, info.cols) if info.cols > 1 else tensor
        return out

    @property
    def step(self):
        """Optimizer steps taken."""
        return lib.dnic_net_optim_step(self._handle)

    def set_optimizer(self, kind="adam", lr=None, **settings):
        """The network's optimizer (default Adam, lr 1e-3); see optimizer_config."""
        cfg = optimizer_config(kind, lr, **settings)
        check(lib.dnic_net_set_optimizer(self._handle, 0, ffi.new("dnic_optim_config *", cfg)), "set_optimizer")
        self.optimizer = optimizer_settings(kind, cfg)

    def set_grad_clip(self, max_norm):
        """Clip the global gradient norm to max_norm before each update (0: off)."""
        check(lib.dnic_net_set_grad_clip(self._handle, float(max_norm)), "set_grad_clip")

    # -- training and inference ------------------------------------------
    def _labels(self, X, y):
        X = features(X, self.input_dim)
        return X, labels(y, X.shape[0], self.classes)

    def train_step(self, X, y):
        """One backprop step (forward, loss, backward, update) on the batch
        X (B, input_dim), y (B) class indices; returns the batch's mean loss."""
        X, y = self._labels(X, y)
        loss = ffi.new("float *")
        check(lib.dnic_net_train_step(self._handle, floats(X), ints(y), ffi.NULL, X.shape[0], loss), "train_step")
        return float(loss[0])

    def evaluate(self, X, y):
        """(mean loss, accuracy) on X, y in evaluation mode, any number of rows."""
        X, y = self._labels(X, y)
        if X.shape[0] == 0:
            raise ValueError("evaluate needs at least one row")
        loss, correct = ffi.new("double *"), ffi.new("size_t *")
        check(lib.dnic_net_evaluate(self._handle, floats(X), ints(y), ffi.NULL, X.shape[0], loss, correct), "evaluate")
        return float(loss[0]), correct[0] / X.shape[0]

    def _predict(self, X, proba):
        X = features(X, self.input_dim)
        out = np.empty((X.shape[0], self.output_dim), dtype=np.float32)
        if X.shape[0]:
            check(lib.dnic_net_predict(self._handle, floats(X), X.shape[0], int(proba), floats(out)),
                  "predict_proba" if proba else "outputs")
        return out

    def outputs(self, X):
        """The output layer's values (logits for "ce"), (n, output_dim), in
        evaluation mode, any number of rows (dnic_net_predict)."""
        return self._predict(X, False)

    def predict_proba(self, X):
        """Class probabilities (n, classes), as `dnic predict --proba` gives
        them (the core's one definition): the softmax of the outputs for
        "ce", each output's sigmoid for "logistic" (one output: 1 - s, s);
        refused for "mse", whose outputs are not probabilities."""
        if self.loss == "mse":
            raise ValueError("a network trained with the mse loss gives no probabilities")
        p = self._predict(X, True)
        return np.hstack([1 - p, p]) if self.output_dim == 1 else p

    def predict(self, X):
        """The class of every row: the largest output (one output: above 0
        for "logistic", above 1/2 for "mse"), as dnic eval counts it."""
        p = self.outputs(X)
        if self.output_dim == 1:
            return (p[:, 0] > (0.0 if self.loss == "logistic" else 0.5)).astype(np.int64)
        return p.argmax(axis=1)

    # -- checkpoint support (dnic.checkpoint) -----------------------------
    def optimizer_state(self):
        """The optimizer's state by tensor name, as numpy arrays SHARING the
        core's memory: {"m": {name: array}, "v": {name: array}} for every
        trainable tensor (momentum uses m; Adam m and v; SGD keeps zeros)."""
        n = ffi.new("size_t *")
        block = view(lib.dnic_net_optim_state(self._handle, n), n[0], self)
        half = n[0] // 2
        out = {"m": {}, "v": {}}
        info = ffi.new("dnic_tensor_info *")
        for i in range(lib.dnic_net_num_tensors(self._handle)):
            check(lib.dnic_net_tensor(self._handle, i, info), "tensor %d" % i)
            if not info.trainable:
                continue
            name, shape = ffi.string(info.name).decode(), ((info.rows, info.cols) if info.cols > 1 else (info.size,))
            out["m"][name] = block[info.offset:info.offset + info.size].reshape(shape)
            out["v"][name] = block[half + info.offset:half + info.offset + info.size].reshape(shape)
        return out

    def set_step(self, t):
        """Restores the optimizer's step counter (Adam's t) when resuming."""
        check(lib.dnic_net_set_optim_step(self._handle, int(t)), "step")


def optimizer_settings(kind, cfg=None):
    """An optimizer's settings as a run's config writes them (floats at
    float32 precision, written in their shortest decimal: 0.001)."""
    cfg = cfg if cfg is not None else lib.dnic_optim_default(choice(OPTIMIZERS, kind, "optimizer"))
    def decimal(x):
        return float(str(np.float32(x)))
    return {"kind": kind, "lr": decimal(cfg.lr), "l2": decimal(cfg.l2), "momentum": decimal(cfg.momentum),
            "beta1": decimal(cfg.beta1), "beta2": decimal(cfg.beta2), "eps": decimal(cfg.eps)}
