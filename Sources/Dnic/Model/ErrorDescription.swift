/// A DnicError (Base, below the settings) may name settings as `{key}`;
/// its description writes them plainly, as config keys (`optimizer.lr`).
extension DnicError: CustomStringConvertible {
    public var description: String { renderSettingKeys(message) { $0 } }
}
