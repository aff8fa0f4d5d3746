"""Shared fixtures: the `dnic` command line (to compare against), data
written as .npy files the command line reads, and a thread cap."""
import os
import shutil
import subprocess

import numpy as np
import pytest

import dnic

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

dnic.set_num_threads(1)  # the tests' numbers are compared bit for bit, and the machine is shared


def find_cli():
    """DNIC_CLI, else the repository's own build (release, then debug), else PATH."""
    for candidate in (os.environ.get("DNIC_CLI"), os.path.join(REPO, ".build", "release", "dnic"),
                      os.path.join(REPO, ".build", "debug", "dnic"), shutil.which("dnic")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def cli():
    """Runs `dnic ARGS...` in a directory; returns the CompletedProcess."""
    path = find_cli()
    if path is None:
        pytest.skip("the dnic command line is not built (swift build) and DNIC_CLI is not set")

    def run(args, cwd, check=True):
        env = dict(os.environ, OMP_NUM_THREADS="1")
        done = subprocess.run([path] + [str(a) for a in args], cwd=str(cwd), env=env, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise AssertionError("dnic %s: exit %d: %s" % (" ".join(map(str, args)), done.returncode, done.stderr))
        return done
    return run


def blobs(n, dim=6, classes=3, seed=0):
    """Gaussian blobs: a small task every rule learns."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(classes, dim))
    y = rng.integers(0, classes, size=n).astype(np.int32)
    X = (centres[y] + rng.normal(size=(n, dim))).astype(np.float32)
    return X, y


@pytest.fixture
def npy_data(tmp_path):
    """(X, y, Xt, yt) and the --data spec of the same arrays as .npy files."""
    X, y = blobs(800, seed=1)
    X, y, Xt, yt = X[:600], y[:600], X[600:], y[600:]
    for name, array in (("X", X), ("y", y), ("Xt", Xt), ("yt", yt)):
        np.save(tmp_path / (name + ".npy"), array)
    return (X, y, Xt, yt), "npy:X.npy,y.npy,Xt.npy,yt.npy"
