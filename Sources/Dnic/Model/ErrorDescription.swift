/// Library errors (in Base, below the settings) may name settings as
/// `{key}` and options as `{option:NAME}`; their descriptions write both
/// plainly (`optimizer.lr`, `overwrite`).
extension DnicError: CustomStringConvertible {
    public var description: String { plainNames(message) }
}

extension UsageError: CustomStringConvertible {
    public var description: String { plainNames(message) }
}

func plainNames(_ message: String) -> String {
    renderOptionNames(renderSettingKeys(message) { $0 }) { $0 }
}
