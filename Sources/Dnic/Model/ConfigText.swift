import Yams

/// What the two config readers (ConfigJSONReader, ConfigYAMLReader) share:
/// the parsed document with where each key and value starts, the limits on
/// config text, and the errors that point at a line and column.
/// Not here: decoding into RunConfig and the file name (ConfigFile).

/// A place in config text. Lines and columns start at 1; columns count
/// Unicode scalars, as libyaml does, so both formats count alike.
struct TextPosition: Hashable, Sendable, CustomStringConvertible {
    var line: Int
    var column: Int
    var description: String { "\(line):\(column)" }
}

/// A problem at a place in the text; ConfigFile.parse puts the file name
/// in front (`config FILE:LINE:COLUMN: message`).
struct ConfigTextError: Error {
    let at: TextPosition?
    let message: String
}

enum ConfigLimits {
    /// The largest config file read. The largest one dnic writes (4096
    /// hidden layers, the most `validate` allows, every other setting at
    /// its longest) is 287 KB as YAML and 484 KB as JSON (ConfigParseTests
    /// checks), so 1 MiB leaves room for comments and spacing. Past it a
    /// file is no hand-written config, and reading it costs: Yams takes
    /// about 1 s and 350 MB to compose a 100 MB one, 0.015 s for 1 MB
    /// (release build).
    static let fileBytes = 1 << 20
    /// The longest key or value. The longest setting is `data`, which
    /// holds at most two paths (PATH_MAX 4096 each) and a prefix; a boundary
    /// list written as text ("1,2,…,4095") needs about 20 KB.
    static let valueBytes = 1 << 16
    /// Deepest JSON nesting (a config nests 3 levels; libyaml stops YAML at 1000).
    static let depth = 100
}

/// A parsed config: the tree Yams decodes, and where each key and value
/// starts, by key path as messages write it (`model.layers[0].width`,
/// "" for the top level).
struct ConfigDocument {
    var root: Node?
    var valueAt: [String: TextPosition] = [:]
    var keyAt: [String: TextPosition] = [:]

    /// Where the value at `path` (a decoder's coding path) starts, if known.
    func position(of path: [CodingKey]) -> TextPosition? { valueAt[keyPath(path)] }

    /// The value at `path`, as the decoder found it.
    func node(at path: [CodingKey]) -> Node? {
        var node = root
        for key in path {
            if let i = key.intValue {
                guard let items = node?.sequence, i >= 0, i < items.count else { return nil }
                node = items[i]
            } else {
                node = node?.mapping?[key.stringValue]
            }
        }
        return node
    }
}

/// What a value is, for "expected an integer, found …".
func foundText(_ node: Node) -> String {
    switch node {
    case .scalar(let scalar):
        if scalar.style == .plain || scalar.style == .any {
            if ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return "no value (null)" }
            return "'\(messageText(scalar.string))'"
        }
        return "'\(messageText(scalar.string))' (in quotes, so text)"
    case .mapping: return "key: value pairs"
    case .sequence: return "a list"
    case .alias: return "an alias"
    }
}

/// `model.layers[0].width` for a coding path.
func keyPath(_ path: [CodingKey]) -> String {
    path.reduce("") { childPath($0, $1.intValue.map { .index($0) } ?? .key($1.stringValue)) }
}

enum PathStep { case key(String), index(Int) }

func childPath(_ parent: String, _ step: PathStep) -> String {
    switch step {
    case .key(let key): return parent.isEmpty ? key : parent + "." + key
    case .index(let i): return parent + "[\(i)]"
    }
}

/// A path quoted for a message, elided past 80 characters.
func quotedPath(_ path: String) -> String {
    path.isEmpty ? "top level" : "'\(messageText(path, limit: 80))'"
}

func duplicateKey(_ path: String, at: TextPosition?, first: TextPosition?) -> ConfigTextError {
    ConfigTextError(at: at, message: "duplicate key \(quotedPath(path))" + (first.map { " (first at \($0))" } ?? ""))
}

/// A key or value past ConfigLimits.valueBytes, or nil.
func overlong(_ text: String, _ path: String, key: Bool, at: TextPosition?) -> ConfigTextError? {
    let bytes = text.utf8.count
    guard bytes > ConfigLimits.valueBytes else { return nil }
    return ConfigTextError(at: at, message: "\(quotedPath(path)): a \(bytes)-byte \(key ? "key" : "value"); "
                                         + "no setting takes more than \(ConfigLimits.valueBytes) bytes")
}

/// Where the scalar at `offset` (counted in Unicode scalars) is. Line breaks
/// are libyaml's: LF, CR, CR LF, NEL, LS, PS.
func textPosition(ofScalar offset: Int, in scalars: some Sequence<Unicode.Scalar>) -> TextPosition {
    var p = TextPosition(line: 1, column: 1)
    var k = 0, afterCR = false
    for s in scalars {
        if k == offset { break }
        k += 1
        if s == "\n" && afterCR { afterCR = false; continue }  // CR LF is one break
        afterCR = s == "\r"
        if isLineBreak(s) { p = TextPosition(line: p.line + 1, column: 1) } else { p.column += 1 }
    }
    return p
}

/// The offset (in Unicode scalars) of the scalar at `position`, or nil.
func scalarOffset(of position: TextPosition, in scalars: [Unicode.Scalar]) -> Int? {
    var p = TextPosition(line: 1, column: 1)
    var k = 0
    while k < scalars.count {
        if p == position { return k }
        if p.line > position.line { return nil }
        let s = scalars[k]
        k += s == "\r" && k + 1 < scalars.count && scalars[k + 1] == "\n" ? 2 : 1
        if isLineBreak(s) { p = TextPosition(line: p.line + 1, column: 1) } else { p.column += 1 }
    }
    return p == position ? k : nil
}

func isLineBreak(_ s: Unicode.Scalar) -> Bool {
    s == "\n" || s == "\r" || s == "\u{85}" || s == "\u{2028}" || s == "\u{2029}"
}

/// Where the first byte that is not UTF-8 is, and which it is, or nil when
/// all of `bytes` is UTF-8.
func firstInvalidUTF8(_ bytes: [UInt8]) -> (at: TextPosition, byte: UInt8)? {
    if String(validating: bytes, as: UTF8.self) != nil { return nil }  // the fast check, for the usual case
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    var scalars: [Unicode.Scalar] = []
    while true {
        switch parser.parseScalar(from: &iterator) {
        case .valid(let encoded):
            scalars.append(Unicode.UTF8.decode(encoded))
            offset += encoded.count
        case .error:
            return (textPosition(ofScalar: scalars.count, in: scalars), bytes[offset])
        case .emptyInput:
            return nil
        }
    }
}
