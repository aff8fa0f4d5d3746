// NumPy .npy files written (`dnic predict --out FILE.npy`); Npy.swift reads
// them. Format version 1.0: the magic "\x93NUMPY", bytes 1 and 0, a
// little-endian u16 header length, the header (a Python dict literal padded
// with spaces to end in a newline on a 64-byte boundary, as numpy pads it),
// then the array's little-endian bytes in C order.

import Foundation

/// A C-order, little-endian NumPy array as the bytes of a .npy file.
public enum NpyWriter {
    /// `values` as int32 ('<i4') of `shape`.
    public static func int32(_ values: [Int32], shape: [Int]) -> Data {
        var data = header(descr: "<i4", type: .int32, shape: shape, count: values.count)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    /// `values` as float32 ('<f4') of `shape`.
    public static func float32(_ values: [Float], shape: [Int]) -> Data {
        var data = header(descr: "<f4", type: .float32, shape: shape, count: values.count)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    /// The magic, version 1.0 and the padded header of an array of `count`
    /// elements, room reserved for its data. The shape is written as the
    /// reader's NpyHeader prints it: (3,) or (3, 4).
    private static func header(descr: String, type: NpyType, shape: [Int], count: Int) -> Data {
        precondition(shape.reduce(1, *) == count, "npy: shape \(shape) does not hold \(count) values")
        let shapeText = NpyHeader(descr: descr, type: type, shape: shape, dataOffset: 0).shapeText
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let prefix = 10  // magic (6), version (2), header length (2)
        let padded = (prefix + dict.utf8.count + 1 + 63) / 64 * 64
        dict += String(repeating: " ", count: padded - prefix - dict.utf8.count - 1) + "\n"
        var data = Data(capacity: padded + count * type.size)
        data.append(contentsOf: [0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(dict.utf8.count)  // a shape's few integers: far below 65535
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(dict.utf8))
        return data
    }
}
