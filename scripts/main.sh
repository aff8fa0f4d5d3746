#!/usr/bin/env bash
# The main job: installs dependencies, builds dnic (release), and trains the
# same 3x256 relu network on Fashion-MNIST for five epochs twice: with
# backprop, and with a synthetic gradient (a linear cDNI after hidden layer
# 2, unlocking the lower block). Prints both test accuracies last.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product dnic 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x .build/release/dnic
run() {
    echo "== dnic train --rule $1" >&2
    .build/release/dnic train --data fashion-mnist --hidden 3 --width 256 --activation relu --epochs 5 --rule "$@" \
        | tee /dev/stderr | tail -n 1
}
backprop=$(run backprop "$@")
sg=$(run sg "$@")
echo "backprop:  $backprop"
echo "sg (cDNI): $sg"
