import Foundation

/// The directory an analysis writes its results into, and how it writes them.
public enum AnalysisDirectory {
    /// Refuses (an OutputError naming the directory or the file; nothing
    /// created) unless every one of `files` can be written: an existing
    /// `directory` must be a directory whose files may be replaced only with
    /// `overwrite`; an absent one must have a parent that takes it. Returns
    /// whether it is to be created.
    public static func check(_ directory: String, files: [String], overwrite: Bool) throws -> Bool {
        var info = stat()
        if stat(directory, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw OutputError(directory, "not a directory") }
            for f in files { try OutputFile.check(PathName.joining(directory, f), existing: .refuse, replace: overwrite) }
            return false
        }
        try OutputFile.checkNewDirectory(directory)
        return true
    }

    /// `value` as pretty JSON (sorted keys) into `file` of `directory`.
    static func writeJSON<T: Encodable>(_ value: T, _ directory: String, _ file: String, what: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(value) + Data("\n".utf8), to: PathName.joining(directory, file), what: what)
    }

    /// `text` into `file` of `directory`.
    static func write(_ text: String, _ directory: String, _ file: String, what: String) throws {
        try AtomicFile.write(Data(text.utf8), to: PathName.joining(directory, file), what: what)
    }
}
