import Foundation

/// TFRecord framing, the container of TensorBoard event files: each record
/// is its length (uint64, little-endian), the masked CRC-32C of those 8
/// bytes, the data, and the masked CRC-32C of the data.
public enum TFRecord {
    public static func framed(_ data: [UInt8]) -> [UInt8] {
        let length = littleEndian(UInt64(data.count))
        return length + littleEndian(CRC32C.masked(length)) + data + littleEndian(CRC32C.masked(data))
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }
}

/// The few fields of TensorFlow's `Event` protobuf (tensorflow/core/util/
/// event.proto) that scalars need, encoded by hand: wall_time (double, 1),
/// step (int64, 2), file_version (string, 3), summary (5) → Summary.value
/// (repeated, 1) → Value{tag (string, 1), simple_value (float, 2)}, and
/// session_log (7) → SessionLog{status (enum, 1)}.
/// Hand-encoded rather than generated with swift-protobuf: a clone of
/// swift-protobuf sits in /opt/swift-packages, but there is no protoc here
/// to generate the messages, and a dependency plus generated code for five
/// fields of three wire types would outweigh these 40 lines; the test reads
/// the files back with TensorBoard's own reader, so the encoding is checked
/// against the real schema.
public enum EventProto {
    /// The first record of every event file.
    public static func fileVersion(wallTime: Double) -> [UInt8] {
        double(1, wallTime) + string(3, "brain.Event:2")
    }

    /// One event holding `scalars` (tag, value) at `step`.
    public static func scalars(_ scalars: [(tag: String, value: Float)], step: Int, wallTime: Double) -> [UInt8] {
        var summary = [UInt8]()
        for scalar in scalars {
            let value = string(1, scalar.tag) + key(2, wire: 5) + TFRecord.littleEndian(scalar.value.bitPattern)
            summary += message(1, value)
        }
        return double(1, wallTime) + key(2, wire: 0) + varint(UInt64(bitPattern: Int64(step))) + message(5, summary)
    }

    /// A SessionLog (field 7) with status START (1) at `step`: TensorBoard
    /// then drops the events of earlier files at that step and after (those
    /// a killed run wrote after the checkpoint being resumed).
    public static func sessionStart(step: Int, wallTime: Double) -> [UInt8] {
        double(1, wallTime) + key(2, wire: 0) + varint(UInt64(bitPattern: Int64(step))) + message(7, key(1, wire: 0) + varint(1))
    }

    private static func key(_ field: Int, wire: Int) -> [UInt8] { varint(UInt64(field << 3 | wire)) }

    private static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, bytes = [UInt8]()
        repeat {
            let low = UInt8(v & 0x7F)
            v >>= 7
            bytes.append(v == 0 ? low : low | 0x80)
        } while v != 0
        return bytes
    }

    private static func double(_ field: Int, _ value: Double) -> [UInt8] {
        key(field, wire: 1) + TFRecord.littleEndian(value.bitPattern)
    }

    private static func message(_ field: Int, _ bytes: [UInt8]) -> [UInt8] {
        key(field, wire: 2) + varint(UInt64(bytes.count)) + bytes
    }

    private static func string(_ field: Int, _ text: String) -> [UInt8] { message(field, Array(text.utf8)) }
}
