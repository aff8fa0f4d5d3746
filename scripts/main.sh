#!/usr/bin/env bash
# The main job: installs dependencies, builds dnic (release), and trains the
# same 3x256 relu network on Fashion-MNIST for five epochs three times: with
# backprop; with a synthetic gradient (a linear cDNI after hidden layer 2,
# unlocking the lower block), locked; and under the pipeline schedule, the
# two blocks running in parallel, cut where they balance on this machine
# (--sg-at balanced measures the layers and plans the cut). Prints the three
# test accuracies and speeds last, and the pipeline's speed against the two
# locked runs, measured in this run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product dnic 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x .build/release/dnic
# Each run's lines go to stderr as they come and to a file whose last line
# (the summary) is printed at the end. tee writes to an inherited descriptor
# (>&2), never reopening /dev/stderr: when stdout and stderr are one log
# file (`> log 2>&1`), reopening it would truncate the log.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
run() {
    echo "== dnic train --rule $1" >&2
    .build/release/dnic train --data fashion-mnist --hidden 3 --width 256 --activation relu --epochs 5 --rule "$@" \
        | tee "$out" >&2 || return
    tail -n 1 "$out"
}
backprop=$(run backprop "$@")
sg=$(run sg "$@")
pipeline=$(run sg --schedule pipeline --sg-at balanced "$@")
echo "backprop:      $backprop"
echo "sg (cDNI):     $sg"
echo "sg, pipeline:  $pipeline"
rate() { sed -n 's/.* \([0-9][0-9]*\) samples\/s.*/\1/p' <<< "$1"; }
awk -v p="$(rate "$pipeline")" -v s="$(rate "$sg")" -v b="$(rate "$backprop")" 'BEGIN { if (p > 0 && s > 0 && b > 0)
    printf "the pipeline: %.2fx locked sg'"'"'s samples/s, %.2fx backprop'"'"'s (2 blocks cut where they balance; measured in this run)\n", p / s, p / b }'
