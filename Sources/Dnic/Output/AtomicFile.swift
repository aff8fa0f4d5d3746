import Foundation

/// Replacing a file so that a reader (or a crash at any moment, even
/// SIGKILL) sees either the old content whole or the new content whole:
/// write a temporary file in the same directory, fsync it, rename it over
/// the target, fsync the directory. On any failure the temporary file is
/// removed and the old file is left as it was.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, what: String = "the file") throws {
        let target = try resolve(path)
        let dir = OutputFile.directory(of: target)
        let temp = dir + "/.\((target as NSString).lastPathComponent).tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        if fd < 0 { throw OutputError.system(path, "cannot write \(what) (creating \(pathText(temp)))") }
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            if let base = raw.baseAddress { failure = writeAll(fd, base, raw.count) }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        if failure == 0, rename(temp, target) != 0 { failure = errno }
        if failure != 0 {
            unlink(temp)
            throw OutputError.system(path, "cannot write \(what)", errno: failure)
        }
        let dfd = open(dir, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    /// The file to replace: through a symbolic link to its target (so the
    /// link survives), and never anything but a regular file.
    static func resolve(_ path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return path }
        if let kind = OutputFile.nonRegularKind(info.st_mode) { throw OutputError(path, "is \(kind), not a regular file") }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        return realpath(path, &buffer).map { String(cString: $0) } ?? path
    }
}

/// Writes `count` bytes, retrying short writes and EINTR; 0 on success, else
/// the errno of the write that failed (ENOSPC, EFBIG, EIO …).
func writeAll(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int) -> Int32 {
    var done = 0
    while done < count {
        let n = Foundation.write(fd, base + done, count - done)
        if n > 0 {
            done += n
        } else if n < 0, errno == EINTR {
            continue
        } else {
            return n < 0 ? errno : EIO
        }
    }
    return 0
}
