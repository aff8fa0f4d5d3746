#!/usr/bin/env bash
# Does driving the C core from Swift cost anything? Runs the C core's own
# training loop (examples/c/fashion_mnist.c, gcc + libgomp) and `dnic train`
# (Swift, C core built by Swift's clang + libomp) on the same network and
# data (784-256-256-256-10 relu, Adam, batch 64, one epoch of Fashion-MNIST),
# alternating, and prints the ratio of median samples/s measured in this run.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/examples/fashion_mnist >/dev/null
swift build -c release --product dnic >/dev/null 2>&1
runs=${RUNS:-3}
c=(); s=()
for _ in $(seq "$runs"); do
    c+=("$(./build/examples/fashion_mnist --epochs 1 "$@" | sed -n 's/.*training \([0-9]*\) samples\/s.*/\1/p')")
    s+=("$(.build/release/dnic train --epochs 1 --quiet "$@" | sed -n 's/.*steps, \([0-9]*\) samples\/s.*/\1/p')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mc=$(median "${c[@]}"); ms=$(median "${s[@]}")
echo "C core loop: ${c[*]} samples/s (median $mc)"
echo "dnic train:  ${s[*]} samples/s (median $ms)"
awk -v s="$ms" -v c="$mc" 'BEGIN { printf "dnic train / C loop = %.3f\n", s / c }'
