/// The machinery behind the settings table (Settings.swift): a row per
/// setting, from which decoding, checking, printing, help and flag
/// application are derived. Not here: the rows themselves.

/// A value a setting holds: how --print-config writes it, how a help text
/// states it as a default, and values a test writes and reads back.
protocol SettingValue: Codable, Equatable, Sendable {
    var printed: PrintedValue { get }
    /// "64", "off", "he-uniform".
    var defaultText: String { get }
    static var samples: [Self] { get }
}

/// A value as --print-config writes it (YAML): a plain scalar, a flow list
/// (`[1, 2]`), a block mapping, or a block list of mappings.
enum PrintedValue {
    case scalar(String)
    case list([String])
    case mapping([(key: String, value: PrintedValue)])
    case mappings([[(key: String, value: PrintedValue)]])
}

/// A rule one value must keep, as the `SettingError` it throws otherwise;
/// `key` names the setting (`model.layers[2].width`).
struct Bound<V: Sendable>: Sendable {
    let check: @Sendable (_ value: V, _ key: String) throws -> Void
}

extension Bound where V: CustomStringConvertible {
    static func require(_ problem: String, _ holds: @escaping @Sendable (V) -> Bool) -> Bound {
        Bound { value, key in if !holds(value) { throw SettingError(key, value, problem) } }
    }
}

extension Bound where V == Int {
    static func between(_ low: Int, _ high: Int, _ problem: String? = nil) -> Bound {
        .require(problem ?? "must be between \(low) and \(high)") { $0 >= low && $0 <= high }
    }
    static func atLeast(_ low: Int) -> Bound { .require("must be at least \(low)") { $0 >= low } }
}

extension Bound where V == Double {
    static var positiveFinite: Bound { .require("must be a positive finite number") { $0 > 0 && $0.isFinite } }
    static var finiteNonNegative: Bound { .require("must be a finite number >= 0") { $0 >= 0 && $0.isFinite } }
    static var unitInterval: Bound { .require("must be in [0, 1)") { $0 >= 0 && $0 < 1 } }
}

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

    init(stringLiteral name: String) { self.init(name: name, apply: nil) }

    private init(name: String, apply: (@Sendable (inout RunConfig, SettingPlace<Section>, Any, SettingOverrides) throws -> Void)?) {
        self.name = name
        self.apply = apply
    }

    /// A flag whose value `set` works into the section (text parsed into a
    /// placement, a rule that brings its preset).
    static func flag<F>(_ name: String, set: @escaping @Sendable (inout Section, F) throws -> Void) -> SettingFlag {
        SettingFlag(name: name) { config, place, value, given in
            let value: F = try flagValue(value, name)
            try place.modify(&config, given) { try set(&$0, value) }
        }
    }

    /// What the flag does at `place`, when it does more than set the value.
    func apply(at place: SettingPlace<Section>) -> SettingApply? {
        guard let apply else { return nil }
        return { config, value, given in try apply(&config, place, value, given) }
    }

    /// A flag whose value `apply` works into the whole configuration.
    static func flag<F>(_ name: String, config apply: @escaping @Sendable (inout RunConfig, F) throws -> Void) -> SettingFlag {
        SettingFlag(name: name) { config, _, value, _ in try apply(&config, try flagValue(value, name)) }
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

/// A group of settings, one mapping in a config file: the struct is
/// decoded, encoded, printed and checked from `settings`.
protocol SettingSection: Codable, Equatable, Sendable {
    static var settings: [Setting<Self>] { get }
    static var defaults: Self { get }
    /// Where decoding starts: the defaults (InterfaceSpec: its rule's preset).
    static func decodingBase(_ container: KeyedDecodingContainer<AnyCodingKey>) throws -> Self
}

extension SettingSection {
    static func decodingBase(_ container: KeyedDecodingContainer<AnyCodingKey>) throws -> Self { defaults }

    /// Unknown keys are refused first; then each setting present replaces its default.
    init(decodingSettings decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: Self.knownKeys)
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        var value = try Self.decodingBase(container)
        for setting in Self.settings { try setting.decode(&value, container) }
        self = value
    }

    func encodeSettings(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        for setting in Self.settings { try setting.encode(self, &container) }
    }

    /// The names an unknown-key message lists.
    static var knownKeys: [String] {
        settings.filter { !$0.listedLast }.map(\.name) + settings.filter(\.listedLast).map(\.name)
    }

    var printedEntries: [(key: String, value: PrintedValue)] {
        Self.settings.compactMap { setting in setting.printed(self).map { (setting.name, $0) } }
    }

    /// Every setting's own bounds, in table order; `key` names this section.
    func checkSettings(at key: String) throws {
        for setting in Self.settings { try setting.check(self, key.isEmpty ? setting.name : key + "." + setting.name) }
    }

    static func entries(at place: SettingPlace<Self>) -> [SettingEntry] { settings.flatMap { $0.entries(place) } }
}

/// One setting of `Section`: its name in the mapping and how it decodes,
/// encodes, prints, is checked and flattens into `SettingEntry`s. Made by
/// `value`, `section` and `list` (Settings.swift lists them).
struct Setting<Section>: Sendable {
    let name: String
    /// Listed after the others in an unknown-key message (the order those
    /// messages have always had).
    let listedLast: Bool
    let decode: @Sendable (inout Section, KeyedDecodingContainer<AnyCodingKey>) throws -> Void
    let encode: @Sendable (Section, inout KeyedEncodingContainer<AnyCodingKey>) throws -> Void
    let printed: @Sendable (Section) -> PrintedValue?
    let check: @Sendable (Section, _ key: String) throws -> Void
    let entries: @Sendable (SettingPlace<Section>) -> [SettingEntry]
}

extension Setting {
    /// A value, its default the section's; `required`: a mapping must give it.
    static func value<V: SettingValue>(_ name: String, _ path: WritableKeyPath<Section, V> & Sendable, flag: SettingFlag<Section>? = nil,
                                       noFlag: String? = nil, help: String, default defaultText: String? = nil,
                                       bound: Bound<V>? = nil, required: Bool = false, listedLast: Bool = false) -> Setting {
        let key = AnyCodingKey(name)
        return Setting(
            name: name, listedLast: listedLast,
            decode: { section, c in
                if required { section[keyPath: path] = try c.decode(V.self, forKey: key) }
                else if let v = try c.decodeIfPresent(V.self, forKey: key) { section[keyPath: path] = v }
            },
            encode: { section, c in try c.encode(section[keyPath: path], forKey: key) },
            printed: { $0[keyPath: path].printed },
            check: { section, key in try bound?.check(section[keyPath: path], key) },
            entries: { place in
                [entry(place, name, path, samples: V.samples, flag: flag, noFlag: noFlag, help: help,
                       defaultText: defaultText ?? place.read(RunConfig.defaults).map { $0[keyPath: path].defaultText })]
            })
    }

    /// An optional value: nil is not written out, and means what `default` says.
    static func value<V: SettingValue>(_ name: String, _ path: WritableKeyPath<Section, V?> & Sendable, flag: SettingFlag<Section>? = nil,
                                       noFlag: String? = nil, help: String, default defaultText: String? = nil,
                                       bound: Bound<V>? = nil, listedLast: Bool = false) -> Setting {
        let key = AnyCodingKey(name)
        return Setting(
            name: name, listedLast: listedLast,
            decode: { section, c in if let v = try c.decodeIfPresent(V.self, forKey: key) { section[keyPath: path] = v } },
            encode: { section, c in try c.encodeIfPresent(section[keyPath: path], forKey: key) },
            printed: { $0[keyPath: path]?.printed },
            check: { section, key in if let v = section[keyPath: path] { try bound?.check(v, key) } },
            entries: { place in
                [entry(place, name, path, samples: [nil] + V.samples.map { $0 }, flag: flag, noFlag: noFlag, help: help,
                       defaultText: defaultText ?? place.read(RunConfig.defaults).flatMap { $0[keyPath: path]?.defaultText })]
            })
    }

    /// A nested section (`model`, `training`); its settings are flattened
    /// under its name. `flags`: the flags of its settings in this place,
    /// for a section embedded more than once; the rest have none, for the
    /// reason `otherwise` gives.
    static func section<T: SettingSection>(_ name: String, _ path: WritableKeyPath<Section, T> & Sendable,
                                           flags: [String: EmbeddedFlag<T>]? = nil, otherwise: String = "") -> Setting {
        let key = AnyCodingKey(name)
        return Setting(
            name: name, listedLast: false,
            decode: { section, c in if let v = try c.decodeIfPresent(T.self, forKey: key) { section[keyPath: path] = v } },
            encode: { section, c in try c.encode(section[keyPath: path], forKey: key) },
            printed: { .mapping($0[keyPath: path].printedEntries) },
            check: { section, key in try section[keyPath: path].checkSettings(at: key) },
            entries: { place in embedded(T.self, place.child(name, path), flags: flags, otherwise: otherwise) })
    }

    /// An optional section (`interfaces.optimizer`): absent unless a file
    /// or flag gives it; a flag for one of its settings starts it as `whenAbsent`.
    static func section<T: SettingSection>(_ name: String, _ path: WritableKeyPath<Section, T?> & Sendable,
                                           whenAbsent: @escaping @Sendable (RunConfig, SettingOverrides) throws -> T,
                                           flags: [String: EmbeddedFlag<T>]? = nil, otherwise: String = "") -> Setting {
        let key = AnyCodingKey(name)
        return Setting(
            name: name, listedLast: false,
            decode: { section, c in if let v = try c.decodeIfPresent(T.self, forKey: key) { section[keyPath: path] = v } },
            encode: { section, c in try c.encodeIfPresent(section[keyPath: path], forKey: key) },
            printed: { $0[keyPath: path].map { .mapping($0.printedEntries) } },
            check: { section, key in try section[keyPath: path]?.checkSettings(at: key) },
            entries: { place in
                embedded(T.self, place.child(name, path, whenAbsent: whenAbsent), flags: flags, otherwise: otherwise)
            })
    }

    /// A list of sections (`model.layers`): a setting itself, and its
    /// items' settings flattened as `name[].setting`; their flags change
    /// every item.
    static func list<T: SettingSection>(_ name: String, _ path: WritableKeyPath<Section, [T]> & Sendable,
                                        flag: SettingFlag<Section>? = nil, help: String, default defaultText: String? = nil,
                                        bound: Bound<[T]>? = nil) -> Setting {
        let key = AnyCodingKey(name)
        return Setting(
            name: name, listedLast: false,
            decode: { section, c in if let v = try c.decodeIfPresent([T].self, forKey: key) { section[keyPath: path] = v } },
            encode: { section, c in try c.encode(section[keyPath: path], forKey: key) },
            printed: { .mappings($0[keyPath: path].map(\.printedEntries)) },
            check: { section, key in
                try bound?.check(section[keyPath: path], key)
                for (i, item) in section[keyPath: path].enumerated() { try item.checkSettings(at: "\(key)[\(i)]") }
            },
            entries: { place in
                [entry(place, name, path, samples: [[], [T.defaults, T.defaults]], flag: flag, noFlag: nil, help: help,
                       defaultText: defaultText)]
                    + T.entries(at: place.items(name, path))
            })
    }

    /// The entry of a value at `place`.
    private static func entry<V: Sendable>(_ place: SettingPlace<Section>, _ name: String, _ path: WritableKeyPath<Section, V> & Sendable,
                                 samples: [V], flag: SettingFlag<Section>?, noFlag: String?, help: String,
                                 defaultText: String?) -> SettingEntry {
        let set: SettingApply = { config, value, given in
            let value: V = try flagValue(value, flag?.name ?? place.key(name))
            try place.modify(&config, given) { $0[keyPath: path] = value }
        }
        return SettingEntry(
            key: place.key(name), help: help, defaultText: defaultText, flag: flag?.name, noFlag: noFlag,
            apply: flag.map { $0.apply(at: place) ?? set }, set: set,
            variants: { config in
                samples.compactMap { sample in
                    var changed = config
                    do { try place.modify(&changed, SettingOverrides()) { $0[keyPath: path] = sample } } catch { return nil }
                    return changed
                }
            })
    }

    /// The entries of a section at `place`, with `flags` in place of its own.
    private static func embedded<T: SettingSection>(_: T.Type, _ place: SettingPlace<T>, flags: [String: EmbeddedFlag<T>]?,
                                                    otherwise: String) -> [SettingEntry] {
        let entries = T.entries(at: place)
        guard let flags else { return entries }
        return entries.map { entry in
            let name = String(entry.key.dropFirst(place.prefix.count))
            guard let given = flags[name] else {
                return SettingEntry(key: entry.key, help: entry.help, defaultText: entry.defaultText, flag: nil,
                                    noFlag: otherwise, apply: nil, set: entry.set, variants: entry.variants)
            }
            return SettingEntry(key: entry.key, help: given.help ?? entry.help, defaultText: given.defaultText ?? entry.defaultText,
                                flag: given.flag.name, noFlag: nil, apply: given.flag.apply(at: place) ?? entry.set, set: entry.set,
                                variants: entry.variants)
        }
    }
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

// MARK: how each kind of value prints

extension Int: SettingValue {
    var printed: PrintedValue { .scalar(String(self)) }
    var defaultText: String { String(self) }
    static var samples: [Int] { [0, -3, 12345, 1 << 40] }
}

extension UInt64: SettingValue {
    var printed: PrintedValue { .scalar(String(self)) }
    var defaultText: String { String(self) }
    static var samples: [UInt64] { [0, 7, .max] }
}

extension Double: SettingValue {
    var printed: PrintedValue { .scalar("\(self)") }
    var defaultText: String { SettingError.text(self) }
    static var samples: [Double] { [0, 0.1, 1e-8, -2.5, 6e10, 0.123456789] }
}

extension Bool: SettingValue {
    var printed: PrintedValue { .scalar("\(self)") }
    var defaultText: String { self ? "on" : "off" }
    static var samples: [Bool] { [false, true] }
}

/// Strings (only `data`) are written quoted: a path may hold anything.
extension String: SettingValue {
    var printed: PrintedValue { .scalar(ConfigFile.quoted(self)) }
    var defaultText: String { self }
    static var samples: [String] { ["synth:xor-2d", "csv:/a b/\"q\" #1: é.csv,t.csv", ""] }
}

/// Lists of numbers (an mlp interface's widths), as a flow list.
extension Array: SettingValue where Element == Int {
    var printed: PrintedValue { .list(map(String.init)) }
    var defaultText: String { map(String.init).joined(separator: ",") }
    static var samples: [[Int]] { [[], [7], [3, 5]] }
}

extension ConfigChoice {
    var printed: PrintedValue { .scalar(rawValue) }
    var defaultText: String { rawValue }
    static var samples: [Self] { Array(allCases) }
}

extension Activation: SettingValue {}
extension LossKind: SettingValue {}
extension InitKind: SettingValue {}
extension OptimizerKind: SettingValue {}
extension ScheduleKind: SettingValue {}
extension Rule: SettingValue {}
extension InterfaceKind: SettingValue {}
extension InterfaceTarget: SettingValue {}
extension InterfaceLoss: SettingValue {}
extension InterfaceSignal: SettingValue {}

/// A placement: a name, or its boundaries as a flow list.
extension Placement: SettingValue {
    var printed: PrintedValue {
        if case .list(let boundaries) = self { return .list(boundaries.map(String.init)) }
        return .scalar(text)
    }
    var defaultText: String { text }
    static var samples: [Placement] { [.none, .mid, .every, .output, .list([]), .list([3]), .list([1, 2])] }
}
