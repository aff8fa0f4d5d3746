#!/usr/bin/env bash
# Every test: installs dependencies, then
#  - the C suite (OpenMP at 1 and 2 threads, a build without OpenMP, the C
#    and Python examples) and the same under ASan + UBSan + LeakSanitizer;
#  - the Swift tests (library and the `dnic` CLI end to end), then a scan of
#    every stderr they captured from dnic for Swift error types, fatal
#    errors, backtraces and register dumps (scripts/scan-test-stderr.py);
#  - report-browser: `dnic reproduce all --quick` writes build/report, and
#    scripts/check-report.py opens it in headless Chromium (Debian's chromium,
#    chromium-driver and python3-selenium, installed here if missing; skipped
#    if they cannot be) to check its images, sections, no script and no
#    network; its screenshot is kept as build/test-logs/report.png.
# Prints a line as each stage starts and its summary lines when it ends (a
# failing stage also prints the end of its log); the full output of each
# stage is in build/test-logs/. Ends with one line adding up every suite's
# "N passed, N failed"; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
logs=build/test-logs
rm -rf "$logs" && mkdir -p "$logs"
failed=0

# stage NAME COMMAND...: COMMAND's output goes to $logs/NAME.log
stage() {
    local name=$1 start=$SECONDS
    shift
    echo "$name ..."
    if "$@" > "$logs/$name.log" 2>&1; then
        summarize "$logs/$name.log"
        echo "  ok ($((SECONDS - start)) s)"
    else
        summarize "$logs/$name.log"
        echo "  FAILED ($((SECONDS - start)) s); the end of $logs/$name.log:"
        tail -n 60 "$logs/$name.log" | sed 's/^/  | /'
        failed=1
    fi
}

# The lines worth a glance: each C suite's total, the examples' results,
# one line per Swift test class, the browser check's total, and every failure.
summarize() {
    awk '/^c-suite: /                     { print "  " $0 }
         /^mpi-np[0-9]+: /                { print "  " $0 }
         /^browser-suite: /               { print "  " $0 }
         /^stderr-scan: /                 { print "  " $0 }
         FILENAME ~ /report-browser\.log$/ && /^FAIL / { print "  browser: " $0; next }
         /^OK test accuracy|^FAIL|skipped under SANITIZE/ { print "  example: " $0 }
         /: error: |error: -\[/           { print "  " $0 }
         /^Test Suite .* (passed|failed) at/ { suite = $3; gsub("\047", "", suite); verdict = $4 }
         /Executed [0-9]+ tests?, with [0-9]+ failures?/ && suite != "" && suite !~ /\.xctest$|^All$|^Selected$/ {
             for (i = 1; i <= NF; i++) if ($i == "Executed") { n = $(i + 1); f = $(i + 4) }
             printf "  swift %s: %d passed, %d failed\n", suite, n - f, f; suite = "" }' "$1"
}

stage "c-suite" make --no-print-directory check
stage "c-suite-sanitizers" make --no-print-directory check SANITIZE=1
stage "swift-build" swift build --build-tests
stage "swift-test" env DNIC_TEST_STDERR_DIR="$PWD/$logs/stderr" swift test --skip-build
# every stderr the Swift tests captured from dnic: no Swift error type,
# fatal error, backtrace or register dump may ever reach a user
stage "stderr-scan" sh -c "python3 scripts/scan-test-stderr.py --self-test && python3 scripts/scan-test-stderr.py $logs/stderr"

# The report as a reader sees it, in a real browser; skipped (not failed)
# where the browser cannot be installed.
browser_pkgs="chromium chromium-driver python3-selenium"
missing=""
for p in $browser_pkgs; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
browser=1
if [ -n "$missing" ]; then
    echo "installing:$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    { $SUDO apt-get update -qq &&
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; } \
        > "$logs/report-browser-install.log" 2>&1 || browser=0
fi
if [ "$browser" = 1 ]; then
    stage "report-browser" bash -c 'rm -rf build/report &&
        .build/debug/dnic reproduce all --quick --out build/report --threads 2 &&
        python3 scripts/check-report.py build/report/index.html build/test-logs/report.png'
else
    echo "report-browser: skipped (chromium could not be installed)"
    echo "  (see $logs/report-browser-install.log)"
fi

cat "$logs"/*.log | awk '
     /^c-suite: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
     /^mpi-np[0-9]+: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
     /^browser-suite: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
     /^stderr-scan: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
     # XCTest prints a total per class and, last, for all tests
     /Executed [0-9]+ tests?, with [0-9]+ failures?/ {
         for (i = 1; i <= NF; i++) if ($i == "Executed") { st = $(i + 1); sf = $(i + 4) }
         swift = 1 }
     END { if (!swift) { print "all: swift tests did not report"; exit 1 }
           printf "all: %d passed, %d failed\n", p + st - sf, f + sf; exit (f + sf) > 0 }'
summed=$?
exit $(( failed || summed ))
