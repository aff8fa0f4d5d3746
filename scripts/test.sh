#!/usr/bin/env bash
# Every test: installs dependencies, then
#  - the C suite (OpenMP at 1 and 2 threads, a build without OpenMP, the C
#    and Python examples) and the same under ASan + UBSan + LeakSanitizer;
#  - the Swift tests (library and the `dnic` CLI end to end).
# Ends with one line adding up every suite's "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
make --no-print-directory check 2>&1 | tee "$log"
make --no-print-directory check SANITIZE=1 2>&1 | tee -a "$log"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' | tee -a "$log"
swift test --skip-build 2>&1 | tee -a "$log"
awk '/^c-suite: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
     # XCTest prints a total per class and, last, for all tests
     /Executed [0-9]+ tests?, with [0-9]+ failures?/ {
         for (i = 1; i <= NF; i++) if ($i == "Executed") { st = $(i + 1); sf = $(i + 4) }
         swift = 1 }
     END { if (!swift) { print "swift tests did not report"; exit 1 }
           printf "all: %d passed, %d failed\n", p + st - sf, f + sf; exit (f + sf) > 0 }' "$log"
