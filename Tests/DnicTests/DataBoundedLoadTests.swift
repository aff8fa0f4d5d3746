import CZlib
import Foundation
import XCTest
@testable import Dnic

/// A file is believed only as far as its bytes go: an IDX header's claim is
/// checked against what the stream really holds before anything
/// dataset-sized is allocated (Payload.swift), whatever the gzip trailer
/// says, and valid files (one or several gzip members, or a pipe) still load.
/// `LoadMemory` records the largest buffer a loader allocated.
final class DataBoundedLoadTests: XCTestCase {
    var scratch: DataScratch!

    override func setUpWithError() throws { scratch = try DataScratch() }
    override func tearDown() { scratch.remove() }

    /// 3 images of 2x3 with distinct pixels.
    let pixels: [UInt8] = (0 ..< 18).map { UInt8($0 * 15) }
    var images: [UInt8] { dataIDXImages(count: 3, rows: 2, cols: 3, pixels: pixels) }

    /// `gz` with its trailer's length (ISIZE) replaced by `length`.
    func withTrailerLength(_ gz: [UInt8], _ length: UInt32) -> [UInt8] {
        Array(gz.dropLast(4)) + [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)]
    }

    func testGzipBombIsRefusedWithoutADatasetSizedAllocation() throws {
        // The reported bug at 1/50 scale: gzip -1 of zeros (229:1), a header
        // claiming twice what the stream holds, within what 1032:1 allows.
        let claimed: UInt32 = 51020  // 51020 * 784 = 39999680 bytes
        let file = try scratch.writeGzip("bomb.gz", header: dataIDXImages(count: claimed, rows: 28, cols: 28, pixels: []),
                                         zeros: 20_000_000, level: 1)
        let size = try XCTUnwrap(try GzipFileReader(path: file).fileSize)
        XCTAssertLessThan(size * GzipFileReader.maxDeflateRatio, 200_000_000, "small enough that the 1032:1 check lets it through")
        XCTAssertGreaterThan(size * GzipFileReader.maxDeflateRatio, 40_000_000)
        let memory = LoadMemory()
        assertDataError(try readIDXImages(path: file, memory: memory),
                        contains: [file, "truncated: header declares 51020 images of 28x28 (39999680 bytes) but the gzip file holds only 20000000"])
        XCTAssertLessThanOrEqual(memory.largest, 1 << 20, "only the counting buffer; the claim would be 160 MB of floats")
    }

    func testLabelBombIsRefusedTheSameWay() throws {
        let file = try scratch.writeGzip("labels.gz", header: dataIDXLabels([], count: 8_000_000), zeros: 4_000_000, level: 1)
        let memory = LoadMemory()
        assertDataError(try readIDXLabels(path: file, classes: 10, memory: memory),
                        contains: [file, "truncated: header declares 8000000 labels but the gzip file holds only 4000000"])
        XCTAssertLessThanOrEqual(memory.largest, 1 << 20)
    }

    func testAFileThatKeepsItsClaimCostsExactlyItsFinalArray() throws {
        let expected = pixels.map { Float($0) / 255 }
        let raw = try scratch.write("raw", images)
        let gz = try scratch.writeGzip("one.gz", images)
        for file in [raw, gz] {
            let memory = LoadMemory()
            XCTAssertEqual(try readIDXImages(path: file, memory: memory).pixels, expected, file)
            XCTAssertEqual(memory.largest, 18 * MemoryLayout<Float>.stride, "\(file): one array of exactly the claim")
        }
        let labels = try scratch.writeGzip("labels.gz", dataIDXLabels([7, 0, 9]))
        let memory = LoadMemory()
        XCTAssertEqual(try readIDXLabels(path: labels, classes: 10, memory: memory), [7, 0, 9])
        XCTAssertEqual(memory.largest, 3 * MemoryLayout<Int32>.stride)
    }

    func testMultiMemberGzipStillLoads() throws {
        // gzread reads concatenated members as one stream; the trailer at the
        // end of the file describes only the last, so a counting pass decides.
        let bytes = images
        let two = try scratch.gzipped(Array(bytes[..<10])) + scratch.gzipped(Array(bytes[10...]))
        let file = try scratch.write("two.gz", two)
        XCTAssertNotEqual(try GzipFileReader(path: file).trailerLength, UInt32(bytes.count))
        XCTAssertEqual(try readIDXImages(path: file).pixels, pixels.map { Float($0) / 255 })
        let labels = try scratch.gzipped(Array(dataIDXLabels([1, 2]).prefix(9))) + scratch.gzipped([2])
        let labelFile = try scratch.write("labels.gz", labels)
        XCTAssertEqual(try readIDXLabels(path: labelFile, classes: 10), [1, 2])
        // and a short multi-member file is refused by the count
        let short = try scratch.write("short.gz", try scratch.gzipped(Array(bytes[..<10])) + scratch.gzipped(Array(bytes[10 ..< 30])))
        assertDataError(try readIDXImages(path: short), contains: [short, "truncated: header declares 3 images of 2x3 (18 bytes) but the gzip file holds only 14"])
    }

    func testATrailerThatAgreesWithALyingHeaderIsCaughtByTheStream() throws {
        // Declares 1568000 pixels, holds 1000000; the trailer is forged to
        // agree, so the loader reserves the claim (never more) and zlib's own
        // check of the trailer refuses the stream where it ends. (Over zlib's
        // 512 KiB output buffer, so the header read does not reach the end.)
        let honest = try scratch.writeGzip("short.gz", header: dataIDXImages(count: 2000, rows: 28, cols: 28, pixels: []),
                                           zeros: 1_000_000, level: 1)
        let file = try scratch.write("forged.gz", withTrailerLength(try scratch.read(honest), 16 + 1_568_000))
        XCTAssertEqual(try GzipFileReader(path: file).trailerLength, 1_568_016)
        let memory = LoadMemory()
        assertDataError(try readIDXImages(path: file, memory: memory),
                        contains: [file, "truncated or corrupt gzip (zlib: incorrect length check)"])
        XCTAssertEqual(memory.largest, 1_568_000 * MemoryLayout<Float>.stride)
    }

    func testATrailerThatLiesAboutAValidStreamIsRefused() throws {
        let gz = try scratch.gzipped(images)
        let file = try scratch.write("lying-trailer.gz", withTrailerLength(gz, UInt32(images.count + 1)))
        assertDataError(try readIDXImages(path: file), contains: [file, "truncated or corrupt gzip"])
    }

    func testTrailingDataIsCountedOnlyUpToABudget() throws {
        // 8 MiB of zeros after a 4-pixel payload: the message says "more
        // than", having inflated 1 MiB of it, whether the trailer is honest
        // (counting pass) or forged to agree with the header (read, then count).
        let header = dataIDXImages(count: 1, rows: 2, cols: 2, pixels: [])
        let honest = try scratch.writeGzip("tail.gz", header: header, zeros: 4 + (8 << 20), level: 9)
        let forged = try scratch.write("tail-forged.gz", withTrailerLength(try scratch.read(honest), 16 + 4))
        for file in [honest, forged] {
            assertDataError(try readIDXImages(path: file),
                            contains: [file, "more than 1048576 bytes of trailing data after 1 images of 2x2"])
        }
    }

    func testARawFileThatCannotHoldItsClaimAllocatesNothing() throws {
        let file = try scratch.write("raw", dataIDXImages(count: 1000, rows: 28, cols: 28, pixels: [1, 2, 3]))
        let memory = LoadMemory()
        assertDataError(try readIDXImages(path: file, memory: memory),
                        contains: [file, "truncated: header declares 1000 images of 28x28 (784000 bytes) but the raw file holds only 3"])
        XCTAssertEqual(memory.largest, 0)
        let long = try scratch.write("long", images + [1, 2])
        assertDataError(try readIDXImages(path: long, memory: memory), contains: [long, "2 bytes of trailing data"])
        XCTAssertEqual(memory.largest, 0, "known from the file size, before reading")
    }

    /// A FIFO fed by a thread: a file of unknown length that cannot be rewound.
    /// The writes fit the pipe's buffer, so the writer never waits on the reader.
    func fifo(_ name: String, _ bytes: [UInt8]) throws -> String {
        signal(SIGPIPE, SIG_IGN)
        let path = scratch.path + "/" + name
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        Thread {
            let fd = open(path, O_WRONLY)
            guard fd >= 0 else { return }
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }.start()
        return path
    }

    func testAPipeLoadsAndItsClaimIsNotTrusted() throws {
        XCTAssertEqual(try readIDXImages(path: fifo("images", images)).pixels, pixels.map { Float($0) / 255 })
        let lying = dataIDXImages(count: 10000, rows: 28, cols: 28, pixels: [UInt8](repeating: 9, count: 100))
        let path = try fifo("lying", lying)
        let memory = LoadMemory()
        assertDataError(try readIDXImages(path: path, memory: memory),
                        contains: [path, "truncated: header declares 10000 images of 28x28 (7840000 bytes) but the raw file holds only 100"])
        XCTAssertLessThanOrEqual(memory.largest, 1 << 20, "a fixed read buffer and the bytes that came, not the claim")
    }
}
