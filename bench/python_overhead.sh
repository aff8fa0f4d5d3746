#!/usr/bin/env bash
# What does driving the C core from Python cost? One epoch of Fashion-MNIST
# (784-256-256-256-10 relu, Adam, batch 64, rule sg unless RULE is set)
# through the Python package's loop (bench/python_overhead.py: a slice of
# the arrays, one cffi call per step), DNIClassifier.fit (timed whole) and
# `dnic train`, alternating
# RUNS times (3), THREADS threads (2); prints the three and their ratios to
# dnic train, medians measured in this run. Needs the package installed in
# build/python-venv (scripts/test-python.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product dnic >/dev/null 2>&1
python=build/python-venv/bin/python
rule=${RULE:-sg}; threads=${THREADS:-2}; runs=${RUNS:-3}
p=(); c=(); s=()
for _ in $(seq "$runs"); do
    p+=("$("$python" bench/python_overhead.py "$rule" "$threads" | sed -n 's/^samples\/s \([0-9]*\)/\1/p')")
    c+=("$("$python" bench/python_overhead.py "$rule" "$threads" classifier | sed -n 's/^samples\/s \([0-9]*\)/\1/p')")
    s+=("$(.build/release/dnic train --rule "$rule" --epochs 1 --threads "$threads" --quiet | sed -n 's/.*steps, \([0-9]*\) samples\/s.*/\1/p')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mp=$(median "${p[@]}"); mc=$(median "${c[@]}"); ms=$(median "${s[@]}")
echo "python loop:    ${p[*]} samples/s (median $mp)"
echo "DNIClassifier:  ${c[*]} samples/s (median $mc)"
echo "dnic train:     ${s[*]} samples/s (median $ms)"
awk -v p="$mp" -v c="$mc" -v s="$ms" 'BEGIN { printf "python loop / dnic train = %.3f, DNIClassifier.fit / dnic train = %.3f\n", p / s, c / s }'
