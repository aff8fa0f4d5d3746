// NumPy .npy arrays (npy:X.npy,y.npy[,Xtest.npy,ytest.npy]); the .npz
// archive reader is NpzArchive.swift.
//
// A .npy file: the magic "\x93NUMPY", a version byte pair (1.0: a u16
// header length; 2.0 and 3.0: u32), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }, then the
// array's bytes. Trusted for nothing: the magic, the version, the header's
// length (at most 64 KiB) and syntax, the dtype (features: float32, float64
// or uint8; labels: any integer type; little-endian only), C order, the
// shape's product against the bytes really there (short data and trailing
// bytes are both errors), finite features, labels in range. Nothing is
// allocated from what a header declares: the file's bytes are read first
// (bounded by npyMaxFileBytes), and the arrays are sized from those.
// uint8 features are scaled to [0, 1] as IDX pixels are; floats are kept as
// written, as CSV features are.

import Foundation

/// Largest .npy file (or .npz member) read: as IDX's 2^31-byte payloads,
/// stored as float64.
let npyMaxFileBytes = 1 << 34
private let npyMaxHeaderBytes = 1 << 16

/// The element types a .npy may hold that dnic reads.
enum NpyType: Equatable {
    case float32, float64, uint8, int8, int16, uint16, int32, uint32, int64, uint64

    var size: Int {
        switch self {
        case .uint8, .int8: return 1
        case .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    var isInteger: Bool { self != .float32 && self != .float64 }
}

/// A parsed .npy: its element type, shape and where its data starts.
struct NpyHeader {
    var descr: String
    var type: NpyType
    var shape: [Int]
    var dataOffset: Int
    var shapeText: String { "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")") }
}

/// The dtype string of a .npy header as an element type, or a one-line reason.
private func npyType(_ descr: String, name: String) throws -> NpyType {
    let d = "'\(messageText(descr))'"
    if descr == "O" || descr == "|O" || descr.hasSuffix("O") {
        throw DataError("\(name): object array (dtype \(d)); dnic reads numeric arrays only (save it with a numeric dtype)")
    }
    guard let order = descr.first, "<>|=".contains(order) else {
        throw DataError("\(name): dtype \(d) is not supported: expected float32, float64 or uint8 features, integer labels")
    }
    let code = String(descr.dropFirst())
    let types: [String: NpyType] = ["f4": .float32, "f8": .float64, "u1": .uint8, "i1": .int8, "i2": .int16,
                                    "u2": .uint16, "i4": .int32, "u4": .uint32, "i8": .int64, "u8": .uint64]
    guard let type = types[code] else {
        throw DataError("\(name): dtype \(d) is not supported: expected float32, float64 or uint8 features, integer labels")
    }
    if order == ">", type.size > 1 {
        throw DataError("\(name): big-endian dtype \(d); dnic reads little-endian arrays (numpy: a.astype('<\(code)'))")
    }
    return type
}

/// The Python literal of a .npy header: a flat dict of strings, booleans
/// and tuples of integers, nothing else.
private struct HeaderParser {
    enum Value { case string(String), bool(Bool), tuple([Int]) }
    let text: [UInt8]
    var i = 0
    let name: String

    func fail(_ what: String) -> DataError { DataError("\(name): unreadable .npy header: \(what)") }

    mutating func space() { while i < text.count, text[i] == 32 || text[i] == 9 || text[i] == 10 { i += 1 } }

    mutating func expect(_ c: Character) throws {
        space()
        guard i < text.count, text[i] == c.asciiValue! else { throw fail("expected '\(c)' at byte \(i)") }
        i += 1
    }

    mutating func peek(_ c: Character) -> Bool { space(); return i < text.count && text[i] == c.asciiValue! }

    mutating func string() throws -> String {
        space()
        guard i < text.count, text[i] == 39 || text[i] == 34 else { throw fail("expected a quoted string at byte \(i)") }
        let quote = text[i]
        i += 1
        let start = i
        while i < text.count, text[i] != quote { i += 1 }
        guard i < text.count else { throw fail("unterminated string") }
        defer { i += 1 }
        return String(decoding: text[start ..< i], as: UTF8.self)
    }

    mutating func integer() throws -> Int {
        space()
        let start = i
        while i < text.count, text[i] >= 48, text[i] <= 57 { i += 1 }
        if i < text.count, text[i] == 76 { i += 1 }  // Python 2's 3L
        guard i > start, i - start <= 18, let v = Int(String(decoding: text[start ..< i], as: UTF8.self).filter { $0 != "L" }) else {
            throw fail("expected a non-negative integer at byte \(start)")
        }
        return v
    }

    mutating func value() throws -> Value {
        space()
        guard i < text.count else { throw fail("ends early") }
        switch text[i] {
        case 39, 34: return .string(try string())
        case 40:
            i += 1
            var items = [Int]()
            while !peek(")") {
                items.append(try integer())
                if !peek(")") { try expect(",") }
            }
            i += 1
            return .tuple(items)
        case 91: throw DataError("\(name): structured (record) dtype; dnic reads plain numeric arrays")
        default:
            for (word, v) in [("True", true), ("False", false)] where text[i...].starts(with: Array(word.utf8)) {
                i += word.utf8.count
                return .bool(v)
            }
            throw fail("unexpected byte \(text[i]) at byte \(i)")
        }
    }

    mutating func dict() throws -> [String: Value] {
        try expect("{")
        var result = [String: Value]()
        while !peek("}") {
            let key = try string()
            try expect(":")
            result[key] = try value()
            if !peek("}") { try expect(",") }
        }
        return result
    }
}

/// Parses the header of the .npy bytes `p`; `name` names the file in errors.
func parseNpyHeader(_ p: UnsafeRawBufferPointer, name: String) throws -> NpyHeader {
    let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    guard p.count >= 10, p.prefix(6).elementsEqual(magic) else {
        throw DataError("\(name): not a .npy file (no \\x93NUMPY magic)")
    }
    let major = p[6]
    guard (1 ... 3).contains(major) else { throw DataError("\(name): .npy format version \(major).\(p[7]) is not supported (1.0 to 3.0)") }
    let lengthBytes = major == 1 ? 2 : 4
    guard p.count >= 8 + lengthBytes else { throw DataError("\(name): truncated .npy header") }
    let length = (0 ..< lengthBytes).reduce(0) { $0 | Int(p[8 + $1]) << (8 * $1) }
    let start = 8 + lengthBytes
    guard length <= npyMaxHeaderBytes else { throw DataError("\(name): .npy header of \(length) bytes, over the 64 KiB limit") }
    guard start + length <= p.count else {
        throw DataError("\(name): truncated: .npy header declares \(length) bytes but the file holds only \(p.count - start)")
    }
    var parser = HeaderParser(text: Array(p[start ..< start + length]), name: name)
    let dict = try parser.dict()
    guard case .string(let descr)? = dict["descr"] else { throw parser.fail("no 'descr' string") }
    guard case .bool(let fortran)? = dict["fortran_order"] else { throw parser.fail("no 'fortran_order' boolean") }
    guard case .tuple(let shape)? = dict["shape"] else { throw parser.fail("no 'shape' tuple") }
    let type = try npyType(descr, name: name)
    var header = NpyHeader(descr: descr, type: type, shape: shape, dataOffset: start + length)
    if fortran {
        throw DataError("\(name): fortran_order is True; dnic reads C-order arrays (numpy: np.save(f, np.ascontiguousarray(a)))")
    }
    var elements = 1
    for d in shape {
        let (product, overflow) = elements.multipliedReportingOverflow(by: d)
        guard !overflow, product <= npyMaxFileBytes else {
            throw DataError("\(name): header declares shape \(header.shapeText), over the \(npyMaxFileBytes)-byte limit")
        }
        elements = product
    }
    let declared = elements * type.size
    let holds = p.count - header.dataOffset
    if declared > holds {
        throw DataError("\(name): truncated: header declares shape \(header.shapeText) of '\(messageText(descr))' (\(declared) bytes) "
                        + "but the file holds only \(holds)")
    }
    if declared < holds {
        throw DataError("\(name): \(holds - declared) bytes of trailing data after shape \(header.shapeText); header and file size disagree")
    }
    header.shape = shape
    return header
}

/// Features of a .npy: (rows, dim) with dim the product of the other axes.
struct NpyFeatures {
    var features: [Float]
    var rows: Int
    var dim: Int
}

/// The features in the .npy bytes `p` (float32, float64 or uint8, scaled to [0, 1]).
func npyFeatures(_ p: UnsafeRawBufferPointer, name: String) throws -> NpyFeatures {
    let h = try parseNpyHeader(p, name: name)
    guard [.float32, .float64, .uint8].contains(h.type) else {
        throw DataError("\(name): features of dtype '\(messageText(h.descr))'; expected float32 ('<f4'), float64 ('<f8') or uint8 ('|u1')")
    }
    guard h.shape.count >= 2 else {
        throw DataError("\(name): features of shape \(h.shapeText); expected (rows, features) or more axes")
    }
    let rows = h.shape[0]
    // an empty array's other axes are not bounded by its (zero) bytes
    let dim = h.shape.dropFirst().reduce(1) { a, b in a == 0 || b == 0 ? 0 : a.multipliedReportingOverflow(by: b).overflow ? 0 : a * b }
    guard rows > 0, dim > 0 else { throw DataError("\(name): features of shape \(h.shapeText); nothing to load") }
    let count = rows * dim
    guard canAllocate(count * 4) else { throw DataError("\(name): out of memory: cannot allocate \(count * 4) bytes for the features") }
    let data = UnsafeRawBufferPointer(rebasing: p[h.dataOffset...])
    var features = [Float](repeating: 0, count: count)
    try features.withUnsafeMutableBufferPointer { out in
        for i in 0 ..< count {
            let v: Float
            switch h.type {
            case .float32: v = Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            case .float64: v = Float(Double(bitPattern: UInt64(littleEndian: data.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            default: v = Float(data[i]) / 255
            }
            guard v.isFinite else {
                throw DataError("\(name): feature at row \(i / dim), column \(i % dim) is NaN or infinite (or too large for float32)")
            }
            out[i] = v
        }
    }
    return NpyFeatures(features: features, rows: rows, dim: dim)
}

/// The labels in the .npy bytes `p`: any integer dtype, shape (n,) or
/// (n, 1), each in 0..<classes (or below maxClasses when classes is nil).
func npyLabels(_ p: UnsafeRawBufferPointer, name: String, classes: Int?) throws -> [Int32] {
    let h = try parseNpyHeader(p, name: name)
    guard h.type.isInteger else {
        throw DataError("\(name): labels of dtype '\(messageText(h.descr))'; labels must be integers (int8 to int64, uint8 to uint64)")
    }
    guard h.shape.count == 1 || (h.shape.count == 2 && h.shape[1] == 1) else {
        throw DataError("\(name): labels of shape \(h.shapeText); expected (rows,) or (rows, 1)")
    }
    let n = h.shape[0]
    guard n > 0 else { throw DataError("\(name): 0 labels; nothing to load") }
    let data = UnsafeRawBufferPointer(rebasing: p[h.dataOffset...])
    let size = h.type.size
    var labels = [Int32](repeating: 0, count: n)
    for i in 0 ..< n {
        var raw: UInt64 = 0
        for b in 0 ..< size { raw |= UInt64(data[i * size + b]) << (8 * b) }
        let signed: Bool = [.int8, .int16, .int32, .int64].contains(h.type)
        let shift = UInt64(64 - 8 * size)
        let label: Int64 = signed ? Int64(bitPattern: raw << shift) >> Int64(shift) : (raw > UInt64(Int64.max) ? Int64.max : Int64(raw))
        guard label >= 0 else { throw DataError("\(name): label \(label) at index \(i) is negative") }
        if let classes, label >= classes {
            throw DataError("\(name): label \(label) at index \(i) \(outsideClasses(classes))")
        }
        guard label < maxClasses else {
            throw DataError("\(name): label \(label) at index \(i) is too large: at most \(maxClasses) classes")
        }
        labels[i] = Int32(label)
    }
    return labels
}

/// A features/labels pair, checked against each other.
struct NpyTable {
    var features: NpyFeatures
    var labels: [Int32]
    var maxLabel: Int { Int(labels.max() ?? -1) }
}

func npyTable(features: UnsafeRawBufferPointer, featuresName: String, labels: UnsafeRawBufferPointer, labelsName: String,
              classes: Int?) throws -> NpyTable {
    let x = try npyFeatures(features, name: featuresName)
    let y = try npyLabels(labels, name: labelsName, classes: classes)
    guard x.rows == y.count else {
        throw DataError("\(labelsName): \(y.count) labels but \(fileName(featuresName)) holds \(x.rows) rows")
    }
    return NpyTable(features: x, labels: y)
}

/// The whole of a file, read into memory: at most `limit` bytes (the size
/// of a regular file is checked before anything is allocated).
func readWholeFile(_ path: String, limit: Int = npyMaxFileBytes) throws -> [UInt8] {
    let shown = pathText(path)
    switch FileManagerProbe.kind(path) {
    case .missing: throw DataError("\(shown): not found")
    case .directory: throw DataError("\(shown): is a directory, not a file")
    case .file: break
    }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw DataError("\(shown): cannot open: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var info = stat()
    var bytes = [UInt8]()
    if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
        guard info.st_size <= limit else { throw DataError("\(shown): \(info.st_size) bytes, over the \(limit)-byte limit") }
        guard canAllocate(Int(info.st_size)) else { throw DataError("\(shown): out of memory: cannot read \(info.st_size) bytes") }
        bytes.reserveCapacity(Int(info.st_size))
    }
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0, errno == EINTR { continue }
        guard n >= 0 else { throw DataError("\(shown): read error: \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        guard bytes.count + n <= limit else { throw DataError("\(shown): more than \(limit) bytes, over the limit") }
        bytes.append(contentsOf: chunk[0 ..< n])
    }
    return bytes
}

/// Reads a .npy of features alone (rows to classify).
func npyFeatures(path: String) throws -> NpyFeatures {
    let x = try readWholeFile(path)
    return try x.withUnsafeBytes { try npyFeatures($0, name: pathText(path)) }
}

/// Reads a features/labels pair of .npy files.
func loadNpyPair(features: String, labels: String, classes: Int?) throws -> NpyTable {
    let x = try readWholeFile(features)
    let y = try readWholeFile(labels)
    return try x.withUnsafeBytes { xp in
        try y.withUnsafeBytes { yp in
            try npyTable(features: xp, featuresName: pathText(features), labels: yp, labelsName: pathText(labels), classes: classes)
        }
    }
}

/// The datasets of a train table and an optional test table (of the same
/// width): without a test table, a seeded testFraction of train, as csv:.
/// classes = options.classes, or max label + 1 over both (at least 2).
func splitNpy(train: NpyTable, test: NpyTable?, testName: String, options: DataOptions, name: String) throws -> DataSplit {
    let classes = options.classes ?? max(2, max(train.maxLabel, test?.maxLabel ?? -1) + 1)
    func dataset(_ t: NpyTable, _ part: String) -> Dataset {
        Dataset(name: name + "/" + part, features: t.features.features, labels: t.labels, count: t.features.rows,
                dim: t.features.dim, classes: classes)
    }
    var trainSet = dataset(train, "train")
    if let test {
        guard test.features.dim == train.features.dim else {
            throw DataError("\(testName): test features have \(test.features.dim) columns but the training features have \(train.features.dim)")
        }
        return DataSplit(train: trainSet, test: dataset(test, "test"))
    }
    let held = try holdOut(&trainSet, fraction: options.testFraction, seed: options.seed,
                           stream: .testSplit, train: name + "/train", part: name + "/test")
    return DataSplit(train: trainSet, test: held)
}

/// One table whole as a dataset (a file given to `dnic eval` is test data).
func npyDataset(_ t: NpyTable, options: DataOptions, name: String) -> Dataset {
    Dataset(name: name, features: t.features.features, labels: t.labels, count: t.features.rows, dim: t.features.dim,
            classes: options.classes ?? max(2, t.maxLabel + 1))
}
