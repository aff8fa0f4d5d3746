import Yams

/// Config files are decoded strictly: an unknown key is an error naming it,
/// so a typo (`eval_every`) never silently falls back to a default.

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

/// A key no setting has. Carries its path so ConfigFile can say on which
/// line it is; reads as before when printed alone.
struct UnknownKeyError: Error, CustomStringConvertible {
    /// `training.eval_every`, as messages write it.
    let path: String
    let allowed: [String]
    var description: String { "unknown key \(quotedPath(path)) (known here: \(allowed.joined(separator: ", ")))" }
}

/// A value no setting accepts (an unknown choice, a bad placement), found
/// while decoding: carries where it is so ConfigFile can give its line.
struct BadValueError: Error, CustomStringConvertible {
    let codingPath: [CodingKey]
    /// What is wrong with it, after the key: "'x' is not one of a, b".
    let problem: String
    var description: String { "\(quotedPath(keyPath(codingPath))): \(problem)" }
}

func rejectUnknownKeys(in decoder: Decoder, allowed: [String]) throws {
    let container = try decoder.container(keyedBy: AnyCodingKey.self)
    for key in container.allKeys where !allowed.contains(key.stringValue) {
        throw UnknownKeyError(path: keyPath(decoder.codingPath + [key]), allowed: allowed)
    }
}

/// A key path element as a user wrote it: "layers[1]", not "Index 1".
func keyText(_ key: CodingKey) -> String {
    key.intValue.map { "[\($0)]" } ?? key.stringValue
}

/// One line for a DecodingError: where in the file, and what was wrong.
func describe(_ error: Error) -> String {
    guard let error = error as? DecodingError else { return messageText("\(error)", limit: 200) }
    switch error {
    case .typeMismatch(let type, let context):
        return "\(quotedPath(keyPath(context.codingPath))): expected \(typeName(type))"
    case .valueNotFound(let type, let context):
        return "\(quotedPath(keyPath(context.codingPath))): missing \(typeName(type)) value"
    case .keyNotFound(let key, let context):
        return "\(quotedPath(keyPath(context.codingPath + [key]))): required key missing"
    case .dataCorrupted(let context):
        return "\(quotedPath(keyPath(context.codingPath))): \(messageText(context.debugDescription, limit: 120))"
    @unknown default:
        return messageText("\(error)", limit: 200)
    }
}

/// The type a setting wanted, in a user's words; Yams names its node kinds.
private func typeName(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type: return "an integer"
    case is UInt64.Type: return "an integer from 0 to 18446744073709551615"
    case is Double.Type, is Float.Type: return "a number"
    case is Bool.Type: return "true or false"
    case is String.Type: return "a string"
    case is Node.Mapping.Type, is [String: Any].Type: return "key: value pairs"
    case is Node.Sequence.Type, is [Any].Type: return "a list"
    case is Node.Scalar.Type: return "a single value, not a list or key: value pairs"
    default: return "\(type)"
    }
}
