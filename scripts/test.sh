#!/bin/sh
# Every test: installs dependencies, then the C suite (OpenMP at 1 and 2
# threads, a build without OpenMP, the C and Python examples) and the same
# C suite under AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer.
set -e
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
make --no-print-directory check
make --no-print-directory check SANITIZE=1
echo "all tests passed"
