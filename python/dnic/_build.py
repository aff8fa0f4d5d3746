"""cffi builder of dnic._dnic_cffi (API mode): the declarations come from
csrc/include/dnic.h itself, run through the C preprocessor, and the
extension is compiled against that header, so a struct or enum that
changes there changes here with it."""
import os
import re
import subprocess
import tempfile

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
INCLUDE = os.path.join(REPO, "csrc", "include")
HEADER = os.path.join(INCLUDE, "dnic.h")
LIBDIR = os.path.join(REPO, "build", "python")


def declarations(header=HEADER):
    """The header's declarations as cffi's cdef takes them: preprocessed
    with empty stddef.h / stdint.h (cffi knows size_t and the intN_t
    types) and no compiler macros (DNIC_API expands to nothing), plus
    its integer constants (#define DNIC_... N) as `#define NAME ...`."""
    with tempfile.TemporaryDirectory() as stubs:
        for name in ("stddef.h", "stdint.h"):
            open(os.path.join(stubs, name), "w").close()
        text = subprocess.check_output([os.environ.get("CPP", "cpp"), "-P", "-undef", "-nostdinc", "-I", stubs, header],
                                       universal_newlines=True)
    source = open(header).read()
    constants = [m.group(1) for m in re.finditer(r"^#define\s+(DNIC_[A-Z0-9_]+)\s+[(0-9]", source, re.M)]
    return text + "".join("#define %s ...\n" % name for name in constants)


# the extension's own check that the libdnic it loads has the layouts it
# was compiled against (DNIC_CHECK_ABI passes this compiler's struct sizes)
ABI_CHECK = "static int dnic_py_check_abi(void) { return (int)DNIC_CHECK_ABI(); }"

ffibuilder = FFI()
ffibuilder.cdef(declarations() + "int dnic_py_check_abi(void);\n")
ffibuilder.set_source("dnic._dnic_cffi", '#include "dnic.h"\n' + ABI_CHECK, include_dirs=[INCLUDE], library_dirs=[LIBDIR],
                      libraries=[":libdnic.so.0"], extra_link_args=["-Wl,-rpath,$ORIGIN"])

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
