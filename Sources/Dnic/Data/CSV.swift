// CSV datasets: one example per line, numeric fields, the label in one
// column (the first by default), features used exactly as written.
//
// The parser works on the file's bytes (read through zlib, so .csv.gz works
// too) instead of splitting Strings: an MNIST-size CSV (60000 x 785) then
// parses in well under a few seconds in a release build. Plain integers and
// short decimals take an exact fast path (Clinger's: an integer mantissa
// below 2^24 divided by an exact power of ten is one correctly rounded float
// operation); anything else goes to strtof, so every value is the nearest
// float to what is written. Rejected, each with file:line[:column]: ragged
// rows, non-numeric fields, NaN or infinite features, labels that are not
// non-negative integers, lie outside 0..<classes or imply more than 2^22
// classes, a test file of another width. Field text quoted in a message has
// its control characters escaped, so every message is one line. A first
// line whose first field is not a number is a header and is skipped; blank
// lines are skipped. Quoted fields are not supported.
//
// Files are parsed as they stream, 1 MiB at a time (a line longer than that
// grows the buffer to hold it): reading the whole text first made Fashion-
// MNIST as CSV (155 MB of text) peak at 2.1x its floats; streamed, 1.0x and
// 20% faster (2.0 s -> 1.6 s). The float array is
// reserved once for the most rows the content can hold (each field takes at
// least two bytes), which is address space only: pages are touched as rows
// arrive, so memory follows the rows really parsed, and it never regrows.

import Foundation

/// One parsed CSV file.
struct CSVTable {
    var features: [Float] = []
    /// Empty when the rows have no label column (CSVLabels.ifWider).
    var labels: [Int32] = []
    var fields = 0
    var rows = 0
    var maxLabel: Int32 = -1
    var labelled = true
    /// Features per row: the fields, less the label's.
    var dim: Int { labelled ? fields - 1 : fields }
}

/// Where a CSV row's label is.
enum CSVLabels {
    /// In this column (negative counts from the end): every row has one.
    case column(Int)
    /// Rows to classify (`dnic predict`): rows of `features` fields have no
    /// label; rows of `features + 1` have it in `column`; any other width
    /// is a CSVWidthError.
    case ifWider(features: Int, column: Int)
}

/// Rows to classify whose width is neither the model's features nor those
/// and a label.
public struct CSVWidthError: Error, CustomStringConvertible, Sendable {
    /// The file, as messages show it (pathText).
    public let path: String
    /// Fields in a row, and the model's features.
    public let found: Int, features: Int
    public var description: String {
        "\(path): rows of \(found) fields; the model takes \(features) features: give rows of \(features) fields, or \(features + 1) with a label"
    }
}

private let comma = UInt8(ascii: ",")
private let newline = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")

@inline(__always) private func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 }

/// Exact powers of ten as floats (10^10 = 2^10 * 5^10, and 5^10 < 2^24).
private let exactPowersOfTen: [Float] = (0 ... 10).map { Float(pow(10.0, Double($0))) }

/// The byte-level parser; reused scratch space for the strtof slow path.
private struct CSVFieldParser {
    var scratch = [CChar](repeating: 0, count: 64)

    /// An optional sign and 1-18 digits, nothing else.
    @inline(__always)
    static func integer(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> Int? {
        var i = a
        var negative = false
        if i < b, p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+") {
            negative = p[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < b, b - i <= 18 else { return nil }
        var value = 0
        while i < b {
            let d = p[i] &- 48
            if d > 9 { return nil }
            value = value * 10 + Int(d)
            i += 1
        }
        return negative ? -value : value
    }

    /// [sign] digits [. digits] with an exact float result, or nil.
    @inline(__always)
    static func shortDecimal(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> Float? {
        var i = a
        var negative = false
        if i < b, p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+") {
            negative = p[i] == UInt8(ascii: "-")
            i += 1
        }
        var mantissa = 0
        var digits = 0
        var fraction = 0
        var seenPoint = false
        while i < b {
            let c = p[i]
            if c == UInt8(ascii: ".") {
                if seenPoint { return nil }
                seenPoint = true
            } else {
                let d = c &- 48
                if d > 9 { return nil }
                mantissa = mantissa * 10 + Int(d)
                if mantissa >= 1 << 24 { return nil }
                digits += 1
                if seenPoint { fraction += 1 }
            }
            i += 1
        }
        guard digits > 0, fraction <= 10 else { return nil }
        let value = Float(mantissa) / exactPowersOfTen[fraction]
        return negative ? -value : value
    }

    /// strtof/strtod over the whole field, or nil if it is not all number.
    mutating func slow(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> Double? {
        let n = b - a
        guard n > 0 else { return nil }
        if scratch.count < n + 1 { scratch = [CChar](repeating: 0, count: n + 1) }
        return scratch.withUnsafeMutableBufferPointer { buf -> Double? in
            for k in 0 ..< n { buf[k] = CChar(bitPattern: p[a + k]) }
            buf[n] = 0
            let start = buf.baseAddress!
            var end: UnsafeMutablePointer<CChar>? = nil
            let value = strtod(start, &end)
            return end == start + n ? value : nil
        }
    }

    mutating func slowFloat(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> Float? {
        let n = b - a
        guard n > 0 else { return nil }
        if scratch.count < n + 1 { scratch = [CChar](repeating: 0, count: n + 1) }
        return scratch.withUnsafeMutableBufferPointer { buf -> Float? in
            for k in 0 ..< n { buf[k] = CChar(bitPattern: p[a + k]) }
            buf[n] = 0
            let start = buf.baseAddress!
            var end: UnsafeMutablePointer<CChar>? = nil
            let value = strtof(start, &end)
            return end == start + n ? value : nil
        }
    }

    mutating func feature(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> Float? {
        if let v = Self.shortDecimal(p, a, b) { return v }
        return slowFloat(p, a, b)
    }

    mutating func isNumber(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> Bool {
        Self.integer(p, a, b) != nil || slow(p, a, b) != nil
    }
}

/// The field text for a message: shortened if long, control characters
/// (a stray carriage return) escaped so the message stays one line.
private func fieldText(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> String {
    messageText(String(decoding: UnsafeBufferPointer(rebasing: p[a ..< b]), as: UTF8.self))
}

/// The rows of one CSV file, fed line by line. `width` (fields, file) fixes
/// the expected width, as the train file does for the test file; `classes`
/// bounds the labels.
private struct CSVRows {
    let path: String
    let labels: CSVLabels
    let width: (fields: Int, source: String)?
    let classes: Int?
    var table = CSVTable()
    var parser = CSVFieldParser()
    var line = 0
    var firstLine = true
    var expected = 0
    var labelIndex = 0

    init(path: String, labels: CSVLabels, width: (fields: Int, source: String)?, classes: Int?) {
        self.path = pathText(path)
        self.labels = labels
        self.width = width
        self.classes = classes
    }

    /// Parses the line p[lineStart..<end] (without its newline).
    /// `bytesLeft`: at most how many content bytes remain from lineStart on
    /// (nil: unknown), which sizes the arrays once the width is known.
    mutating func add(_ p: UnsafeBufferPointer<UInt8>, _ lineStart: Int, _ end: Int, bytesLeft: Int?) throws {
        line += 1
        var lineEnd = end
        if lineEnd > lineStart, p[lineEnd - 1] == carriageReturn { lineEnd -= 1 }
        var firstNonSpace = lineStart
        while firstNonSpace < lineEnd, isSpace(p[firstNonSpace]) { firstNonSpace += 1 }
        if firstNonSpace == lineEnd { return }  // blank line
        var commas = 0
        for i in lineStart ..< lineEnd where p[i] == comma { commas += 1 }
        let found = commas + 1

        if firstLine {
            firstLine = false
            var a = lineStart, b = lineStart
            while b < lineEnd, p[b] != comma { b += 1 }
            while a < b, isSpace(p[a]) { a += 1 }
            while b > a, isSpace(p[b - 1]) { b -= 1 }
            if !parser.isNumber(p, a, b) { return }  // a header row
        }
        if expected == 0 { try fixWidth(found, bytesLeft: bytesLeft) }
        guard found == expected else {
            let source = width.map { " (as in \(fileName($0.source)))" } ?? ""
            throw DataError("\(path):\(line): expected \(expected) fields\(source), found \(found)")
        }
        if table.features.count + expected > table.features.capacity {
            // Not sized up front (a pipe, a gzip of unknown length): 1.25x
            // steps rather than append's doubling.
            let capacity = table.features.capacity
            table.features.reserveCapacity(capacity + capacity / 4 + max(expected, 1 << 14))
            if table.labelled { table.labels.reserveCapacity(table.features.capacity / max(1, table.dim) + 1) }
        }

        var fieldStart = lineStart
        for f in 0 ..< expected {
            var fieldEnd = fieldStart
            while fieldEnd < lineEnd, p[fieldEnd] != comma { fieldEnd += 1 }
            var a = fieldStart, b = fieldEnd
            while a < b, isSpace(p[a]) { a += 1 }
            while b > a, isSpace(p[b - 1]) { b -= 1 }
            let column = a - lineStart + 1
            if f == labelIndex {
                let label = try self.label(p, a, b, column: column)
                table.labels.append(Int32(label))
                if Int32(label) > table.maxLabel { table.maxLabel = Int32(label) }
            } else {
                guard let v = parser.feature(p, a, b) else {
                    throw DataError("\(path):\(line):\(column): not a number: '\(fieldText(p, a, b))'")
                }
                guard v.isFinite else {
                    throw DataError("\(path):\(line):\(column): feature is NaN or infinite: '\(fieldText(p, a, b))'")
                }
                table.features.append(v)
            }
            fieldStart = fieldEnd + 1
        }
        table.rows += 1
    }

    /// The first data row fixes the width (or checks the train file's) and
    /// sizes the arrays for the most rows the rest can hold.
    private mutating func fixWidth(_ found: Int, bytesLeft: Int?) throws {
        let labelColumn: Int
        switch labels {
        case .column(let column):
            labelColumn = column
            if let width {
                expected = width.fields
            } else {
                guard found >= 2 else {
                    throw DataError("\(path):\(line): a single field; need a label and at least one feature")
                }
                expected = found
            }
        case .ifWider(let features, let column):
            guard found == features || found == features + 1 else {
                throw CSVWidthError(path: path, found: found, features: features)
            }
            expected = found
            labelColumn = column
            table.labelled = found == features + 1
        }
        table.fields = expected  // table.dim from here on
        guard table.labelled else {
            labelIndex = -1
            return try reserve(bytesLeft: bytesLeft)
        }
        labelIndex = labelColumn >= 0 ? labelColumn : expected + labelColumn
        guard labelIndex >= 0, labelIndex < expected else {
            throw DataError("\(path): label column \(labelColumn) is outside the \(expected) fields of a row")
        }
        try reserve(bytesLeft: bytesLeft)
    }

    /// Sizes the arrays for the most rows `bytesLeft` can hold.
    private mutating func reserve(bytesLeft: Int?) throws {
        guard let bytesLeft else { return }
        // Every field takes at least two bytes ("0," or "0\n"; the last row
        // may lack its newline).
        let rows = (bytesLeft + 1) / (2 * expected) + 1
        if canAllocate(rows * table.dim * MemoryLayout<Float>.stride) {
            table.features.reserveCapacity(rows * table.dim)
            if table.labelled { table.labels.reserveCapacity(rows) }
        }
    }

    private mutating func label(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int, column: Int) throws -> Int {
        let label: Int
        if let v = CSVFieldParser.integer(p, a, b) {
            label = v
        } else if let v = parser.slow(p, a, b) {
            guard v.isFinite, v == v.rounded(), abs(v) <= Double(Int32.max) else {
                throw DataError("\(path):\(line):\(column): label must be a non-negative integer, found '\(fieldText(p, a, b))'")
            }
            label = Int(v)
        } else {
            throw DataError("\(path):\(line):\(column): not a number: '\(fieldText(p, a, b))'")
        }
        guard label >= 0, label <= Int(Int32.max) else {
            throw DataError("\(path):\(line):\(column): label must be a non-negative integer, found '\(fieldText(p, a, b))'")
        }
        if let classes, label >= classes {
            throw DataError("\(path):\(line):\(column): label \(label) \(outsideClasses(classes))")
        }
        if classes == nil, label >= maxClasses {
            throw DataError("\(path):\(line):\(column): label \(label) is too large: at most \(maxClasses) classes (is field "
                            + "\(labelIndex + 1) the label?)")
        }
        return label
    }

    func finish() throws -> CSVTable {
        guard table.rows > 0 else { throw DataError("\(path): no data rows") }
        var done = table
        done.fields = expected
        return done
    }
}

/// A UTF-8 byte order mark at p[i...], skipped before the first line.
@inline(__always) private func hasBOM(_ p: UnsafeBufferPointer<UInt8>, at i: Int, end: Int) -> Bool {
    end - i >= 3 && p[i] == 0xEF && p[i + 1] == 0xBB && p[i + 2] == 0xBF
}

/// Feeds the complete lines of p[start..<end] to `rows` and returns where
/// the first incomplete one starts; at the end of the content (`final`) the
/// rest is a last line without its newline. `bytesLeft(i)`: at most how
/// many content bytes remain from index i on.
private func feedLines(_ p: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, final: Bool,
                       rows: inout CSVRows, bytesLeft: (Int) -> Int?) throws -> Int {
    var pos = start
    while pos < end {
        guard let base = p.baseAddress,
              let hit = memchr(base + pos, Int32(newline), end - pos) else { break }
        let lineEnd = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        try rows.add(p, pos, lineEnd, bytesLeft: bytesLeft(pos))
        pos = lineEnd + 1
    }
    if final, pos < end {
        try rows.add(p, pos, end, bytesLeft: bytesLeft(pos))
        pos = end
    }
    return pos
}

/// Parses CSV bytes held whole (the fuzz target and `DataParsers.csv`).
func parseCSV(_ p: UnsafeBufferPointer<UInt8>, path: String, labelColumn: Int,
              width: (fields: Int, source: String)?, classes: Int?) throws -> CSVTable {
    var rows = CSVRows(path: path, labels: .column(labelColumn), width: width, classes: classes)
    let start = hasBOM(p, at: 0, end: p.count) ? 3 : 0
    _ = try feedLines(p, from: start, to: p.count, final: true, rows: &rows) { p.count - $0 }
    return try rows.finish()
}

/// The longest line the streaming parser buffers: a row of 2^22 features
/// written as 16-character numbers, and a bound on the buffer when a file
/// (a gzip bomb, a binary file) has no newline.
let csvMaxLine = 1 << 26

/// Reads and parses one CSV file (raw or gzip'd) as it streams, refusing
/// content past `limit` bytes (a gzip bomb).
func parseCSVFile(_ path: String, labelColumn: Int, width: (fields: Int, source: String)?,
                  classes: Int?, limit: Int = 1 << 31) throws -> CSVTable {
    try parseCSVFile(path, labels: .column(labelColumn), width: width, classes: classes, limit: limit)
}

func parseCSVFile(_ path: String, labels: CSVLabels, width: (fields: Int, source: String)?,
                  classes: Int?, limit: Int = 1 << 31) throws -> CSVTable {
    let reader = try GzipFileReader(path: path)
    var rows = CSVRows(path: path, labels: labels, width: width, classes: classes)
    // How long the content can be, to size the arrays: a raw file's size; a
    // gzip's trailer when the file could expand to it (multi-member files
    // and lying trailers are caught by the 1.25x regrowth and the limit).
    var total: Int? = nil
    if let size = reader.fileSize {
        if !reader.isGzip {
            total = Int(min(size, UInt64(limit)))
        } else if let trailer = reader.trailerLength, UInt64(trailer) <= reader.maxContentBytes {
            total = min(Int(trailer), limit)
        }
    }
    var buffer = [UInt8](repeating: 0, count: Int(min(1 << 20, max(reader.maxContentBytes, 64))))
    var filled = 0    // bytes in buffer
    var consumed = 0  // content bytes before buffer[0]
    var atEnd = false
    while !atEnd {
        if filled == buffer.count {  // one line fills the buffer: make room for the rest of it
            guard buffer.count < csvMaxLine else {
                throw DataError("\(reader.shownPath):\(rows.line + 1): a line of \(csvMaxLine) bytes or more; is this a CSV file?")
            }
            var bigger = [UInt8](repeating: 0, count: min(2 * buffer.count, csvMaxLine))
            bigger.withUnsafeMutableBytes { to in buffer.withUnsafeBytes { to.copyMemory(from: $0) } }
            buffer = bigger
        }
        let got = try buffer.withUnsafeMutableBytes {
            try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]))
        }
        atEnd = filled + got < buffer.count
        if consumed + filled + got > limit {
            throw DataError("\(reader.shownPath): \(reader.isGzip ? "decompresses to" : "holds") more than \(limit) bytes, the most "
                            + "dnic reads from one CSV file")
        }
        let start = consumed == 0 && filled == 0 && buffer.withUnsafeBufferPointer { hasBOM($0, at: 0, end: got) } ? 3 : 0
        filled += got
        let base = consumed
        let used = try buffer.withUnsafeBufferPointer { p in
            try feedLines(p, from: start, to: filled, final: atEnd, rows: &rows) { i in
                total.map { max(0, $0 - base - i) }
            }
        }
        // Keep the incomplete last line for the next read.
        buffer.withUnsafeMutableBufferPointer { p in
            if used > 0, used < filled, let b = p.baseAddress { memmove(b, b + used, filled - used) }
        }
        consumed += used
        filled -= used
    }
    return try rows.finish()
}

/// Loads `train` (and `test`, or a seeded testFraction of train) as a split.
/// classes = options.classes, or max label + 1 over both files (at least 2).
func loadCSV(train: String, test: String?, options: DataOptions, name: String) throws -> DataSplit {
    var trainTable = try parseCSVFile(train, labelColumn: options.labelColumn, width: nil, classes: options.classes)
    let fields = trainTable.fields
    var testTable = try test.map {
        try parseCSVFile($0, labelColumn: options.labelColumn, width: (fields, train), classes: options.classes)
    }
    return try splitCSV(train: &trainTable, test: &testTable, options: options, name: name)
}

/// One CSV file whole as a dataset (`dnic eval --data csv:FILE`: a file
/// given to score is test data). classes = options.classes, or max label + 1
/// (at least 2). With `labelsIfWider` (rows to classify, of a model taking
/// that many features) rows may come without their label: then `labelled`
/// is false and the dataset's labels are all 0, standing for none.
func loadCSVFile(_ path: String, options: DataOptions, name: String,
                 labelsIfWider features: Int? = nil) throws -> (data: Dataset, labelled: Bool) {
    let labels = features.map { CSVLabels.ifWider(features: $0, column: options.labelColumn) } ?? .column(options.labelColumn)
    let table = try parseCSVFile(path, labels: labels, width: nil, classes: options.classes)
    let data = Dataset(name: name, features: table.features,
                       labels: table.labelled ? table.labels : [Int32](repeating: 0, count: table.rows),
                       count: table.rows, dim: table.dim, classes: options.classes ?? max(2, Int(table.maxLabel) + 1))
    return (data, table.labelled)
}

/// The datasets of parsed CSV tables: `test`, or a seeded held-out part of
/// `train` without one. The tables' arrays move into the datasets (the
/// tables are left empty), so the hold-out compacts train in place instead
/// of copying it.
func splitCSV(train trainTable: inout CSVTable, test testTable: inout CSVTable?, options: DataOptions,
              name: String) throws -> DataSplit {
    let maxLabel = Int(max(trainTable.maxLabel, testTable?.maxLabel ?? -1))
    let classes = options.classes ?? max(2, maxLabel + 1)
    let dim = trainTable.fields - 1
    func dataset(_ t: inout CSVTable, _ part: String) -> Dataset {
        let d = Dataset(name: name + "/" + part, features: t.features, labels: t.labels, count: t.rows, dim: dim,
                        classes: classes)
        t = CSVTable()
        return d
    }
    var train = dataset(&trainTable, "train")
    if var table = testTable {
        testTable = nil
        return DataSplit(train: train, test: dataset(&table, "test"))
    }
    let held = try holdOut(&train, fraction: options.testFraction, seed: options.seed,
                           stream: .testSplit, train: name + "/train", part: name + "/test")
    return DataSplit(train: train, test: held)
}
