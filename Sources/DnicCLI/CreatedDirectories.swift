import Foundation

/// Output directories this command created (`analyze --out`, `reproduce
/// --out`). A command that then fails removes the ones it left empty, so a
/// failed analysis leaves no trace; rmdir(2) removes nothing else, so no
/// file anybody wrote can be lost this way.
enum CreatedDirectories {
    nonisolated(unsafe) private static var paths: [String] = []

    /// Creates `path` (mode 0777 less the umask) and remembers it.
    static func make(_ path: String) -> Bool {
        guard mkdir(path, 0o777) == 0 else { return false }
        paths.append(path)
        return true
    }

    /// Removes each remembered directory that is still empty, newest first.
    static func removeEmpty() {
        for path in paths.reversed() { rmdir(path) }
        paths.removeAll()
    }
}
