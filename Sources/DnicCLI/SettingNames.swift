import Dnic

/// How `dnic train` names a setting in a message. The library names config
/// keys (`training.steps`); a user who typed `--steps` is told about
/// `--steps`, a user whose value came from a config file (or a checkpoint)
/// about the key in that file, never about a flag they did not type.
struct SettingNamer {
    /// Config key (list indices as `[]`) → the flag that sets it, from the
    /// settings table.
    static let flags: [String: String] = Dictionary(uniqueKeysWithValues: RunConfig.settingTable.compactMap { entry in
        entry.flag.map { (entry.key, $0) }
    })

    /// Flags on the command line, as `--name` (`--no-x` counts as `--x`).
    let given: Set<String>
    /// "config run.yaml" or "checkpoint run.safetensors": where settings the
    /// user did not type on the command line came from; nil = defaults.
    let source: String?
    /// `source` is a checkpoint being resumed: its user speaks flags, so
    /// hints ("try a smaller {optimizer.lr}") name flags even for settings
    /// the checkpoint supplied.
    let resumed: Bool

    init(arguments: [String], source: String?, resumed: Bool = false) {
        var given = Set<String>()
        for argument in arguments {
            if argument == "--" { break }
            guard argument.hasPrefix("--") else { continue }
            var name = String(argument.prefix { $0 != "=" })
            if name.hasPrefix("--no-") { name = "--" + name.dropFirst(5) }
            given.insert(name)
        }
        self.given = given
        self.source = source
        self.resumed = resumed
    }

    /// The flag when the user typed it, or when no file supplied settings;
    /// else the key as written in that file.
    func name(_ key: String) -> String {
        let flag = Self.flags[settingKeyPattern(key)]
        if let flag, given.contains(flag) { return flag }
        if source != nil { return key }
        return flag ?? key
    }

    /// One line: a setting named from a file gets the file in front.
    func render(_ error: SettingError) -> String {
        let text = error.render(naming: name)
        if let source, name(error.key) == error.key { return "\(source): \(text)" }
        return text
    }

    /// A library message whose `{key}` hints name settings.
    func render(_ message: String) -> String {
        renderSettingKeys(message, naming: resumed ? { Self.flags[settingKeyPattern($0)] ?? $0 } : name)
    }
}
