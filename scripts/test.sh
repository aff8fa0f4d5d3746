#!/usr/bin/env bash
# Every test: installs dependencies, then the C suite (OpenMP at 1 and 2
# threads, a build without OpenMP, the C and Python examples) and the same
# C suite under AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer.
# Ends with one line adding up every suite's "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
make --no-print-directory check 2>&1 | tee "$log"
make --no-print-directory check SANITIZE=1 2>&1 | tee -a "$log"
awk '/^c-suite: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
     END { printf "all: %d passed, %d failed\n", p, f; exit f > 0 }' "$log"
