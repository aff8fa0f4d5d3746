import Dnic
import Foundation

/// One line in plain words for an error that no part of dnic has turned
/// into its own message: Foundation's and the standard library's errors
/// would otherwise print as Swift descriptions (`EncodingError.invalidValue(
/// inf, Swift.EncodingError.Context(…))`, `Error Domain=NSCocoaErrorDomain
/// Code=516 …`), which no user should see. Anything else gets a generic
/// line without its type's name.
enum ErrorWords {
    static func line(for error: Error) -> String {
        switch error {
        case let error as EncodingError:
            guard case .invalidValue(let value, let context) = error else { return "cannot write the result in JSON" }
            let number = (value as? Double).map { " (\($0))" } ?? (value as? Float).map { " (\($0))" } ?? ""
            return "cannot write the result in JSON: a value\(number) at \(keyPath(context.codingPath)) is not a finite number"
        case let error as DecodingError:
            return "cannot read the file: \(decodingProblem(error))"
        case let error as CocoaError:
            let path = error.filePath ?? error.url?.path
            return (path.map { "\(pathText($0)): " } ?? "") + reason(error)
        case let error as POSIXError:
            return String(cString: strerror(error.code.rawValue))
        default:
            return "an unexpected internal error stopped dnic (please report it with the command that caused it)"
        }
    }

    /// A coding path as the JSON keys it names: `results[2].loss`.
    static func keyPath(_ path: [CodingKey]) -> String {
        guard !path.isEmpty else { return "the top level" }
        return path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    }

    static func decodingProblem(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "\(keyPath(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(keyPath(context.codingPath)) has a value of the wrong kind"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "it is not valid JSON" : "\(keyPath(context.codingPath)) is not valid"
        @unknown default:
            return "it is not in the expected form"
        }
    }

    /// The OS's words when Foundation says which system call failed, else the code's.
    static func reason(_ error: CocoaError) -> String {
        if let posix = error.underlying as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        switch error.code {
        case .fileNoSuchFile, .fileReadNoSuchFile: return String(cString: strerror(ENOENT))
        case .fileWriteFileExists: return String(cString: strerror(EEXIST))
        case .fileReadNoPermission, .fileWriteNoPermission: return String(cString: strerror(EACCES))
        case .fileWriteOutOfSpace: return String(cString: strerror(ENOSPC))
        case .fileWriteVolumeReadOnly: return String(cString: strerror(EROFS))
        case .fileReadInvalidFileName, .fileWriteInvalidFileName: return "the file name is not valid"
        case .fileReadTooLarge: return "the file is too large to read"
        case .fileReadCorruptFile: return "the file is damaged or not in the expected form"
        default: return "the file operation failed"
        }
    }
}
