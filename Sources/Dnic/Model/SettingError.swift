/// A setting whose value cannot run, named by its config key
/// (`training.steps`, `model.layers[2].width`), never by a flag: the library
/// does not know whether the value came from a flag, a config file or a
/// checkpoint. The CLI renders the key as the flag the user typed, or as the
/// config key when the value came from a file (`render(naming:)`).
public struct SettingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The config key path.
    public let key: String
    /// The value as a user would write it (already elided), or nil.
    public let value: String?
    /// What is wrong. Other settings it mentions are written `{key}`, so they
    /// get the same naming as `key`.
    public let problem: String

    public init(_ key: String, _ value: (any CustomStringConvertible)?, _ problem: String) {
        self.key = key
        self.value = value.map { messageText(Self.text($0), limit: 80) }
        self.problem = problem
    }

    /// Numbers as a user would type them: "-1", not "-1.0".
    static func text(_ value: any CustomStringConvertible) -> String {
        if let d = value as? Double, d.isFinite, d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return value.description
    }

    /// The message with every key (its own and `{key}`s in the problem) named
    /// by `name`.
    public func render(naming name: (String) -> String) -> String {
        "\(name(key))\(value.map { " \($0)" } ?? ""): \(renderSettingKeys(problem, naming: name))"
    }

    public var description: String { render { $0 } }
}

/// Every config key a message may name, list indices written `[]`: the
/// settings table's keys.
public let settingKeys = Set(RunConfig.settingTable.map(\.key))

/// `model.layers[2].width` → `model.layers[].width`.
public func settingKeyPattern(_ key: String) -> String {
    var out = ""
    var inIndex = false
    for c in key {
        if c == "]" { inIndex = false }
        if !inIndex { out.append(c) }
        if c == "[" { inIndex = true }
    }
    return out
}

/// `text` with each `{key}` (a config key such as `{optimizer.lr}`)
/// replaced by `name(key)`. Library messages that point at another setting
/// (a hint such as "try a smaller {optimizer.lr}") are written this way;
/// braces around anything that is not a config key (a path may contain
/// them) are left alone.
public func renderSettingKeys(_ text: String, naming name: (String) -> String) -> String {
    var out = ""
    var rest = Substring(text)
    while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
        let inner = String(rest[rest.index(after: open)..<close])
        out += rest[..<open] + (settingKeys.contains(settingKeyPattern(inner)) ? name(inner) : "{\(inner)}")
        rest = rest[rest.index(after: close)...]
    }
    return out + rest
}

/// The most samples (steps × batch) a run may ask for: every count stays an
/// exact Double and far from Int overflow, and no run gets near it.
public let maxTrainingSamples = 1 << 53
