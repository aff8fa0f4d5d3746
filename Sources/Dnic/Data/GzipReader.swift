// Reading data files through zlib, gzip'd or raw.
//
// zlib's gzread passes a file that is not gzip through unchanged, so raw and
// .gz files share one code path. That transparency must not hide which file
// is which: `isGzip` records it for messages, and every zlib error becomes a
// DataError naming the file. A gzip stream that ends early or fails its CRC
// is reported as "truncated or corrupt gzip", never returned as short data.
// gzread also reads concatenated gzip members as one stream (and ignores
// garbage after the last one), so the trailer at the end of the file only
// describes the last member: `trailerLength` is a hint, never a fact.
//
// A small file must not make a loader allocate or inflate much: the loaders
// ask `maxContentBytes` (what the file can possibly decompress to) before
// allocating, count with `countContent` into a fixed buffer, and stop at a
// limit instead of following a gzip bomb. Not here: what a header claims and
// whether the content keeps the claim (Payload.swift).

import CZlib
import Foundation

/// A sequential reader over one file; closes the file when released.
final class GzipFileReader {
    let path: String
    /// The path as messages quote it (elided past 80 characters).
    let shownPath: String
    /// True when the file is a gzip stream, false when zlib reads it directly.
    let isGzip: Bool
    private let file: gzFile
    /// Bytes on disk; nil when unknown (not a regular file).
    let fileSize: UInt64?
    /// The gzip trailer's ISIZE: the last member's length mod 2^32, read from
    /// the file's last 4 bytes. nil for raw files and files of unknown size.
    let trailerLength: UInt32?

    /// Deflate's largest possible expansion (zlib FAQ: 1032:1, every output
    /// byte costs at least 1/1032 input byte).
    static let maxDeflateRatio: UInt64 = 1032

    /// zlib's input buffer. A read of at least twice this inflates straight
    /// into the caller's buffer instead of through zlib's own output buffer.
    static let zlibBuffer = 1 << 18

    /// The most bytes this file can yield: its size when raw; for gzip, its
    /// size times deflate's largest ratio. A header declaring more is lying.
    var maxContentBytes: UInt64 {
        guard let size = fileSize else { return .max }
        return isGzip ? size.multipliedReportingOverflow(by: Self.maxDeflateRatio).partialValue + 1024 : size
    }

    /// "gzip" or "raw", for messages that must say which form was read.
    var form: String { isGzip ? "gzip" : "raw" }

    init(path: String) throws {
        let shown = pathText(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError("\(shown): file not found")
        }
        if isDirectory.boolValue { throw DataError("\(shown): is a directory, not a file") }
        var info = stat()
        let size = stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? UInt64(info.st_size) : nil
        guard let handle = gzopen(path, "rb") else {
            throw DataError("\(shown): cannot open: \(String(cString: strerror(errno)))")
        }
        // A larger buffer than zlib's 8 KiB default: Fashion-MNIST's 47 MB of
        // pixels otherwise take thousands of small read(2) calls.
        _ = gzbuffer(handle, UInt32(Self.zlibBuffer))
        self.path = path
        self.shownPath = shown
        self.file = handle
        self.fileSize = size
        // Called before the first read, gzdirect looks at the header to decide.
        let gzip = gzdirect(handle) == 0
        self.isGzip = gzip
        // 20 bytes: the smallest gzip file (10 header, 2 deflate, 8 trailer).
        self.trailerLength = gzip && (size ?? 0) >= 20 ? Self.lastWord(path, size: size ?? 0) : nil
    }

    deinit { gzclose(file) }

    /// The little-endian u32 at the end of the file, through a descriptor of
    /// its own so zlib's position is untouched.
    private static func lastWord(_ path: String, size: UInt64) -> UInt32? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4, off_t(size - 4)) }
        guard got == 4 else { return nil }
        return bytes.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Reads up to `buffer.count` bytes; fewer only at the end of the data.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var total = 0
        while total < buffer.count {
            let want = UInt32(min(buffer.count - total, 1 << 30))
            let got = gzread(file, base + total, want)
            if got < 0 { try throwZlibError() }
            if got == 0 { break }
            total += Int(got)
        }
        if total < buffer.count { try checkError() }
        return total
    }

    /// Counts the bytes left, reading (and discarding) them through one fixed
    /// buffer, and stops once the count passes `limit`: the result is exact
    /// up to `limit`, and `limit + 1` means "more than `limit`". `scratch`
    /// is the buffer's size in bytes (at least twice zlib's, so zlib inflates
    /// into it directly).
    func countContent(upTo limit: UInt64, scratch: Int = 1 << 20) throws -> UInt64 {
        let stop = min(limit, 1 << 62) + 1
        var buffer = [UInt8](repeating: 0, count: Int(min(UInt64(scratch), stop)))
        var total: UInt64 = 0
        while total < stop {
            let want = Int(min(UInt64(buffer.count), stop - total))
            let got = try buffer.withUnsafeMutableBytes {
                try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0 ..< want]))
            }
            total += UInt64(got)
            if got < want { return total }
        }
        return total
    }

    /// Back to the first byte, for a second pass after `countContent`
    /// (regular files only: a pipe cannot go back).
    func rewind() throws {
        guard gzrewind(file) == 0 else { throw DataError("\(shownPath): cannot go back to the start of the file") }
    }

    /// Reads and discards exactly `count` bytes (a header already checked).
    func skip(_ count: Int) throws {
        var scratch = [UInt8](repeating: 0, count: count)
        let got = try scratch.withUnsafeMutableBytes { try read(into: $0) }
        guard got == count else { throw DataError("\(shownPath): changed while being read (now shorter)") }
    }

    private func checkError() throws {
        var code: Int32 = 0
        _ = gzerror(file, &code)
        if code != Z_OK { try throwZlibError() }
    }

    private func throwZlibError() throws -> Never {
        var code: Int32 = 0
        var text = gzerror(file, &code).map { String(cString: $0) } ?? "unknown error"
        // zlib prefixes its messages with the path, which is already quoted
        // (shortened) at the head of ours.
        if text.hasPrefix(path + ": ") { text.removeFirst(path.count + 2) }
        text = messageText(text, limit: 80)
        switch code {
        case Z_BUF_ERROR, Z_DATA_ERROR, Z_STREAM_ERROR:
            // Z_BUF_ERROR is zlib's "unexpected end of file" mid-stream.
            throw DataError("\(shownPath): truncated or corrupt gzip (zlib: \(text))")
        case Z_ERRNO:
            throw DataError("\(shownPath): read error: \(text)")
        case Z_MEM_ERROR:
            throw DataError("\(shownPath): out of memory while decompressing")
        default:
            throw DataError("\(shownPath): zlib error \(code): \(text)")
        }
    }
}
