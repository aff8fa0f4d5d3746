// Reading data files through zlib, gzip'd or raw.
//
// zlib's gzread passes a file that is not gzip through unchanged, so raw and
// .gz files share one code path. That transparency must not hide which file
// is which: `isGzip` records it for messages, and every zlib error becomes a
// DataError naming the file. A gzip stream that ends early or fails its CRC
// is reported as "truncated or corrupt gzip", never returned as short data.
//
// A small file must not make a loader allocate much: `maxContentBytes`
// bounds what the file can possibly decompress to, so a header declaring
// more is refused before its buffer is allocated, and `readAll` stops at a
// limit instead of following a gzip bomb.

import CZlib
import Foundation

/// A sequential reader over one file; closes the file when released.
final class GzipFileReader {
    let path: String
    /// True when the file is a gzip stream, false when zlib reads it directly.
    let isGzip: Bool
    private let file: gzFile
    /// Bytes on disk; nil when unknown (not a regular file).
    let fileSize: UInt64?

    /// Deflate's largest possible expansion (zlib FAQ: 1032:1, every output
    /// byte costs at least 1/1032 input byte).
    static let maxDeflateRatio: UInt64 = 1032

    /// The most bytes this file can yield: its size when raw; for gzip, its
    /// size times deflate's largest ratio. A header declaring more is lying.
    var maxContentBytes: UInt64 {
        guard let size = fileSize else { return .max }
        return isGzip ? size.multipliedReportingOverflow(by: Self.maxDeflateRatio).partialValue + 1024 : size
    }

    /// What a buffer for this file's content may reserve up front: all of
    /// a raw file; for gzip, 16 times its size (data files compress far less
    /// than 16:1: Fashion-MNIST's images 1.8:1, MNIST's 4.8:1), so real files
    /// need no regrowth while a lying header costs at most 16x the file.
    /// 1 MiB when the size is unknown (not a regular file).
    var plausibleContentBytes: UInt64 {
        guard let size = fileSize else { return 1 << 20 }
        return isGzip ? min(maxContentBytes, size.multipliedReportingOverflow(by: 16).partialValue) : size
    }

    /// "gzip" or "raw", for messages that must say which form was read.
    var form: String { isGzip ? "gzip" : "raw" }

    init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError("\(path): file not found")
        }
        if isDirectory.boolValue { throw DataError("\(path): is a directory, not a file") }
        var info = stat()
        self.fileSize = stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? UInt64(info.st_size) : nil
        guard let handle = gzopen(path, "rb") else {
            throw DataError("\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        // A larger buffer than zlib's 8 KiB default: Fashion-MNIST's 47 MB of
        // pixels otherwise take thousands of small read(2) calls.
        _ = gzbuffer(handle, 1 << 18)
        self.path = path
        self.file = handle
        // Called before the first read, gzdirect looks at the header to decide.
        self.isGzip = gzdirect(handle) == 0
    }

    deinit { gzclose(file) }

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

    /// Counts the bytes left, reading (and discarding) them.
    func countRemaining() throws -> Int {
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        var total = 0
        while true {
            let got = try scratch.withUnsafeMutableBytes { try read(into: $0) }
            total += got
            if got < scratch.count { return total }
        }
    }

    /// The whole (decompressed) content, refused past `limit` bytes so a
    /// gzip bomb stops at the limit rather than at the end of memory.
    func readAll(limit: Int = 1 << 31) throws -> [UInt8] {
        var out = [UInt8]()
        // a small file needs no 1 MiB buffer (it also keeps fuzzing fast)
        var chunk = [UInt8](repeating: 0, count: Int(min(1 << 20, max(maxContentBytes, 1))))
        while true {
            let got = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            guard out.count + got <= limit else {
                throw DataError("\(path): \(isGzip ? "decompresses to" : "holds") more than \(limit) bytes; refusing to read it whole")
            }
            out.append(contentsOf: chunk[0 ..< got])
            if got < chunk.count { return out }
        }
    }

    private func checkError() throws {
        var code: Int32 = 0
        _ = gzerror(file, &code)
        if code != Z_OK { try throwZlibError() }
    }

    private func throwZlibError() throws -> Never {
        var code: Int32 = 0
        let text = gzerror(file, &code).map { String(cString: $0) } ?? "unknown error"
        switch code {
        case Z_BUF_ERROR, Z_DATA_ERROR, Z_STREAM_ERROR:
            // Z_BUF_ERROR is zlib's "unexpected end of file" mid-stream.
            throw DataError("\(path): truncated or corrupt gzip (zlib: \(text))")
        case Z_ERRNO:
            throw DataError("\(path): read error: \(text)")
        case Z_MEM_ERROR:
            throw DataError("\(path): out of memory while decompressing")
        default:
            throw DataError("\(path): zlib error \(code): \(text)")
        }
    }
}
