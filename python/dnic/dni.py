"""dnic.DNI: a network with decoupled neural interfaces on some of its
layers, trained by the locked schedule (dnic_dni_t), and the learning
rules of Czarnecki et al. (2017), Table 1, as presets of its interfaces.

Layer numbering (the same as the command line's --sg-at): boundary k sits
after hidden layer k, counted from 1 at the input; "output" puts one
interface on the network's output, before the loss."""
import numpy as np

from ._core import check, features, ffi, floats, ints, labels, lib, view
from .network import choice, optimizer_config, optimizer_settings

KINDS = {"linear": lib.DNIC_IFACE_LINEAR, "nolabel": lib.DNIC_IFACE_NOLABEL, "sigmoid": lib.DNIC_IFACE_SIGMOID,
         "mlp": lib.DNIC_IFACE_MLP, "identity": lib.DNIC_IFACE_IDENTITY, "random": lib.DNIC_IFACE_RANDOM,
         "ones": lib.DNIC_IFACE_ONES, "oracle": lib.DNIC_IFACE_ORACLE}
TARGETS = {"true": lib.DNIC_TARGET_TRUE, "bootstrap": lib.DNIC_TARGET_BOOTSTRAP,
           "output-error": lib.DNIC_TARGET_OUTPUT_ERROR, "next-error": lib.DNIC_TARGET_NEXT_ERROR}
IFACE_LOSSES = {"l2": lib.DNIC_IFACE_LOSS_L2, "inner": lib.DNIC_IFACE_LOSS_INNER}
SIGNALS = {"pred": lib.DNIC_SIGNAL_PRED, "prop": lib.DNIC_SIGNAL_PROP, "pred+prop": lib.DNIC_SIGNAL_PRED_PROP}
CENTRES = {"auto": lib.DNIC_CENTRE_AUTO, "off": lib.DNIC_CENTRE_OFF, "on": lib.DNIC_CENTRE_ON}

# Table 1: (where, kind, target, loss, signal, alpha), as `dnic train --rule`
RULES = {
    "backprop": ("none", "identity", "bootstrap", "inner", "prop", 0.0),
    "sg": ("mid", "linear", "bootstrap", "l2", "pred", 0.0),
    "sgprop": ("mid", "linear", "bootstrap", "l2", "pred+prop", 0.1),
    "fa": ("every", "random", "next-error", "inner", "prop", 0.0),
    "dfa": ("every", "random", "output-error", "inner", "prop", 0.0),
    "kickback": ("every", "ones", "output-error", "inner", "prop", 0.0),
}

# the seed of a run's interfaces, from the run's seed (as dnic train)
INTERFACE_SEED_SALT = 0x1FACE5


def boundaries(at, hidden, rule="sg"):
    """Hidden-layer numbers (from 1) of the boundaries `at` names for a
    stack of `hidden` hidden layers: "none", "mid" (after hidden layer
    ceil(H/2)), "every" (1..H-1 for trainable interfaces; 1..H for fa, dfa
    and kickback), "output" (H + 1), or a list of numbers."""
    every_layer = rule in ("fa", "dfa", "kickback")
    if every_layer and at != "every":
        raise ValueError("rule %s puts an interface at every hidden layer; no other placement is allowed" % rule)
    if at == "none":
        return []
    if at == "mid":
        if hidden < 2:
            raise ValueError("sg_at 'mid' needs at least 2 hidden layers (there are %d)" % hidden)
        return [(hidden + 1) // 2]
    if at == "every":
        top = hidden if every_layer else hidden - 1
        if top < 1:
            raise ValueError("sg_at 'every' needs at least %d hidden layers" % (1 if every_layer else 2))
        return list(range(1, top + 1))
    if at == "output":
        return [hidden + 1]
    places = [at] if isinstance(at, (int, np.integer)) else list(at)
    for k in places:  # as --sg-at: below the last hidden layer (the top block needs a layer of its own)
        if not isinstance(k, (int, np.integer)) or not 1 <= k < hidden:
            raise ValueError("sg_at %r: %s" % (k, "a boundary must lie after hidden layer 1 ... %d, below the last hidden "
                                               "layer (%d)" % (hidden - 1, hidden) if hidden >= 2 else
                                               "a boundary needs at least 2 hidden layers (there are %d)" % hidden))
    if len(set(places)) != len(places):
        raise ValueError("sg_at %r names a boundary twice" % (at,))
    return sorted(int(k) for k in places)


class DNI:
    """Interfaces of `rule` on `network` at the boundaries `at` (see
    `boundaries`), each part of the rule's preset overridable (kind,
    target, loss, signal, alpha, mlp_hidden, mlp_batchnorm, warmup,
    centre). The DNI borrows the network: train it with dni.train_step;
    evaluate and predict through the network. `seed` is the run's seed (the
    interfaces' own is derived from it as `dnic train` does)."""

    def __init__(self, network, rule="sg", at=None, kind=None, target=None, loss=None, signal=None, alpha=None,
                 mlp_hidden=(), mlp_batchnorm=False, warmup=0, centre="auto", seed=1, track_alignment=False):
        where, k0, t0, l0, s0, a0 = choice(RULES, rule, "rule")
        hidden = network.num_layers - 1
        self.network = network
        self.rule = rule
        self.boundaries = boundaries(where if at is None else at, hidden, rule)
        self.kind = kind or k0
        self._widths = ffi.new("int[]", max(len(mlp_hidden), 1))
        for i, w in enumerate(mlp_hidden):
            self._widths[i] = int(w)
        descs = ffi.new("dnic_iface_desc[]", max(len(self.boundaries), 1))
        for i, k in enumerate(self.boundaries):
            d = descs + i
            lib.dnic_iface_desc_defaults(d, k - 1)   # the core's layer: boundary k reads layer k-1's output
            d.kind = choice(KINDS, self.kind, "kind")
            d.target = choice(TARGETS, target or t0, "target")
            d.loss = choice(IFACE_LOSSES, loss or l0, "interface loss")
            d.signal = choice(SIGNALS, signal or s0, "signal")
            d.alpha = a0 if alpha is None else alpha
            d.mlp_layers, d.mlp_widths, d.mlp_batchnorm = len(mlp_hidden), self._widths, int(bool(mlp_batchnorm))
            d.warmup_steps = int(warmup)
            d.centre = choice(CENTRES, centre, "centre")
        out = ffi.new("dnic_dni_t **")
        check(lib.dnic_dni_create(out, network._handle, descs, len(self.boundaries), max(network.classes, 2),
                                  (int(seed) ^ INTERFACE_SEED_SALT) & 0xFFFFFFFFFFFFFFFF), "DNI")
        self._handle = ffi.gc(out[0], lib.dnic_dni_free)
        check(lib.dnic_dni_set_track_alignment(self._handle, int(bool(track_alignment))), "track_alignment")
        # what a checkpoint's config says of these interfaces (dnic.checkpoint)
        self.settings = {"rule": rule, "at": where if at is None else at, "kind": self.kind, "target": target or t0,
                         "loss": loss or l0, "signal": signal or s0, "alpha": float(a0 if alpha is None else alpha),
                         "hidden": [int(w) for w in mlp_hidden], "batchnorm": bool(mlp_batchnorm), "warmup": int(warmup),
                         "centre": centre, "track-alignment": bool(track_alignment)}
        self.interface_optimizer = optimizer_settings("sgd")  # the core's default until set_interface_optimizer

    @property
    def trainable(self):
        """Whether the interfaces learn (sg, sgprop) or are fixed (the others)."""
        return self.kind in ("linear", "nolabel", "sigmoid", "mlp")

    def set_interface_optimizer(self, kind="adam", lr=None, **settings):
        """Every trainable interface's optimizer (the network's is set on it)."""
        cfg = optimizer_config(kind, lr, **settings)
        check(lib.dnic_dni_set_iface_optimizer(self._handle, ffi.new("dnic_optim_config *", cfg)), "set_interface_optimizer")
        self.interface_optimizer = optimizer_settings(kind, cfg)

    def set_grad_clip(self, max_norm):
        check(lib.dnic_dni_set_grad_clip(self._handle, float(max_norm)), "set_grad_clip")

    def set_track_alignment(self, on):
        """Also measure, each step, the cosine between every interface's
        delivered signal and the true gradient (one more backward)."""
        check(lib.dnic_dni_set_track_alignment(self._handle, int(bool(on))), "set_track_alignment")
        self.settings["track-alignment"] = bool(on)

    def train_step(self, X, y):
        """One locked step on the batch X (B, input_dim), y (B): every
        block forward, the interfaces' predictions and targets, every
        update. Returns the batch's mean loss."""
        X = features(X, self.network.input_dim)
        y = labels(y, X.shape[0], self.network.classes)
        loss = ffi.new("float *")
        check(lib.dnic_dni_train_step(self._handle, floats(X), ints(y), ffi.NULL, X.shape[0], loss), "train_step")
        return float(loss[0])

    def _per_interface(self, getter):
        # the core numbers interfaces top first; report them by boundary, bottom first
        top_first = sorted(self.boundaries, reverse=True)
        values = {k: float(getter(self._handle, i)) for i, k in enumerate(top_first)}
        return [values[k] for k in self.boundaries]

    @property
    def interface_losses(self):
        """The last step's interface loss at each boundary (in `boundaries` order)."""
        return self._per_interface(lib.dnic_dni_iface_loss)

    @property
    def alignments(self):
        """With tracking on: the last step's cosine between each boundary's
        delivered signal and the true gradient (in `boundaries` order)."""
        return self._per_interface(lib.dnic_dni_iface_alignment)

    # -- checkpoint support (dnic.checkpoint) -----------------------------
    # The core numbers interfaces top first (dnic_dni_iface(i)); these take
    # and give them by boundary k (the hidden layer they follow, as
    # `boundaries` and the checkpoint's "interface{k}." names).
    def _iface(self, k):
        if k not in self.boundaries:
            raise ValueError("no interface at boundary %r (there are interfaces at %s)" % (k, self.boundaries))
        return lib.dnic_dni_iface(self._handle, sorted(self.boundaries, reverse=True).index(k))

    def _iface_tensors(self, k, block, offset=0, trainable_only=False):
        it, out = self._iface(k), {}
        info = ffi.new("dnic_tensor_info *")
        for i in range(lib.dnic_iface_num_tensors(it)):
            check(lib.dnic_iface_tensor(it, i, info), "interface %d tensor %d" % (k, i))
            if trainable_only and not info.trainable:
                continue
            shape = (info.rows, info.cols) if info.cols > 1 else (info.size,)
            out[ffi.string(info.name).decode()] = block[offset + info.offset:offset + info.offset + info.size].reshape(shape)
        return out

    def interface_parameters(self, k):
        """The interface at boundary k's tensors by name ("A", "B", "C",
        "mlp.layer0.weight", ...; fixed matrices of random and ones too), as
        numpy arrays SHARING the core's memory."""
        n = ffi.new("size_t *")
        return self._iface_tensors(k, view(lib.dnic_iface_params(self._iface(k), n), n[0], self))

    def interface_optimizer_state(self, k):
        """{"m": {name: array}, "v": {name: array}} of the interface at
        boundary k's trainable tensors, SHARING the core's memory."""
        n = ffi.new("size_t *")
        block = view(lib.dnic_iface_optim_state(self._iface(k), n), n[0], self)
        return {"m": self._iface_tensors(k, block, trainable_only=True),
                "v": self._iface_tensors(k, block, offset=n[0] // 2, trainable_only=True)}

    def interface_step(self, k):
        """Updates the interface at boundary k has applied (Adam's t, warmup)."""
        return lib.dnic_iface_step(self._iface(k))

    def set_interface_step(self, k, t):
        """Restores that counter when resuming."""
        check(lib.dnic_iface_set_step(self._iface(k), int(t)), "interface %d step" % k)
