/// The settings table flattened (one `SettingEntry` per key, what the CLI
/// reads), and flags applied to a configuration: where each section sits
/// in a RunConfig, what each flag does with its value.

/// Settings given apart from the file (the CLI's flags), by setting key
/// (`training.steps`, `model.layers[].width`); each value is what the
/// setting's flag parses to. `RunConfig.apply` applies them.
public struct SettingOverrides {
    public var values: [String: Any]
    public init(_ values: [String: Any] = [:]) { self.values = values }

    /// Only the settings `keys` name.
    func only(_ keys: Set<String>) -> SettingOverrides { SettingOverrides(values.filter { keys.contains($0.key) }) }
}

/// Changes a configuration by a value given for one setting (the others
/// given with it at hand).
typealias SettingApply = @Sendable (inout RunConfig, Any, SettingOverrides) throws -> Void

/// One setting of a run, flattened out of the table: its key, its help and
/// default as `--help` states them (other settings written `{key}`), its
/// flag or why it has none.
public struct SettingEntry: Sendable {
    /// `training.update-prob`; list items written `[]`: `model.layers[].width`.
    public let key: String
    public let help: String
    /// The default in words ("64", "off", "from {interfaces.rule}"), or nil to say nothing.
    public let defaultText: String?
    public let flag: String?
    /// Why there is no flag.
    public let noFlag: String?
    /// What the flag does with its value (nil: no flag).
    let apply: SettingApply?
    /// Sets the value, wherever the setting is (every item of a list).
    let set: SettingApply
    /// Command-line arguments that give the flag each of its sample values.
    let flagSamples: [[String]]
    /// Arguments that give a flag of the setting's type its sample values.
    let valueArguments: @Sendable (_ flag: String) -> [[String]]
    /// `config` with this setting set to each of its sample values.
    let variants: @Sendable (RunConfig) -> [RunConfig]

    public var helpWithDefault: String { help + (defaultText.map { " (default: \($0))" } ?? "") }
}

/// Where a section sits in a RunConfig: its key prefix, how to read it and
/// how to change it (a change through a list changes every item).
struct SettingPlace<Section>: Sendable {
    let prefix: String
    let read: @Sendable (RunConfig) -> Section?
    let modify: @Sendable (inout RunConfig, SettingOverrides, (inout Section) throws -> Void) throws -> Void
}

extension SettingPlace where Section == RunConfig {
    static var root: SettingPlace {
        SettingPlace(prefix: "", read: { $0 }, modify: { config, _, change in try change(&config) })
    }
}

extension SettingPlace {
    func key(_ name: String) -> String { prefix + name }

    func child<T>(_ name: String, _ path: WritableKeyPath<Section, T> & Sendable) -> SettingPlace<T> {
        SettingPlace<T>(prefix: key(name) + ".", read: { read($0)?[keyPath: path] },
                        modify: { config, given, change in try modify(&config, given) { try change(&$0[keyPath: path]) } })
    }

    /// An optional section, made by `whenAbsent` when a flag sets part of it.
    func child<T>(_ name: String, _ path: WritableKeyPath<Section, T?> & Sendable,
                  whenAbsent: @escaping @Sendable (RunConfig, SettingOverrides) throws -> T) -> SettingPlace<T> {
        SettingPlace<T>(prefix: key(name) + ".", read: { read($0)?[keyPath: path] ?? nil }, modify: { config, given, change in
            let made = try whenAbsent(config, given)
            try modify(&config, given) { section in
                var value = section[keyPath: path] ?? made
                try change(&value)
                section[keyPath: path] = value
            }
        })
    }

    func items<T>(_ name: String, _ path: WritableKeyPath<Section, [T]> & Sendable) -> SettingPlace<T> {
        SettingPlace<T>(prefix: key(name) + "[].", read: { read($0)?[keyPath: path].first }, modify: { config, given, change in
            try modify(&config, given) { section in
                for i in section[keyPath: path].indices { try change(&section[keyPath: path][i]) }
            }
        })
    }
}

/// A setting's flag: its name and what it does with its value. Written as a
/// string literal it sets the value; `set` and `config` say otherwise.
struct SettingFlag<Section>: Sendable, ExpressibleByStringLiteral {
    let name: String
    let apply: (@Sendable (inout RunConfig, SettingPlace<Section>, Any, SettingOverrides) throws -> Void)?
    /// Arguments giving the flag sample values, when its value is not the setting's type.
    let samples: [[String]]?

    init(stringLiteral name: String) { self.init(name: name, apply: nil, samples: nil) }

    private init(name: String, apply: (@Sendable (inout RunConfig, SettingPlace<Section>, Any, SettingOverrides) throws -> Void)?,
                 samples: [[String]]?) {
        self.name = name
        self.apply = apply
        self.samples = samples
    }

    /// A flag whose value `set` works into the section (text parsed into a
    /// placement, a rule that brings its preset).
    static func flag<F: SettingValue>(_ name: String, set: @escaping @Sendable (inout Section, F) throws -> Void) -> SettingFlag {
        SettingFlag(name: name, apply: { config, place, value, given in
            let value: F = try flagValue(value, name)
            try place.modify(&config, given) { try set(&$0, value) }
        }, samples: F.samples.map { $0.arguments(name) })
    }

    /// What the flag does at `place`, when it does more than set the value.
    func apply(at place: SettingPlace<Section>) -> SettingApply? {
        guard let apply else { return nil }
        return { config, value, given in try apply(&config, place, value, given) }
    }

    /// A flag whose value `apply` works into the whole configuration.
    static func flag<F: SettingValue>(_ name: String,
                                      config apply: @escaping @Sendable (inout RunConfig, F) throws -> Void) -> SettingFlag {
        SettingFlag(name: name, apply: { config, _, value, _ in try apply(&config, try flagValue(value, name)) },
                    samples: F.samples.map { $0.arguments(name) })
    }
}

/// The flags of a section that sits in more than one place (an optimizer):
/// given where it is embedded, by setting name, with their own help.
struct EmbeddedFlag<Section>: Sendable {
    let flag: SettingFlag<Section>
    let help: String?
    let defaultText: String?
    init(_ flag: SettingFlag<Section>, help: String? = nil, default defaultText: String? = nil) {
        self.flag = flag
        self.help = help
        self.defaultText = defaultText
    }
}

/// A flag's value as its setting's type; another type is a mistake in the
/// CLI's declarations, said in one line.
func flagValue<F>(_ value: Any, _ flag: String) throws -> F {
    guard let typed = value as? F else {
        throw DnicError("internal error: \(flag) gave a \(type(of: value)) where its setting takes a \(F.self)")
    }
    return typed
}

extension RunConfig {
    /// Every setting, in table order: what names settings in messages
    /// (`settingKeys`), what the CLI's flags map to, what `--help` says.
    public static let settingTable: [SettingEntry] = entries(at: .root)

    /// The entry of `key` (`model.layers[].width`), or nil.
    public static func setting(_ key: String) -> SettingEntry? { settingTable.first { $0.key == key } }

    /// Applies settings given as flags, in table order, each as its flag
    /// says (`--rule` brings its preset, `--optimizer` drops a rate chosen
    /// for another optimizer, …).
    public mutating func apply(_ overrides: SettingOverrides) throws {
        for key in overrides.values.keys where Self.setting(key)?.apply == nil {
            throw DnicError("internal error: no flag sets \(key)")
        }
        for entry in Self.settingTable {
            if let value = overrides.values[entry.key], let apply = entry.apply { try apply(&self, value, overrides) }
        }
    }
}
