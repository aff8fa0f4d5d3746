import Foundation
import Synchronization

/// Replacing a file so that a reader (or a crash at any moment, even
/// SIGKILL) sees either the old content whole or the new content whole:
/// write a temporary file in the same directory, fsync it, rename it over
/// the target, fsync the directory. On any failure the temporary file is
/// removed and the old file is left as it was.
///
/// The temporary file has a short name of its own (`.dnic-PID-RANDOM.tmp`),
/// never one made longer from the target's: a legal 255-byte name must not
/// fail only at the end of a run. OutputFile.check tries, before any work,
/// what this does: the same directory, a name as long, a path as long.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, what: String = "the file") throws {
        let target = try resolve(path)
        if PathName.namesDirectory(target) {
            throw OutputError(path, "ends in a slash, so it names a directory; give a file name")
        }
        let dir = PathName.directory(of: target)
        var temp = PathName.joining(dir, temporaryName())
        var fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        for _ in 0 ..< 3 where fd < 0 && errno == EEXIST {  // a name left by a process killed with the same pid
            temp = PathName.joining(dir, temporaryName())
            fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        }
        if fd < 0 { throw OutputError.system(path, "cannot write \(what) (creating a temporary file in \(pathText(dir)))") }
        inFlight.withLock { $0 = temp }
        defer { inFlight.withLock { $0 = nil } }
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
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    /// A name for a temporary file: hidden, unique to this process and call,
    /// of one length within a process (so OutputFile's probe is as long),
    /// and 26 bytes at most whatever the target's name.
    public static func temporaryName() -> String {
        let random = String(UInt32.random(in: 0 ... .max), radix: 16)
        return ".dnic-\(getpid())-\(String(repeating: "0", count: 8 - random.count))\(random).tmp"
    }

    /// The temporary file being written now, if any: a process that must end
    /// at once (SIGTERM's deadline) removes it rather than leave it behind.
    /// Writes run one at a time in dnic, so one slot is enough.
    private static let inFlight = Mutex<String?>(nil)

    /// Removes the temporary file being written, if any (from any thread).
    public static func removeInFlight() {
        inFlight.withLock { temp in
            if let temp { unlink(temp) }
        }
    }

    /// The file to replace: through a symbolic link to its target (so the
    /// link survives), and never anything but a regular file.
    static func resolve(_ path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return path }
        if let kind = OutputFile.nonRegularKind(info.st_mode) { throw OutputError(path, "is \(kind), not a regular file") }
        return PathName.realPath(path) ?? path
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
