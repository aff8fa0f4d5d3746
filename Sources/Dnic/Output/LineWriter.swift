import Foundation

/// A text output written line by line straight to its file descriptor, each
/// line checked as it is written: a full disk (ENOSPC), a file-size limit
/// (EFBIG) or an I/O error surfaces at the line that failed, naming the file
/// and the OS's reason, not at the end of the run. Used for the metrics log
/// and for the CLI's standard output.
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
    /// (a FIFO or device swapped in after the checks).
    public init(path: String, mode: Mode) throws {
        let how: Int32 = mode == .append ? O_APPEND : mode == .truncate ? O_TRUNC : O_EXCL
        // O_NONBLOCK: opening a FIFO without a reader must fail, not hang
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | how, 0o644)
        if fd < 0 {
            if errno == EEXIST { throw OutputError(path, .exists) }
            throw OutputError.system(path, "cannot open it for writing")
        }
        var info = stat()
        if fstat(fd, &info) != 0 || OutputFile.nonRegularKind(info.st_mode) != nil {
            close(fd)
            throw OutputError(path, "is \(OutputFile.nonRegularKind(info.st_mode) ?? "unusable"), not a regular file")
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

    /// Writes `line` and a newline.
    public func write(_ line: String) throws {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        let failure = bytes.withUnsafeBytes { writeAll(fd, $0.baseAddress!, $0.count) }
        if failure != 0 { throw OutputError.system(path, "cannot write", errno: failure) }
    }

    /// Pushes written lines to the disk (at the end of a run and before a
    /// checkpoint), so an I/O error the kernel reports late is still seen.
    public func sync() throws {
        guard owned else { return }
        if fsync(fd) != 0, errno != EINVAL { throw OutputError.system(path, "cannot write") }
    }
}
