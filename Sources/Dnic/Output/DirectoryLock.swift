import Foundation

/// One process at a time writing an output directory: an exclusive flock on
/// `DIR/.dnic-lock`, held for as long as the process lives (or the lock is
/// released). The kernel drops a flock when its process ends, however it
/// ends, so a lock file left by a dead process never blocks anyone. The file
/// holds the holder's process id, so that a second process can say who has
/// it; `release()` removes it, so a directory a command left is as it made it.
public final class DirectoryLock {
    public static let fileName = ".dnic-lock"
    private let fd: Int32
    private let path: String
    private var released = false

    /// Takes the lock without waiting; refuses (OutputError naming
    /// `directory`) when another process holds it.
    public init(directory: String) throws {
        let path = PathName.joining(directory, Self.fileName)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0o644)
        guard fd >= 0 else { throw OutputError.system(directory, "cannot create its lock file \(Self.fileName)") }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw OutputError(directory, "its lock file \(Self.fileName) is not a regular file")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            let holder = Self.holder(fd)
            close(fd)
            guard code == EWOULDBLOCK else { throw OutputError.system(directory, "cannot lock it", errno: code) }
            throw OutputError(directory, "is being written by another dnic process\(holder.map { " (process \($0))" } ?? "")")
        }
        // a holder that released (and removed) the file between our open and
        // our flock left us locking a file nobody else can see: refuse
        // rather than share the directory with whoever makes the next one
        var now = stat()
        guard stat(path, &now) == 0, now.st_ino == info.st_ino, now.st_dev == info.st_dev else {
            close(fd)
            throw OutputError(directory, "is being written by another dnic process (its lock file was just replaced)")
        }
        // ours now: record who holds it (a dead holder's id is overwritten)
        let id = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = id.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) } }
        self.fd = fd
        self.path = path
    }

    /// Removes the lock file, then lets the lock go (in that order, so no
    /// other process can take a lock on a file about to disappear).
    public func release() {
        guard !released else { return }
        released = true
        unlink(path)
        close(fd)
    }

    deinit { if !released { close(fd) } }

    /// The process id the lock file names, if it names one.
    private static func holder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Int32(text).flatMap { $0 > 0 ? $0 : nil }
    }
}
