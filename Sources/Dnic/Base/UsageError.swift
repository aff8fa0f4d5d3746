/// A request that cannot run as asked, found before any work: a value out
/// of range, a checkpoint an analysis cannot take, a log that is not one.
/// The CLI exits 2 on it (a failure while running is a DnicError: exit 1).
/// The message may name settings as `{key}` and the calling command's own
/// options as `{option:NAME}` (renderOptionNames), never as flags.
public struct UsageError: Error, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// `text` with each `{option:NAME}` replaced by `name(NAME)`. A library
/// message names an option of the command that called it (how to run, not
/// what to train: `overwrite`, `out`, `log`, an analysis's `at`) this way,
/// since only the front end knows how it is spelled (the CLI: `--overwrite`).
public func renderOptionNames(_ text: String, naming name: (String) -> String) -> String {
    let open = "{option:"
    var out = ""
    var rest = Substring(text)
    while let start = rest.firstRange(of: open), let close = rest[start.upperBound...].firstIndex(of: "}") {
        out += rest[..<start.lowerBound] + name(String(rest[start.upperBound..<close]))
        rest = rest[rest.index(after: close)...]
    }
    return out + rest
}
