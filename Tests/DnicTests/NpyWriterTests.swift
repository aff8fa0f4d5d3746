import Foundation
import XCTest
@testable import Dnic

/// What NpyWriter writes, read back by dnic's own .npy reader (numpy reads
/// it in CLIPredictEvalTests): the header numpy writes, padded to 64 bytes.
final class NpyWriterTests: XCTestCase {
    func testFloat32RoundTripsThroughTheReaderWithAPaddedVersion1Header() throws {
        let values: [Float] = [0.25, -1.5, 3e-8, 7, .leastNonzeroMagnitude, 1e30]
        let bytes = NpyWriter.float32(values, shape: [3, 2])
        let header = try bytes.withUnsafeBytes { try parseNpyHeader($0, name: "p.npy") }
        XCTAssertEqual(Array(bytes.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        XCTAssertEqual(header.dataOffset % 64, 0, "numpy pads the header so the data is aligned")
        XCTAssertEqual(bytes[header.dataOffset - 1], UInt8(ascii: "\n"))
        XCTAssertEqual(header.descr, "<f4")
        XCTAssertEqual(header.shape, [3, 2])
        let read = try bytes.withUnsafeBytes { try npyFeatures($0, name: "p.npy") }
        XCTAssertEqual(read.features.map(\.bitPattern), values.map(\.bitPattern))
        XCTAssertEqual([read.rows, read.dim], [3, 2])
    }

    func testInt32RoundTripsThroughTheReader() throws {
        let classes: [Int32] = [0, 2, 1, 1, 9]
        let bytes = NpyWriter.int32(classes, shape: [5])
        let header = try bytes.withUnsafeBytes { try parseNpyHeader($0, name: "c.npy") }
        XCTAssertEqual(header.descr, "<i4")
        XCTAssertEqual(header.shapeText, "(5,)")
        XCTAssertEqual(try bytes.withUnsafeBytes { try npyLabels($0, name: "c.npy", classes: nil) }, classes)
        XCTAssertEqual(NpyWriter.int32([], shape: [0]).count, 128, "an empty array: the header alone")
    }
}
