"""The compiled binding (cffi's ffi and lib), dnic's status codes as Python
exceptions, and numpy buffers handed to C without copies where their
layout allows."""
import os
import sys

import numpy as np

from . import _environment

_environment.clean()  # before the OpenMP runtimes read it (their first call comes later)


def _load_extension():
    """Imports the extension with its libraries' symbols GLOBAL: libdnic
    brings LLVM's OpenMP runtime (libomp), and the GEMM libraries it loads
    later (oneDNN, OpenBLAS, built for GNU's libgomp) must bind their GOMP_*
    calls to it, as they do in the dnic command line. Loaded LOCAL (Python's
    default), they would start libgomp beside it: two thread pools spinning
    against each other on the same cores (measured: 2 threads 20x slower)."""
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags | os.RTLD_GLOBAL)
    try:
        from . import _dnic_cffi
    finally:
        sys.setdlopenflags(flags)
    return _dnic_cffi.ffi, _dnic_cffi.lib


ffi, lib = _load_extension()


class DnicError(Exception):
    """A call into dnic's C core failed. `status` is the dnic_status
    name (e.g. "DNIC_ERR_ARG"); the message carries the core's detail."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class DnicValueError(DnicError, ValueError):
    """Bad sizes, settings, labels or values (DNIC_ERR_SIZE, _ARG, _LABEL,
    _BATCH_TOO_LARGE, _NONFINITE, _NULL)."""


class DnicStateError(DnicError, RuntimeError):
    """A call out of order, or a library that cannot be loaded here."""


_VALUE_ERRORS = {"DNIC_ERR_NULL", "DNIC_ERR_SIZE", "DNIC_ERR_ARG", "DNIC_ERR_BATCH_TOO_LARGE", "DNIC_ERR_LABEL",
                 "DNIC_ERR_NONFINITE", "DNIC_ERR_ABI"}
_STATUS_NAMES = {getattr(lib, name): name for name in dir(lib) if name.startswith("DNIC_ERR_") or name == "DNIC_OK"}


def last_error():
    """The C core's detail of this thread's last failing call ("" if none)."""
    detail = getattr(lib, "dnic_last_error", None)
    if detail is None:
        return ""
    text = detail()
    return ffi.string(text).decode("utf-8", "replace") if text != ffi.NULL else ""


def check_abi():
    """Refuses a libdnic whose structs differ from the header the package
    was compiled against (a library swapped after installing)."""
    check(lib.dnic_py_check_abi(), "dnic: the loaded libdnic")


def check(status, what):
    """Raises the exception for a dnic_status that is not DNIC_OK."""
    if status == lib.DNIC_OK:
        return
    name = _STATUS_NAMES.get(status, "status %d" % status)
    text = ffi.string(lib.dnic_status_str(status)).decode()
    detail = last_error()
    message = "%s: %s" % (what, detail if detail else text)
    raise (DnicValueError if name in _VALUE_ERRORS else DnicStateError)(message, name)


def features(X, width, what="X"):
    """X as a C-contiguous float32 (n, width) array: the same memory when it
    already is one (no copy), else converted once. NaN and infinity are
    refused here, before the core sees them."""
    array = np.asarray(X)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError("%s must hold numbers, not %s" % (what, array.dtype))
    if np.iscomplexobj(array):
        raise ValueError("%s must be real, not complex" % what)
    if array.ndim != 2:
        raise ValueError("%s must be 2-D (samples, features), got %d-D of shape %s" % (what, array.ndim, array.shape))
    if array.shape[1] != width:
        raise ValueError("%s has %d features; the network takes %d" % (what, array.shape[1], width))
    array = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(array).all():
        raise ValueError("%s contains NaN or infinity" % what)
    return array


def labels(y, n, classes, what="y"):
    """y as a contiguous int32 (n,) array of classes in [0, classes)."""
    array = np.asarray(y)
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError("%s must be 1-D with %d labels (one per row of X), got shape %s" % (what, n, array.shape))
    if not np.issubdtype(array.dtype, np.integer):
        if not (np.issubdtype(array.dtype, np.floating) and np.all(np.isfinite(array)) and np.all(array == np.round(array))):
            raise ValueError("%s must hold integer class indices, not %s" % (what, array.dtype))
    array = np.ascontiguousarray(array, dtype=np.int32)
    if n and (array.min() < 0 or array.max() >= classes):
        bad = array[(array < 0) | (array >= classes)][0]
        raise ValueError("%s holds %d, outside the %d classes [0, %d)" % (what, bad, classes, classes))
    return array


def floats(array):
    """A float32 array's data as a C float pointer (no copy)."""
    return ffi.cast("float *", ffi.from_buffer(array))


def ints(array):
    """An int32 array's data as a C int32_t pointer (no copy)."""
    return ffi.cast("int32_t *", ffi.from_buffer(array))


class _CoreMemory:
    """count floats at a pointer of the core's, exposed to numpy; holds
    `owner` (the Python object whose C handle owns the memory), so an array
    viewing it keeps that handle alive."""

    def __init__(self, pointer, count, owner):
        self.owner = owner
        self.__array_interface__ = {"data": (int(ffi.cast("uintptr_t", pointer)), False), "shape": (count,),
                                    "typestr": "<f4", "version": 3}


def view(pointer, count, owner):
    """count floats the core owns at pointer, as a numpy array sharing them
    (writable; it keeps `owner` alive as long as it lives)."""
    return np.asarray(_CoreMemory(pointer, count, owner))
