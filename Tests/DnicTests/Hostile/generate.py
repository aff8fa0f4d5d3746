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
put('idx-labels', 'gzip-corrupt.gz', (lambda b: b[:12] + bytes(x ^ 0x55 for x in b[12:-8]) + b[-8:])(gz(be(0x801, 50) + bytes(range(50)))), 'deflate data scrambled')

# ---- gzip (any data file, sniffed after gunzip; the test caps content at 16 MiB)
put('gzip', 'zero-length.gz', b'', 'zero-length file')
put('gzip', 'header-only.gz', gz(b'0,1\n')[:10], 'a gzip header and nothing else')
z = gz(be(0x803, 1, 28, 28) + bytes(784))
put('gzip', 'truncated-idx.gz', z[:len(z) - 12], 'gzip IDX image file without its last 12 bytes')
put('gzip', 'not-deflate.gz', b'\x1f\x8b\x08\x00' + bytes(6) + b'\xff' * 40, 'gzip header followed by invalid deflate data')
put('gzip', 'bad-method.gz', b'\x1f\x8b\x07\x00' + bytes(6) + b'abc', 'gzip magic with compression method 7')
put('gzip', 'bomb-17MiB.csv.gz', gz(b'0,' * 8 + b'0\n' + (b'1,0\n' * (17 * 1024 * 1024 // 4))), 'a 17 KiB file that expands to 17 MiB of CSV, past the cap')
put('gzip', 'idx-declares-2GiB.gz', gz(be(0x803, 2048, 1024, 1024) + bytes(1 << 20)), '1 KiB of gzip, 1 MiB of zeros, header declaring 2^31 pixels')
put('gzip', 'labels-out-of-range.gz', gz(be(0x801, 3) + bytes([1, 2, 0xFF])), 'gzip label file with label 255 (10 classes)')
put('gzip', 'double-gzip.gz', gz(gz(b'1,2,3\n')), 'gzip inside gzip: the inner stream is not CSV')

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
 'idx-labels/empty': 'too short (0 bytes) to be an IDX label file',
 'idx-labels/short-header': 'too short (3 bytes) to be an IDX label file',
 'idx-labels/image-file': 'not an IDX label file (magic 0x00000803, an IDX image file',
 'idx-labels/label-10': 'label 10 at index 2 is outside 0...9',
 'idx-labels/label-255': 'label 255 at index 0 is outside 0...9',
 'idx-labels/truncated': 'truncated: header declares 5 labels but the raw file holds only 3',
 'idx-labels/trailing-bytes': '1 bytes of trailing data after 2 labels',
 'idx-labels/zero-labels': 'header declares 0 labels; nothing to load',
 'idx-labels/huge-count': 'header declares 4294967295 labels, over the 2^31 limit',
 'idx-labels/lying-2GiB': 'header declares 2147483648 labels but the raw file holds only 0',
 'idx-labels/lying-100M.gz': 'header declares 100000000 labels but a 30-byte gzip file cannot hold more than',
 'idx-labels/gzip-corrupt.gz': 'truncated or corrupt gzip (zlib:',
 'gzip/zero-length.gz': 'no data rows',
 'gzip/header-only.gz': 'truncated or corrupt gzip (zlib:',
 'gzip/truncated-idx.gz': 'truncated or corrupt gzip (zlib:',
 'gzip/not-deflate.gz': 'truncated or corrupt gzip (zlib:',
 'gzip/bad-method.gz': 'truncated or corrupt gzip (zlib:',
 'gzip/bomb-17MiB.csv.gz': 'decompresses to more than 16777216 bytes; refusing to read it whole',
 'gzip/idx-declares-2GiB.gz': 'header declares 2048 images of 1024x1024 (2147483648 bytes) but a 1060-byte gzip file cannot hold more than',
 'gzip/labels-out-of-range.gz': 'label 255 at index 2 is outside 0...9',
 'gzip/double-gzip.gz': 'no data rows',
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
 'csv/huge-line.csv': ":2:3: feature is NaN or infinite: '" + '9' * 40 + "...'",
 'csv/many-fields-then-short.csv': ':2: expected 5001 fields, found 2',
 'config-yaml/unknown-key.yaml': "unknown key 'training.eval_every'",
 'config-yaml/unknown-top.yaml': "unknown key 'epochs'",
 'config-yaml/wrong-type.yaml': "'model.layers[0].width': expected an integer",
 'config-yaml/wrong-type-list.yaml': "'model.layers': expected Sequence",
 'config-yaml/bad-enum.yaml': "'swish' is not one of relu, sigmoid, tanh, linear",
 'config-yaml/bad-rule.yaml': "'interfaces.rule': 'magic' is not one of",
 'config-yaml/missing-width.yaml': "'model.layers[0].width': required key missing",
 'config-yaml/negative-width.yaml': 'layer 1: width -3 must be between 1 and 4194304',
 'config-yaml/nan-lr.yaml': 'lr nan must be a positive finite number',
 'config-yaml/inf-lr.yaml': 'lr inf must be a positive finite number',
 'config-yaml/huge-int.yaml': "'training.batch': expected an integer",
 'config-yaml/negative-seed.yaml': "'training.seed': expected an integer",
 'config-yaml/not-a-mapping.yaml': 'top level: expected Mapping',
 'config-yaml/scalar.yaml': 'top level: expected Mapping',
 'config-yaml/syntax-error.yaml': 'not valid YAML',
 'config-yaml/tab-indent.yaml': 'not valid YAML',
 'config-yaml/duplicate-key.yaml': 'not valid YAML',
 'config-yaml/two-documents.yaml': 'not valid YAML',
 'config-yaml/invalid-utf8.yaml': 'not UTF-8 text',
 'config-yaml/deep-nesting.yaml': 'not valid YAML',
 'config-yaml/deep-nesting-999.yaml': "'data': expected Scalar",
 'config-yaml/billion-laughs.yaml': 'anchors and aliases',
 'config-yaml/billion-laughs-key.yaml': 'anchors and aliases',
 'config-yaml/newline-in-key.yaml': "unknown key 'training.eval",
 'config-yaml/newline-in-enum.yaml': "'model.loss': 'c",
 'config-yaml/newline-in-sg-at.yaml': "--sg-at '1",
 'checkpoint/newline-in-extra-tensor.safetensors': "tensor 'x",
 'config-yaml/sg-at-bad.yaml': "--sg-at '1,x': expected mid, every, none or a list",
 'config-yaml/sg-at-out-of-range.yaml': '--sg-at 7: a boundary must lie after hidden layer 1',
 'config-json/unknown-key.json': "unknown key 'training.eval_every'",
 'config-json/wrong-type.json': "'model.layers[0].width': expected an integer",
 'config-json/bad-enum.json': "'optimizer.kind': 'lbfgs' is not one of sgd, momentum, adam",
 'config-json/truncated.json': 'not valid JSON',
 'config-json/empty.json': 'not valid JSON',
 'config-json/not-object.json': 'top level: expected Dictionary',
 'config-json/null-width.json': "'model.layers[0].width': missing an integer value",
 'config-json/float-width.json': 'not valid JSON',
 'config-json/huge-number.json': 'not valid JSON',
 'config-json/zero-lr.json': 'lr 0.0 must be a positive finite number',
 'config-json/invalid-utf8.json': 'not UTF-8 text',
 'config-json/deep-nesting.json': 'not valid JSON',
 'config-json/newline-in-key.json': "unknown key 'training.eval",
 'config-json/index-path.json': "unknown key 'model.layers.",
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
