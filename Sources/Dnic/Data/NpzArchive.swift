// NumPy .npz archives (npz:FILE.npz): a zip of .npy members, as np.savez
// (stored) and np.savez_compressed (deflated) write them. The members read:
// x_train and y_train (or x and y, X and y), and x_test with y_test when
// both are there; without them a seeded part of train is held out, as for
// csv: without a test file.
//
// A small reader rather than a zip library: only the central directory,
// the local headers' lengths and stored or deflated data are needed, and
// zlib (already linked) inflates. Checked: the end record and every offset
// and length against the file, the method (stored or deflated only), no
// encryption, the inflated length against the declared size (so a bomb
// stops at what its directory declares, itself capped) and the CRC-32.
// Members over 4 GiB (zip64) are refused.

import CZlib
import Foundation

struct NpzArchive {
    let path: String
    let shown: String
    private let bytes: [UInt8]
    /// Member name (without ".npy") -> its directory entry.
    private var members: [String: Entry] = [:]
    private var order: [String] = []

    private struct Entry {
        var method: Int
        var flags: Int
        var crc: UInt32
        var compressed: Int
        var size: Int
        var localOffset: Int
    }

    init(path: String) throws {
        self.path = path
        shown = pathText(path)
        bytes = try readWholeFile(path)
        try readDirectory()
    }

    private func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    private func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }

    private func fail(_ what: String) -> DataError { DataError("\(shown): \(what)") }

    private mutating func readDirectory() throws {
        let n = bytes.count
        guard n >= 22 else { throw fail("not a .npz file (too short to be a zip archive)") }
        // The end record: the last "PK\5\6" within the 64 KiB comment's reach.
        var end = -1
        var i = n - 22
        while i >= max(0, n - 22 - 65535) {
            if bytes[i] == 0x50, bytes[i + 1] == 0x4B, bytes[i + 2] == 5, bytes[i + 3] == 6 { end = i; break }
            i -= 1
        }
        guard end >= 0 else { throw fail("not a .npz file (no zip end record)") }
        let count = u16(end + 10)
        let size = u32(end + 12)
        let offset = u32(end + 16)
        guard offset != 0xFFFF_FFFF, count != 0xFFFF else { throw fail("zip64 archive; dnic reads .npz archives under 4 GiB") }
        guard offset + size <= end else { throw fail("truncated or corrupt zip: central directory outside the file") }
        var at = offset
        for _ in 0 ..< count {
            guard at + 46 <= offset + size, u32(at) == 0x0201_4B50 else { throw fail("corrupt zip central directory") }
            let nameLength = u16(at + 28)
            let next = at + 46 + nameLength + u16(at + 30) + u16(at + 32)
            guard next <= offset + size else { throw fail("corrupt zip central directory") }
            let entry = Entry(method: u16(at + 10), flags: u16(at + 8), crc: UInt32(u32(at + 16)), compressed: u32(at + 20),
                              size: u32(at + 24), localOffset: u32(at + 42))
            var name = String(decoding: bytes[at + 46 ..< at + 46 + nameLength], as: UTF8.self)
            if name.hasSuffix(".npy") { name.removeLast(4) }
            if members[name] == nil { order.append(name) }
            members[name] = entry
            at = next
        }
    }

    /// The bytes of member `name` (a .npy), inflated and checked.
    private func member(_ name: String) throws -> [UInt8] {
        let e = members[name]!
        let m = "member \(messageText(name)).npy"
        guard e.flags & 1 == 0 else { throw fail("\(m) is encrypted") }
        guard e.size != 0xFFFF_FFFF, e.compressed != 0xFFFF_FFFF, e.localOffset != 0xFFFF_FFFF else {
            throw fail("\(m) is a zip64 member; dnic reads members under 4 GiB")
        }
        let l = e.localOffset
        guard l + 30 <= bytes.count, u32(l) == 0x0403_4B50 else { throw fail("\(m): corrupt zip local header") }
        let start = l + 30 + u16(l + 26) + u16(l + 28)
        guard start + e.compressed <= bytes.count else {
            throw fail("truncated: \(m) declares \(e.compressed) bytes but the file holds only \(max(0, bytes.count - start))")
        }
        guard canAllocate(e.size) else { throw fail("out of memory: cannot allocate \(e.size) bytes for \(m)") }
        var out = [UInt8](repeating: 0, count: e.size)
        switch e.method {
        case 0:
            guard e.compressed == e.size else { throw fail("\(m): stored with \(e.compressed) bytes but declares \(e.size)") }
            out.withUnsafeMutableBytes { o in bytes.withUnsafeBytes { o.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start ..< start + e.size])) } }
        case 8:
            try inflate(from: start, count: e.compressed, into: &out, member: m)
        default:
            throw fail("\(m) uses zip compression method \(e.method); dnic reads stored or deflated members (np.savez, np.savez_compressed)")
        }
        let crc = out.withUnsafeBufferPointer { UInt32(truncatingIfNeeded: CZlib.crc32(0, $0.baseAddress, UInt32($0.count))) }
        guard crc == e.crc else { throw fail("\(m): CRC-32 mismatch; the archive is corrupt") }
        return out
    }

    /// Raw deflate of bytes[from ..< from+count] into exactly out.count bytes.
    private func inflate(from: Int, count: Int, into out: inout [UInt8], member m: String) throws {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("\(m): cannot start zlib")
        }
        defer { inflateEnd(&stream) }
        let wanted = out.count
        var extra: UInt8 = 0
        let status: Int32 = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + from)
                stream.avail_in = UInt32(count)
                stream.next_out = output.baseAddress
                stream.avail_out = UInt32(wanted)
                var s = CZlib.inflate(&stream, Z_FINISH)
                if s == Z_BUF_ERROR, stream.avail_out == 0 {
                    // the output is full: one byte more means the member is longer than declared
                    withUnsafeMutablePointer(to: &extra) { stream.next_out = $0; stream.avail_out = 1 }
                    s = CZlib.inflate(&stream, Z_FINISH)
                }
                return s
            }
        }
        let produced = Int(stream.total_out)
        guard status == Z_STREAM_END, produced == wanted else {
            if produced > wanted { throw fail("\(m) inflates past the \(wanted) bytes it declares") }
            throw fail("truncated or corrupt: \(m) inflates to \(produced) of the \(wanted) bytes it declares")
        }
    }

    private func key(_ candidates: [String]) -> String? { candidates.first { members[$0] != nil } }

    private var found: String { order.prefix(8).map { messageText($0) }.joined(separator: ", ") }

    private func table(_ x: String, _ y: String, classes: Int?) throws -> NpyTable {
        let xb = try member(x)
        let yb = try member(y)
        return try xb.withUnsafeBytes { xp in
            try yb.withUnsafeBytes { yp in
                try npyTable(features: xp, featuresName: "\(shown) member \(messageText(x))", labels: yp,
                             labelsName: "\(shown) member \(messageText(y))", classes: classes)
            }
        }
    }

    /// x_train and y_train (or x and y, X and y).
    func train(classes: Int?) throws -> NpyTable {
        guard let x = key(["x_train", "X_train", "x", "X"]), let y = key(["y_train", "y"]) else {
            throw fail("no training arrays: expected members x_train and y_train (or x and y); found \(found)")
        }
        return try table(x, y, classes: classes)
    }

    /// x_test and y_test, or nil when the archive holds neither.
    func test(classes: Int?) throws -> NpyTable? {
        let x = key(["x_test", "X_test"])
        let y = key(["y_test"])
        if x == nil, y == nil { return nil }
        guard let x, let y else { throw fail("has \(x ?? y!) but not its pair (x_test and y_test go together)") }
        return try table(x, y, classes: classes)
    }

    var testName: String { "\(shown) member x_test" }
}
