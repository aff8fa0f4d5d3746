import Yams

/// Reads a JSON config (RFC 8259) into the node tree Yams decodes, so JSON
/// and YAML configs decode alike and get the same typed messages. Written
/// here because Foundation's parser on Linux says neither where nor why
/// ("The given data was not valid JSON." for `{"width": 3.5}` too), and keeps
/// the first of two equal keys without a word.
/// Checks on the way: syntax (line, column, what was expected and found),
/// duplicate keys compared by their decoded value ("\u0073teps" is
/// "steps"), keys and values past ConfigLimits.valueBytes, nesting past
/// ConfigLimits.depth. One pass, no recursion, no trap on any bytes.
/// Not here: UTF-8 validation (ConfigFile.parse does it first) and typing
/// values (numbers and literals stay text, as YAML's plain scalars do).
struct ConfigJSONReader {
    private let bytes: [UInt8]
    private var i = 0
    private var document = ConfigDocument()

    // Columns are counted incrementally: positions are asked for in
    // increasing order, so a minified 1 MiB line costs one pass, not one per key.
    private var line = 1
    private var lineStart = 0
    private var counted = 0, scalarsBeforeCounted = 0, scalarsBeforeLine = 0

    static func read(_ bytes: [UInt8]) throws -> ConfigDocument {
        var reader = ConfigJSONReader(bytes: bytes)
        try reader.run()
        return reader.document
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
        // a UTF-8 byte order mark is ignored (RFC 8259 §8.1 allows it), and
        // not counted as a column, as editors do not show it
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3; lineStart = 3; counted = 3 }
    }

    /// An object or array being read.
    private final class Frame {
        let isObject: Bool
        let path: String
        let at: TextPosition
        var pairs: [(Node, Node)] = []
        var items: [Node] = []
        var keys: [String: TextPosition] = [:]
        var key: (text: String, node: Node)?
        init(isObject: Bool, path: String, at: TextPosition) { self.isObject = isObject; self.path = path; self.at = at }
    }

    private enum Expect { case value, key, separator }

    private mutating func run() throws {
        var stack: [Frame] = []
        var expect = Expect.value
        var afterComma = false
        while true {
            skipWhitespace()
            let here = position(i)
            switch expect {
            case .value:
                let path = stack.last.map { childPath($0.path, $0.isObject ? .key($0.key?.text ?? "") : .index($0.items.count)) } ?? ""
                guard i < bytes.count else { throw fail(here, "expected a value, found the end of the file") }
                let c = bytes[i]
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    guard stack.count < ConfigLimits.depth else {
                        throw fail(here, "nested more than \(ConfigLimits.depth) levels deep")
                    }
                    document.valueAt[path] = here
                    stack.append(Frame(isObject: c == UInt8(ascii: "{"), path: path, at: here))
                    i += 1
                    expect = c == UInt8(ascii: "{") ? .key : .value
                    afterComma = false
                    skipWhitespace()
                    if i < bytes.count, bytes[i] == (c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        i += 1
                        close(&stack)
                        expect = .separator
                    }
                    continue
                }
                if c == UInt8(ascii: "]"), afterComma {
                    throw fail(here, "expected a value, found ']': JSON allows no comma before ']'")
                }
                document.valueAt[path] = here
                let node: Node
                if c == UInt8(ascii: "\"") {
                    let text = try string()
                    if let e = overlong(text, path, key: false, at: here) { throw e }
                    node = Node(text, Tag(.str), .doubleQuoted)
                } else if c == UInt8(ascii: "-") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) {
                    node = try number(path, here)
                } else if let literal = literal() {
                    node = Node(literal, Tag(literal == "null" ? .null : .bool), .plain)
                } else {
                    throw fail(here, "expected a value, found \(found())\(hint())")
                }
                add(node, to: stack.last)
                if stack.isEmpty { document.root = node }
                expect = .separator
            case .key:
                guard let frame = stack.last else { return }
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                    if i < bytes.count, bytes[i] == UInt8(ascii: "}"), afterComma {
                        throw fail(here, "expected a key, found '}': JSON allows no comma before '}'")
                    }
                    throw fail(here, "expected a key in double quotes, found \(found())\(hint())")
                }
                let key = try string()
                let path = childPath(frame.path, .key(key))
                if let e = overlong(key, path, key: true, at: here) { throw e }
                if let first = frame.keys[key] { throw duplicateKey(path, at: here, first: first) }
                frame.keys[key] = here
                document.keyAt[path] = here
                frame.key = (key, Node(key, Tag(.str), .doubleQuoted))
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
                    throw fail(position(i), "expected ':' after the key \(quotedPath(path)), found \(found())")
                }
                i += 1
                expect = .value
                afterComma = false
            case .separator:
                guard let frame = stack.last else {
                    guard i == bytes.count else { throw fail(here, "expected the end of the file after the value, found \(found())\(hint())") }
                    return
                }
                let end = frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if i < bytes.count, bytes[i] == UInt8(ascii: ",") {
                    i += 1
                    expect = frame.isObject ? .key : .value
                    afterComma = true
                } else if i < bytes.count, bytes[i] == end {
                    i += 1
                    close(&stack)
                } else {
                    let what = frame.isObject ? "',' or '}' in the object" : "',' or ']' in the list"
                    throw fail(here, "expected \(what) that starts at \(frame.at), found \(found())\(hint())")
                }
            }
        }
    }

    private mutating func close(_ stack: inout [Frame]) {
        let frame = stack.removeLast()
        let node: Node = frame.isObject ? .mapping(Node.Mapping(frame.pairs)) : .sequence(Node.Sequence(frame.items))
        add(node, to: stack.last)
        if stack.isEmpty { document.root = node }
    }

    private func add(_ node: Node, to frame: Frame?) {
        guard let frame else { return }
        if frame.isObject, let key = frame.key {
            frame.pairs.append((key.node, node))
            frame.key = nil
        } else {
            frame.items.append(node)
        }
    }

    // MARK: tokens

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"): i += 1
            case UInt8(ascii: "\n"): i += 1; newLine()
            case UInt8(ascii: "\r"):
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "\n") { i += 1 }
                newLine()
            default: return
            }
        }
    }

    private mutating func newLine() {
        advanceCount(to: i)
        line += 1
        lineStart = i
        scalarsBeforeLine = scalarsBeforeCounted
    }

    private mutating func advanceCount(to index: Int) {
        while counted < index {
            if bytes[counted] & 0xC0 != 0x80 { scalarsBeforeCounted += 1 }
            counted += 1
        }
    }

    private mutating func position(_ index: Int) -> TextPosition {
        advanceCount(to: index)
        return TextPosition(line: line, column: scalarsBeforeCounted - scalarsBeforeLine + 1)
    }

    /// A string starting at its opening quote, escapes decoded.
    private mutating func string() throws -> String {
        let open = position(i)
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw fail(open, "a string that is never closed (no closing '\"')") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if b < 0x20 {
                if b == 0x0A || b == 0x0D {
                    throw fail(position(i), "a line break inside a string (a missing closing '\"'?)")
                }
                throw fail(position(i), "control character U+\(hex(UInt32(b))) inside a string; write it as \\u\(hex(UInt32(b)))")
            }
            if b != UInt8(ascii: "\\") {
                // a run of plain bytes at once
                var end = i + 1
                while end < bytes.count, bytes[end] >= 0x20, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") { end += 1 }
                out.append(contentsOf: bytes[i ..< end])
                i = end
                continue
            }
            let escape = position(i)
            guard i + 1 < bytes.count else { throw fail(open, "a string that is never closed (no closing '\"')") }
            if let c = Self.escapes[bytes[i + 1]] { out.append(c); i += 2; continue }
            guard bytes[i + 1] == UInt8(ascii: "u") else {
                throw fail(escape, "invalid escape '\\\(found(at: i + 1, quoted: false))' "
                           + "(JSON escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX)")
            }
            guard var code = hex4(at: i + 2) else {
                throw fail(escape, "\\u must be followed by 4 hexadecimal digits")
            }
            i += 6
            if code >= 0xD800 && code < 0xDC00 {
                // a UTF-16 surrogate pair: the high half must be followed by the low half
                guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"),
                      let low = hex4(at: i + 2), low >= 0xDC00 && low < 0xE000 else {
                    throw fail(escape, "\\u\(hex(code)) is the first half of a UTF-16 surrogate pair; the second half (\\uDC00-\\uDFFF) must follow")
                }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                i += 6
            } else if code >= 0xDC00 && code < 0xE000 {
                throw fail(escape, "\\u\(hex(code)) is the second half of a UTF-16 surrogate pair, without the first")
            }
            out.append(contentsOf: String(Unicode.Scalar(code).map(Character.init) ?? "\u{FFFD}").utf8)
        }
    }

    /// \" \\ \/ \b \f \n \r \t
    private static let escapes: [UInt8: UInt8] = [0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 0x08, 0x66: 0x0C,
                                                  0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09]

    private func hex4(at index: Int) -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for b in bytes[index ..< index + 4] {
            guard let d = hexDigit(b) else { return nil }
            value = value << 4 | d
        }
        return value
    }

    private func hexDigit(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    /// A number as RFC 8259 spells it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func number(_ path: String, _ at: TextPosition) throws -> Node {
        let start = i
        func digits() -> Int {
            let from = i
            while i < bytes.count, Self.isDigit(bytes[i]) { i += 1 }
            return i - from
        }
        var valid = true, isInteger = true
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        if i < bytes.count, bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits() == 0 {
            valid = false
        }
        if valid, i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            isInteger = false
            valid = digits() > 0
        }
        if valid, i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            isInteger = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            valid = digits() > 0
        }
        // what a reader sees as the number: up to the next delimiter
        var end = i
        while end < bytes.count, !Self.delimiters.contains(bytes[end]) { end += 1 }
        let text = String(decoding: bytes[start ..< end], as: UTF8.self)
        if let e = overlong(text, path, key: false, at: at) { throw e }
        guard valid, end == i else {
            let lead = bytes[start] == UInt8(ascii: "-") ? start + 1 : start
            let hint = lead + 1 < end && bytes[lead] == UInt8(ascii: "0") && Self.isDigit(bytes[lead + 1])
                ? " (JSON numbers have no leading zeros)" : ""
            throw fail(at, "not a JSON number: '\(messageText(text))'\(hint)")
        }
        guard let value = Double(text), value.isFinite else {
            throw fail(at, "the number \(messageText(text)) is too large (past ±1.8e308)")
        }
        return Node(text, Tag(isInteger ? .int : .float), .plain)
    }

    private mutating func literal() -> String? {
        for word in ["true", "false", "null"] where bytes[i...].starts(with: word.utf8) {
            let after = i + word.utf8.count
            if after < bytes.count, Self.isWord(bytes[after]) { return nil }  // "nullx" is no literal
            i = after
            return word
        }
        return nil
    }

    private static let delimiters = Set(" \t\r\n,]}:".utf8)

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    /// Letters, digits, _ and anything not ASCII: what a reader takes for one word.
    private static func isWord(_ b: UInt8) -> Bool {
        b >= 0x80 || isDigit(b) || b == UInt8(ascii: "_") || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z"))
    }

    // MARK: messages

    private func fail(_ at: TextPosition, _ message: String) -> ConfigTextError { ConfigTextError(at: at, message: message) }

    /// What is at the current place, for "found …": a character, a word, or the end.
    private func found() -> String {
        guard i < bytes.count else { return "the end of the file" }
        if Self.isWord(bytes[i]) {
            var end = i
            while end < bytes.count, end - i < 41, Self.isWord(bytes[end]) { end += 1 }
            return "'\(messageText(String(decoding: bytes[i ..< end], as: UTF8.self)))'"
        }
        return found(at: i, quoted: true)
    }

    /// Why a character that is not JSON may be there.
    private func hint() -> String {
        guard i < bytes.count else { return "" }
        switch bytes[i] {
        case UInt8(ascii: "/"), UInt8(ascii: "#"): return " (JSON has no comments)"
        case UInt8(ascii: "'"): return " (JSON strings take double quotes)"
        default: return ""
        }
    }

    /// The character at `index`, escaped, in quotes if `quoted`.
    private func found(at index: Int, quoted: Bool) -> String {
        guard index < bytes.count else { return "the end of the file" }
        var end = index + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80, end - index < 4 { end += 1 }
        let text = messageText(String(decoding: bytes[index ..< end], as: UTF8.self))
        guard quoted else { return text }
        return text == "'" ? "\"'\"" : "'\(text)'"
    }
}
