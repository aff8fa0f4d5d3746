import Foundation

/// Paths as the user typed them, split and joined by POSIX's rules
/// (dirname(3), basename(3)) on their bytes. Foundation's path methods are
/// not used on user text: on Linux, NSString.deletingLastPathComponent
/// traps (SIGILL) on a one-character name, on `.` and on a trailing slash,
/// and URL(fileURLWithPath:).standardized… resolves `..` by text, which
/// is wrong across a symbolic link. These functions never trap and never
/// touch the file system, except `absolute` (the working directory) and
/// `canonical` (realpath).
public enum PathName {
    private static let slash = UInt8(ascii: "/")

    /// The directory a file at `path` goes into, as dirname(3) says:
    /// "." for a bare name ("m", "x/"), "/" for "/x", "a" for "a/b" and "a/b/".
    public static func directory(of path: String) -> String {
        var bytes = Array(path.utf8)
        dropTrailingSlashes(&bytes)
        guard let cut = bytes.lastIndex(of: slash) else { return path.utf8.first == slash ? "/" : "." }
        bytes.removeSubrange(cut...)
        dropTrailingSlashes(&bytes)
        return bytes.isEmpty ? "/" : String(decoding: bytes, as: UTF8.self)
    }

    /// The last component, as basename(3) says: "b" for "a/b" and "a/b/",
    /// "/" for "/", "" for "".
    public static func lastComponent(of path: String) -> String {
        var bytes = Array(path.utf8)
        dropTrailingSlashes(&bytes)
        if bytes.isEmpty { return path.isEmpty ? "" : "/" }
        if let cut = bytes.lastIndex(of: slash) { bytes.removeSubrange(...cut) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `name` inside `directory`, with exactly one slash between them.
    public static func joining(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.utf8.last == slash ? directory + name : directory + "/" + name
    }

    /// Whether `path` can only name a directory: it ends in a slash, or its
    /// last component is `.` or `..` (or it is `/`).
    public static func namesDirectory(_ path: String) -> Bool {
        path.utf8.last == slash || [".", "..", "/"].contains(lastComponent(of: path))
    }

    /// `path` without the slashes at its end ("/" stays "/").
    public static func withoutTrailingSlashes(_ path: String) -> String {
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == slash { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Length in bytes of the last component: what NAME_MAX limits.
    public static func nameBytes(_ path: String) -> Int { lastComponent(of: path).utf8.count }

    /// `path` from the root: the working directory in front of a relative
    /// path, `.` components and repeated slashes removed (`..` is kept: only
    /// the file system can resolve it across a symbolic link).
    public static func absolute(_ path: String) -> String {
        var full = path
        if path.utf8.first != slash {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let cwd = getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
            full = joining(cwd, path)
        }
        let parts = full.utf8.split(separator: slash).filter { !$0.elementsEqual(".".utf8) }
        return "/" + parts.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
    }

    /// The absolute path of `path` with every symbolic link of its directory
    /// resolved (the file itself may not exist yet; a link at the file
    /// itself is kept as the name it is).
    public static func canonical(_ path: String) -> String {
        if namesDirectory(path) { return realPath(path) ?? absolute(path) }
        let dir = directory(of: path)
        let resolved = realPath(dir) ?? absolute(dir)
        return joining(resolved, lastComponent(of: path))
    }

    /// realpath(3), or nil when some component does not exist or cannot be read.
    public static func realPath(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        return realpath(path, &buffer).map { String(cString: $0) }
    }

    private static func dropTrailingSlashes(_ bytes: inout [UInt8]) {
        while bytes.count > 1, bytes.last == slash { bytes.removeLast() }
        if bytes == [slash] { bytes.removeAll() }
    }
}
