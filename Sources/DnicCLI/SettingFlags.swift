import ArgumentParser
import Dnic

/// The flags of `dnic train` that set settings, read against the library's
/// settings table (Dnic/Model/Settings.swift): a setting's `@Option` takes
/// its help and default from its row, and its parsed value goes to the
/// setting its flag names. A property's flag is its name in kebab case, as
/// ArgumentParser spells it (`updateProb` is `--update-prob`).
enum SettingFlags {
    /// The settings `command`'s flags give, by setting key: each property
    /// whose flag the table lists and the user gave.
    static func given(in command: some ParsableArguments) -> SettingOverrides {
        var values: [String: Any] = [:]
        for child in Mirror(reflecting: command).children {
            guard let label = child.label, let argument = child.value as? ParsedArgument,
                  let value = argument.parsedValue else { continue }
            let flag = "--" + kebabCase(label.hasPrefix("_") ? String(label.dropFirst()) : label)
            if let entry = RunConfig.settingTable.first(where: { $0.flag == flag }) { values[entry.key] = value }
        }
        return SettingOverrides(values)
    }

    /// `updateProb` → `update-prob`.
    static func kebabCase(_ name: String) -> String {
        name.reduce(into: "") { out, c in
            if c.isUppercase { out += "-" + c.lowercased() } else { out.append(c) }
        }
    }
}

extension ArgumentHelp {
    /// The help of the setting `key` from the settings table, its default
    /// after it, other settings it mentions named as flags.
    static func setting(_ key: String) -> ArgumentHelp {
        let text = RunConfig.setting(key)?.helpWithDefault ?? "(no setting \(key))"
        return ArgumentHelp(renderSettingKeys(text) { SettingNamer.flags[settingKeyPattern($0)] ?? $0 })
    }
}

/// A parsed `@Option` or `@Flag`: its value, nil when not given.
private protocol ParsedArgument {
    var parsedValue: Any? { get }
}

extension Option: ParsedArgument {
    fileprivate var parsedValue: Any? { unwrapped(wrappedValue) }
}

extension Flag: ParsedArgument {
    fileprivate var parsedValue: Any? { unwrapped(wrappedValue) }
}

/// `value` without its Optional wrapping; nil for nil.
private func unwrapped(_ value: Any) -> Any? {
    let mirror = Mirror(reflecting: value)
    guard mirror.displayStyle == .optional else { return value }
    return mirror.children.first.flatMap { unwrapped($0.value) }
}
