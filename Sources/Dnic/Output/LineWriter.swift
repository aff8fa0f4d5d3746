import Foundation

/// A text output written line by line straight to its file descriptor, each
/// line checked as it is written: a full disk (ENOSPC), a file-size limit
/// (EFBIG) or an I/O error surfaces at the line that failed, naming the file
/// and the OS's reason, not at the end of the run; a line that could be
/// written only in part is taken back, so the file always ends at a whole
/// line. A file it opens is locked (flock) while open: a second dnic
/// writing the same file is refused. Used for the metrics log and for the
/// CLI's standard output.
public final class LineWriter {
    public enum Mode: Sendable {
        /// a new file; an existing one is refused (O_EXCL, no race)
        case create
        /// replace an existing file's content
        case truncate
        /// continue an existing file (a resumed run's log)
        case append
    }

    public let path: String
    private let fd: Int32
    private let owned: Bool

    /// Opens `path`; refuses anything that is not a regular file once open
    /// (a FIFO or device swapped in after the checks), and a file another
    /// process is writing. Nothing is truncated before the lock is held.
    public init(path: String, mode: Mode) throws {
        // read too when appending: the file is checked before it is continued
        let access = mode == .append ? O_RDWR : O_WRONLY
        // O_NONBLOCK: opening a FIFO without a reader must fail, not hang
        let fd = open(path, access | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (mode == .create ? O_EXCL : 0), 0o644)
        if fd < 0 {
            if errno == EEXIST { throw OutputError(path, .exists) }
            throw OutputError.system(path, "cannot open it for writing")
        }
        var info = stat()
        if fstat(fd, &info) != 0 || OutputFile.nonRegularKind(info.st_mode) != nil {
            close(fd)
            throw OutputError(path, "is \(OutputFile.nonRegularKind(info.st_mode) ?? "unusable"), not a regular file")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { throw Self.busy(path) }
            throw OutputError.system(path, "cannot lock it", errno: code)
        }
        if mode == .truncate, ftruncate(fd, 0) != 0 {
            let code = errno
            close(fd)
            throw OutputError.system(path, "cannot replace it", errno: code)
        }
        self.path = path
        self.fd = fd
        owned = true
    }

    /// An already open descriptor (standard output), named `name` in errors.
    public init(fileDescriptor: Int32, name: String) {
        path = name
        fd = fileDescriptor
        owned = false
    }

    deinit { if owned { close(fd) } }

    static func busy(_ path: String) -> OutputError { OutputError(path, "is being written by another dnic process") }

    /// Refuses `path` when another process writes it now (checked before a
    /// run starts; the lock itself is taken when the file is opened).
    public static func checkNotBusy(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { return }
        defer { close(fd) }
        // a shared lock conflicts only with a writer's exclusive one
        if flock(fd, LOCK_SH | LOCK_NB) != 0, errno == EWOULDBLOCK { throw busy(path) }
    }

    /// Writes `line` and a newline.
    public func write(_ line: String) throws {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        // where the line starts (O_APPEND: the end; the lock keeps other writers out)
        let start = owned ? lseek(fd, 0, SEEK_END) : -1
        let failure = bytes.withUnsafeBytes { writeAll(fd, $0.baseAddress!, $0.count) }
        if failure != 0 {
            // a line written in part (a full disk) is taken back: the file ends at a whole line
            if start >= 0 { _ = ftruncate(fd, start) }
            throw OutputError.system(path, "cannot write", errno: failure)
        }
    }

    /// The file's bytes (a log read under its lock before it is continued).
    public func contents() throws -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, off_t(data.count)) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw OutputError.system(path, "cannot read it") }
            if n == 0 { return data }
            data.append(contentsOf: buffer[..<n])
        }
    }

    /// Cuts the file back to its first `length` bytes.
    public func truncate(to length: Int) throws {
        if ftruncate(fd, off_t(length)) != 0 { throw OutputError.system(path, "cannot cut it back") }
    }

    /// Pushes written lines to the disk (at the end of a run and before a
    /// checkpoint), so an I/O error the kernel reports late is still seen.
    public func sync() throws {
        guard owned else { return }
        if fsync(fd) != 0, errno != EINVAL { throw OutputError.system(path, "cannot write") }
    }
}
