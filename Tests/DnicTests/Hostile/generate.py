#!/usr/bin/env python3
"""Writes the hostile input files of this directory and manifest.json.

The committed files are what the tests use; this script records how each
was made and regenerates them when a format changes, e.g. the checkpoint
layout, whose hostile files start from a checkpoint dnic wrote:

    swift build
    DNIC_FUZZ_TARGET=checkpoint .build/debug/DnicFuzz --seeds /tmp/dnic-seeds
    python3 Tests/DnicTests/Hostile/generate.py Tests/DnicTests/Hostile /tmp/dnic-seeds/seed-ckpt0.safetensors

Expected messages (`expect`), documented defects (`known`) and inputs not
run until fixed (`skip`) are set below; edit them here, not in the JSON.
"""
import gzip, json, os, struct, sys

root = sys.argv[1]
seed_ckpt = open(sys.argv[2], 'rb').read()  # DnicFuzz --seeds: checkpoint seed-ckpt0 (3 x 3 relu, 2 in, 2 out)
files = {}

def put(target, name, data, why):
    if isinstance(data, str): data = data.encode()
    files[(target, name)] = (data, why)

def be(*words): return b''.join(struct.pack('>I', w) for w in words)
def gz(data, mtime=0): return gzip.compress(data, compresslevel=9, mtime=mtime)
def gz1(data): return gzip.compress(data, compresslevel=1, mtime=0)  # zeros expand 229:1, like the reported bomb
def isize(z, n): return z[:-4] + struct.pack('<I', n & 0xFFFFFFFF)  # a gzip trailer claiming length n

# ---- IDX images
img = be(0x803, 2, 2, 3) + bytes(range(12))
put('idx-images', 'empty', b'', 'zero-length file')
put('idx-images', 'short-header', be(0x803, 1) + b'\0\0', 'header cut after 10 of 16 bytes')
put('idx-images', 'wrong-magic', be(0x804, 1, 2, 2) + bytes(4), 'magic 0x804 (an IDX file of another type)')
put('idx-images', 'label-file', be(0x801, 4) + bytes([1, 2, 3, 4]), 'a label file where images are expected')
put('idx-images', 'truncated-pixels', be(0x803, 3, 2, 2) + bytes(7), 'declares 12 pixels, holds 7')
put('idx-images', 'trailing-bytes', be(0x803, 1, 2, 2) + bytes(6), 'declares 4 pixels, holds 6')
put('idx-images', 'zero-images', be(0x803, 0, 28, 28), 'declares 0 images')
put('idx-images', 'zero-rows', be(0x803, 5, 0, 28), 'declares 0 rows per image')
put('idx-images', 'huge-dims', be(0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), 'declares 2^96 pixels (would overflow 64 bits)')
put('idx-images', 'lying-2GiB', be(0x803, 2048, 1024, 1024), '16-byte file declaring 2^31 pixels: refused before allocating 8 GiB of floats')
put('idx-images', 'lying-60000x28x28.gz', gz(be(0x803, 60000, 28, 28) + bytes(100)), 'tiny gzip declaring Fashion-MNIST size: more than deflate can expand it to, refused before allocating')
full = gz(be(0x803, 10, 20, 20) + bytes((i * 7919) % 251 for i in range(4000)))
put('idx-images', 'gzip-truncated.gz', full[:len(full) // 2], 'gzip stream cut in the middle')
bad = bytearray(gz(img)); bad[-8] ^= 0xFF
put('idx-images', 'gzip-bad-crc.gz', bytes(bad), 'CRC-32 in the gzip trailer flipped')
bad = bytearray(gz(img)); bad[-4] ^= 0x01
put('idx-images', 'gzip-bad-isize.gz', bytes(bad), 'length (ISIZE) in the gzip trailer off by one')
put('idx-images', 'gzip-header-only.gz', gz(img)[:10], 'a gzip header and nothing else')
put('idx-images', 'bomb-claims-more.gz', gz1(be(0x803, 10000, 28, 28) + bytes(4_000_000)), '17 KB gzip of 4 MB of zeros under a header declaring 7.8 MB: refused by a counting pass in a fixed buffer, before any dataset-sized allocation')
put('idx-images', 'bomb-multi-member.gz', gz1(be(0x803, 10000, 28, 28) + bytes(2_000_000)) + gz1(bytes(2_000_000)), 'the same bomb as two gzip members: the trailer describes only the last')
put('idx-images', 'isize-forged.gz', isize(gz(be(0x803, 10, 20, 20) + bytes(2000)), 16 + 4000), 'declares 4000 pixels, holds 2000, and its gzip trailer is forged to agree with the header')
put('idx-images', 'trailing-bomb.gz', gz(be(0x803, 1, 2, 2) + bytes(8 << 20)), 'declares 4 pixels, then 8 MiB of zeros: counted only up to 1 MiB')

# ---- IDX labels
put('idx-labels', 'empty', b'', 'zero-length file')
put('idx-labels', 'short-header', be(0x801)[:3], '3 bytes')
put('idx-labels', 'image-file', img, 'an image file where labels are expected')
put('idx-labels', 'label-10', be(0x801, 4) + bytes([0, 9, 10, 1]), 'label 10 with 10 classes')
put('idx-labels', 'label-255', be(0x801, 2) + bytes([255, 0]), 'label 255')
put('idx-labels', 'truncated', be(0x801, 5) + bytes([1, 2, 3]), 'declares 5 labels, holds 3')
put('idx-labels', 'trailing-bytes', be(0x801, 2) + bytes([1, 2, 3]), 'declares 2 labels, holds 3')
put('idx-labels', 'zero-labels', be(0x801, 0), 'declares 0 labels')
put('idx-labels', 'huge-count', be(0x801, 0xFFFFFFFF), 'declares 2^32-1 labels, over the limit')
put('idx-labels', 'lying-2GiB', be(0x801, 0x80000000), '8-byte file declaring 2^31 labels: refused before allocating 2 GiB')
put('idx-labels', 'lying-100M.gz', gz(be(0x801, 100_000_000) + bytes(64)), 'tiny gzip declaring 10^8 labels')
put('idx-labels', 'bomb-claims-more.gz', gz1(be(0x801, 4_000_000) + bytes(2_000_000)), 'gzip of 2 MB of zeros under a header declaring 4 M labels')
put('idx-labels', 'isize-forged.gz', isize(gz(be(0x801, 50) + bytes(20)), 8 + 50), 'declares 50 labels, holds 20, gzip trailer forged to agree')
put('idx-labels', 'gzip-corrupt.gz', (lambda b: b[:12] + bytes(x ^ 0x55 for x in b[12:-8]) + b[-8:])(gz(be(0x801, 50) + bytes(range(50)))), 'deflate data scrambled')

# ---- gzip (any data file, sniffed after gunzip; the test caps content at 16 MiB)
put('gzip', 'zero-length.gz', b'', 'zero-length file')
put('gzip', 'header-only.gz', gz(b'0,1\n')[:10], 'a gzip header and nothing else')
z = gz(be(0x803, 1, 28, 28) + bytes(784))
put('gzip', 'truncated-idx.gz', z[:len(z) - 12], 'gzip IDX image file without its last 12 bytes')
put('gzip', 'not-deflate.gz', b'\x1f\x8b\x08\x00' + bytes(6) + b'\xff' * 40, 'gzip header followed by invalid deflate data')
put('gzip', 'bad-method.gz', b'\x1f\x8b\x07\x00' + bytes(6) + b'abc', 'gzip magic with compression method 7')
put('gzip', 'bomb-17MiB.csv.gz', gz(b'1,' * (17 << 19)), 'a 17 KiB file that expands to 17 MiB of CSV (one line, so the cap and not a parse error stops it)')
put('gzip', 'idx-declares-2GiB.gz', gz(be(0x803, 2048, 1024, 1024) + bytes(1 << 20)), '1 KiB of gzip, 1 MiB of zeros, header declaring 2^31 pixels')
put('gzip', 'labels-out-of-range.gz', gz(be(0x801, 3) + bytes([1, 2, 0xFF])), 'gzip label file with label 255 (10 classes)')
put('gzip', 'double-gzip.gz', gz(gz(b'1,2,3\n')), 'gzip inside gzip: the inner stream is not CSV')
put('gzip', 'idx-bomb.gz', gz1(be(0x803, 20000, 28, 28) + bytes(8_000_000)), '35 KB gzip of 8 MB of zeros under a header declaring 15.7 MB of pixels')

# ---- CSV
put('csv', 'empty.csv', b'', 'zero-length file')
put('csv', 'header-only.csv', 'label,x1,x2\n', 'a header row and no data')
put('csv', 'blank-lines.csv', '\n\n  \r\n\t\n', 'only blank lines')
put('csv', 'ragged.csv', '0,1,2\n1,3,4\n0,5\n', 'row 3 has 2 fields, the first data row 3')
put('csv', 'ragged-long.csv', 'label,a\n0,1\n1,2,3\n', 'row 3 has one field too many')
put('csv', 'single-column.csv', '1\n2\n3\n', 'a label and no features')
put('csv', 'non-numeric.csv', '0,1.5,2\n1,abc,3\n', "feature 'abc'")
put('csv', 'empty-field.csv', '0,1,,2\n', 'an empty feature')
put('csv', 'nan-feature.csv', '0,1\n1,nan\n', 'NaN feature')
put('csv', 'inf-feature.csv', '0,-inf\n', 'infinite feature')
put('csv', 'overflow-feature.csv', '0,1e39\n', '1e39 overflows float32 to infinity')
put('csv', 'label-negative.csv', '1,0.5\n-1,0.25\n', 'label -1')
put('csv', 'label-fraction.csv', '1.5,0.5\n', 'label 1.5')
put('csv', 'label-nan.csv', '0,1\nnan,2\n', 'label NaN')
put('csv', 'label-huge.csv', '2147483648,1\n', 'label 2^31, past Int32')
put('csv', 'label-too-many-classes.csv', '0,1\n2147483647,2\n', 'label 2^31-1 would make a 2^31-wide output layer')
put('csv', 'label-exponent-huge.csv', '1e300,1\n', 'label 1e300')
put('csv', 'cr-in-field.csv', '0,1\n1,2\r3\n', 'a carriage return inside a field: the message must stay one line')
put('csv', 'nul-in-field.csv', b'0,1\n1,2\x003\n', 'a NUL byte inside a field')
put('csv', 'invalid-utf8.csv', b'0,1\n1,\xff\xfe\n', 'bytes that are not UTF-8')
put('csv', 'quoted.csv', '"label","x"\n"1","2"\n', 'quoted fields are not supported (header skipped, then a quoted label)')
put('csv', 'huge-line.csv', '0,1,2\n1,' + '9' * 50000 + ',3\n', 'a 50 KB number overflowing to infinity; the message quotes 40 characters of it')
put('csv', 'many-fields-then-short.csv', '0,' + ','.join(['1'] * 5000) + '\n1,2\n', 'a 5001-field row, then a 2-field one')
put('csv', 'bad-at-line-200001.csv.gz', gz(b'1,0.5,2\n' * 200000 + b'0,0.5,x\n'), 'a bad field on line 200001, 1.6 MB in: line numbers survive the 1 MiB streaming chunks')
put('csv', 'long-line-3MiB.csv.gz', gz(b'1' + b',2' * (3 << 19) + b',y\n'), 'a 3 MiB line (longer than the 1 MiB read buffer) ending in a bad field')
put('csv', 'endless-line.csv.gz', gz(b'1,' * (65 << 19)), '65 MiB without a newline: refused at the 64 MiB line cap, not buffered to the 2 GiB content cap')

# ---- config YAML
put('config-yaml', 'unknown-key.yaml', 'training:\n  eval_every: 3\n', 'eval_every for eval-every')
put('config-yaml', 'unknown-top.yaml', 'epochs: 3\n', 'a training key at the top level')
put('config-yaml', 'wrong-type.yaml', 'model:\n  layers:\n  - width: wide\n', 'width is not an integer')
put('config-yaml', 'wrong-type-list.yaml', 'model:\n  layers: 3\n', 'layers is not a list')
put('config-yaml', 'bad-enum.yaml', 'model:\n  layers:\n  - width: 8\n    activation: swish\n', 'unknown activation')
put('config-yaml', 'bad-rule.yaml', 'interfaces: {rule: magic}\n', 'unknown rule')
put('config-yaml', 'missing-width.yaml', 'model:\n  layers:\n  - activation: relu\n', 'a layer without its required width')
put('config-yaml', 'negative-width.yaml', 'model:\n  layers:\n  - width: -3\n', 'width -3 (parses, fails validation)')
put('config-yaml', 'nan-lr.yaml', 'optimizer: {lr: .nan}\n', 'learning rate NaN')
put('config-yaml', 'inf-lr.yaml', 'optimizer: {lr: .inf}\n', 'learning rate infinity')
put('config-yaml', 'huge-int.yaml', 'training: {batch: 99999999999999999999999}\n', 'an integer past Int64')
put('config-yaml', 'negative-seed.yaml', 'training: {seed: -1}\n', 'seed is unsigned')
put('config-yaml', 'not-a-mapping.yaml', '- just\n- a list\n', 'a list at the top level')
put('config-yaml', 'scalar.yaml', 'hello\n', 'a scalar at the top level')
put('config-yaml', 'syntax-error.yaml', 'model: [width: 3\n', 'an unclosed flow sequence')
put('config-yaml', 'tab-indent.yaml', 'model:\n\tlayers: []\n', 'a tab used for indentation')
put('config-yaml', 'duplicate-key.yaml', 'data: mnist\ndata: fashion-mnist\n', 'the same key twice')
put('config-yaml', 'two-documents.yaml', 'data: mnist\n---\ndata: fashion-mnist\n', 'two YAML documents')
put('config-yaml', 'invalid-utf8.yaml', b'data: \xff\xfe\n', 'bytes that are not UTF-8')
put('config-yaml', 'deep-nesting.yaml', 'data: ' + '[' * 10000 + ']' * 10000 + '\n', '10000 nested flow sequences')
put('config-yaml', 'deep-nesting-999.yaml', 'data: ' + '[' * 999 + ']' * 999 + '\n', '999 nested sequences, just inside libyaml\'s depth limit')
lines = ['data: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]']
lines.append('training: {seed: &a1 [' + ', '.join(['*a0'] * 10) + ']}')
lines.append('optimizer: {lr: &a2 [' + ', '.join(['*a1'] * 10) + ']}')
lines.append('model: {loss: [' + ', '.join(['*a2'] * 10) + ']}')
put('config-yaml', 'billion-laughs.yaml', '\n'.join(lines) + '\n', 'aliases nesting 10^4 copies in value positions')
k = ['x0: &k0 [lol, lol]'] + ['x%d: &k%d [*k%d, *k%d]' % (i, i, i - 1, i - 1) for i in range(1, 40)] + ['model: {*k39 : 1}']
put('config-yaml', 'billion-laughs-key.yaml', '\n'.join(k) + '\n', 'an alias of 2^40 leaves used as a mapping key: Yams hashes keys to find duplicates')
put('config-yaml', 'newline-in-key.yaml', 'training:\n  "eval\\nevery": 3\n', 'an unknown key containing a newline: the message must stay one line')
put('config-yaml', 'newline-in-enum.yaml', 'model:\n  loss: "c\\re"\n', 'an enum value containing a carriage return')
put('config-yaml', 'newline-in-sg-at.yaml', 'interfaces: {rule: sg, at: "1\\n2"}\n', 'a boundary list with a newline: the message must stay one line')
put('config-yaml', 'sg-at-bad.yaml', 'interfaces: {rule: sg, at: "1,x"}\n', 'a boundary list with a non-number')
put('config-yaml', 'sg-at-out-of-range.yaml', 'interfaces: {rule: sg, at: [7]}\n', 'boundary 7 with 3 hidden layers')
put('config-yaml', 'duplicate-key-nested.yaml', 'training:\n  steps: 10\n  batch: 8\n  steps: 20\n', 'training.steps twice: Yams names only the first; the message names the second and the path')
put('config-yaml', 'duplicate-key-in-list.yaml', 'model:\n  layers:\n  - width: 8\n  - width: 4\n    activation: tanh\n    width: 5\n', 'width twice in the second layer')
put('config-yaml', 'duplicate-key-flow.yaml', 'training: {steps: 1, batch: 2, steps: 3}\n', 'a duplicate inside a flow mapping, on one line')
put('config-yaml', 'duplicate-key-escaped.yaml', 'training:\n  steps: 10\n  "\\u0073teps": 20\n', 'the second steps spelled with an escape')
put('config-yaml', 'duplicate-key-as-text.yaml', 'training:\n  1: a\n  "1": b\n', '1 and "1": distinct to Yams (int, str), one key to the decoder')
put('config-yaml', 'control-character.yaml', 'data: "x\x01"\n', 'a raw control character in a value')
put('config-yaml', 'unclosed-quote.yaml', 'data: "fashion-mnist\n', 'a quoted value never closed')
put('config-yaml', 'long-enum.yaml', 'model:\n  loss: ' + 'x' * 3000 + '\n', 'a 3000-character loss: the message quotes 40 of them (small enough to be a whole fuzz seed)')
put('config-yaml', 'long-key.yaml', 'training:\n  ' + 'k' * 1000 + ': 1\n', 'a 1000-character unknown key: the message quotes 80 of them')
put('config-yaml', 'huge-value.yaml', 'data: ' + 'x' * 1000000 + '\n', 'a 1 MB value: refused as longer than any setting, the message quotes none of it (the 100 MB file is made by ConfigParseTests)')
M = 9223372036854775807  # Int.max: every integer setting is bounded below it
for key, text in [('steps', f'training:\n  steps: {M}\n'), ('epochs', f'training:\n  epochs: {M}\n'),
                  ('batch', f'training:\n  batch: {M}\n'), ('eval-every', f'training:\n  eval-every: {M}\n'),
                  ('threads', f'training:\n  threads: {M}\n'), ('warmup', f'interfaces:\n  rule: sg\n  warmup: {M}\n'),
                  ('classes', f'model:\n  classes: {M}\n'), ('width', f'model:\n  layers:\n  - width: {M}\n'),
                  ('sg-hidden', f'interfaces:\n  rule: sg\n  kind: mlp\n  hidden: [{M}]\n'),
                  ('sg-at', f'interfaces:\n  rule: sg\n  at: [{M}]\n')]:
    put('config-yaml', f'huge-{key}.yaml', text, f'{key} = Int.max: refused with a bound, never an overflow trap')
put('config-yaml', 'many-layers.yaml', 'model:\n  layers:\n' + '  - {width: 1}\n' * 5000, '5000 hidden layers, past the 4096 allowed')

# ---- config JSON
put('config-json', 'unknown-key.json', '{"training": {"eval_every": 3}}', 'eval_every for eval-every')
put('config-json', 'wrong-type.json', '{"model": {"layers": [{"width": "wide"}]}}', 'width is a string')
put('config-json', 'bad-enum.json', '{"optimizer": {"kind": "lbfgs"}}', 'unknown optimizer')
put('config-json', 'truncated.json', '{"model": {"layers": [{"width": 3', 'JSON cut short')
put('config-json', 'empty.json', '', 'zero-length file')
put('config-json', 'not-object.json', '[1, 2, 3]', 'an array at the top level')
put('config-json', 'null-width.json', '{"model": {"layers": [{"width": null}]}}', 'width null')
put('config-json', 'float-width.json', '{"model": {"layers": [{"width": 3.5}]}}', 'width 3.5')
put('config-json', 'huge-number.json', '{"optimizer": {"lr": 1e400}}', 'a number past Double')
put('config-json', 'zero-lr.json', '{"optimizer": {"lr": 0}}', 'learning rate 0 (parses, fails validation)')
put('config-json', 'invalid-utf8.json', b'{"data": "\xff\xfe"}', 'bytes that are not UTF-8')
put('config-json', 'deep-nesting.json', '{"data": ' + '[' * 10000 + ']' * 10000 + '}', '10000 nested arrays')
put('config-json', 'newline-in-key.json', '{"training": {"eval\\nevery": 3}}', 'an unknown key containing a newline: the message must stay one line')
put('config-json', 'index-path.json', '{"model": {"layers": [{"width": 3}, {"widht": 3}]}}', 'a typo in the second layer: the path names it')
put('config-json', 'duplicate-key.json', '{"data": "mnist", "data": "fashion-mnist"}', 'the same key twice: Foundation keeps the first without a word')
put('config-json', 'duplicate-key-nested.json', '{\n  "training": {\n    "steps": 10,\n    "batch": 8,\n    "steps": 20\n  }\n}\n', 'training.steps twice, on lines 3 and 5')
put('config-json', 'duplicate-key-in-list.json', '{"model": {"layers": [{"width": 8}, {"width": 4, "width": 5}]}}', 'width twice in the second layer')
put('config-json', 'duplicate-key-escaped.json', '{"training": {"steps": 10, "\\u0073teps": 20}}', 'the second steps spelled \\u0073teps: keys compare by their decoded text')
put('config-json', 'syntax-error.json', '{\n  "data": "mnist",\n  "training": {"batch": 64 "epochs": 2},\n  "model": {}\n}\n', 'a missing comma mid-file, on line 3')
put('config-json', 'trailing-comma.json', '{"training": {"batch": 64,}}', 'a comma before }')
put('config-json', 'comment.json', '{"data": "mnist"} // the default\n', 'a comment after the value')
put('config-json', 'single-quotes.json', "{'data': 'mnist'}", 'single-quoted strings')
put('config-json', 'leading-zero.json', '{"training": {"batch": 064}}', 'a number with a leading zero')
put('config-json', 'bad-escape.json', '{"data": "C:\\data\\mnist"}', 'an unknown escape (\\d in a Windows path)')
put('config-json', 'lone-surrogate.json', '{"data": "\\ud800x"}', 'half a UTF-16 surrogate pair')
put('config-json', 'unclosed-string.json', '{"data": "mnist}', 'a string never closed')
put('config-json', 'long-enum.json', '{"model": {"loss": "' + 'x' * 3000 + '"}}', 'a 3000-character loss: the message quotes 40 of them')
put('config-json', 'huge-steps.json', '{"training": {"steps": 9223372036854775807, "batch": 2}}', 'steps = Int.max: more samples than any run')
put('config-json', 'huge-value.json', '{"data": "' + 'x' * 70000 + '"}', 'a 70 KB value, past the 64 KiB any setting may take')

# ---- checkpoints
def st(header, payload=b'', length=None):
    h = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return struct.pack('<Q', len(h) if length is None else length) + h + payload

n = struct.unpack('<Q', seed_ckpt[:8])[0]
H = json.loads(seed_ckpt[8:8 + n]); P = seed_ckpt[8 + n:]
def ck(edit=None, payload=None):
    h = json.loads(json.dumps(H)); p = bytearray(P if payload is None else payload)
    if edit: edit(h, p)
    return st(h, bytes(p))
f32 = lambda xs: b''.join(struct.pack('<f', x) for x in xs)
put('checkpoint', 'zero-length.safetensors', b'', 'zero-length file')
put('checkpoint', 'seven-bytes.safetensors', b'\x10\0\0\0\0\0\0', 'shorter than the length field')
put('checkpoint', 'truncated.safetensors', seed_ckpt[:len(seed_ckpt) // 2], 'a valid checkpoint cut in half (inside the header)')
put('checkpoint', 'truncated-data.safetensors', seed_ckpt[:-10], 'a valid checkpoint without its last 10 data bytes')
put('checkpoint', 'lying-header-length.safetensors', st({'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}}, bytes(4), length=1 << 40), 'header length 2^40')
put('checkpoint', 'header-length-max.safetensors', st(b'{}', b'', length=(1 << 64) - 1), 'header length 2^64-1')
put('checkpoint', 'header-not-json.safetensors', st(b'{"a": [1, 2,'), 'header is not JSON')
put('checkpoint', 'header-array.safetensors', st(b'[1, 2, 3]'), 'header is a JSON array')
put('checkpoint', 'huge-shape.safetensors', st({'a': {'dtype': 'F32', 'shape': [2147483648, 2147483648], 'data_offsets': [0, 16]}}, bytes(16)), 'shape [2^31, 2^31]: bytes overflow 64 bits')
put('checkpoint', 'huge-shape-3d.safetensors', st({'a': {'dtype': 'F32', 'shape': [2147483648, 2147483648, 2147483648], 'data_offsets': [0, 16]}}, bytes(16)), 'shape [2^31, 2^31, 2^31]')
put('checkpoint', 'negative-shape.safetensors', st({'a': {'dtype': 'F32', 'shape': [-4], 'data_offsets': [0, 16]}}, bytes(16)), 'a negative dimension')
put('checkpoint', 'wrong-dtype.safetensors', st({'a': {'dtype': 'F16', 'shape': [2], 'data_offsets': [0, 4]}}, bytes(4)), 'dtype F16')
put('checkpoint', 'dtype-not-string.safetensors', st({'a': {'dtype': 32, 'shape': [1], 'data_offsets': [0, 4]}}, bytes(4)), 'dtype is a number')
put('checkpoint', 'overlapping.safetensors', st({'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]}, 'b': {'dtype': 'F32', 'shape': [2], 'data_offsets': [4, 12]}}, bytes(12)), 'two tensors sharing bytes')
put('checkpoint', 'gap.safetensors', st({'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}, 'b': {'dtype': 'F32', 'shape': [1], 'data_offsets': [8, 12]}}, bytes(12)), 'unused bytes between tensors')
put('checkpoint', 'trailing-data.safetensors', st({'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}}, bytes(9)), '5 bytes after the last tensor')
put('checkpoint', 'offsets-outside.safetensors', st({'a': {'dtype': 'F32', 'shape': [1000000], 'data_offsets': [0, 4000000]}}, bytes(8)), 'data_offsets past the end of the file')
put('checkpoint', 'offsets-reversed.safetensors', st({'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [8, 4]}}, bytes(8)), 'end before begin')
put('checkpoint', 'offsets-huge.safetensors', st({'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 18446744073709551615]}}, bytes(8)), 'data_offsets 2^64-1')
put('checkpoint', 'metadata-not-strings.safetensors', st({'__metadata__': {'step': 3}, 'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}}, bytes(4)), '__metadata__ holding a number')
put('checkpoint', 'newline-in-name.safetensors', st({'layer0\nweight': {'dtype': 'F16', 'shape': [1], 'data_offsets': [0, 4]}}, bytes(4)), 'a tensor name with a newline: the message must stay one line')
put('checkpoint', 'not-dnic.safetensors', st({'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}}, bytes(4)), 'a plain safetensors file without dnic metadata')
def nan(h, p):
    b, e = h['layer1.weight']['data_offsets']; p[b:b + 8] = f32([float('nan'), float('inf')])
put('checkpoint', 'nan-values.safetensors', ck(nan), 'NaN and infinity in layer1.weight')
def wrong_model(h, p):
    h['__metadata__']['config'] = h['__metadata__']['config'].replace('width: 3', 'width: 4', 1)
put('checkpoint', 'wrong-model.safetensors', ck(wrong_model), 'the description says layer 0 is 4 wide, the tensors are 3')
last = max((k for k in H if k != '__metadata__'), key=lambda k: H[k]['data_offsets'][1])
def missing(h, p):
    del h[last]
put('checkpoint', 'missing-tensor.safetensors', ck(missing, P[:H[last]['data_offsets'][0]]), 'the last tensor (%s) left out' % last)
def extra(h, p):
    h['layer9.weight'] = {'dtype': 'F32', 'shape': [1], 'data_offsets': [len(p), len(p) + 4]}; p.extend(bytes(4))
put('checkpoint', 'extra-tensor.safetensors', ck(extra), 'a tensor the model does not have')
def newline_extra(h, p):
    h['x\ny'] = {'dtype': 'F32', 'shape': [1], 'data_offsets': [len(p), len(p) + 4]}; p.extend(bytes(4))
put('checkpoint', 'newline-in-extra-tensor.safetensors', ck(newline_extra), 'an extra tensor whose name has a newline: the message must stay one line')
def bad_config(h, p):
    h['__metadata__']['config'] = h['__metadata__']['config'].replace('epochs: 1', 'epoch: 1')
put('checkpoint', 'bad-config.safetensors', ck(bad_config), 'an unknown key in the stored configuration')
def bad_dims(h, p):
    h['__metadata__']['input_dim'] = 'two'
put('checkpoint', 'bad-input-dim.safetensors', ck(bad_dims), "input_dim 'two'")
def huge_counters(h, p):
    t = json.loads(h['__metadata__']['trainer_state']); t['samples'] = 9223372036854775807
    h['__metadata__']['trainer_state'] = json.dumps(t, sort_keys=True)
put('checkpoint', 'huge-counters.safetensors', ck(huge_counters), 'samples = Int.max in trainer_state: resuming would overflow on the next step')
def bad_every(h, p):
    h['__metadata__']['checkpoint_every'] = '-3'
put('checkpoint', 'bad-checkpoint-every.safetensors', ck(bad_every), 'a negative checkpoint interval for --resume to continue with')
def other_format(h, p):
    h['__metadata__']['format'] = 'pytorch'
put('checkpoint', 'other-format.safetensors', ck(other_format), 'metadata format pytorch')
def newline_format(h, p):
    h['__metadata__']['format'] = 'dnic\ncheckpoint'
put('checkpoint', 'newline-in-format.safetensors', ck(newline_format), 'a metadata format with a newline: the message must stay one line')
def huge_dims(h, p):
    h['__metadata__']['input_dim'] = '16384'
    h['__metadata__']['config'] = h['__metadata__']['config'].replace('width: 3', 'width: 16384', 1)
put('checkpoint', 'huge-dims-in-metadata.safetensors', ck(huge_dims), 'a 1.6 KB file whose description asks for a 16384x16384 first layer: the network must not be built (GBs) before the tensors are checked')


# ---- .npy (npy: and npz: members); every case fails in the header, so the
# parser's features-then-labels reading gives the same message either way

def npy(header, payload=b'', version=1):
    h = header.encode() + b' ' * ((-(10 + len(header) + 1)) % 64) + b'\n'
    return b'\x93NUMPY' + bytes([version, 0]) + struct.pack('<H', len(h)) + h + payload
def hdr(descr, shape, fortran=False):
    return "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, 'True' if fortran else 'False', shape)
f4 = struct.pack('<4f', 0, 1, 2, 3)
put('npy', 'lying-shape.npy', npy(hdr('<f4', '(1000000, 2)'), f4), 'shape claims 8 MB, 16 bytes follow')
put('npy', 'huge-shape.npy', npy(hdr('<f4', '(4294967296, 4294967296)'), f4), 'shape whose product overflows 64 bits')
put('npy', 'trailing-bytes.npy', npy(hdr('<f4', '(2, 2)'), f4 + b'\0' * 4), 'four bytes after the declared data')
put('npy', 'truncated-header.npy', npy(hdr('<f4', '(2, 2)'), f4)[:30], 'cut inside the header')
put('npy', 'fortran-order.npy', npy(hdr('<f4', '(2, 2)', True), f4), 'fortran_order True')
put('npy', 'object.npy', npy(hdr('|O', '(2, 2)'), b'\0' * 32), 'dtype object (pickles)')
put('npy', 'complex.npy', npy(hdr('<c8', '(2, 2)'), b'\0' * 32), 'complex64 elements')
put('npy', 'big-endian.npy', npy(hdr('>f4', '(2, 2)'), f4), 'big-endian float32')
put('npy', 'garbled-header.npy', npy("{'descr': '<f4', 'shape': (2, 2", f4), 'header dict cut short')
put('npy', 'version-9.npy', npy(hdr('<f4', '(2, 2)'), f4, version=9), 'an unknown format version')
put('npy', 'not-npy.npy', b'0,1,2\n', 'a CSV line')

for (target, name), (data, why) in files.items():
    d = os.path.join(root, target); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), 'wb').write(data)
why = {'%s/%s' % k: v[1] for k, v in files.items()}

expect = {
 'idx-images/empty': 'too short (0 bytes) to be an IDX image file',
 'idx-images/short-header': 'truncated raw IDX image header (needs 16 bytes)',
 'idx-images/wrong-magic': 'not an IDX image file (magic 0x00000804, raw file',
 'idx-images/label-file': 'not an IDX image file (magic 0x00000801, an IDX label file',
 'idx-images/truncated-pixels': 'truncated: header declares 3 images of 2x2 (12 bytes) but the raw file holds only 7',
 'idx-images/trailing-bytes': '2 bytes of trailing data after 1 images of 2x2',
 'idx-images/zero-images': 'header declares 0 images of 28x28; nothing to load',
 'idx-images/zero-rows': 'header declares 5 images of 0x28; nothing to load',
 'idx-images/huge-dims': 'over the 2^31-byte limit; refusing to allocate',
 'idx-images/lying-2GiB': 'header declares 2048 images of 1024x1024 (2147483648 bytes) but the raw file holds only 0',
 'idx-images/lying-60000x28x28.gz': 'header declares 60000 images of 28x28 (47040000 bytes) but a 35-byte gzip file cannot hold more than',
 'idx-images/gzip-truncated.gz': 'truncated or corrupt gzip (zlib:',
 'idx-images/gzip-bad-crc.gz': 'truncated or corrupt gzip (zlib:',
 'idx-images/gzip-bad-isize.gz': 'truncated or corrupt gzip (zlib:',
 'idx-images/gzip-header-only.gz': 'truncated or corrupt gzip (zlib:',
 'idx-images/bomb-claims-more.gz': 'truncated: header declares 10000 images of 28x28 (7840000 bytes) but the gzip file holds only 4000000',
 'idx-images/bomb-multi-member.gz': 'truncated: header declares 10000 images of 28x28 (7840000 bytes) but the gzip file holds only 4000000',
 'idx-images/isize-forged.gz': 'truncated or corrupt gzip (zlib: incorrect length check)',
 'idx-images/trailing-bomb.gz': 'more than 1048576 bytes of trailing data after 1 images of 2x2',
 'idx-labels/empty': 'too short (0 bytes) to be an IDX label file',
 'idx-labels/short-header': 'too short (3 bytes) to be an IDX label file',
 'idx-labels/image-file': 'not an IDX label file (magic 0x00000803, an IDX image file',
 'idx-labels/label-10': 'label 10 at index 2 is outside 0…9 (classes is 10)',
 'idx-labels/label-255': 'label 255 at index 0 is outside 0…9 (classes is 10)',
 'idx-labels/truncated': 'truncated: header declares 5 labels but the raw file holds only 3',
 'idx-labels/trailing-bytes': '1 bytes of trailing data after 2 labels',
 'idx-labels/zero-labels': 'header declares 0 labels; nothing to load',
 'idx-labels/huge-count': 'header declares 4294967295 labels, over the 2^31 limit',
 'idx-labels/lying-2GiB': 'header declares 2147483648 labels but the raw file holds only 0',
 'idx-labels/lying-100M.gz': 'header declares 100000000 labels but a 30-byte gzip file cannot hold more than',
 'idx-labels/gzip-corrupt.gz': 'truncated or corrupt gzip (zlib:',
 'idx-labels/bomb-claims-more.gz': 'truncated: header declares 4000000 labels but the gzip file holds only 2000000',
 'idx-labels/isize-forged.gz': 'truncated or corrupt gzip (zlib: incorrect length check)',
 'gzip/zero-length.gz': 'no data rows',
 'gzip/header-only.gz': 'truncated or corrupt gzip (zlib:',
 'gzip/truncated-idx.gz': 'truncated or corrupt gzip (zlib:',
 'gzip/not-deflate.gz': 'truncated or corrupt gzip (zlib:',
 'gzip/bad-method.gz': 'truncated or corrupt gzip (zlib:',
 'gzip/bomb-17MiB.csv.gz': 'decompresses to more than 16777216 bytes',
 'gzip/idx-declares-2GiB.gz': 'header declares 2048 images of 1024x1024 (2147483648 bytes) but a 1060-byte gzip file cannot hold more than',
 'gzip/labels-out-of-range.gz': 'label 255 at index 2 is outside 0…9 (classes is 10)',
 'gzip/double-gzip.gz': 'no data rows',
 'gzip/idx-bomb.gz': 'truncated: header declares 20000 images of 28x28 (15680000 bytes) but the gzip file holds only 8000000',
 'csv/empty.csv': 'no data rows',
 'csv/header-only.csv': 'no data rows',
 'csv/blank-lines.csv': 'no data rows',
 'csv/ragged.csv': ':3: expected 3 fields, found 2',
 'csv/ragged-long.csv': ':3: expected 2 fields, found 3',
 'csv/single-column.csv': ':1: a single field; need a label and at least one feature',
 'csv/non-numeric.csv': ":2:3: not a number: 'abc'",
 'csv/empty-field.csv': ":1:5: not a number: ''",
 'csv/nan-feature.csv': ":2:3: feature is NaN or infinite: 'nan'",
 'csv/inf-feature.csv': ":1:3: feature is NaN or infinite: '-inf'",
 'csv/overflow-feature.csv': ":1:3: feature is NaN or infinite: '1e39'",
 'csv/label-negative.csv': ":2:1: label must be a non-negative integer, found '-1'",
 'csv/label-fraction.csv': ":1:1: label must be a non-negative integer, found '1.5'",
 'csv/label-nan.csv': ":2:1: label must be a non-negative integer, found 'nan'",
 'csv/label-huge.csv': ":1:1: label must be a non-negative integer, found '2147483648'",
 'csv/label-too-many-classes.csv': ':2:1: label 2147483647 is too large: at most 4194304 classes',
 'csv/label-exponent-huge.csv': ":1:1: label must be a non-negative integer, found '1e300'",
 'csv/cr-in-field.csv': ":2:3: not a number: '2\\r3'",
 'csv/nul-in-field.csv': ":2:3: not a number: '2\\u{0}3'",
 'csv/invalid-utf8.csv': ':2:3: not a number:',
 'csv/quoted.csv': ":2:1: not a number: '\"1\"'",
 'csv/huge-line.csv': ":2:3: feature is NaN or infinite: '" + '9' * 40 + "…'",
 'csv/many-fields-then-short.csv': ':2: expected 5001 fields, found 2',
 'csv/bad-at-line-200001.csv.gz': ":200001:7: not a number: 'x'",
 'csv/long-line-3MiB.csv.gz': ':1:3145731: not a number: \'y\'',
 'csv/endless-line.csv.gz': ':1: a line of 67108864 bytes or more',
 'config-yaml/unknown-key.yaml': "unknown key 'training.eval_every'",
 'config-yaml/unknown-top.yaml': "unknown key 'epochs'",
 'config-yaml/wrong-type.yaml': ":3:12: 'model.layers[0].width': expected an integer, found 'wide'",
 'config-yaml/wrong-type-list.yaml': ":2:11: 'model.layers': expected a list, found '3'",
 'config-yaml/bad-enum.yaml': "'swish' is not one of relu, sigmoid, tanh, linear",
 'config-yaml/bad-rule.yaml': "'interfaces.rule': 'magic' is not one of",
 'config-yaml/missing-width.yaml': ":3:5: 'model.layers[0].width': required key missing",
 'config-yaml/negative-width.yaml': 'model.layers[0].width -3: must be between 1 and 4194304',
 'config-yaml/nan-lr.yaml': 'optimizer.lr nan: must be a positive finite number',
 'config-yaml/inf-lr.yaml': 'optimizer.lr inf: must be a positive finite number',
 'config-yaml/huge-int.yaml': ":1:19: 'training.batch': expected an integer, found '99999999999999999999999'",
 'config-yaml/negative-seed.yaml': ":1:18: 'training.seed': expected an integer from 0 to 18446744073709551615, found '-1'",
 'config-yaml/not-a-mapping.yaml': ':1:1: top level: expected key: value pairs, found a list',
 'config-yaml/scalar.yaml': ":1:1: top level: expected key: value pairs, found 'hello'",
 'config-yaml/syntax-error.yaml': ":2:1: did not find expected ',' or ']' (while parsing a flow sequence begun at 1:8)",
 'config-yaml/tab-indent.yaml': ':2:1: a tab character: YAML indents with spaces, not tabs (libyaml: found character that cannot start any token)',
 'config-yaml/duplicate-key.yaml': ":2:1: duplicate key 'data' (first at 1:1)",
 'config-yaml/two-documents.yaml': ':2:1: a second YAML document: a run configuration is one document',
 'config-yaml/invalid-utf8.yaml': ':1:7: not UTF-8 text (byte 0xFF)',
 'config-yaml/deep-nesting.yaml': 'nested more than 1000 levels deep',
 'config-yaml/deep-nesting-999.yaml': ":1:7: 'data': expected a single value, not a list or key: value pairs, found a list",
 'config-yaml/billion-laughs.yaml': ':1:7: YAML anchors and aliases (&name, *name) are not supported',
 'config-yaml/billion-laughs-key.yaml': ':1:5: YAML anchors and aliases (&name, *name) are not supported',
 'config-yaml/newline-in-key.yaml': ":2:3: unknown key 'training.eval\\nevery'",
 'config-yaml/newline-in-enum.yaml': "'model.loss': 'c",
 'config-yaml/newline-in-sg-at.yaml': "'interfaces.at': '1\\n2': expected mid",
 'checkpoint/newline-in-extra-tensor.safetensors': "tensor 'x",
 'config-yaml/sg-at-bad.yaml': "'interfaces.at': '1,x': expected mid, every, output, none, balanced[:K] or a list",
 'config-yaml/sg-at-out-of-range.yaml': 'interfaces.at 7: a boundary must lie after hidden layer 1',
 'config-json/unknown-key.json': "unknown key 'training.eval_every'",
 'config-json/wrong-type.json': "'model.layers[0].width': expected an integer",
 'config-json/bad-enum.json': "'optimizer.kind': 'lbfgs' is not one of sgd, momentum, adam",
 'config-json/truncated.json': ":1:34: expected ',' or '}' in the object that starts at 1:23, found the end of the file",
 'config-json/empty.json': ':1:1: expected a value, found the end of the file',
 'config-json/not-object.json': ':1:1: top level: expected key: value pairs, found a list',
 'config-json/null-width.json': ":1:33: 'model.layers[0].width': expected an integer, found no value (null)",
 'config-json/float-width.json': ":1:33: 'model.layers[0].width': expected an integer, found '3.5'",
 'config-json/huge-number.json': ':1:22: the number 1e400 is too large',
 'config-json/zero-lr.json': 'optimizer.lr 0: must be a positive finite number',
 'config-json/invalid-utf8.json': ':1:11: not UTF-8 text (byte 0xFF)',
 'config-json/deep-nesting.json': ':1:109: nested more than 100 levels deep',
 'config-json/newline-in-key.json': ":1:15: unknown key 'training.eval\\nevery'",
 'config-json/index-path.json': ":1:38: unknown key 'model.layers[1].widht'",
 'config-yaml/duplicate-key-nested.yaml': ":4:3: duplicate key 'training.steps' (first at 2:3)",
 'config-yaml/duplicate-key-in-list.yaml': ":6:5: duplicate key 'model.layers[1].width' (first at 4:5)",
 'config-yaml/duplicate-key-flow.yaml': ":1:32: duplicate key 'training.steps' (first at 1:12)",
 'config-yaml/duplicate-key-escaped.yaml': ":3:3: duplicate key 'training.steps' (first at 2:3)",
 'config-yaml/duplicate-key-as-text.yaml': ":3:3: duplicate key 'training.1' (first at 2:3)",
 'config-yaml/control-character.yaml': ':1:9: control characters are not allowed (U+0001)',
 'config-yaml/unclosed-quote.yaml': ':2:1: found unexpected end of stream (while scanning a quoted scalar begun at 1:7)',
 'config-yaml/long-enum.yaml': "yaml:2:9: 'model.loss': '" + 'x' * 40 + "…' is not one of ce, mse, logistic",
 'config-yaml/huge-steps.yaml': f'training.steps {M}: {M} steps of training.batch 64 are more than 2^53 samples; at most 140737488355328 steps',
 'config-yaml/huge-epochs.yaml': f'training.epochs {M}: must be between 1 and 2^53',
 'config-yaml/huge-batch.yaml': f'training.batch {M}: must be between 1 and 1048576',
 'config-yaml/huge-eval-every.yaml': f'training.eval-every {M}: must be between 1 and 2^53',
 'config-yaml/huge-threads.yaml': f'training.threads {M}: must be between 1 and 4096',
 'config-yaml/huge-warmup.yaml': f'interfaces.warmup {M}: must be between 0 and 2^53 steps',
 'config-yaml/huge-classes.yaml': f'model.classes {M}: must be between 2 and 4194304',
 'config-yaml/huge-width.yaml': f'model.layers[0].width {M}: must be between 1 and 4194304',
 'config-yaml/huge-sg-hidden.yaml': f'interfaces.hidden {M}: a width must be between 1 and 1048576',
 'config-yaml/huge-sg-at.yaml': f'interfaces.at {M}: a boundary must lie after hidden layer 1 … 2',
 'config-yaml/many-layers.yaml': 'model.layers: 5000 hidden layers; at most 4096',
 'config-yaml/long-key.yaml': ":2:3: unknown key 'training." + 'k' * 71 + "…'",
 'config-yaml/huge-value.yaml': ":1:7: 'data': a 1000000-byte value; no setting takes more than 65536 bytes",
 'config-json/duplicate-key.json': ":1:19: duplicate key 'data' (first at 1:2)",
 'config-json/duplicate-key-nested.json': ":5:5: duplicate key 'training.steps' (first at 3:5)",
 'config-json/duplicate-key-in-list.json': ":1:50: duplicate key 'model.layers[1].width' (first at 1:38)",
 'config-json/duplicate-key-escaped.json': ":1:28: duplicate key 'training.steps' (first at 1:15)",
 'config-json/syntax-error.json': ":3:28: expected ',' or '}' in the object that starts at 3:15, found '\"'",
 'config-json/trailing-comma.json': ":1:27: expected a key, found '}': JSON allows no comma before '}'",
 'config-json/comment.json': ":1:19: expected the end of the file after the value, found '/' (JSON has no comments)",
 'config-json/single-quotes.json': ":1:2: expected a key in double quotes, found \"'\" (JSON strings take double quotes)",
 'config-json/leading-zero.json': ":1:24: not a JSON number: '064' (JSON numbers have no leading zeros)",
 'config-json/bad-escape.json': ":1:13: invalid escape '\\d'",
 'config-json/lone-surrogate.json': ':1:11: \\uD800 is the first half of a UTF-16 surrogate pair',
 'config-json/unclosed-string.json': ":1:10: a string that is never closed (no closing '\"')",
 'config-json/long-enum.json': "json:1:20: 'model.loss': '" + 'x' * 40 + "…' is not one of ce, mse, logistic",
 'config-json/huge-steps.json': f'training.steps {M}: {M} steps of training.batch 2 are more than 2^53 samples',
 'config-json/huge-value.json': ":1:10: 'data': a 70000-byte value; no setting takes more than 65536 bytes",
 'checkpoint/zero-length.safetensors': '0 bytes, shorter than the 8-byte header length',
 'checkpoint/seven-bytes.safetensors': '7 bytes, shorter than the 8-byte header length',
 'checkpoint/truncated.safetensors': 'header length 2936 does not fit a 1718-byte file',
 'checkpoint/truncated-data.safetensors': "'optimizer.m.layer3.bias' data [476, 484) lies outside the 482 data bytes",
 'checkpoint/lying-header-length.safetensors': 'header length 1099511627776 does not fit',
 'checkpoint/header-length-max.safetensors': 'header length 18446744073709551615 does not fit',
 'checkpoint/header-not-json.safetensors': 'the header is not a JSON object',
 'checkpoint/header-array.safetensors': 'the header is not a JSON object',
 'checkpoint/huge-shape.safetensors': "'a' shape [2147483648, 2147483648] needs too many bytes",
 'checkpoint/huge-shape-3d.safetensors': 'needs too many bytes',
 'checkpoint/negative-shape.safetensors': "'a' has no valid shape",
 'checkpoint/wrong-dtype.safetensors': "'a' has dtype F16; dnic reads F32 only",
 'checkpoint/dtype-not-string.safetensors': "'a' has no dtype",
 'checkpoint/overlapping.safetensors': "'b' overlaps the tensor before it",
 'npy/lying-shape.npy': "truncated: header declares shape (1000000, 2) of '<f4' (8000000 bytes) but the file holds only 16",
 'npy/huge-shape.npy': 'header declares shape (4294967296, 4294967296), over the',
 'npy/trailing-bytes.npy': '4 bytes of trailing data after shape (2, 2)',
 'npy/truncated-header.npy': 'truncated: .npy header declares',
 'npy/fortran-order.npy': 'fortran_order is True; dnic reads C-order arrays',
 'npy/object.npy': "object array (dtype '|O')",
 'npy/complex.npy': "dtype '<c8' is not supported",
 'npy/big-endian.npy': "big-endian dtype '>f4'",
 'npy/garbled-header.npy': 'unreadable .npy header',
 'npy/version-9.npy': '.npy format version 9.0 is not supported',
 'npy/not-npy.npy': 'not a .npy file',
 'checkpoint/gap.safetensors': "gap before 'b'",
 'checkpoint/trailing-data.safetensors': '5 bytes after the last tensor',
 'checkpoint/offsets-outside.safetensors': "'a' data [0, 4000000) lies outside the 8 data bytes",
 'checkpoint/offsets-reversed.safetensors': "'a' data [8, 4) lies outside",
 'checkpoint/offsets-huge.safetensors': "'a' has no valid data_offsets",
 'checkpoint/metadata-not-strings.safetensors': '__metadata__ is not a map of strings',
 'checkpoint/newline-in-name.safetensors': "'layer0\\nweight' has dtype F16",
 'checkpoint/not-dnic.safetensors': 'not a dnic checkpoint (metadata format is missing)',
 'checkpoint/other-format.safetensors': "not a dnic checkpoint (metadata format is 'pytorch')",
 'checkpoint/newline-in-format.safetensors': 'not a dnic checkpoint',
 'checkpoint/nan-values.safetensors': "tensor 'layer1.weight' contains NaN or infinity",
 'checkpoint/wrong-model.safetensors': "tensor 'layer0.weight' has shape [2, 3], the model description needs [2, 4]",
 'checkpoint/missing-tensor.safetensors': "tensor 'optimizer.v.layer3.bias' is missing",
 'checkpoint/extra-tensor.safetensors': "tensor 'layer9.weight' is not part of the model description",
 'checkpoint/bad-config.safetensors': "unknown key 'training.epoch'",
 'checkpoint/bad-input-dim.safetensors': 'metadata lacks or garbles input_dim',
 'checkpoint/huge-counters.safetensors': 'trainer state: counters must lie in 0...2^53',
 'checkpoint/bad-checkpoint-every.safetensors': "metadata checkpoint_every '-3' is not a positive integer",
 'checkpoint/huge-dims-in-metadata.safetensors': "tensor 'layer0.weight' has shape [2, 3], the model description needs [16384, 16384]",
}
# fixed: messages escape file text (messageText), YAML anchors/aliases are
# refused before Yams composes them, checkpoint shapes are checked before
# the network is built
known = {}
skip = {}
entries = []
for f in sorted(why):
    assert f in expect, f
    e = {'file': f, 'parser': f.split('/')[0], 'expect': expect[f], 'why': why[f]}
    if f in known: e['known'] = known[f]
    if f in skip: e['skip'] = skip[f]
    entries.append(e)
assert set(expect) == set(why), set(expect) ^ set(why)
doc = {
 'about': 'Hostile inputs for every file dnic reads, one directory per parser (named as the DnicFuzz targets), written with this manifest by generate.py (edit expectations there). HostileInputTests runs each file through its parser and expects a one-line error containing `expect` (and the file path, except for config validation). `known`: a documented defect; the test expects it to still show (and fails once it is fixed, so the mark gets removed). `skip`: not run (it would hang or use GBs) until the defect it describes is fixed.',
 'files': entries,
}
with open(os.path.join(root, 'manifest.json'), 'w') as fh:
    json.dump(doc, fh, indent=1, ensure_ascii=False); fh.write('\n')
print(len(entries), 'files and manifest.json written to', root)
