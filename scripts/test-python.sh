#!/usr/bin/env bash
# The Python package as a new user gets it: a new virtualenv
# (build/python-venv, made afresh), `pip install ./python` from this
# checkout (which builds libdnic and the cffi extension), a model trained
# from a script outside the repository, the examples in examples/python, then the pytest suite in
# python/tests against the INSTALLED package, compared with the dnic
# command line built by `swift build` (.build/debug/dnic). Ends with
# "python-suite: N passed, F failed". Writes only under build/.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
venv=build/python-venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "./python[test,progress]"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export PYTHONDONTWRITEBYTECODE=1 OMP_NUM_THREADS=1 DNIC_CLI="$repo/.build/debug/dnic"
"$repo/$venv/bin/python" - <<'PY'
import numpy as np, dnic
rng = np.random.default_rng(0)
X = rng.normal(size=(1000, 8)).astype(np.float32)
y = (X[:, 0] * X[:, 1] > 0).astype(np.int32)
net = dnic.Network(8, [64, 64], 2, seed=1)
net.set_optimizer("adam", 1e-2)
sg = dnic.DNI(net, "sg", at=[1], seed=1)
sg.set_interface_optimizer("adam", 1e-2)
order = dnic.BatchOrder(1000, 50, seed=1)
for _ in range(30 * order.steps_per_epoch):
    rows = order.next()
    sg.train_step(X[rows], y[rows])
accuracy = net.evaluate(X, y)[1]
print("installed package trains: accuracy %.3f with dnic %s" % (accuracy, dnic.core_version()))
assert accuracy > 0.9, accuracy
PY
for example in backprop sg_pipeline; do
    "$repo/$venv/bin/python" "$repo/examples/python/$example.py"
done
set +e
"$repo/$venv/bin/python" -m pytest -p no:cacheprovider -q -rs "$repo/python/tests" 2>&1 | tee pytest.log
status=${PIPESTATUS[0]}
set -e
tail -n 1 pytest.log | awk '{ p = 0; f = 0
    for (i = 2; i <= NF; i++) { if ($i ~ /^passed/) p = $(i - 1); if ($i ~ /^(failed|errors?)/) f += $(i - 1) }
    printf "python-suite: %d passed, %d failed\n", p, f }'
exit "$status"
