"""dnic: feed-forward networks trained with synthetic gradients and
decoupled neural interfaces (Czarnecki et al., ICML 2017), on dnic's C core.

Low level: Network, DNI (interfaces and the rules of Table 1), Pipeline
(unlocked schedules). High level: DNIClassifier, a scikit-learn estimator.
Errors from the core raise DnicError (a ValueError or RuntimeError) whose
message carries the core's detail."""
from ._core import DnicError, DnicStateError, DnicValueError, check_abi, ffi, lib, last_error

check_abi()
from . import checkpoint
from .batches import BatchOrder
from .classifier import DNIClassifier, load
from .dni import DNI, RULES, boundaries
from .network import Network
from .pipeline import Pipeline

__version__ = "0.1.0"


def core_version():
    """The version of the libdnic this package loaded."""
    return ffi.string(lib.dnic_version()).decode()


def set_num_threads(n):
    """Threads of dnic's loops and of its GEMM backend, together."""
    from ._core import check
    check(lib.dnic_set_num_threads(int(n)), "set_num_threads")


__all__ = ["BatchOrder", "DNI", "DNIClassifier", "DnicError", "DnicStateError", "DnicValueError", "Network", "Pipeline", "RULES",
           "boundaries", "checkpoint", "load",
           "core_version", "last_error", "set_num_threads"]
