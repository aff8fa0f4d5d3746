import Foundation

/// Checks made on every output path (checkpoint, metrics log, benchmark
/// JSON) before a run starts, so a bad path is refused in a second rather
/// than after hours of training, and nothing on disk is touched by a refusal.
///
/// An output is a regular file or absent: never a directory, device, FIFO or
/// socket, even when replacing is allowed (renaming a checkpoint over
/// /dev/something would replace the device node). Its directory must exist
/// and take a new file: access(2) says so, except for root, to whom it says
/// yes even where the file system refuses (/proc, /sys): there a directory
/// without write permission bits is tried for real (a probe file created
/// and removed at once). Nothing else is created, so a refusal leaves even
/// the directory's modification time as it was.
public enum OutputFile {
    /// What may already be at the path.
    public enum Existing: Sendable {
        /// must be absent, unless replacing is allowed
        case refuse
        /// may be there (a log a resumed run appends to, the checkpoint a run resumes from)
        case allow
    }

    public static func check(_ path: String, existing: Existing, replace: Bool) throws {
        guard !path.isEmpty else { throw OutputError(path, "empty path") }
        var info = stat()
        if stat(path, &info) == 0 {
            // a device (a terminal, /dev/null) is said as such, even when a standard descriptor is on it
            let device = [S_IFCHR, S_IFBLK].contains(info.st_mode & S_IFMT)
            if !device, let name = standardDescriptor(sameAs: info) {
                throw OutputError(path, "is where this command's \(name) goes; give a file of its own")
            }
            if let kind = nonRegularKind(info.st_mode) { throw OutputError(path, "is \(kind), not a regular file") }
            if existing == .refuse, !replace { throw OutputError(path, .exists) }
            if access(path, W_OK) != 0 { throw OutputError.system(path, "cannot write to it") }
        } else if errno == ENAMETOOLONG {
            throw nameTooLong(path)
        } else if errno != ENOENT, errno != ENOTDIR {  // ENOTDIR: the directory part is a file, said below
            throw OutputError.system(path, "cannot use it")
        } else if lstat(path, &info) == 0 {
            throw OutputError(path, "is a symbolic link to a file that does not exist")
        } else if PathName.namesDirectory(path) {
            throw OutputError(path, "ends in a slash, so it names a directory; give a file name")
        }
        try probeDirectory(of: path)
    }

    /// Checks that a directory can be made at `path` (`--out DIR`, absent
    /// now): its parent exists and takes a new entry, and its name fits. A
    /// trailing slash is what a directory may have.
    public static func checkNewDirectory(_ path: String) throws {
        guard !path.isEmpty else { throw OutputError(path, "empty path") }
        let bare = PathName.withoutTrailingSlashes(path)
        var info = stat()
        if stat(bare, &info) == 0 {
            if info.st_mode & S_IFMT != S_IFDIR { throw OutputError(path, "is not a directory") }
            return
        }
        if errno == ENAMETOOLONG { throw nameTooLong(bare) }
        if errno != ENOENT, errno != ENOTDIR { throw OutputError.system(path, "cannot use it") }
        if lstat(bare, &info) == 0 { throw OutputError(path, "is a symbolic link to a directory that does not exist") }
        try probeDirectory(of: path)
    }

    /// "a directory", "a device", … for anything that is not a regular file.
    static func nonRegularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFCHR, S_IFBLK: return "a device"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    /// The directory a file at `path` goes into ("." for a bare name).
    static func directory(of path: String) -> String { PathName.directory(of: path) }

    /// "standard output" when `info` is the file descriptor 1 writes to
    /// (`--log /dev/stdout`, or `--log out.txt` under `> out.txt`), and so
    /// for 0 and 2: writing there would mix the log into the command's own
    /// output, and replacing it would truncate the file the user redirected
    /// to. Refused rather than made to work: the human-readable lines go to
    /// standard output too, so the log could not stay JSON Lines.
    static func standardDescriptor(sameAs info: stat) -> String? {
        for (fd, name) in [(STDIN_FILENO, "standard input"), (STDOUT_FILENO, "standard output"), (STDERR_FILENO, "standard error")] {
            var std = stat()
            if fstat(fd, &std) == 0, std.st_dev == info.st_dev, std.st_ino == info.st_ino { return name }
        }
        return nil
    }

    /// The most bytes a file name may have in `directory` (NAME_MAX of its file system).
    static func nameMax(in directory: String) -> Int {
        let limit = pathconf(directory, Int32(_PC_NAME_MAX))
        return limit > 0 ? limit : Int(NAME_MAX)
    }

    /// ENAMETOOLONG said in words: the file's name, or else the whole path.
    static func nameTooLong(_ path: String) -> OutputError {
        let bytes = PathName.nameBytes(path), limit = nameMax(in: PathName.directory(of: path))
        if bytes > limit { return OutputError(path, "its name is \(bytes) bytes; its file system allows at most \(limit)") }
        return OutputError(path, "the path is too long for the file system (\(path.utf8.count) bytes)")
    }

    /// Checks that the directory of `path` takes a new file of that name,
    /// as AtomicFile and LineWriter will create it: the name fits the file
    /// system (NAME_MAX; the temporary file's name is short and fixed), and
    /// the directory takes a new file.
    static func probeDirectory(of path: String) throws {
        let dir = directory(of: path)
        var info = stat()
        guard stat(dir, &info) == 0 else {
            if errno == ENOENT { throw OutputError(path, "directory \(pathText(dir)) does not exist") }
            if errno == ENAMETOOLONG { throw nameTooLong(dir) }
            throw OutputError.system(path, "cannot use directory \(pathText(dir))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw OutputError(path, "\(pathText(dir)) is not a directory") }
        let bytes = PathName.nameBytes(path), limit = nameMax(in: dir)
        if bytes > limit { throw OutputError(path, "its name is \(bytes) bytes; its file system allows at most \(limit)") }
        let probe = PathName.joining(dir, AtomicFile.temporaryName())
        if probe.utf8.count >= Int(PATH_MAX) {
            throw OutputError(path, "the path of its directory is too long for a temporary file beside it (\(dir.utf8.count) bytes)")
        }
        if access(dir, W_OK | X_OK) != 0 { throw OutputError.system(path, "cannot create a file in \(pathText(dir))") }
        let writeBits = mode_t(S_IWUSR | S_IWGRP | S_IWOTH)
        guard geteuid() == 0, info.st_mode & writeBits == 0 else { return }
        // root: try for real what AtomicFile.write does, a temporary file in the directory
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw OutputError.system(path, "cannot create a file in \(pathText(dir))") }
        close(fd)
        unlink(probe)
    }

    /// Whether two paths name the same file: the same inode when both exist,
    /// else the same absolute path once the directory's symbolic links are
    /// resolved.
    public static func same(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        if stat(a, &sa) == 0, stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        return canonical(a) == canonical(b)
    }

    /// The absolute path of `path` with its directory's links resolved.
    public static func canonical(_ path: String) -> String { PathName.canonical(path) }

    /// Bytes free to an unprivileged writer in the directory of `path`.
    public static func freeBytes(near path: String) -> UInt64? {
        var fs = statvfs()
        guard statvfs(directory(of: path), &fs) == 0 else { return nil }
        return UInt64(fs.f_bavail).multipliedReportingOverflow(by: UInt64(fs.f_frsize)).partialValue
    }
}
