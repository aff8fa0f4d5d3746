import Foundation
import XCTest
@testable import Dnic

/// The pieces of `--tensorboard`'s event files: CRC-32C against published
/// vectors, TFRecord framing, and the Event protobuf bytes against what
/// TensorBoard's own protobuf classes serialize for the same fields.
final class TensorBoardTests: XCTestCase {
    func testCRC32CMatchesKnownVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)  // the CRC catalogue's check value
        // RFC 3720 (iSCSI), appendix B.4
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        // masked as TFRecord has it (values from tensorboard's masked_crc32c)
        XCTAssertEqual(CRC32C.masked(Array("123456789".utf8)), 0xC78A_B0E5)
        XCTAssertEqual(CRC32C.masked([UInt8]()), 0xA282_EAD8)
    }

    func testRecordFraming() {
        let data: [UInt8] = Array("123456789".utf8)
        let record = TFRecord.framed(data)
        XCTAssertEqual(record.count, 8 + 4 + data.count + 4)
        XCTAssertEqual(Array(record[0..<8]), [9, 0, 0, 0, 0, 0, 0, 0], "length, uint64 little-endian")
        XCTAssertEqual(Array(record[8..<12]), TFRecord.littleEndian(CRC32C.masked(record[0..<8])), "masked CRC of the length")
        XCTAssertEqual(Array(record[12..<21]), data)
        XCTAssertEqual(Array(record[21..<25]), [0xE5, 0xB0, 0x8A, 0xC7], "masked CRC of the data, little-endian")
    }

    /// Bytes from tensorboard.compat.proto.event_pb2.Event(...).SerializeToString().
    func testEventBytesMatchTensorBoardsProtobuf() {
        XCTAssertEqual(EventProto.fileVersion(wallTime: 1.5),
                       [9, 0, 0, 0, 0, 0, 0, 248, 63, 26, 13, 98, 114, 97, 105, 110, 46, 69, 118, 101, 110, 116, 58, 50])
        XCTAssertEqual(EventProto.scalars([("test_loss", 0.125)], step: 300, wallTime: 2.25),
                       [9, 0, 0, 0, 0, 0, 0, 2, 64, 16, 172, 2, 42, 18, 10, 16, 10, 9, 116, 101, 115, 116, 95, 108, 111, 115, 115,
                        21, 0, 0, 0, 62])
        XCTAssertEqual(EventProto.sessionStart(step: 40, wallTime: 2.25), [9, 0, 0, 0, 0, 0, 0, 2, 64, 16, 40, 58, 2, 8, 1])
    }
}
