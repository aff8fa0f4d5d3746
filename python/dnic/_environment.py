"""The OpenMP thread-count variables, checked before the OpenMP runtimes
read them. LLVM's libomp (which libdnic brings) aborts the process on an
empty, negative or junk OMP_NUM_THREADS ("Assertion failure at
kmp_settings.cpp") and fails to start threads for a huge one; GNU libgomp
prints lines of its own. As the dnic command line does, a junk value is
removed with one warning (the runtime's default applies) and a count above
the CPUs this process may use is capped with one warning. The runtimes
read the environment at their first OpenMP call, which comes after this
(it runs when dnic is imported)."""
import os
import warnings

COUNTS = ("OMP_NUM_THREADS", "OMP_THREAD_LIMIT")


def usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def clean(environ=None, cpus=None):
    """Fixes `environ` (os.environ) in place; returns the warnings given."""
    environ = os.environ if environ is None else environ
    cpus = cpus or usable_cpus()
    said = []
    for name in COUNTS:
        if name not in environ:
            continue
        value = environ[name]
        parts = [part.strip() for part in value.split(",")] if name == "OMP_NUM_THREADS" else [value.strip()]
        if not all(part.isdigit() and int(part) >= 1 for part in parts):
            del environ[name]
            said.append("dnic: %s=%r is not a thread count (such as 2%s); ignoring it"
                        % (name, value, " or 4,2" if name == "OMP_NUM_THREADS" else ""))
        elif int(parts[0]) > cpus:
            environ[name] = ",".join([str(cpus)] + parts[1:])
            said.append("dnic: %s=%s is more than the %d CPUs this process may use; using %d"
                        % (name, value, cpus, cpus))
        elif ",".join(parts) != value:
            environ[name] = ",".join(parts)  # the runtimes differ on spaces
    for line in said:
        warnings.warn(line, RuntimeWarning, stacklevel=3)
    return said
