#!/usr/bin/env bash
# dnic beside PyTorch and JAX, one session: builds dnic (release), makes a
# virtualenv in build/compare-venv with numpy, PyTorch (its CPU wheel when
# one is in $PIP_FIND_LINKS, so no CUDA libraries are fetched) and JAX from
# PyPI, then runs compare.py. Extra arguments go to compare.py
# (--reps N, --quick, --only w1,256). Never needed by the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product dnic 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
venv=build/compare-venv
if ! "$venv/bin/python" -c 'import numpy, torch, jax' 2>/dev/null; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    torch=torch
    for dir in ${PIP_FIND_LINKS:-}; do
        wheel=$(ls "$dir"/torch-*+cpu-*.whl 2>/dev/null | tail -n 1 || true)
        [ -n "$wheel" ] && torch=$wheel
    done
    "$venv/bin/pip" install --quiet numpy "$torch" "jax[cpu]"
fi
"$venv/bin/python" -c 'import torch, jax; print("PyTorch", torch.__version__, "JAX", jax.__version__)'
exec "$venv/bin/python" bench/compare/compare.py --dnic "$PWD/.build/release/dnic" "$@"
