/// Config files are decoded strictly: an unknown key is an error naming it,
/// so a typo (`eval_every`) never silently falls back to a default.

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

func rejectUnknownKeys(in decoder: Decoder, allowed: [String]) throws {
    let container = try decoder.container(keyedBy: AnyCodingKey.self)
    for key in container.allKeys where !allowed.contains(key.stringValue) {
        let path = (decoder.codingPath.map(keyText) + [key.stringValue]).joined(separator: ".")
        throw DnicError("unknown key '\(messageText(path, limit: 80))' (known here: \(allowed.joined(separator: ", ")))")
    }
}

/// A key path element as a user wrote it: "layers[1]", not "Index 1".
func keyText(_ key: CodingKey) -> String {
    key.intValue.map { "[\($0)]" } ?? key.stringValue
}

/// One line for a DecodingError: where in the file, and what was wrong.
func describe(_ error: Error) -> String {
    func path(_ keys: [CodingKey]) -> String {
        let text = keys.map(keyText).joined(separator: ".")
        return text.isEmpty ? "top level" : "'\(messageText(text.replacingOccurrences(of: ".[", with: "["), limit: 80))'"
    }
    guard let error = error as? DecodingError else { return "\(error)" }
    switch error {
    case .typeMismatch(let type, let context):
        return "\(path(context.codingPath)): expected \(typeName(type))"
    case .valueNotFound(let type, let context):
        return "\(path(context.codingPath)): missing \(typeName(type)) value"
    case .keyNotFound(let key, let context):
        return "\(path(context.codingPath + [key])): required key missing"
    case .dataCorrupted(let context):
        let detail = context.debugDescription.split(separator: "\n").first.map(String.init) ?? "invalid value"
        return "\(path(context.codingPath)): \(detail)"
    @unknown default:
        return "\(error)"
    }
}

private func typeName(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type, is UInt64.Type: return "an integer"
    case is Double.Type, is Float.Type: return "a number"
    case is Bool.Type: return "true or false"
    case is String.Type: return "a string"
    default: return "\(type)"
    }
}
