import Foundation
import Yams

/// Reading and printing run configurations: YAML (the default, and what
/// `--print-config` prints) or JSON (files ending in .json).
public enum ConfigFile {
    public static func load(path: String) throws -> RunConfig {
        let name = pathText(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DnicError("config \(name): no such file")
        }
        if isDirectory.boolValue { throw DnicError("config \(name): a directory, not a config file") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DnicError("config \(name): cannot open the file (permission denied?)")
        }
        defer { try? handle.close() }
        // one byte past the cap at most: a 100 MB file (or an endless pipe)
        // is refused without reading it
        let data: Data
        do { data = try handle.read(upToCount: ConfigLimits.fileBytes + 1) ?? Data() } catch {
            throw DnicError("config \(name): cannot read the file (\(messageText(error.localizedDescription, limit: 80)))")
        }
        return try parse(data, name: path)
    }

    /// Parses configuration text; `name` ends in .json for JSON, and names
    /// the source in errors: `config NAME:LINE:COLUMN: what is wrong`, one
    /// line, quoting at most 80 characters of any text from the file.
    /// Editors on Windows start UTF-8 files with U+FEFF; YAML allows it, but
    /// Yams then misreads a `---` document start that follows it.
    static func withoutByteOrderMark(_ text: String) -> String {
        text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    }

    public static func parse(_ data: Data, name path: String) throws -> RunConfig {
        func fail(_ at: TextPosition?, _ message: String) -> DnicError {
            DnicError("config \(pathText(path))\(at.map { ":\($0)" } ?? ""): \(message)")
        }
        guard data.count <= ConfigLimits.fileBytes else {
            throw fail(nil, "larger than \(ConfigLimits.fileBytes) bytes; a run configuration is a few KB "
                          + "(the largest dnic writes, with 4096 hidden layers, is under 500 KB)")
        }
        let bytes = [UInt8](data)
        if let bad = firstInvalidUTF8(bytes) {
            throw fail(bad.at, "not UTF-8 text (byte 0x\(String(bad.byte, radix: 16, uppercase: true)))")
        }
        let document: ConfigDocument
        do {
            document = path.lowercased().hasSuffix(".json")
                ? try ConfigJSONReader.read(bytes) : try ConfigYAMLReader.read(withoutByteOrderMark(String(decoding: bytes, as: UTF8.self)))
        } catch let error as ConfigTextError {
            throw fail(error.at, error.message)
        }
        // an empty YAML file (or only comments) is every default
        guard let root = document.root else { return RunConfig() }
        do {
            return try YAMLDecoder().decode(RunConfig.self, from: root)
        } catch let error as UnknownKeyError {
            throw fail(document.keyAt[error.path], error.description)
        } catch let error as BadValueError {
            throw fail(document.position(of: error.codingPath), error.description)
        } catch let error as DnicError {
            throw fail(nil, error.message)
        } catch let error as DecodingError {
            // our own one-line errors may come back wrapped by the decoder
            if let inner = underlyingDnicError(error) { throw fail(nil, inner.message) }
            var message = describe(error)
            if case .typeMismatch(_, let context) = error, let node = document.node(at: context.codingPath) {
                message += ", found \(foundText(node))"
            }
            throw fail(position(of: error, in: document), message)
        } catch {
            throw fail(nil, messageText("\(error)", limit: 200))
        }
    }

    /// Where a decoding error is: the value it is about, or for a missing
    /// key the mapping that lacks it.
    private static func position(of error: DecodingError, in document: ConfigDocument) -> TextPosition? {
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c):
            return document.position(of: c.codingPath)
        @unknown default:
            return nil
        }
    }

    /// The effective configuration as YAML, with every default written out
    /// and every learning rate resolved, in table order (Settings.swift).
    /// Written by hand rather than by Yams's encoder, which spells 0.9 as
    /// "9e-1"; the result is read back by `load` (a test checks).
    public static func yaml(_ config: RunConfig) throws -> String {
        yamlLines(config.resolvedForPrinting.printedEntries, indent: 0).joined(separator: "\n") + "\n"
    }

    /// Scalars and flow lists on the key's line, mappings indented below it,
    /// a list of mappings as `- ` items at the key's indentation.
    static func yamlLines(_ entries: [(key: String, value: PrintedValue)], indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        for (key, value) in entries {
            switch value {
            case .scalar(let text):
                lines.append("\(pad)\(key): \(text)")
            case .list(let items):
                lines.append("\(pad)\(key): [\(items.joined(separator: ", "))]")
            case .mapping(let inner):
                lines.append("\(pad)\(key):")
                lines += yamlLines(inner, indent: indent + 2)
            case .mappings(let items):
                lines.append("\(pad)\(key):" + (items.isEmpty ? " []" : ""))
                for item in items {
                    var itemLines = yamlLines(item, indent: indent + 2)
                    if !itemLines.isEmpty { itemLines[0] = pad + "- " + itemLines[0].dropFirst(indent + 2) }
                    lines += itemLines
                }
            }
        }
        return lines
    }

    /// A YAML double-quoted scalar (JSON string syntax is valid YAML).
    static func quoted(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
    }

    public static func json(_ config: RunConfig) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(config.resolvedForPrinting), as: UTF8.self)
    }
}

private func underlyingDnicError(_ error: Error) -> DnicError? {
    if let error = error as? DnicError { return error }
    if case .dataCorrupted(let context)? = error as? DecodingError, let inner = context.underlyingError {
        return underlyingDnicError(inner)
    }
    return nil
}
