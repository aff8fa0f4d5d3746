import CZlib
import Foundation
import XCTest
@testable import Dnic

/// A scratch directory under the system temporary directory, removed by
/// `remove()`; tests never write into the repository. Its name is short so
/// the paths in it stay under the 80 characters messages quote whole.
final class DataScratch {
    let path: String

    init() throws {
        let name = "dnic-data-" + UUID().uuidString.prefix(8)
        path = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` to `name` in the scratch directory (or to `name` itself
    /// when it is an absolute path).
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = name.hasPrefix("/") ? name : path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    @discardableResult
    func write(_ name: String, text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    /// Writes `bytes` gzip'd through zlib's own writer.
    @discardableResult
    func writeGzip(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        guard let gz = gzopen(file, "wb") else { throw DataError("gzopen failed for \(file)") }
        let written = bytes.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
        XCTAssertEqual(Int(written), bytes.count)
        XCTAssertEqual(gzclose(gz), Z_OK)
        return file
    }

    func read(_ file: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    /// `bytes` as one gzip member written by zlib at `level` (1: zeros
    /// expand 229:1, as in the reported bomb; 9: 1029:1).
    func gzipped(_ bytes: [UInt8], level: Int = 6) throws -> [UInt8] {
        let file = path + "/member-\(UUID().uuidString.prefix(8)).gz"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try writeGzip(file, header: bytes, zeros: 0, level: level)
        return try read(file)
    }

    /// A gzip file of `header` followed by `zeros` zero bytes, written in
    /// 1 MiB pieces so a bomb never exists whole in memory. `name` may be a path.
    @discardableResult
    func writeGzip(_ name: String, header: [UInt8], zeros: Int, level: Int) throws -> String {
        let file = name.hasPrefix("/") ? name : path + "/" + name
        guard let gz = gzopen(file, "wb\(level)") else { throw DataError("gzopen failed for \(file)") }
        _ = header.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
        let block = [UInt8](repeating: 0, count: 1 << 20)
        var left = zeros
        while left > 0 {
            let n = min(left, block.count)
            _ = block.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32(n)) }
            left -= n
        }
        XCTAssertEqual(gzclose(gz), Z_OK)
        return file
    }
}

/// Big-endian u32 bytes, as IDX headers store them.
func dataBigEndian(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
}

func dataIDXImages(count: UInt32, rows: UInt32, cols: UInt32, pixels: [UInt8], magic: UInt32 = 0x803) -> [UInt8] {
    dataBigEndian(magic) + dataBigEndian(count) + dataBigEndian(rows) + dataBigEndian(cols) + pixels
}

func dataIDXLabels(_ labels: [UInt8], count: UInt32? = nil, magic: UInt32 = 0x801) -> [UInt8] {
    dataBigEndian(magic) + dataBigEndian(count ?? UInt32(labels.count)) + labels
}

/// Asserts that `body` throws a DataError whose message contains every part.
func assertDataError<T>(_ body: @autoclosure () throws -> T, contains parts: [String],
                        file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected a DataError containing \(parts)", file: file, line: line)
    } catch let error as DataError {
        for part in parts where !error.message.contains(part) {
            XCTFail("'\(error.message)' does not contain '\(part)'", file: file, line: line)
        }
        XCTAssertFalse(error.message.contains("\n"), "message is not one line: \(error.message)", file: file, line: line)
    } catch {
        XCTFail("expected a DataError, got \(error)", file: file, line: line)
    }
}

final class DataIDXTests: XCTestCase {
    var scratch: DataScratch!

    override func setUpWithError() throws { scratch = try DataScratch() }
    override func tearDown() { scratch.remove() }

    /// 3 images of 2x3 with distinct pixels, and their labels.
    let pixels: [UInt8] = (0 ..< 18).map { UInt8($0 * 15) }
    let labels: [UInt8] = [7, 0, 9]

    private func writeFour(gzip: Bool, in dir: String? = nil) throws -> String {
        let directory = dir ?? scratch.path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let sub = String(directory.dropFirst(scratch.path.count + (directory == scratch.path ? 0 : 1)))
        let prefix = sub.isEmpty ? "" : sub + "/"
        let images = dataIDXImages(count: 3, rows: 2, cols: 3, pixels: pixels)
        let labelBytes = dataIDXLabels(labels)
        for (name, bytes) in [(IDXFileNames.trainImages, images), (IDXFileNames.trainLabels, labelBytes),
                              (IDXFileNames.testImages, images), (IDXFileNames.testLabels, labelBytes)] {
            if gzip { try scratch.writeGzip(prefix + name + ".gz", bytes) } else { try scratch.write(prefix + name, bytes) }
        }
        return directory
    }

    private func checkLoaded(_ d: Dataset) {
        XCTAssertEqual(d.count, 3)
        XCTAssertEqual(d.dim, 6)
        XCTAssertEqual(d.classes, 10)
        XCTAssertEqual(d.labels, [7, 0, 9])
        XCTAssertEqual(d.features, pixels.map { Float($0) / 255 })
        XCTAssertEqual(d.features.max(), 1)
    }

    func testRawIDXRoundTrip() throws {
        let dir = try writeFour(gzip: false)
        let split = try loadData(.idx(directory: dir), options: DataOptions())
        checkLoaded(split.train)
        checkLoaded(split.test)
        XCTAssertNil(split.validation)
    }

    func testGzipIDXRoundTrip() throws {
        let dir = try writeFour(gzip: true)
        let location = try locateIDX(.idx(directory: dir))
        XCTAssertTrue(location.trainImages.hasSuffix(".gz"))
        XCTAssertTrue(try GzipFileReader(path: location.trainImages).isGzip)
        let split = try loadData(.idx(directory: dir), options: DataOptions())
        checkLoaded(split.train)
        checkLoaded(split.test)
    }

    func testRawFileIsPreferredOverGzipAndFormsMix() throws {
        let dir = try writeFour(gzip: true)
        let raw = try scratch.write(IDXFileNames.trainLabels, dataIDXLabels([1, 2, 3]))
        let location = try locateIDX(.idx(directory: dir))
        XCTAssertEqual(location.trainLabels, raw)
        XCTAssertFalse(try GzipFileReader(path: raw).isGzip)
        XCTAssertEqual(try loadData(.idx(directory: dir), options: DataOptions()).train.labels, [1, 2, 3])
    }

    func testWrongImageMagicIsNamed() throws {
        let file = try scratch.write("images", dataIDXImages(count: 3, rows: 2, cols: 3, pixels: pixels, magic: 0x1234))
        assertDataError(try readIDXImages(path: file), contains: [file, "not an IDX image file (magic 0x00001234"])
        let labelFile = try scratch.write("labels-as-images", dataIDXLabels(labels))
        assertDataError(try readIDXImages(path: labelFile),
                        contains: [labelFile, "not an IDX image file (magic 0x00000801, an IDX label file, raw file"])
    }

    func testWrongLabelMagicIsNamed() throws {
        let file = try scratch.writeGzip("labels.gz", dataIDXImages(count: 3, rows: 2, cols: 3, pixels: pixels))
        assertDataError(try readIDXLabels(path: file, classes: 10),
                        contains: [file, "not an IDX label file (magic 0x00000803, an IDX image file, after gunzip"])
    }

    func testShortDataIsAnErrorRawAndGzip() throws {
        let bytes = dataIDXImages(count: 4, rows: 2, cols: 3, pixels: pixels)  // declares 24 pixels, holds 18
        let raw = try scratch.write("short", bytes)
        assertDataError(try readIDXImages(path: raw), contains: [raw, "truncated", "4 images of 2x3", "only 18", "raw"])
        let gz = try scratch.writeGzip("short.gz", bytes)
        assertDataError(try readIDXImages(path: gz), contains: [gz, "truncated", "only 18", "gzip"])
        let labels = try scratch.write("labels", dataIDXLabels([1, 2], count: 5))
        assertDataError(try readIDXLabels(path: labels, classes: 10), contains: [labels, "truncated", "5 labels", "only 2"])
    }

    func testTrailingBytesAreAnErrorRawAndGzip() throws {
        let bytes = dataIDXImages(count: 2, rows: 2, cols: 3, pixels: pixels)  // declares 12 pixels, holds 18
        let raw = try scratch.write("long", bytes)
        assertDataError(try readIDXImages(path: raw), contains: [raw, "6 bytes of trailing data", "2 images of 2x3"])
        let gz = try scratch.writeGzip("long.gz", bytes)
        assertDataError(try readIDXImages(path: gz), contains: [gz, "6 bytes of trailing data"])
        let labels = try scratch.write("labels", dataIDXLabels([1, 2, 3], count: 2))
        assertDataError(try readIDXLabels(path: labels, classes: 10), contains: [labels, "1 bytes of trailing data"])
    }

    func testTruncatedGzipIsReported() throws {
        // Incompressible-ish pixels so the stream is long enough to cut.
        var state: UInt64 = 42
        let many = (0 ..< 4000).map { _ in UInt8(truncatingIfNeeded: dnicTestNext(&state)) }
        let full = try scratch.writeGzip("full.gz", dataIDXImages(count: 10, rows: 20, cols: 20, pixels: many))
        let gz = try scratch.read(full)
        for cut in [gz.count / 2, gz.count - 4] {  // mid-stream, and inside the trailer
            let file = try scratch.write("cut\(cut).gz", Array(gz[0 ..< cut]))
            assertDataError(try readIDXImages(path: file), contains: [file, "truncated or corrupt gzip"])
        }
    }

    func testCorruptGzipChecksumIsReported() throws {
        let full = try scratch.writeGzip("full.gz", dataIDXImages(count: 3, rows: 2, cols: 3, pixels: pixels))
        var gz = try scratch.read(full)
        gz[gz.count - 8] ^= 0xFF  // the CRC-32 in the trailer
        let file = try scratch.write("badcrc.gz", gz)
        assertDataError(try readIDXImages(path: file), contains: [file, "truncated or corrupt gzip"])
    }

    func testAbsurdSizesAreRefusedBeforeAllocating() throws {
        let big = try scratch.write("big", dataIDXImages(count: 1 << 20, rows: 1 << 10, cols: 1 << 10, pixels: [1, 2]))
        assertDataError(try readIDXImages(path: big), contains: [big, "2^31", "refusing"])
        let huge = try scratch.write("huge", dataIDXImages(count: .max, rows: .max, cols: .max, pixels: []))
        assertDataError(try readIDXImages(path: huge), contains: [huge, "2^31"])
        let labels = try scratch.write("labels", dataIDXLabels([], count: .max))
        assertDataError(try readIDXLabels(path: labels, classes: 10), contains: [labels, "2^31"])
        let empty = try scratch.write("empty", dataIDXImages(count: 0, rows: 28, cols: 28, pixels: []))
        assertDataError(try readIDXImages(path: empty), contains: [empty, "0 images"])
    }

    func testShortHeadersAndEmptyFiles() throws {
        let empty = try scratch.write("empty", [])
        assertDataError(try readIDXImages(path: empty), contains: [empty, "too short"])
        let half = try scratch.write("half", Array(dataIDXImages(count: 3, rows: 2, cols: 3, pixels: []).prefix(10)))
        assertDataError(try readIDXImages(path: half), contains: [half, "truncated raw IDX image header"])
    }

    func testImageAndLabelCountsMustAgree() throws {
        let images = try scratch.write("images", dataIDXImages(count: 3, rows: 2, cols: 3, pixels: pixels))
        let labelFile = try scratch.write("labels", dataIDXLabels([1, 2]))
        assertDataError(try loadIDX(images: images, labels: labelFile, name: "t"),
                        contains: [labelFile, "2 labels but images holds 3 images"])
    }

    func testLabelsOutsideTheClassRange() throws {
        let labelFile = try scratch.write("labels", dataIDXLabels([1, 10, 2]))
        assertDataError(try readIDXLabels(path: labelFile, classes: 10),
                        contains: [labelFile, "label 10 at index 1 is outside 0…9 (classes is 10)"])
        XCTAssertEqual(try readIDXLabels(path: labelFile, classes: 11), [1, 10, 2])
    }

    func testTrainAndTestImageSizesMustAgree() throws {
        let dir = try writeFour(gzip: false)
        try scratch.write(IDXFileNames.testImages, dataIDXImages(count: 3, rows: 3, cols: 3, pixels: pixels + pixels[0 ..< 9]))
        assertDataError(try loadData(.idx(directory: dir), options: DataOptions()),
                        contains: [IDXFileNames.testImages, "9 pixels", "6"])
    }

    func testMissingDirectoriesAndFilesSayWhereAndHow() throws {
        let nowhere = scratch.path + "/no-such-dir"
        assertDataError(try loadData(.fashionMNIST, options: DataOptions(), environment: ["DNIC_FASHION_MNIST_DIR": nowhere]),
                        contains: [nowhere, "not found", "apt-get install dataset-fashion-mnist"])
        assertDataError(try loadData(.mnist, options: DataOptions(), environment: ["DNIC_MNIST_DIR": nowhere]),
                        contains: [nowhere, "no Debian package", "idx:DIR"])
        assertDataError(try loadData(.mnist, options: DataOptions(), environment: [:]),
                        contains: ["/usr/share/datasets/mnist", "idx:DIR"])
        assertDataError(try loadData(.idx(directory: nowhere), options: DataOptions()), contains: [nowhere, "not found"])
        // A directory holding three of the four files.
        let dir = try writeFour(gzip: false)
        try FileManager.default.removeItem(atPath: dir + "/" + IDXFileNames.testLabels)
        assertDataError(try loadData(.fashionMNIST, options: DataOptions(), environment: ["DNIC_FASHION_MNIST_DIR": dir]),
                        contains: [dir + "/" + IDXFileNames.testLabels, "nor t10k-labels-idx1-ubyte.gz",
                                   "apt-get install dataset-fashion-mnist"])
        let file = try scratch.write("a-file", [1])
        assertDataError(try loadData(.idx(directory: file), options: DataOptions()), contains: [file, "not a directory"])
        assertDataError(try GzipFileReader(path: scratch.path), contains: [scratch.path, "is a directory"])
    }

    func testEnvironmentOverridesTheFashionMNISTDirectory() throws {
        let dir = try writeFour(gzip: true, in: scratch.path + "/fm")
        let split = try loadData(.fashionMNIST, options: DataOptions(), environment: ["DNIC_FASHION_MNIST_DIR": dir])
        checkLoaded(split.train)
        XCTAssertEqual(split.train.name, "fashion-mnist/train")
        XCTAssertEqual(try locateIDX(.fashionMNIST, environment: ["DNIC_FASHION_MNIST_DIR": dir]).directory, dir)
    }

    func testRealFashionMNIST() throws {
        let dir = "/usr/share/datasets/fashion-mnist"
        guard FileManager.default.fileExists(atPath: dir) else {
            throw XCTSkip("\(dir) not installed (apt-get install dataset-fashion-mnist)")
        }
        let split = try loadData(.fashionMNIST, options: DataOptions(), environment: [:])
        XCTAssertEqual(split.train.count, 60000)
        XCTAssertEqual(split.test.count, 10000)
        XCTAssertEqual(split.train.dim, 784)
        XCTAssertEqual(split.test.dim, 784)
        XCTAssertEqual(split.train.classes, 10)
        XCTAssertEqual(split.train.features.count, 60000 * 784)
        // One pass over 47M floats through a raw buffer keeps debug builds fast.
        let (low, high) = split.train.features.withUnsafeBufferPointer { x -> (Float, Float) in
            var low = Float.infinity, high = -Float.infinity
            for v in x {
                low = Swift.min(low, v)
                high = Swift.max(high, v)
            }
            return (low, high)
        }
        XCTAssertEqual(low, 0)
        XCTAssertEqual(high, 1)
        XCTAssertEqual(split.train.classCounts, [Int](repeating: 6000, count: 10))
        XCTAssertEqual(split.test.classCounts, [Int](repeating: 1000, count: 10))
    }
}

/// splitmix64 for test fixtures (the tests' own, independent of the core).
func dnicTestNext(_ state: inout UInt64) -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
}
