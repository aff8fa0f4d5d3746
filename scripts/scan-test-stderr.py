#!/usr/bin/env python3
"""Checks every standard error the Swift tests captured from the programs
they ran (build/test-logs/stderr/*.txt, written by Tests/DnicTests/
ProcessRun.swift's StderrCaptures) for what must never reach a user of
dnic: a Swift error type or case (`EncodingError`, `OutputError.system`),
Swift's fatal error, a backtrace or a register dump.

    scripts/scan-test-stderr.py [DIR]
    scripts/scan-test-stderr.py --self-test   (the patterns against known
                                               leaks and real dnic lines)

Prints each offending capture (its command and the line), then
`stderr-scan: N passed, M failed` (a capture is one case); exits 1 when any
capture fails or when there are none (a scan of nothing proves nothing).
"""
import glob, os, re, sys

directory = sys.argv[1] if len(sys.argv) > 1 else 'build/test-logs/stderr'
forbidden = [
    (re.compile(r'\b[A-Z][A-Za-z]*Error\b(\.[a-z]|\()'), 'a Swift error type or case'),
    (re.compile(r'\b(EncodingError|DecodingError|CocoaError|NSCocoaErrorDomain|POSIXError)\b'), 'a Foundation error type'),
    (re.compile(r'Fatal error|fatalError|Precondition failed|Assertion failed'), "Swift's fatal error"),
    (re.compile(r'Backtrac|Program crashed|\*\*\* Signal \d+'), 'a backtrace'),
    (re.compile(r'^(Registers:|rax 0x|rip 0x)', re.M), 'a register dump'),
    (re.compile(r'\bSwift\.[A-Z]\w+|\bDnic\.[A-Z]\w+\('), 'a Swift type name'),
]
def offences(stderr):
    return [(why, m.group(0)) for rx, why in forbidden for m in [rx.search(stderr)] if m]

if directory == '--self-test':
    leaks = ['dnic: error: EncodingError.invalidValue: inf (Double). Path: interface_loss_sums[1].',
             'Swift/Array.swift:418: Fatal error: Index out of range',
             '*** Signal 4: Backtracing from 0x7f0bf18e2cc5... done ***',
             'Registers:\nrax 0x0000000000000001  1',
             'dnic: error: OutputError.system("x", "y")',
             'dnic: error: The operation could not be completed. (NSCocoaErrorDomain error 4.)',
             'dnic: error: DecodingError.dataCorrupted(Swift.DecodingError.Context(codingPath: []))']
    fine = ['dnic: error: step 14: the loss of the interface after hidden layer 3 is NaN or infinite; try a smaller --sg-lr or --clip-grad; run.st still holds step 10',
            'dnic: error: --log run.jsonl: cannot write: No space left on device (step 338); checkpoint saved to run.st',
            'dnic: warning: OMP_NUM_THREADS=abc is not a thread count; using 2',
            'dnic: error: checkpoint a.st: training.update-prob 0.5: needs --schedule pipeline or async: locked blocks update together']
    wrong = [l for l in leaks if not offences(l)] + [l for l in fine if offences(l)]
    for l in wrong: print('self-test: misjudged:', l)
    print(f'stderr-scan self-test: {len(leaks) + len(fine) - len(wrong)} passed, {len(wrong)} failed')
    sys.exit(1 if wrong else 0)

files = sorted(glob.glob(os.path.join(directory, '*.txt')))
failed = 0
for path in files:
    text = open(path, encoding='utf-8', errors='replace').read()
    command, _, stderr = text.partition('\n')
    hits = offences(stderr)
    if hits:
        failed += 1
        line = next((l for l in stderr.splitlines() if hits[0][1] in l), hits[0][1])
        print(f'FAIL {os.path.basename(path)}: {hits[0][0]} ({hits[0][1]!r}) in: {line[:300]}')
        print(f'     {command[:300]}')
print(f'stderr-scan: {len(files) - failed} passed, {failed} failed')
if not files:
    print(f'stderr-scan: no captures in {directory}: the Swift tests did not run or did not record', file=sys.stderr)
sys.exit(1 if failed or not files else 0)
