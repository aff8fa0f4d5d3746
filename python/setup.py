"""Builds the package: libdnic.so from the repository's csrc/ (by its
Makefile, into build/python/ of the repository) and the cffi extension
dnic._dnic_cffi compiled against csrc/include/dnic.h, so every struct
layout comes from the compiler, not from hand-copied definitions. The
library is shipped inside the package and found through the extension's
rpath ($ORIGIN); its GEMM backends are still chosen at run time."""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LIBDIR = os.path.join(REPO, "build", "python")
SONAME = "libdnic.so.0"


class BuildWithCore(build_ext):
    def run(self):
        if not os.path.exists(os.path.join(REPO, "Makefile")):
            raise SystemExit("dnic: build from a clone of the repository (pip install ./python): "
                             "the C core's sources are not next to this package")
        jobs = str(os.cpu_count() or 1)
        # the compiler the Swift build uses for the same sources (clang), so the
        # package computes what the dnic command line does, bit for bit
        # (clang, with LLVM's OpenMP runtime), so the package computes what
        # the command line does, bit for bit; gcc where there is no clang
        clang = shutil.which("clang")
        cc = os.environ.get("CC") or clang or "cc"
        runtime = ["OPENMP_LIBS=-lomp5"] if cc == clang else []
        subprocess.check_call(["make", "-s", "-C", REPO, "-j", jobs, "lib", "BUILD=build/python", "CC=" + cc] + runtime)
        super().run()
        targets = [os.path.join(HERE, "dnic")] if self.inplace else [os.path.join(self.build_lib, "dnic")]
        for target in targets:
            os.makedirs(target, exist_ok=True)
            # the real file under the SONAME the extension asks for
            shutil.copyfile(os.path.realpath(os.path.join(LIBDIR, SONAME)), os.path.join(target, SONAME))


# setuptools' own work files go under the repository's build/ too, not
# beside the sources
WORK = os.path.join(REPO, "build", "python", "setuptools")
os.makedirs(WORK, exist_ok=True)
setup(cffi_modules=["dnic/_build.py:ffibuilder"], cmdclass={"build_ext": BuildWithCore},
      options={"build": {"build_base": WORK}, "egg_info": {"egg_base": WORK}})
