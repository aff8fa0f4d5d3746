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
/// fail only at the end of a run. The directory is opened once and both
/// files are named relative to it, so only the target's name has to fit.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, what: String = "the file") throws {
        let target = try resolve(path)
        if PathName.namesDirectory(target) {
            throw OutputError(path, "ends in a slash, so it names a directory; give a file name")
        }
        let dir = PathName.directory(of: target), name = PathName.lastComponent(of: target)
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd < 0 { throw OutputError.system(path, "cannot write \(what) (opening \(pathText(dir)))") }
        defer { close(dfd) }
        var temp = temporaryName()
        var fd = openat(dfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        for _ in 0 ..< 3 where fd < 0 && errno == EEXIST {  // a name left by a process killed with the same pid
            temp = temporaryName()
            fd = openat(dfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        }
        if fd < 0 { throw OutputError.system(path, "cannot write \(what) (creating a temporary file in \(pathText(dir)))") }
        inFlight.withLock { $0 = InFlight(directory: dir, name: temp) }
        defer { inFlight.withLock { $0 = nil } }
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            if let base = raw.baseAddress { failure = writeAll(fd, base, raw.count) }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        if failure == 0, renameat(dfd, temp, dfd, name) != 0 { failure = errno }
        if failure != 0 {
            unlinkat(dfd, temp, 0)
            throw OutputError.system(path, "cannot write \(what)", errno: failure)
        }
        fsync(dfd)
    }

    /// A name for a temporary file: hidden, unique to this process and call,
    /// and 25 bytes at most whatever the target's name.
    public static func temporaryName() -> String {
        ".dnic-\(getpid())-\(String(UInt32.random(in: 0 ... .max), radix: 16)).tmp"
    }

    /// The temporary file being written now, if any: a process that must end
    /// at once (a second SIGTERM) removes it rather than leave it behind.
    struct InFlight {
        let directory: String
        let name: String
    }

    private static let inFlight = Mutex<InFlight?>(nil)

    /// Removes the temporary file being written, if any (from any thread).
    public static func removeInFlight() {
        inFlight.withLock { file in
            if let file { unlink(PathName.joining(file.directory, file.name)) }
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
