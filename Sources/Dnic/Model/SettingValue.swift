/// The values settings hold (numbers, choices, placements, lists of
/// widths): how --print-config writes each kind, how a help text states it,
/// the bounds a value must keep, and sample values for the table's tests.

/// A value a setting holds: how --print-config writes it, how a help text
/// states it as a default, and values a test writes and reads back.
protocol SettingValue: Codable, Equatable, Sendable {
    var printed: PrintedValue { get }
    /// "64", "off", "he-uniform".
    var defaultText: String { get }
    static var samples: [Self] { get }
    /// The arguments that give it to `flag`: `--flag TEXT`, or `--flag` /
    /// `--no-flag` for a Boolean.
    func arguments(_ flag: String) -> [String]
}

extension SettingValue {
    func arguments(_ flag: String) -> [String] { [flag, defaultText] }
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
    func arguments(_ flag: String) -> [String] { [self ? flag : "--no-" + flag.dropFirst(2)] }
}

/// Strings (only `data`) are written quoted: a path may hold anything.
extension String: SettingValue {
    var printed: PrintedValue { .scalar(ConfigFile.quoted(self)) }
    var defaultText: String { self }
    func arguments(_ flag: String) -> [String] { ["\(flag)=\(self)"] }
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
extension MonitorKind: SettingValue {}
extension Rule: SettingValue {}
extension InterfaceKind: SettingValue {}
extension InterfaceTarget: SettingValue {}
extension InterfaceLoss: SettingValue {}
extension InterfaceSignal: SettingValue {}
extension InterfaceCentre: SettingValue {}

/// A placement: a name, or its boundaries as a flow list.
extension Placement: SettingValue {
    var printed: PrintedValue {
        if case .list(let boundaries) = self { return .list(boundaries.map(String.init)) }
        return .scalar(text)
    }
    var defaultText: String { text }
    static var samples: [Placement] { [.none, .mid, .every, .output, .list([]), .list([3]), .list([1, 2])] }
}
