#!/usr/bin/env bash
# The main job: installs dependencies, builds dnic (release), and trains a
# 3x256 relu network on Fashion-MNIST for three epochs, printing the test
# accuracy (the last line).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product dnic 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x .build/release/dnic
.build/release/dnic train --data fashion-mnist --hidden 3 --width 256 --activation relu --epochs 3 "$@"
