#!/usr/bin/env python3
"""examples/python/train.py -- train a small dnic network from Python.

Uses only the standard library: ctypes talks to libdnic's C API (dnic.h)
directly -- no numpy, no compiled extension.

    python3 examples/python/train.py [path/to/libdnic.so] [seed]

The library is found from argv[1], else the environment variable DNIC_LIB,
else ctypes.util.find_library("dnic").

The task is "XOR blobs": four Gaussian blobs at the corners of a square,
opposite corners sharing a class -- not linearly separable, so the hidden
layers matter. The network is 2 -> 32 relu (with batch norm) -> 32 relu -> 2
with a softmax cross-entropy loss, trained by Adam. The program prints the
test accuracy and exits non-zero if it is below MIN_TEST_ACCURACY.

The data lives in ctypes arrays from the start and every mini-batch is
picked inside the library (dnic_shuffle + dnic_gather_rows/_labels), so the
Python loop makes only a handful of foreign calls per step.
"""

import ctypes
import ctypes.util
import os
import random
import sys

EXPECTED_VERSION_PREFIX = "0.1."  # DNIC_VERSION_MAJOR.DNIC_VERSION_MINOR.
MIN_TEST_ACCURACY = 0.95

N_PER_BLOB = 150    # 4 blobs -> 600 points
N_TRAIN = 480       # the remaining 120 are the test set
INPUT_DIM = 2
N_CLASSES = 2
HIDDEN = 32
BATCH = 32
EPOCHS = 30
LEARNING_RATE = 1e-2

# ------------------------------------------------------------ C declarations
# Enum values and struct layouts copied from csrc/include/dnic.h. The enums
# are int-sized (small non-negative values), so they are declared c_int.
# Field ORDER and TYPES must match the header exactly; ctypes applies the
# platform's C alignment rules (e.g. the padding before a pointer).

DNIC_OK = 0
DNIC_ACT_IDENTITY, DNIC_ACT_RELU, DNIC_ACT_SIGMOID, DNIC_ACT_TANH = range(4)
DNIC_LOSS_MSE, DNIC_LOSS_SOFTMAX_CE, DNIC_LOSS_LOGISTIC = range(3)
(DNIC_INIT_GLOROT_UNIFORM, DNIC_INIT_GLOROT_NORMAL, DNIC_INIT_HE_UNIFORM,
 DNIC_INIT_HE_NORMAL, DNIC_INIT_ZERO) = range(5)
DNIC_OPT_SGD, DNIC_OPT_MOMENTUM, DNIC_OPT_ADAM = range(3)
BLAS_SOURCES = ("OpenBLAS (dlopen)", "OpenBLAS (preloaded)", "generic CBLAS",
                "built-in sgemm")


class dnic_layer_desc(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int),
        ("act", ctypes.c_int),          # dnic_activation
        ("batchnorm", ctypes.c_int),
    ]


class dnic_net_desc(ctypes.Structure):
    _fields_ = [
        ("input_dim", ctypes.c_int),
        ("n_layers", ctypes.c_int),
        ("layers", ctypes.POINTER(dnic_layer_desc)),
        ("loss", ctypes.c_int),         # dnic_loss
        ("init", ctypes.c_int),         # dnic_init
        ("max_batch", ctypes.c_int),
        ("bn_momentum", ctypes.c_float),
        ("bn_eps", ctypes.c_float),
        ("first_layer", ctypes.c_int),
        ("hidden_top", ctypes.c_int),
    ]


class dnic_optim_config(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_int),         # dnic_optimizer
        ("lr", ctypes.c_float),
        ("momentum", ctypes.c_float),
        ("beta1", ctypes.c_float),
        ("beta2", ctypes.c_float),
        ("eps", ctypes.c_float),
        ("l2", ctypes.c_float),
    ]


class dnic_gemm_info_t(ctypes.Structure):
    _fields_ = [
        ("backend", ctypes.c_int),      # dnic_gemm_backend
        ("name", ctypes.c_char * 32),
        ("library", ctypes.c_char * 256),
        ("version", ctypes.c_char * 32),
        ("isa", ctypes.c_char * 64),
        ("reason", ctypes.c_char * 256),
        ("threads", ctypes.c_int),
    ]


class dnic_blas_info_t(ctypes.Structure):
    _fields_ = [
        ("source", ctypes.c_int),       # dnic_blas_source
        ("library", ctypes.c_char * 256),
        ("corename", ctypes.c_char * 64),
        ("config", ctypes.c_char * 256),
        ("coretype_env", ctypes.c_char * 64),
        ("coretype_set", ctypes.c_char * 64),
        ("threads", ctypes.c_int),
    ]


class DnicError(RuntimeError):
    """A dnic function returned a status other than DNIC_OK."""


def load_library(path):
    """Opens libdnic and declares the signature of every function used.

    Functions returning dnic_status get an errcheck hook, so a non-OK status
    raises DnicError (with dnic_status_str's text) instead of passing by
    silently.
    """
    lib = ctypes.CDLL(path)
    P = ctypes.POINTER
    c_int, c_float, c_double, c_size_t = (ctypes.c_int, ctypes.c_float,
                                          ctypes.c_double, ctypes.c_size_t)
    f32p, i32p, u64p = P(c_float), P(ctypes.c_int32), P(ctypes.c_uint64)
    net_p = ctypes.c_void_p     # dnic_net_t * (opaque)
    STATUS = "status"           # marker: returns dnic_status (a C int)

    signatures = {              # name: (restype, argtypes)
        "dnic_version": (ctypes.c_char_p, []),
        "dnic_status_str": (ctypes.c_char_p, [c_int]),
        "dnic_blas_get_info": (STATUS, [P(dnic_blas_info_t)]),
        "dnic_gemm_get_info": (STATUS, [P(dnic_gemm_info_t)]),
        "dnic_shuffle": (STATUS, [i32p, c_size_t, u64p]),
        "dnic_gather_rows": (STATUS, [f32p, f32p, i32p, c_int, c_size_t, c_size_t]),
        "dnic_gather_labels": (STATUS, [i32p, i32p, i32p, c_int, c_size_t]),
        "dnic_optim_default": (dnic_optim_config, [c_int]),   # struct by value
        "dnic_optim_validate": (STATUS, [P(dnic_optim_config)]),
        "dnic_net_desc_defaults": (None, [P(dnic_net_desc)]),
        "dnic_net_create": (STATUS, [P(net_p), P(dnic_net_desc), ctypes.c_uint64]),
        "dnic_net_free": (None, [net_p]),
        "dnic_net_params": (f32p, [net_p, P(c_size_t)]),
        "dnic_net_set_optimizer": (STATUS, [net_p, c_int, P(dnic_optim_config)]),
        "dnic_net_train_step": (STATUS, [net_p, f32p, i32p, f32p, c_int, P(c_float)]),
        "dnic_net_evaluate": (STATUS, [net_p, f32p, i32p, f32p, c_size_t,
                                       P(c_double), P(c_size_t)]),
    }

    def check_status(result, func, args):
        if result != DNIC_OK:
            msg = lib.dnic_status_str(result).decode()
            raise DnicError("%s failed: %s (status %d)" % (func.__name__, msg, result))
        return result

    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        if restype == STATUS:
            fn.restype = c_int
            fn.errcheck = check_status
        else:
            fn.restype = restype
    return lib


# ------------------------------------------------------------------- dataset

def make_xor_blobs(rng):
    """Four blobs centred at (+-1, +-1), std 0.35; class = (x > 0) xor (y > 0)."""
    points = []
    for cx, cy in ((-1, -1), (-1, 1), (1, -1), (1, 1)):
        label = int((cx > 0) != (cy > 0))
        for _ in range(N_PER_BLOB):
            points.append((cx + rng.gauss(0, 0.35), cy + rng.gauss(0, 0.35), label))
    rng.shuffle(points)
    return points


def to_ctypes(points):
    """(x, y, label) tuples -> float32 X (n, 2) row-major and int32 labels (n)."""
    n = len(points)
    X = (ctypes.c_float * (INPUT_DIM * n))()
    y = (ctypes.c_int32 * n)()
    for i, (a, b, label) in enumerate(points):
        X[2 * i], X[2 * i + 1], y[i] = a, b, label
    return X, y


# ---------------------------------------------------------------------- main

def main():
    path = ((sys.argv[1] if len(sys.argv) > 1 else None)
            or os.environ.get("DNIC_LIB") or ctypes.util.find_library("dnic"))
    if not path:
        sys.exit("train.py: libdnic not found; pass its path as the first "
                 "argument or set DNIC_LIB")
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7

    lib = load_library(path)
    version = lib.dnic_version().decode()
    print("dnic %s from %s, seed %d" % (version, path, seed))
    if not version.startswith(EXPECTED_VERSION_PREFIX):
        sys.exit("train.py: library version %s does not match the expected %s*"
                 % (version, EXPECTED_VERSION_PREFIX))

    # --- data: generated with Python's seeded `random`, split train/test.
    points = make_xor_blobs(random.Random(seed))
    n_test = len(points) - N_TRAIN
    X_train, y_train = to_ctypes(points[:N_TRAIN])
    X_test, y_test = to_ctypes(points[N_TRAIN:])

    # --- network: 2 -> 32 relu+bn -> 32 relu -> 2 (identity; the softmax
    # belongs to the loss). dnic_net_create copies the layer array.
    layers = (dnic_layer_desc * 3)(
        dnic_layer_desc(HIDDEN, DNIC_ACT_RELU, 1),
        dnic_layer_desc(HIDDEN, DNIC_ACT_RELU, 0),
        dnic_layer_desc(N_CLASSES, DNIC_ACT_IDENTITY, 0),   # output layer
    )
    desc = dnic_net_desc()
    lib.dnic_net_desc_defaults(ctypes.byref(desc))   # init, bn constants, loss
    desc.input_dim = INPUT_DIM
    desc.n_layers = len(layers)
    desc.layers = ctypes.cast(layers, ctypes.POINTER(dnic_layer_desc))
    desc.loss = DNIC_LOSS_SOFTMAX_CE
    desc.init = DNIC_INIT_HE_UNIFORM                 # the usual choice for relu
    desc.max_batch = BATCH                           # evaluate() chunks by this

    net = ctypes.c_void_p()
    lib.dnic_net_create(ctypes.byref(net), ctypes.byref(desc), seed)
    try:
        opt = lib.dnic_optim_default(DNIC_OPT_ADAM)  # lr 1e-3, 0.9, 0.999, 1e-8
        opt.lr = LEARNING_RATE
        lib.dnic_optim_validate(ctypes.byref(opt))
        lib.dnic_net_set_optimizer(net, 0, ctypes.byref(opt))

        n_params = ctypes.c_size_t()
        lib.dnic_net_params(net, ctypes.byref(n_params))
        print("network: %d -> %d relu+bn -> %d relu -> %d, %d parameters"
              % (INPUT_DIM, HIDDEN, HIDDEN, N_CLASSES, n_params.value))

        # --- training: a new order of the training set every epoch.
        rng_state = ctypes.c_uint64(seed)
        order = (ctypes.c_int32 * N_TRAIN)(*range(N_TRAIN))
        order_addr = ctypes.addressof(order)
        xb = (ctypes.c_float * (BATCH * INPUT_DIM))()
        yb = (ctypes.c_int32 * BATCH)()
        loss = ctypes.c_float()
        for epoch in range(1, EPOCHS + 1):
            lib.dnic_shuffle(order, N_TRAIN, ctypes.byref(rng_state))
            total, batches = 0.0, 0
            for start in range(0, N_TRAIN, BATCH):
                b = min(BATCH, N_TRAIN - start)              # last batch may be short
                idx = ctypes.cast(order_addr + 4 * start,    # &order[start], no copy
                                  ctypes.POINTER(ctypes.c_int32))
                lib.dnic_gather_rows(xb, X_train, idx, b, INPUT_DIM, N_TRAIN)
                lib.dnic_gather_labels(yb, y_train, idx, b, N_TRAIN)
                # zero_grad + forward + loss + backward + Adam update
                lib.dnic_net_train_step(net, xb, yb, None, b, ctypes.byref(loss))
                total += loss.value
                batches += 1
            if epoch == 1 or epoch % 10 == 0:
                print("epoch %3d  train loss %.4f" % (epoch, total / batches))

        # --- evaluation mode on the held-out points (batch norm uses its
        # running statistics).
        test_loss, correct = ctypes.c_double(), ctypes.c_size_t()
        lib.dnic_net_evaluate(net, X_test, y_test, None, n_test,
                              ctypes.byref(test_loss), ctypes.byref(correct))
        accuracy = correct.value / n_test
        print("test  loss %.4f  accuracy %.4f (%d/%d)"
              % (test_loss.value, accuracy, correct.value, n_test))

        gemm = dnic_gemm_info_t()
        lib.dnic_gemm_get_info(ctypes.byref(gemm))
        print("GEMM: %s %s %s, ISA %s, %d thread(s) (%s)"
              % (gemm.name.decode(), gemm.version.decode(), gemm.library.decode(),
                 gemm.isa.decode(), gemm.threads, gemm.reason.decode()))
        info = dnic_blas_info_t()
        lib.dnic_blas_get_info(ctypes.byref(info))
        source = BLAS_SOURCES[info.source] if 0 <= info.source < 4 else "unknown"
        print("BLAS: %s %s, core %s, %d thread(s)"
              % (source, info.library.decode(), info.corename.decode() or "-",
                 info.threads))
    finally:
        lib.dnic_net_free(net)

    if accuracy < MIN_TEST_ACCURACY:
        sys.exit("train.py: FAIL test accuracy %.4f < %.2f" % (accuracy, MIN_TEST_ACCURACY))
    print("OK test accuracy %.4f >= %.2f" % (accuracy, MIN_TEST_ACCURACY))


if __name__ == "__main__":
    try:
        main()
    except DnicError as e:
        sys.exit("train.py: %s" % e)
