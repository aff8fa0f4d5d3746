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
// non-negative integers or imply more than 2^22 classes, a test file of
// another width. Field text quoted in a message has its control characters
// escaped, so every message is one line. A first line whose
// first field is not a number is a header and is skipped; blank lines are
// skipped. Quoted fields are not supported.

import Foundation

/// One parsed CSV file.
struct CSVTable {
    var features: [Float] = []
    var labels: [Int32] = []
    var fields = 0
    var rows = 0
    var maxLabel: Int32 = -1
}

/// Most classes a CSV's labels may imply (max label + 1) when the class count
/// is not given: the widest output layer the C core builds. A larger label
/// is almost surely a feature read as the label.
let csvMaxClasses = 1 << 22

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

/// Parses CSV bytes. `width` (fields, file) fixes the expected width, as the
/// train file does for the test file; `classes` bounds the labels.
func parseCSV(_ p: UnsafeBufferPointer<UInt8>, path: String, labelColumn: Int,
              width: (fields: Int, source: String)?, classes: Int?) throws -> CSVTable {
    var table = CSVTable()
    var parser = CSVFieldParser()
    let end = p.count
    var pos = 0
    if end >= 3, p[0] == 0xEF, p[1] == 0xBB, p[2] == 0xBF { pos = 3 }  // UTF-8 BOM
    var line = 0
    var firstLine = true
    var expected = 0
    var labelIndex = 0

    while pos < end {
        line += 1
        let lineStart = pos
        var commas = 0
        var i = pos
        while i < end, p[i] != newline {
            if p[i] == comma { commas += 1 }
            i += 1
        }
        var lineEnd = i
        pos = i + 1
        if lineEnd > lineStart, p[lineEnd - 1] == carriageReturn { lineEnd -= 1 }
        var firstNonSpace = lineStart
        while firstNonSpace < lineEnd, isSpace(p[firstNonSpace]) { firstNonSpace += 1 }
        if firstNonSpace == lineEnd { continue }  // blank line
        let found = commas + 1

        if firstLine {
            firstLine = false
            var a = lineStart, b = lineStart
            while b < lineEnd, p[b] != comma { b += 1 }
            while a < b, isSpace(p[a]) { a += 1 }
            while b > a, isSpace(p[b - 1]) { b -= 1 }
            if !parser.isNumber(p, a, b) { continue }  // a header row
        }
        if expected == 0 {  // the first data row fixes the width
            if let width {
                expected = width.fields
            } else {
                guard found >= 2 else {
                    throw DataError("\(path):\(line): a single field; need a label and at least one feature")
                }
                expected = found
            }
            labelIndex = labelColumn >= 0 ? labelColumn : expected + labelColumn
            guard labelIndex >= 0, labelIndex < expected else {
                throw DataError("\(path): label column \(labelColumn) is outside the \(expected) fields of a row")
            }
            // Reserve for the rows this file probably holds (its size over the
            // length of this row) to avoid repeated regrowth on big files.
            let estimate = min((end - lineStart) / max(1, pos - lineStart) + 1, 1 << 26)
            // Every feature takes at least two bytes ("0,"), which bounds it.
            table.features.reserveCapacity(min(estimate * (expected - 1), (end - lineStart) / 2 + expected))
            table.labels.reserveCapacity(estimate)
        }

        guard found == expected else {
            let source = width.map { " (as in \($0.source))" } ?? ""
            throw DataError("\(path):\(line): expected \(expected) fields\(source), found \(found)")
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
                    throw DataError("\(path):\(line):\(column): label \(label) is outside 0...\(classes - 1)")
                }
                if classes == nil, label >= csvMaxClasses {
                    throw DataError("\(path):\(line):\(column): label \(label) is too large: at most \(csvMaxClasses) classes (is field \(labelIndex + 1) the label?)")
                }
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
    guard table.rows > 0 else { throw DataError("\(path): no data rows") }
    table.fields = expected
    return table
}

/// Reads and parses one CSV file (raw or gzip'd), refusing content past
/// `limit` bytes (a gzip bomb).
func parseCSVFile(_ path: String, labelColumn: Int, width: (fields: Int, source: String)?,
                  classes: Int?, limit: Int = 1 << 31) throws -> CSVTable {
    let bytes = try GzipFileReader(path: path).readAll(limit: limit)
    return try bytes.withUnsafeBufferPointer {
        try parseCSV($0, path: path, labelColumn: labelColumn, width: width, classes: classes)
    }
}

/// Loads `train` (and `test`, or a seeded testFraction of train) as a split.
/// classes = options.classes, or max label + 1 over both files (at least 2).
func loadCSV(train: String, test: String?, options: DataOptions, name: String) throws -> DataSplit {
    let trainTable = try parseCSVFile(train, labelColumn: options.labelColumn, width: nil, classes: options.classes)
    let testTable = try test.map {
        try parseCSVFile($0, labelColumn: options.labelColumn, width: (trainTable.fields, train),
                         classes: options.classes)
    }
    return try splitCSV(train: trainTable, test: testTable, options: options, name: name)
}

/// The datasets of parsed CSV tables: `test`, or a seeded held-out part of
/// `train` without one.
func splitCSV(train trainTable: CSVTable, test testTable: CSVTable?, options: DataOptions,
              name: String) throws -> DataSplit {
    let maxLabel = Int(max(trainTable.maxLabel, testTable?.maxLabel ?? -1))
    let classes = options.classes ?? max(2, maxLabel + 1)
    let dim = trainTable.fields - 1
    func dataset(_ t: CSVTable, _ part: String) -> Dataset {
        Dataset(name: name + "/" + part, features: t.features, labels: t.labels, count: t.rows, dim: dim,
                classes: classes)
    }
    if let testTable {
        return DataSplit(train: dataset(trainTable, "train"), test: dataset(testTable, "test"))
    }
    let (rest, held) = try holdOut(dataset(trainTable, "train"), fraction: options.testFraction, seed: options.seed,
                                   stream: .testSplit, train: name + "/train", part: name + "/test")
    return DataSplit(train: rest, test: held)
}
