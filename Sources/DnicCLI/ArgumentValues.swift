import ArgumentParser
import Dnic

/// Numbers on the command line. Numeric options are read with the
/// `.unconditional` strategy, so `--lr -1` passes "-1" as the value (and
/// gets "must be a positive finite number") instead of reading it as an
/// option; these transforms say what is wrong with text that is no number.
/// Ranges are checked by the library's validation, which knows them.
enum ArgumentValue {
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    static func integer(_ text: String) throws -> Int {
        if let value = Int(text) { return value }
        let digits = text.drop { $0 == "-" || $0 == "+" }
        if !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) {
            throw Problem(description: "too large for an integer (at most \(Int.max))")
        }
        throw Problem(description: "not an integer")
    }

    static func number(_ text: String) throws -> Double {
        guard let value = Double(text) else { throw Problem(description: "not a number") }
        return value
    }

    static func seed(_ text: String) throws -> UInt64 {
        guard let value = UInt64(text) else {
            throw Problem(description: "a seed is an integer from 0 to \(UInt64.max) (2^64 - 1)")
        }
        return value
    }
}

/// ArgumentParser's messages as one line in dnic's form: `--rule 'magic': not
/// one of backprop, sg, …` rather than a bulleted list, `--steps abc: not an
/// integer`, with the user's text elided past 80 characters.
enum ParserMessage {
    static func oneLine(_ message: String) -> String {
        let text = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = lines.first ?? text
        if let invalid = invalidValue(first, following: lines.dropFirst()) { return invalid }
        if let flag = quoted(first, after: "Missing value for '") {
            return "\(flag.prefix { $0 != " " }) needs a value"
        }
        if let option = quoted(first, after: "Unknown option '") {
            return "unknown option '\(messageText(option, limit: 80))' (see --help)"
        }
        return messageText(first, limit: 200)
    }

    /// "The value 'V' is invalid for '--flag <v>'" + ": reason" or a list of choices.
    private static func invalidValue(_ line: String, following: ArraySlice<String>) -> String? {
        let head = "The value '", middle = "' is invalid for '"
        guard line.hasPrefix(head), let m = line.range(of: middle) else { return nil }
        let value = String(line[line.index(line.startIndex, offsetBy: head.count)..<m.lowerBound])
        let afterName = line[m.upperBound...]
        let flag = String(afterName.prefix { $0 != " " && $0 != "'" })
        guard let close = afterName.firstIndex(of: "'") else { return nil }
        let rest = afterName[afterName.index(after: close)...]
        let shown = "\(flag) \(messageText(value, limit: 80))"
        if rest.hasPrefix(": ") { return "\(shown): \(rest.dropFirst(2))" }
        var choices = following.filter { $0.hasPrefix("  - ") }.map { String($0.dropFirst(4)) }
        if choices.isEmpty {  // "Please provide one of 'a', 'b' or 'c'."
            choices = rest.split(separator: "'", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map { String($0.element) }
        }
        return choices.isEmpty ? "\(shown): not a valid value" : "\(shown): not one of \(choices.joined(separator: ", "))"
    }

    private static func quoted(_ line: String, after prefix: String) -> String? {
        guard line.hasPrefix(prefix) else { return nil }
        let rest = line.dropFirst(prefix.count)
        guard let end = rest.lastIndex(of: "'") else { return nil }
        return String(rest[..<end])
    }
}
