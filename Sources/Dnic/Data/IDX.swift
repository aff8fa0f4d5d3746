// MNIST-format IDX files (raw or gzip'd): the format of MNIST and
// Fashion-MNIST.
//
// Images: big-endian u32 magic 0x00000803, then n, rows, cols, then n*rows*cols
// u8 pixels. Labels: magic 0x00000801, then n, then n u8 labels. A file is
// trusted for nothing: the magic, the declared sizes (refused above 2^31
// bytes before any allocation), the exact length (short data and trailing
// bytes are both errors), the gzip stream, the counts of the pair and the
// label range are all checked, and every error names the file. Nothing is
// allocated for the pixels or labels until the file is known to hold what
// its header declares (Payload.swift), so a 16-byte file declaring 2^31
// pixels, or a gzip bomb declaring 2.7 M images, costs a fixed buffer.

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
/// scaled to [0, 1]. Labels must lie in 0..<classes (2...maxClasses; IDX
/// labels are bytes, so classes past 256 only widen the output layer).
public func loadIDX(images: String, labels: String, classes: Int = 10, name: String) throws -> Dataset {
    try checkClasses(classes)
    let image = try readIDXImages(path: images)
    let label = try readIDXLabels(path: labels, classes: classes)
    guard image.count == label.count else {
        throw DataError("\(pathText(labels)): \(label.count) labels but \(fileName(images)) holds \(image.count) images")
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
        throw DataError("\(reader.shownPath): too short (\(got) bytes) to be \(what)")
    }
    return values
}

private func checkMagic(_ reader: GzipFileReader, _ magic: UInt32, expected: UInt32, what: String) throws {
    guard magic == expected else {
        let form = reader.isGzip ? "after gunzip" : "raw file"
        throw DataError("\(reader.shownPath): not \(what) (magic \(describeMagic(magic)), \(form); expected \(describeMagic(expected)))")
    }
}

/// `memory`: records the largest buffer allocated (tests of lying files).
func readIDXImages(path: String, memory: LoadMemory? = nil) throws -> IDXImages {
    let reader = try GzipFileReader(path: path)
    let what = "an IDX image file"
    let header = try readHeader(reader, words: 4, what: what)
    try checkMagic(reader, header[0], expected: idxImageMagic, what: what)
    guard header.count == 4 else {
        throw DataError("\(reader.shownPath): truncated \(reader.form) IDX image header (needs 16 bytes)")
    }
    let (n, rows, cols) = (UInt64(header[1]), UInt64(header[2]), UInt64(header[3]))
    let declared = "\(n) images of \(rows)x\(cols)"
    guard n > 0, rows > 0, cols > 0 else {
        throw DataError("\(reader.shownPath): header declares \(declared); nothing to load")
    }
    // Each factor is < 2^32, so check the running product against the limit
    // before it can overflow 64 bits.
    let pixelsPerImage = rows * cols
    guard pixelsPerImage <= idxMaxBytes, n * pixelsPerImage <= idxMaxBytes else {
        throw DataError("\(reader.shownPath): header declares \(declared), over the 2^31-byte limit; refusing to allocate")
    }
    let claim = PayloadClaim(what: declared, header: 16, bytes: n * pixelsPerImage, showBytes: true)
    var scale = [Float](repeating: 0, count: 256)
    for v in 0 ..< 256 { scale[v] = Float(v) / 255 }
    let pixels = try scale.withUnsafeBufferPointer { table in
        try readPayload(reader, claim, as: Float.self, memory: memory) { bytes, out, count in
            for i in 0 ..< count { out[i] = table[Int(bytes.load(fromByteOffset: i, as: UInt8.self))] }
        }
    }
    return IDXImages(count: Int(n), rows: Int(rows), cols: Int(cols), pixels: pixels)
}

/// Labels must lie in 0..<classes.
func readIDXLabels(path: String, classes: Int, memory: LoadMemory? = nil) throws -> [Int32] {
    let reader = try GzipFileReader(path: path)
    let what = "an IDX label file"
    let header = try readHeader(reader, words: 2, what: what)
    try checkMagic(reader, header[0], expected: idxLabelMagic, what: what)
    guard header.count == 2 else {
        throw DataError("\(reader.shownPath): truncated \(reader.form) IDX label header (needs 8 bytes)")
    }
    let n = UInt64(header[1])
    guard n > 0 else { throw DataError("\(reader.shownPath): header declares 0 labels; nothing to load") }
    guard n <= idxMaxBytes else {
        throw DataError("\(reader.shownPath): header declares \(n) labels, over the 2^31 limit; refusing to allocate")
    }
    let claim = PayloadClaim(what: "\(n) labels", header: 8, bytes: n, showBytes: false)
    return try readPayload(reader, claim, as: Int32.self, memory: memory) { bytes, out, count in
        for i in 0 ..< count {
            let label = Int(bytes.load(fromByteOffset: i, as: UInt8.self))
            guard label < classes else {
                throw DataError("\(reader.shownPath): label \(label) at index \(i) \(outsideClasses(classes))")
            }
            out[i] = Int32(label)
        }
    }
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
    throw DataError("\(pathText(raw)): not found (nor \(name).gz); \(hint)")
}

/// Finds the four IDX files of `directory` without reading them.
func locateIDX(directory: String, hint: String) throws -> IDXLocation {
    switch FileManagerProbe.kind(directory) {
    case .missing: throw DataError("\(pathText(directory)): dataset directory not found; \(hint)")
    case .file: throw DataError("\(pathText(directory)): not a directory; \(hint)")
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
        throw DataError("\(pathText(location.testImages)): images have \(test.dim) pixels but "
                        + "\(fileName(location.trainImages)) has \(train.dim)")
    }
    return DataSplit(train: train, test: test)
}
