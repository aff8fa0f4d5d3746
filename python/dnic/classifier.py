"""dnic.DNIClassifier: a scikit-learn classifier over dnic's Network, DNI
and Pipeline, trained as `dnic train` trains: the same network and
interfaces from the same seed, the same batch order (BatchOrder), the same
default learning rates, so fit equals the command line bit for bit when
the labels are 0..K-1."""
import sys
from contextlib import contextmanager

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._core import DnicError, DnicValueError, check, ffi, lib, view
from .batches import BatchOrder
from .dni import DNI, RULES
from .network import Network
from .pipeline import Pipeline

# `dnic train`'s defaults (Sources/Dnic/Model/Choices.swift): the
# optimizer's own rate, which the schedule may divide
DEFAULT_LR = {"sgd": 0.05, "momentum": 0.01, "adam": 1e-3}
TRAINABLE_KINDS = ("linear", "nolabel", "sigmoid", "mlp")
SCHEDULES = ("locked", "pipeline", "async")
ASYNC_QUEUE = 2  # `dnic train --queue`'s default


def default_learning_rate(optimizer, schedule, blocks, predicted):
    """`dnic train`'s network rate when none is given: the optimizer's
    default, divided by the number of blocks unlocked, and locked by the
    number of predicted boundaries in series when there are several."""
    base = DEFAULT_LR[optimizer]
    if schedule != "locked":
        return base / blocks
    return base / predicted if predicted > 1 else base


@contextmanager
def dnic_threads(n):
    """dnic's thread count set to n for the block (None: left alone)."""
    if n is None:
        yield
        return
    from . import set_num_threads
    before = lib.dnic_get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)


@contextmanager
def nonfinite_named(model, step):
    """A step whose values overflowed, named with what to change (as dnic train)."""
    try:
        yield
    except DnicError as error:
        if error.status != "DNIC_ERR_NONFINITE":
            raise
        # an interface that learns and faulted has its own rate to lower (locked: the DNI knows which)
        interface = model.dni_.trainable and lib.dnic_dni_fault_iface(model.dni_._handle) >= 0
        rate = "sg_lr" if interface else "lr"
        raise DnicValueError("step %d of this fit: the training loss or an update is NaN or infinite (%s); try a "
                             "smaller %s (it is %g)" % (step(), error, rate, getattr(model, rate + "_")),
                             error.status) from None


class DNIClassifier(ClassifierMixin, BaseEstimator):
    """A feed-forward classifier (`hidden` layers of `width` units, a softmax
    output) trained by a rule of Czarnecki et al. (2017), Table 1:
    "backprop", "sg", "sgprop", "fa", "dfa", "kickback".

    sg_at places the interfaces: None (the rule's default: "mid" for sg and
    sgprop, "every" for fa, dfa and kickback, none for backprop), "mid",
    "every", "output", "none", a hidden-layer number (from 1) or a list of
    them. schedule "locked" trains every block on each batch; "pipeline"
    and "async" (rule "sg") unlock the blocks between interfaces.

    lr None is `dnic train`'s default: the optimizer's (adam 1e-3, momentum
    1e-2, sgd 5e-2), divided by the number of blocks under pipeline and
    async, and by the number of predicted boundaries when more than one
    predicts in series (locked). sg_lr: the interfaces' own rate (None: the
    network's optimizer and rate; given, the interfaces take the network's
    optimizer kind without its l2, as `dnic train --sg-lr` does).
    sg_kind, sg_target, sg_loss, sg_signal, sg_alpha, sg_hidden (an mlp
    interface's hidden widths) and sg_warmup override parts of the rule's
    interfaces, as `dnic train`'s --sg-* flags do.

    fit(X, y) with labels 0..K-1 gives the parameters of
    `dnic train --data npy:... --hidden H --width W --rule R --epochs E
    --seed S --batch B --threads 1` bit for bit (locked and pipeline).
    Each partial_fit call is one epoch over its data; consecutive calls
    continue the batch order's random stream (locked, the same data E times
    equals fit with E epochs); unlocked schedules drain at the end of each
    call, so every call leaves a network holding every batch it was given.
    The async schedule's blocks run free on worker threads: its results
    depend on timing (scikit-learn tag non_deterministic).

    threads: dnic's thread count during fit and predict (None: unchanged).
    verbose 1: a progress bar (tqdm, where installed; else a line an epoch).

    Fitted attributes: classes_, n_features_in_, network_ (dnic.Network),
    dni_ (dnic.DNI), boundaries_ (hidden-layer numbers of the interfaces),
    lr_ and sg_lr_ (the rates used), history_ (a dict per epoch: "epoch",
    "loss" (mean training loss of the epoch's batches), "val_loss" and
    "val_accuracy" when validation_data is given)."""

    def __init__(self, hidden=3, width=256, activation="relu", batchnorm=False, rule="sg", sg_at=None,
                 schedule="locked", optimizer="adam", lr=None, sg_lr=None, batch_size=64, epochs=1, seed=1, l2=0.0,
                 threads=None, verbose=0, sg_kind=None, sg_target=None, sg_loss=None, sg_signal=None, sg_alpha=None,
                 sg_hidden=None, sg_warmup=0):
        self.hidden = hidden
        self.width = width
        self.activation = activation
        self.batchnorm = batchnorm
        self.rule = rule
        self.sg_at = sg_at
        self.schedule = schedule
        self.optimizer = optimizer
        self.lr = lr
        self.sg_lr = sg_lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.seed = seed
        self.l2 = l2
        self.threads = threads
        self.verbose = verbose
        self.sg_kind = sg_kind
        self.sg_target = sg_target
        self.sg_loss = sg_loss
        self.sg_signal = sg_signal
        self.sg_alpha = sg_alpha
        self.sg_hidden = sg_hidden
        self.sg_warmup = sg_warmup

    # -- settings -------------------------------------------------------------
    def _check_params(self):
        """The settings no lower layer checks with a message naming them."""
        def whole(name, low):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError("%s must be an integer >= %d, got %r" % (name, low, value))
        whole("hidden", 0)
        whole("width", 1)
        whole("batch_size", 1)
        whole("epochs", 1)
        whole("sg_warmup", 0)
        if self.threads is not None:
            whole("threads", 1)
        if self.rule not in RULES:
            raise ValueError("rule %r is not one of %s" % (self.rule, ", ".join(RULES)))
        if self.schedule not in SCHEDULES:
            raise ValueError("schedule %r is not one of %s" % (self.schedule, ", ".join(SCHEDULES)))
        if self.optimizer not in DEFAULT_LR:
            raise ValueError("optimizer %r is not one of %s" % (self.optimizer, ", ".join(DEFAULT_LR)))
        for name in ("lr", "sg_lr"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float, np.number)) and np.isfinite(value) and value > 0):
                raise ValueError("%s must be a positive number or None, got %r" % (name, value))
        if not (isinstance(self.l2, (int, float, np.number)) and np.isfinite(self.l2) and self.l2 >= 0):
            raise ValueError("l2 must be a number >= 0, got %r" % (self.l2,))
        if self.schedule != "locked":
            if self.rule != "sg":
                raise ValueError("schedule %r needs rule 'sg': %s's learning signal needs the same batch's result from "
                                 "above" % (self.schedule, self.rule))
            if self.sg_at == "output":
                raise ValueError("schedule %r cannot unlock an interface on the output (sg_at 'output')" % self.schedule)

    def _make(self, n_features, n_classes):
        """A fresh network and its interfaces, with their optimizers, as
        `dnic train` makes them; returns (network, dni, network's rate)."""
        self._check_params()
        _, rule_kind, _, _, rule_signal, _ = RULES[self.rule]
        network = Network(n_features, [(self.width, self.activation, bool(self.batchnorm))] * self.hidden, n_classes,
                          max_batch=self.batch_size, seed=self.seed)
        dni = DNI(network, self.rule, at=self.sg_at, kind=self.sg_kind, target=self.sg_target, loss=self.sg_loss,
                  signal=self.sg_signal, alpha=self.sg_alpha, mlp_hidden=tuple(self.sg_hidden or ()),
                  warmup=self.sg_warmup, seed=self.seed)
        passes_predictions = (self.rule != "backprop" and (self.sg_kind or rule_kind) in TRAINABLE_KINDS
                              and (self.sg_signal or rule_signal) != "prop")
        lr = self.lr if self.lr is not None else default_learning_rate(
            self.optimizer, self.schedule, len(dni.boundaries) + 1, len(dni.boundaries) if passes_predictions else 0)
        network.set_optimizer(self.optimizer, lr, l2=self.l2)
        if self.sg_lr is None:
            dni.set_interface_optimizer(self.optimizer, lr, l2=self.l2)
        else:  # `--sg-lr` starts the interfaces' optimizer from the network's kind, not its l2
            dni.set_interface_optimizer(self.optimizer, self.sg_lr)
        return network, dni, float(lr)

    def _build(self, n_features, classes):
        """Fresh fitted state for `classes`: network_, dni_, their rates, an
        empty history (classes_ last: an estimator whose build failed is
        not fitted)."""
        self.network_, self.dni_, self.lr_ = self._make(n_features, len(classes))
        self.boundaries_ = list(self.dni_.boundaries)
        self.sg_lr_ = self.lr_ if self.sg_lr is None else float(self.sg_lr)
        self.history_ = []
        self._data_rng = None
        self.classes_ = classes

    def save(self, path, data=None):
        """Writes the fitted model to `path` as a dnic checkpoint, atomically:
        `dnic eval --checkpoint path --data SRC`, `dnic analyze` and `dnic
        train --resume` read it, and dnic.load(path) gives this estimator
        back. `data`: the `--data` value of the training data as files
        (e.g. "npy:X.npy,y.npy,Xt.npy,yt.npy"), which lets `dnic train
        --resume` continue without --data (dnic.checkpoint.save)."""
        _save(self, path, data)

    # -- pickling (joblib, GridSearchCV(n_jobs=...)): the C state as arrays ---
    def _blocks(self):
        """(parameters, optimizer state, step) of the network, then of every
        interface (top first), as views of the core's memory."""
        n = ffi.new("size_t *")
        net = self.network_._handle
        out = [(view(lib.dnic_net_params(net, n), n[0], self), view(lib.dnic_net_optim_state(net, n), n[0], self),
                lib.dnic_net_optim_step(net))]
        for i in range(lib.dnic_dni_num_ifaces(self.dni_._handle)):
            iface = lib.dnic_dni_iface(self.dni_._handle, i)
            out.append((view(lib.dnic_iface_params(iface, n), n[0], self),
                        view(lib.dnic_iface_optim_state(iface, n), n[0], self), lib.dnic_iface_step(iface)))
        return out

    def __getstate__(self):
        state = super().__getstate__()
        if "network_" in state:
            state = dict(state)
            state["_core_state"] = ((self.network_.input_dim, self.network_.output_dim),
                                    [(p.copy(), o.copy(), int(t)) for p, o, t in self._blocks()])
            del state["network_"], state["dni_"]
        return state

    def __setstate__(self, state):
        core = state.pop("_core_state", None)
        super().__setstate__(state)
        if core is None:
            return
        (n_features, n_classes), saved = core
        self.network_, self.dni_, _ = self._make(n_features, n_classes)
        blocks = self._blocks()
        if [(p.size, o.size) for p, o, _ in blocks] != [(p.size, o.size) for p, o, _ in saved]:
            raise ValueError("the pickled DNIClassifier's state does not fit its settings")
        for (p, o, _), (sp, so, _) in zip(blocks, saved):
            p[:], o[:] = sp, so
        check(lib.dnic_net_set_optim_step(self.network_._handle, saved[0][2]), "unpickle")
        for i, (_, _, step) in enumerate(saved[1:]):
            check(lib.dnic_iface_set_step(lib.dnic_dni_iface(self.dni_._handle, i), step), "unpickle")

    # -- input ----------------------------------------------------------------
    @staticmethod
    def _classes(labels, what):
        """The sorted distinct labels, at least two of them."""
        classes = np.unique(np.asarray(labels))
        if len(classes) < 2:
            raise ValueError("DNIClassifier needs samples of at least 2 classes, but %s holds only one class: %r"
                             % (what, classes[0] if len(classes) else None))
        return classes

    @staticmethod
    def _encode(y, classes, what="y"):
        """Labels as class indices 0..K-1 into the sorted `classes` (int32)."""
        index = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
        unknown = classes[index] != y
        if np.any(unknown):
            raise ValueError("%s holds labels not in classes_ %s: %s" % (what, list(classes),
                                                                       list(np.unique(np.asarray(y)[unknown])[:5])))
        return index.astype(np.int32)

    def _validation(self, validation_data, classes):
        if validation_data is None:
            return None
        try:
            Xv, yv = validation_data
        except (TypeError, ValueError):
            raise ValueError("validation_data must be a pair (X, y)") from None
        Xv = validate_data(self, Xv, reset=False, dtype=np.float32, order="C")
        yv = np.asarray(yv)
        if yv.ndim != 1 or yv.shape[0] != Xv.shape[0]:
            raise ValueError("validation_data's y must be 1-D with one label per row of its X (%d), got shape %s"
                             % (Xv.shape[0], yv.shape))
        return Xv, self._encode(yv, classes, "validation_data's y")

    # -- training -------------------------------------------------------------
    def fit(self, X, y, epochs=None, validation_data=None):
        """Trains a fresh network for `epochs` (None: the estimator's) on X, y;
        validation_data (X, y) is evaluated after every epoch (history_)."""
        X, y = validate_data(self, X, y, dtype=np.float32, order="C")
        check_classification_targets(y)
        classes = self._classes(y, "the data")
        epochs = self.epochs if epochs is None else epochs
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError("epochs must be an integer >= 1, got %r" % (epochs,))
        validation = self._validation(validation_data, classes)
        self._build(X.shape[1], classes)
        self._train(X, self._encode(y, classes), int(epochs), validation)
        return self

    def partial_fit(self, X, y, classes=None):
        """One epoch on X, y, continuing the network (a fresh one on the first
        call, which must name every class with `classes`)."""
        first = not hasattr(self, "classes_")
        X, y = validate_data(self, X, y, dtype=np.float32, order="C", reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self._build(X.shape[1], self._classes(classes, "classes"))
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError("classes=%r is not the same as on the first call to partial_fit, was %r"
                             % (list(np.unique(classes)), list(self.classes_)))
        self._train(X, self._encode(y, self.classes_), 1, None)
        return self

    def _train(self, X, y, epochs, validation):
        """`epochs` passes over X, y (class indices) in `dnic train`'s batch
        order; unlocked, one pipeline for them all, drained at the end."""
        order = BatchOrder(X.shape[0], self.batch_size, seed=self.seed)
        if self._data_rng is not None:  # continue the order's stream (partial_fit): a new epoch from it
            order.restore(self._data_rng, 0, False)
        steps = order.steps_per_epoch
        pipe = None if self.schedule == "locked" else Pipeline(
            self.dni_, self.schedule, **({"queue": ASYNC_QUEUE} if self.schedule == "async" else {}))
        progress = self._progress(epochs * steps)
        step = 0
        failed = True
        try:
            with dnic_threads(self.threads), nonfinite_named(self, lambda: step):
                for epoch in range(epochs):
                    loss_sum, loss_count = 0.0, 0
                    for _ in range(steps):
                        rows = order.next()
                        step += 1
                        if pipe is None:
                            loss_sum += self.dni_.train_step(X[rows], y[rows])
                            loss_count += 1
                        else:
                            loss, finished = pipe.tick(X[rows], y[rows])
                            if finished:
                                loss_sum += loss * finished
                                loss_count += finished
                        if progress is not None:
                            progress.update(1)
                    if pipe is not None:
                        if epoch == epochs - 1 or self.schedule == "async":
                            while pipe.pending:  # as dnic train settles: losses counted
                                loss, finished = pipe.tick()
                                if finished:
                                    loss_sum += loss * finished
                                    loss_count += finished
                        pipe.sync()  # the network holds the blocks' values, as before dnic train evaluates
                    record = {"epoch": len(self.history_) + 1, "loss": loss_sum / max(loss_count, 1)}
                    if validation is not None:
                        record["val_loss"], record["val_accuracy"] = self.network_.evaluate(*validation)
                    self.history_.append(record)
                    self._report(progress, record)
                if pipe is not None:
                    pipe.close()  # drained above: every batch reached every block
                failed = False
        finally:
            if pipe is not None and failed:
                try:  # give the DNI back; the error in flight is the one to report
                    pipe.close()
                except DnicError:
                    pass
            if progress is not None:
                progress.close()
        self._data_rng = order.next_epoch_rng()

    def _progress(self, total):
        if not self.verbose:
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
        return tqdm(total=total, unit="batch", desc="DNIClassifier(%s)" % self.rule, leave=True)

    def _report(self, progress, record):
        if not self.verbose:
            return
        text = ", ".join("%s %.4g" % (k, v) for k, v in record.items() if k != "epoch")
        if progress is not None:
            progress.set_postfix_str(text)
        else:
            print("epoch %d: %s" % (record["epoch"], text), file=sys.stderr)

    # -- inference ------------------------------------------------------------
    def predict_proba(self, X):
        """Class probabilities (n, len(classes_)), in classes_ order."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32, order="C")
        with dnic_threads(self.threads):
            return self.network_.predict_proba(X)

    def predict(self, X):
        """The most probable class of every row (a value of classes_)."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # -- scikit-learn ---------------------------------------------------------
    def __sklearn_is_fitted__(self):
        # fitted once a network is built (n_features_in_ comes earlier, with the input's check)
        return hasattr(self, "classes_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.schedule == "async"
        return tags


# -- saving and loading: one checkpoint format with the command line ---------

ESTIMATOR_KEY = "python_estimator"  # the checkpoint metadata holding the estimator's own settings


def _save(model, path, data=None):
    """DNIClassifier.save: the fitted network and interfaces as a dnic
    checkpoint (dnic.checkpoint.save), plus the estimator's parameters,
    label values and history under the metadata key python_estimator."""
    import json

    from . import checkpoint
    check_is_fitted(model)
    estimator = {"params": model.get_params(), "classes": np.asarray(model.classes_).tolist(), "history": model.history_}
    checkpoint.save(path, model.network_, model.dni_ if model.dni_.boundaries else None, data=data,
                    classes=len(model.classes_),
                    config={"training": {"batch": model.batch_size, "seed": model.seed, "schedule": model.schedule}},
                    metadata={ESTIMATOR_KEY: json.dumps(estimator, default=_json_value)})


def _json_value(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError("%r cannot be saved in a checkpoint's metadata" % (value,))


def load(path):
    """A DNIClassifier from a checkpoint: one saved by DNIClassifier.save
    (its parameters, label values and history come back), or one of `dnic
    train --save` (its settings become the estimator's parameters; its
    classes are 0..K-1; every hidden layer must have the same width,
    activation and batch norm). The network and interfaces continue where
    the checkpoint stopped (their optimizer state and steps)."""
    import json

    from . import checkpoint
    ck = checkpoint.load(path)
    saved = ck.metadata.get(ESTIMATOR_KEY)
    if saved is not None:
        estimator = json.loads(saved)
        model = DNIClassifier(**estimator["params"])
        classes, history = np.asarray(estimator["classes"]), estimator["history"]
    else:
        model, classes, history = _from_run_config(path, ck), np.arange(ck.classes), []
    model.network_ = ck.network
    model.dni_ = ck.dni if ck.dni is not None else DNI(ck.network, "backprop", seed=model.seed)
    model.lr_ = float(ck.network.optimizer["lr"])
    model.sg_lr_ = float(model.dni_.interface_optimizer["lr"]) if model.dni_.boundaries else model.lr_
    model.boundaries_ = list(model.dni_.boundaries)
    model.history_ = history
    model._data_rng = None
    model.n_features_in_ = ck.network.input_dim
    model.classes_ = classes
    return model


def _from_run_config(path, ck):
    """The estimator a `dnic train` checkpoint's settings describe."""
    config = ck.config
    layers = config["model"]["layers"]
    kinds = {(layer["width"], layer.get("activation", "relu"), bool(layer.get("batchnorm", False))) for layer in layers}
    if len(kinds) > 1:
        raise ValueError("%s: its hidden layers differ (%s); a DNIClassifier's are all alike: load it with "
                         "dnic.checkpoint.load" % (path, ", ".join(sorted("%d %s%s" % (w, a, " bn" if b else "")
                                                                      for w, a, b in kinds))))
    width, activation, batchnorm = kinds.pop() if kinds else (256, "relu", False)
    interfaces, training, optimizer = config.get("interfaces") or {}, config.get("training") or {}, config["optimizer"]
    rule = interfaces.get("rule", "backprop")
    at = interfaces.get("at", "none")
    return DNIClassifier(hidden=len(layers), width=width, activation=activation, batchnorm=batchnorm, rule=rule,
                         sg_at=None if rule == "backprop" else at, schedule=training.get("schedule", "locked"),
                         optimizer=optimizer["kind"], lr=optimizer["lr"], batch_size=training.get("batch", 64),
                         seed=training.get("seed", 1), l2=optimizer.get("l2", 0.0))
