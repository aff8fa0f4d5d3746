#!/usr/bin/env bash
# The main job: installs dependencies, builds the C core, and trains a
# 784-256-256-256-10 network on Fashion-MNIST, printing the test accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
make --no-print-directory -s demo
