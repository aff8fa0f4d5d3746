import Foundation

/// An output that cannot be written, or whose write failed: names the file
/// and the reason (the OS's words for a failed system call). The CLI puts the
/// flag in front (`--log run.jsonl: …`).
public struct OutputError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: Equatable, Sendable {
        /// A regular file is there and the caller did not allow replacing it.
        case exists
        case problem(String)
    }

    public let path: String
    public let reason: Reason

    public init(_ path: String, _ reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public init(_ path: String, _ problem: String) { self.init(path, .problem(problem)) }

    /// `what` failed with the current errno: "cannot create …: No space left on device".
    static func system(_ path: String, _ what: String, errno code: Int32 = errno) -> OutputError {
        OutputError(path, "\(what): \(String(cString: strerror(code)))")
    }

    public var problem: String {
        switch reason {
        case .exists: return "file exists"
        case .problem(let text): return text
        }
    }

    public var description: String { "\(pathText(path)): \(problem)" }
}
