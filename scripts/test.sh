#!/usr/bin/env bash
# Every test: installs dependencies, then
#  - the C suite (OpenMP at 1 and 2 threads, a build without OpenMP, the C
#    and Python examples) and the same under ASan + UBSan + LeakSanitizer;
#  - the Python package in a new virtualenv (scripts/test-python.sh);
#  - the Swift tests (library and the `dnic` CLI end to end), then a scan of
#    every stderr they captured from dnic for Swift error types, fatal
#    errors, backtraces and register dumps (scripts/scan-test-stderr.py);
#  - report-browser: `dnic reproduce all --quick` writes build/report, and
#    scripts/check-report.py opens it in headless Chromium (Debian's chromium,
#    chromium-driver and python3-selenium, which scripts/install-deps.sh
#    --browser installs if missing; skipped if they cannot be) to check its
#    images, sections, no script and no network; its screenshot is kept as
#    build/test-logs/report.png.
# Prints a line as each stage starts and its summary lines when it ends (a
# failing stage also prints the end of its log); the full output of each
# stage is in build/test-logs/. Ends with one line adding up every suite's
# "N passed, N failed"; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --browser || exit 1
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

# XCTest's total of each test class in the logs given, one line each:
# "swift CLASS: N passed, N failed". XCTest ends every suite with "Test
# Suite 'NAME' passed|failed at ..." and then "Executed N tests, with F
# failures ..."; the bundle's suite (*.xctest) and 'All tests' / 'Selected
# tests' only add up the classes, so they are left out. The one parser of
# XCTest's output here: summarize and the closing total both read its lines.
swift_classes() {
    awk '/^Test Suite .* (passed|failed) at/ { suite = $3; gsub("\047", "", suite) }
         /Executed [0-9]+ tests?, with [0-9]+ failures?/ && suite != "" {
             if (suite !~ /\.xctest$|^All$|^Selected$/) {
                 for (i = 1; i <= NF; i++) if ($i == "Executed") { n = $(i + 1); f = $(i + 4) }
                 printf "swift %s: %d passed, %d failed\n", suite, n - f, f
             }
             suite = "" }' "$@"
}

# The lines worth a glance: each C suite's total, the examples' results,
# one line per Swift test class, the browser check's total, and every failure.
summarize() {
    awk '/^c-suite: /                     { print "  " $0 }
         /^mpi-np[0-9]+: /                { print "  " $0 }
         /^browser-suite: /               { print "  " $0 }
         /^stderr-scan: /                 { print "  " $0 }
         /^python-suite: |^installed package trains/ { print "  " $0 }
         FILENAME ~ /report-browser\.log$/ && /^FAIL / { print "  browser: " $0; next }
         /^OK test accuracy|^FAIL|skipped under SANITIZE/ { print "  example: " $0 }
         /: error: |error: -\[/           { print "  " $0 }' "$1"
    swift_classes "$1" | sed 's/^/  /'
}

stage "c-suite" make --no-print-directory check
stage "c-suite-sanitizers" make --no-print-directory check SANITIZE=1
stage "swift-build" swift build --build-tests
stage "swift-test" env DNIC_TEST_STDERR_DIR="$PWD/$logs/stderr" swift test --skip-build
# every stderr the Swift tests captured from dnic: no Swift error type,
# fatal error, backtrace or register dump may ever reach a user
stage "stderr-scan" sh -c "python3 scripts/scan-test-stderr.py --self-test && python3 scripts/scan-test-stderr.py $logs/stderr"
# the Python package, installed into a new virtualenv from this checkout
stage "python" bash scripts/test-python.sh

# The report as a reader sees it, in a real browser; skipped (not failed)
# where scripts/install-deps.sh --browser could not install the browser.
if bash scripts/install-deps.sh --has-browser; then
    stage "report-browser" bash -c 'rm -rf build/report &&
        .build/debug/dnic reproduce all --quick --out build/report --threads 2 &&
        python3 scripts/check-report.py build/report/index.html build/test-logs/report.png'
else
    echo "report-browser: skipped (chromium, chromium-driver or python3-selenium could not be installed)"
fi

# every suite's total, the Swift classes' from the one parser above
{ cat "$logs"/*.log; swift_classes "$logs"/*.log; } | awk '
     /^c-suite: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
     /^mpi-np[0-9]+: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
     /^browser-suite: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
     /^stderr-scan: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
     /^python-suite: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
     /^swift [^ :]+: [0-9]+ passed, [0-9]+ failed/ { p += $3; f += $5; swift = 1 }
     END { if (!swift) { print "all: swift tests did not report"; exit 1 }
           printf "all: %d passed, %d failed\n", p, f; exit f > 0 }'
summed=$?
exit $(( failed || summed ))
