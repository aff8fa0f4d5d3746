import Foundation

/// Outputs this command created that hold nothing yet: the `--out`
/// directory of `analyze` / `reproduce`, a new `--log`, and the event file
/// of `--tensorboard` (with its directory when the run made it). A command that
/// then fails (one line, exit status 1 or 2) removes those still empty, so
/// a failed run leaves no trace that a rerun would trip over ("file
/// exists"). Only empty ones go: rmdir(2) removes nothing else, and a file
/// is removed only while it is the same empty file this command made.
enum CreatedOutputs {
    nonisolated(unsafe) private static var directories: [String] = []
    nonisolated(unsafe) private static var files: [(path: String, device: dev_t, inode: ino_t)] = []

    /// Creates directory `path` (mode 0777 less the umask) and remembers it.
    static func makeDirectory(_ path: String) -> Bool {
        guard mkdir(path, 0o777) == 0 else { return false }
        directories.append(path)
        return true
    }

    /// Remembers a directory made for this command (by the library: `--tensorboard DIR`).
    static func madeDirectory(_ path: String) { directories.append(path) }

    /// Remembers a file this command has just created (empty).
    static func createdFile(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        files.append((path, info.st_dev, info.st_ino))
    }

    /// Removes each remembered output that is still empty, newest first.
    static func removeEmpty() {
        for f in files.reversed() {
            var info = stat()
            if stat(f.path, &info) == 0, info.st_dev == f.device, info.st_ino == f.inode, info.st_size == 0,
               info.st_mode & S_IFMT == S_IFREG {
                unlink(f.path)
            }
        }
        for path in directories.reversed() { rmdir(path) }
        files.removeAll()
        directories.removeAll()
    }
}
