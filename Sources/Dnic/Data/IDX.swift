// MNIST-format IDX files (raw or gzip'd): the format of MNIST and
// Fashion-MNIST.
//
// Images: big-endian u32 magic 0x00000803, then n, rows, cols, then n*rows*cols
// u8 pixels. Labels: magic 0x00000801, then n, then n u8 labels. A file is
// trusted for nothing: the magic, the declared sizes (refused above 2^31
// bytes before any allocation), the exact length (short data and trailing
// bytes are both errors), the gzip stream, the counts of the pair and the
// label range are all checked, and every error names the file. Buffers are
// sized by what the file can actually hold (`GzipFileReader.maxContentBytes`)
// and grow only as data arrives, so a 16-byte file declaring 2^31 pixels
// costs no more memory than a 16-byte file.

/// The four file names of an IDX dataset directory (each may end in .gz).
public enum IDXFileNames {
    public static let trainImages = "train-images-idx3-ubyte"
    public static let trainLabels = "train-labels-idx1-ubyte"
    public static let testImages = "t10k-images-idx3-ubyte"
    public static let testLabels = "t10k-labels-idx1-ubyte"
    public static let all = [trainImages, trainLabels, testImages, testLabels]
}

let idxImageMagic: UInt32 = 0x0000_0803
let idxLabelMagic: UInt32 = 0x0000_0801
/// Largest payload accepted: an IDX file declaring more is lying or not ours.
let idxMaxBytes: UInt64 = 1 << 31

/// Loads one images/labels pair of IDX files, raw or gzip'd, with pixels
/// scaled to [0, 1]. Labels must lie in 0..<classes.
public func loadIDX(images: String, labels: String, classes: Int = 10, name: String) throws -> Dataset {
    guard classes >= 2, classes <= 256 else {
        throw DataError("\(labels): classes must be in 2...256 for u8 IDX labels, got \(classes)")
    }
    let image = try readIDXImages(path: images)
    let label = try readIDXLabels(path: labels, classes: classes)
    guard image.count == label.count else {
        throw DataError("\(labels): \(label.count) labels but \(images) holds \(image.count) images")
    }
    return Dataset(name: name, features: image.pixels, labels: label, count: image.count,
                   dim: image.rows * image.cols, classes: classes)
}

/// Pixels of an IDX image file, scaled to [0, 1], row-major (count, rows*cols).
struct IDXImages {
    var count: Int
    var rows: Int
    var cols: Int
    var pixels: [Float]
}

private func describeMagic(_ magic: UInt32) -> String {
    let hex = String(magic, radix: 16)
    let padded = "0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    switch magic {
    case idxImageMagic: return "\(padded), an IDX image file"
    case idxLabelMagic: return "\(padded), an IDX label file"
    default: return padded
    }
}

/// Reads a big-endian header of `words` u32s, failing on short files.
private func readHeader(_ reader: GzipFileReader, words: Int, what: String) throws -> [UInt32] {
    var bytes = [UInt8](repeating: 0, count: 4 * words)
    let got = try bytes.withUnsafeMutableBytes { try reader.read(into: $0) }
    var values = [UInt32]()
    for w in 0 ..< got / 4 {
        values.append(bytes[4 * w ..< 4 * w + 4].reduce(0) { $0 << 8 | UInt32($1) })
    }
    if got < 4 {
        throw DataError("\(reader.path): too short (\(got) bytes) to be \(what)")
    }
    return values
}

private func checkMagic(_ reader: GzipFileReader, _ magic: UInt32, expected: UInt32, what: String) throws {
    guard magic == expected else {
        let form = reader.isGzip ? "after gunzip" : "raw file"
        throw DataError("\(reader.path): not \(what) (magic \(describeMagic(magic)), \(form); expected \(describeMagic(expected)))")
    }
}

/// Fails, before anything is allocated, when the file cannot possibly hold
/// the `payload` bytes its header declares (raw: its size says so exactly;
/// gzip: not even at deflate's largest ratio).
private func checkFits(_ reader: GzipFileReader, payload: UInt64, header: UInt64, declared: String) throws {
    let available = reader.maxContentBytes - min(header, reader.maxContentBytes)
    guard payload > available else { return }
    if reader.isGzip {
        throw DataError("\(reader.path): truncated: header declares \(declared) but a \(reader.fileSize ?? 0)-byte gzip file cannot hold more than \(available)")
    }
    throw DataError("\(reader.path): truncated: header declares \(declared) but the raw file holds only \(available)")
}

/// An array filled chunk by chunk that reserves up front only what the file
/// can plausibly hold and grows past that only as data arrives (doubling,
/// capped at `total`), so a lying gzip header cannot make it allocate what
/// the stream does not deliver; a file that keeps its promise ends with
/// exactly `total` elements of capacity.
struct GrowingBuffer<Element: Numeric> {
    private(set) var values: [Element] = []
    let total: Int

    /// `plausible`: bytes the file can plausibly hold
    /// (`GzipFileReader.plausibleContentBytes`), one element each.
    init(total: Int, plausible: UInt64) {
        self.total = total
        values.reserveCapacity(Int(min(UInt64(total), max(plausible, 1 << 16))))
    }

    var count: Int { values.count }

    /// Appends `n` elements, written by `fill` into the new tail.
    mutating func append(_ n: Int, _ fill: (UnsafeMutableBufferPointer<Element>) -> Void) {
        guard n > 0 else { return }
        let needed = values.count + n
        if needed > values.capacity {
            values.reserveCapacity(max(needed, min(2 * values.capacity, total)))
        }
        let start = values.count
        values.append(contentsOf: repeatElement(.zero, count: n))
        values.withUnsafeMutableBufferPointer { fill(UnsafeMutableBufferPointer(rebasing: $0[start...])) }
    }
}

/// Fails when the file holds bytes past the declared payload.
private func rejectTrailing(_ reader: GzipFileReader, declared: String) throws {
    let extra = try reader.countRemaining()
    if extra > 0 {
        throw DataError("\(reader.path): \(extra) bytes of trailing data after \(declared); header and file size disagree")
    }
}

func readIDXImages(path: String) throws -> IDXImages {
    let reader = try GzipFileReader(path: path)
    let what = "an IDX image file"
    let header = try readHeader(reader, words: 4, what: what)
    try checkMagic(reader, header[0], expected: idxImageMagic, what: what)
    guard header.count == 4 else {
        throw DataError("\(reader.path): truncated \(reader.form) IDX image header (needs 16 bytes)")
    }
    let (n, rows, cols) = (UInt64(header[1]), UInt64(header[2]), UInt64(header[3]))
    let declared = "\(n) images of \(rows)x\(cols)"
    guard n > 0, rows > 0, cols > 0 else {
        throw DataError("\(reader.path): header declares \(declared); nothing to load")
    }
    // Each factor is < 2^32, so check the running product against the limit
    // before it can overflow 64 bits.
    let pixelsPerImage = rows * cols
    guard pixelsPerImage <= idxMaxBytes, n * pixelsPerImage <= idxMaxBytes else {
        throw DataError("\(reader.path): header declares \(declared), over the 2^31-byte limit; refusing to allocate")
    }
    let total = Int(n * pixelsPerImage)
    try checkFits(reader, payload: UInt64(total), header: 16, declared: "\(declared) (\(total) bytes)")

    // Scale while reading, chunk by chunk, so the 8-bit copy of the file is
    // never held whole next to the float copy.
    var scale = [Float](repeating: 0, count: 256)
    for v in 0 ..< 256 { scale[v] = Float(v) / 255 }
    var pixels = GrowingBuffer<Float>(total: total, plausible: reader.plausibleContentBytes)
    var chunk = [UInt8](repeating: 0, count: min(1 << 20, total))
    var done = 0
    while done < total {
        let want = min(chunk.count, total - done)
        let got = try chunk.withUnsafeMutableBytes {
            try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0 ..< want]))
        }
        chunk.withUnsafeBufferPointer { bytes in
            scale.withUnsafeBufferPointer { table in
                pixels.append(got) { out in for i in 0 ..< got { out[i] = table[Int(bytes[i])] } }
            }
        }
        done += got
        if got < want {
            throw DataError("\(reader.path): truncated: header declares \(declared) (\(total) bytes) but the \(reader.form) file holds only \(done)")
        }
    }
    try rejectTrailing(reader, declared: declared)
    return IDXImages(count: Int(n), rows: Int(rows), cols: Int(cols), pixels: pixels.values)
}

func readIDXLabels(path: String, classes: Int) throws -> [Int32] {
    let reader = try GzipFileReader(path: path)
    let what = "an IDX label file"
    let header = try readHeader(reader, words: 2, what: what)
    try checkMagic(reader, header[0], expected: idxLabelMagic, what: what)
    guard header.count == 2 else {
        throw DataError("\(reader.path): truncated \(reader.form) IDX label header (needs 8 bytes)")
    }
    let n = UInt64(header[1])
    guard n > 0 else { throw DataError("\(reader.path): header declares 0 labels; nothing to load") }
    guard n <= idxMaxBytes else {
        throw DataError("\(reader.path): header declares \(n) labels, over the 2^31 limit; refusing to allocate")
    }
    try checkFits(reader, payload: n, header: 8, declared: "\(n) labels")
    var labelBytes = GrowingBuffer<UInt8>(total: Int(n), plausible: reader.plausibleContentBytes)
    var chunk = [UInt8](repeating: 0, count: min(1 << 20, Int(n)))
    while labelBytes.count < Int(n) {
        let want = min(chunk.count, Int(n) - labelBytes.count)
        let got = try chunk.withUnsafeMutableBytes {
            try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0 ..< want]))
        }
        chunk.withUnsafeBufferPointer { bytes in
            labelBytes.append(got) { out in for i in 0 ..< got { out[i] = bytes[i] } }
        }
        if got < want { break }
    }
    let bytes = labelBytes.values
    guard bytes.count == Int(n) else {
        throw DataError("\(reader.path): truncated: header declares \(n) labels but the \(reader.form) file holds only \(bytes.count)")
    }
    try rejectTrailing(reader, declared: "\(n) labels")
    var labels = [Int32](repeating: 0, count: bytes.count)
    for (i, b) in bytes.enumerated() {
        guard Int(b) < classes else {
            throw DataError("\(reader.path): label \(b) at index \(i) is outside 0...\(classes - 1)")
        }
        labels[i] = Int32(b)
    }
    return labels
}

/// The four files of an IDX dataset, as found on disk (each raw or .gz).
public struct IDXLocation: Equatable, Sendable {
    public var directory: String
    public var trainImages: String
    public var trainLabels: String
    public var testImages: String
    public var testLabels: String
}

/// Finds NAME or NAME.gz in `directory`, preferring the raw file.
func findIDXFile(_ name: String, in directory: String, hint: String) throws -> String {
    let raw = directory + "/" + name
    for candidate in [raw, raw + ".gz"] where FileManagerProbe.isFile(candidate) {
        return candidate
    }
    throw DataError("\(raw): not found (nor \(name).gz); \(hint)")
}

/// Finds the four IDX files of `directory` without reading them.
func locateIDX(directory: String, hint: String) throws -> IDXLocation {
    switch FileManagerProbe.kind(directory) {
    case .missing: throw DataError("\(directory): dataset directory not found; \(hint)")
    case .file: throw DataError("\(directory): not a directory; \(hint)")
    case .directory: break
    }
    let p = try IDXFileNames.all.map { try findIDXFile($0, in: directory, hint: hint) }
    return IDXLocation(directory: directory, trainImages: p[0], trainLabels: p[1], testImages: p[2], testLabels: p[3])
}

/// Loads the four standard IDX files of `location` as train and test.
func loadIDXFiles(_ location: IDXLocation, classes: Int, name: String) throws -> DataSplit {
    let train = try loadIDX(images: location.trainImages, labels: location.trainLabels, classes: classes,
                            name: name + "/train")
    let test = try loadIDX(images: location.testImages, labels: location.testLabels, classes: classes,
                           name: name + "/test")
    guard train.dim == test.dim else {
        throw DataError("\(location.testImages): images have \(test.dim) pixels but \(location.trainImages) has \(train.dim)")
    }
    return DataSplit(train: train, test: test)
}
