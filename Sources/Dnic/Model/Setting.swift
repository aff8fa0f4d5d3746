/// The rows of the settings table (Settings.swift lists them): a section's
/// settings decode, encode, print and check it, and flatten into
/// `SettingEntry`s. Not here: the kinds of values (SettingValue.swift),
/// flags and the flat table (SettingEntry.swift).

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

    /// The names an unknown-key message lists: table order, a few moved
    /// (`listedAfter`).
    static var knownKeys: [String] {
        var names = settings.map(\.name)
        for setting in settings {
            guard let after = setting.listedAfter, let i = names.firstIndex(of: setting.name) else { continue }
            names.remove(at: i)
            names.insert(setting.name, at: (names.firstIndex(of: after) ?? names.count - 1) + 1)
        }
        return names
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
    /// Where an unknown-key message lists it, when not in table order: after
    /// this setting (the order those messages have always had).
    let listedAfter: String?
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
                                       bound: Bound<V>? = nil, required: Bool = false, listedAfter: String? = nil) -> Setting {
        let key = AnyCodingKey(name)
        return Setting(
            name: name, listedAfter: listedAfter,
            decode: { section, c in
                if required { section[keyPath: path] = try c.decode(V.self, forKey: key) }
                else if let v = try c.decodeIfPresent(V.self, forKey: key) { section[keyPath: path] = v }
            },
            encode: { section, c in try c.encode(section[keyPath: path], forKey: key) },
            printed: { $0[keyPath: path].printed },
            check: { section, key in try bound?.check(section[keyPath: path], key) },
            entries: { place in
                [entry(place, name, path, samples: V.samples, valueArguments: { f in V.samples.map { $0.arguments(f) } },
                       flag: flag, noFlag: noFlag, help: help,
                       defaultText: defaultText ?? place.read(RunConfig.defaults).map { $0[keyPath: path].defaultText })]
            })
    }

    /// An optional value: nil is not written out, and means what `default` says.
    static func value<V: SettingValue>(_ name: String, _ path: WritableKeyPath<Section, V?> & Sendable, flag: SettingFlag<Section>? = nil,
                                       noFlag: String? = nil, help: String, default defaultText: String? = nil,
                                       bound: Bound<V>? = nil, listedAfter: String? = nil) -> Setting {
        let key = AnyCodingKey(name)
        return Setting(
            name: name, listedAfter: listedAfter,
            decode: { section, c in if let v = try c.decodeIfPresent(V.self, forKey: key) { section[keyPath: path] = v } },
            encode: { section, c in try c.encodeIfPresent(section[keyPath: path], forKey: key) },
            printed: { $0[keyPath: path]?.printed },
            check: { section, key in if let v = section[keyPath: path] { try bound?.check(v, key) } },
            entries: { place in
                [entry(place, name, path, samples: [nil] + V.samples.map { $0 }, valueArguments: { f in V.samples.map { $0.arguments(f) } },
                       flag: flag, noFlag: noFlag, help: help,
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
            name: name, listedAfter: nil,
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
            name: name, listedAfter: nil,
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
            name: name, listedAfter: nil,
            decode: { section, c in if let v = try c.decodeIfPresent([T].self, forKey: key) { section[keyPath: path] = v } },
            encode: { section, c in try c.encode(section[keyPath: path], forKey: key) },
            printed: { .mappings($0[keyPath: path].map(\.printedEntries)) },
            check: { section, key in
                try bound?.check(section[keyPath: path], key)
                for (i, item) in section[keyPath: path].enumerated() { try item.checkSettings(at: "\(key)[\(i)]") }
            },
            entries: { place in
                [entry(place, name, path, samples: [[], [T.defaults, T.defaults]], valueArguments: { _ in [] },
                       flag: flag, noFlag: nil, help: help,
                       defaultText: defaultText)]
                    + T.entries(at: place.items(name, path))
            })
    }

    /// The entry of a value at `place`.
    private static func entry<V: Sendable>(_ place: SettingPlace<Section>, _ name: String, _ path: WritableKeyPath<Section, V> & Sendable,
                                 samples: [V], valueArguments: @escaping @Sendable (String) -> [[String]],
                                 flag: SettingFlag<Section>?, noFlag: String?, help: String,
                                 defaultText: String?) -> SettingEntry {
        let set: SettingApply = { config, value, given in
            let value: V = try flagValue(value, flag?.name ?? place.key(name))
            try place.modify(&config, given) { $0[keyPath: path] = value }
        }
        return SettingEntry(
            key: place.key(name), help: help, defaultText: defaultText, flag: flag?.name, noFlag: noFlag,
            apply: flag.map { $0.apply(at: place) ?? set }, set: set,
            flagSamples: flag.map { $0.samples ?? valueArguments($0.name) } ?? [], valueArguments: valueArguments,
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
                                    noFlag: otherwise, apply: nil, set: entry.set, flagSamples: [], valueArguments: entry.valueArguments,
                                    variants: entry.variants)
            }
            return SettingEntry(key: entry.key, help: given.help ?? entry.help, defaultText: given.defaultText ?? entry.defaultText,
                                flag: given.flag.name, noFlag: nil, apply: given.flag.apply(at: place) ?? entry.set, set: entry.set,
                                flagSamples: given.flag.samples ?? entry.valueArguments(given.flag.name),
                                valueArguments: entry.valueArguments, variants: entry.variants)
        }
    }
}
