import Foundation
import Yams

/// Reads a YAML config with Yams into its node tree, and turns what Yams
/// throws into one line with a line:column and libyaml's reason, never
/// Yams's own description (several lines, and the input quoted, up to the
/// whole file for a duplicate key). Checks what Yams does not: keys equal
/// as text (`1` and `"1"`, which the decoder looks up alike), keys and
/// values past ConfigLimits.valueBytes.
/// Not here: decoding into RunConfig (ConfigFile), the JSON reader.
enum ConfigYAMLReader {
    /// The resolver YAMLDecoder uses when given text: merge keys only, so
    /// every other scalar stays text until a type is asked for.
    private static let resolver = Resolver.basic.appending(.merge)

    static func read(_ text: String) throws -> ConfigDocument {
        try refuseAnchors(text)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, resolver)
        } catch YamlError.duplicatedKeysInMapping(let keys, let context) {
            throw locateDuplicate(in: text, key: keys.first, first: context.mark)
        } catch let error as YamlError {
            throw describe(error, in: text)
        }
        var document = ConfigDocument(root: root)
        if let root { try walk(root, "", &document, place: { $0.mark.map(TextPosition.init) }, name: { $0.string }) }
        return document
    }

    /// Anchors and aliases let a few bytes expand (or hash) into 2^40 nodes
    /// inside Yams, before any check of ours could run; a run configuration
    /// never needs them. A text match, so also "&x" inside a quoted value;
    /// names as libyaml scans them ([0-9A-Za-z_-]), after anything that can
    /// precede a node (a byte order mark too).
    private static func refuseAnchors(_ text: String) throws {
        guard let match = text.range(of: #"(^|[\s\x{FEFF}\[\{,:-])[&*][A-Za-z0-9_-]"#, options: .regularExpression) else { return }
        var start = text.unicodeScalars.distance(from: text.startIndex, to: match.lowerBound)
        if let first = text.unicodeScalars[match.lowerBound...].first, first != "&", first != "*" { start += 1 }
        throw ConfigTextError(at: textPosition(ofScalar: start, in: text.unicodeScalars),
                              message: "YAML anchors and aliases (&name, *name) are not supported in a run configuration")
    }

    /// Checks keys and lengths depth-first in document order, so the first
    /// duplicate found is the one whose second occurrence comes first; records
    /// where each key and value starts. `place` and `name` read a node's
    /// position and key text (locateDuplicate reads them through its edits).
    private static func walk(_ node: Node, _ path: String, _ document: inout ConfigDocument,
                             place: (Node) -> TextPosition?, name: (Node) -> String?) throws {
        let at = place(node)
        if let at { document.valueAt[path] = at }
        switch node {
        case .scalar(let scalar):
            if let e = overlong(scalar.string, path, key: false, at: at) { throw e }
        case .mapping(let mapping):
            var seen: [String: TextPosition?] = [:]
            for (keyNode, value) in mapping {
                // a list or mapping as a key: the decoder sees no key there, so neither do we
                guard let key = name(keyNode) else { continue }
                let keyPath = childPath(path, .key(key))
                let keyAt = place(keyNode)
                if let e = overlong(key, keyPath, key: true, at: keyAt) { throw e }
                if let first = seen[key] { throw duplicateKey(keyPath, at: keyAt, first: first) }
                seen[key] = keyAt
                if let keyAt { document.keyAt[keyPath] = keyAt }
                try walk(value, keyPath, &document, place: place, name: name)
            }
        case .sequence(let sequence):
            for (i, item) in sequence.enumerated() {
                try walk(item, childPath(path, .index(i)), &document, place: place, name: name)
            }
        case .alias:
            break
        }
    }

    /// Yams names a duplicate key and its *first* place only, and gives no
    /// tree. To name the second place and the key path, that first key is
    /// renamed in a copy of the text (a private-use character, U+E000 on the
    /// first try, U+E001 on the next, so renamed keys stay distinct, inserted
    /// at its start: no line moves, and the shift of later columns on that
    /// line is undone) and the copy composed again, once per duplicate Yams
    /// reports (at most 32, fewer for big files); the walk then finds the
    /// pair, reading keys without the marks. Yams's own report is the fallback.
    private static func locateDuplicate(in text: String, key: String?, first: Mark) -> ConfigTextError {
        let fallback = ConfigTextError(at: TextPosition(first),
                                       message: "duplicate key '\(messageText(key ?? "?", limit: 80))' (here and later in the same mapping)")
        var scalars = Array(text.unicodeScalars)
        var marks: [TextPosition] = []    // where the markers went, in the copy's positions
        var renamed = Set<TextPosition>()  // the renamed keys' starts, likewise
        var next = TextPosition(first)
        // each try composes the whole copy again: at most 8 MiB of text in all
        let tries = min(32, max(1, (8 << 20) / max(1, scalars.count)))
        for attempt in 0 ..< tries {
            let marker = Unicode.Scalar(0xE000 + UInt32(attempt)) ?? "\u{E000}"  // private use, below U+E020
            guard let start = scalarOffset(of: next, in: scalars) else { return fallback }
            // past a tag (`!!str key`): the key's text starts after it
            var offset = start
            if offset < scalars.count, scalars[offset] == "!" {
                while offset < scalars.count, scalars[offset] != " ", scalars[offset] != "\t", !isLineBreak(scalars[offset]) { offset += 1 }
                while offset < scalars.count, scalars[offset] == " " || scalars[offset] == "\t" { offset += 1 }
            }
            guard offset < scalars.count, !isLineBreak(scalars[offset]) else { return fallback }
            let quoted = scalars[offset] == "\"" || scalars[offset] == "'"
            let mark = TextPosition(line: next.line, column: next.column + (offset - start) + (quoted ? 1 : 0))
            func shifted(_ p: TextPosition) -> TextPosition {
                p.line == mark.line && p.column >= mark.column ? TextPosition(line: p.line, column: p.column + 1) : p
            }
            marks = marks.map(shifted) + [mark]
            renamed = Set(renamed.map(shifted)).union([next])
            scalars.insert(marker, at: offset + (quoted ? 1 : 0))
            let copy = String(String.UnicodeScalarView(scalars))
            do {
                guard let root = try Yams.compose(yaml: copy, resolver) else { return fallback }
                let original = { (m: Mark) -> TextPosition in
                    TextPosition(line: m.line, column: m.column - marks.filter { $0.line == m.line && $0.column < m.column }.count)
                }
                var unused = ConfigDocument()
                do {
                    try walk(root, "", &unused, place: { $0.mark.map(original) }, name: { node in
                        guard let s = node.string else { return nil }
                        guard let m = node.mark, renamed.contains(TextPosition(m)),
                              let first = s.unicodeScalars.first, (0xE000 ..< 0xE020).contains(first.value) else { return s }
                        return String(s.unicodeScalars.dropFirst())
                    })
                } catch let error as ConfigTextError {
                    return error
                } catch {
                    return fallback
                }
                return fallback
            } catch YamlError.duplicatedKeysInMapping(_, let context) {
                next = TextPosition(context.mark)
            } catch {
                return fallback
            }
        }
        return fallback
    }

    /// One line for a Yams error: where, and libyaml's reason in words a
    /// user can act on where we know better ones.
    private static func describe(_ error: YamlError, in text: String) -> ConfigTextError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let at = TextPosition(mark)
            let scalars = Array(text.unicodeScalars)
            let offending = scalarOffset(of: at, in: scalars).flatMap { $0 < scalars.count ? scalars[$0] : nil }
            if problem == "but found another document" {
                return ConfigTextError(at: at, message: "a second YAML document: a run configuration is one document (no '---' or '...' between settings)")
            }
            if problem.hasPrefix("Maximum nesting level") {
                return ConfigTextError(at: at, message: "nested more than 1000 levels deep")
            }
            let reason = messageText(problem, limit: 80)
            if offending == "\t" || problem.contains("tab character") {
                return ConfigTextError(at: at, message: "a tab character: YAML indents with spaces, not tabs (libyaml: \(reason))")
            }
            var message = reason
            if let context {
                let start = TextPosition(context.mark)
                message += " (\(messageText(context.text, limit: 80))\(start == at ? "" : " begun at \(start)"))"
            }
            return ConfigTextError(at: at, message: message)
        case let .reader(problem, offset, value, _):
            // Yams counts the offset in Characters
            let index = offset.flatMap { text.index(text.startIndex, offsetBy: $0, limitedBy: text.endIndex) }
            let at = index.map { textPosition(ofScalar: text.unicodeScalars.distance(from: text.startIndex, to: $0), in: text.unicodeScalars) }
            let hex = String(value, radix: 16, uppercase: true)
            let code = value >= 0 ? " (U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex))" : ""
            return ConfigTextError(at: at, message: "\(messageText(problem, limit: 80))\(code)")
        case .memory:
            return ConfigTextError(at: nil, message: "out of memory while reading the YAML")
        default:
            return ConfigTextError(at: nil, message: "not valid YAML: \(messageText("\(error)", limit: 80))")
        }
    }
}

extension TextPosition {
    init(_ mark: Mark) { self.init(line: mark.line, column: mark.column) }
}
