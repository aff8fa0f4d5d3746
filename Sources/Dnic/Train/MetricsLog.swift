import Foundation

/// JSON Lines metrics: one object per evaluation (`"event": "eval"`) and a
/// last one with `"event": "final"`. Each line is written and checked as it
/// happens (LineWriter), so a full disk stops the run at the line that failed.
public final class MetricsLog {
    private let file: LineWriter
    public var path: String { file.path }

    /// - Parameter mode: `.create` refuses an existing file; `.append`
    ///   continues a resumed run's log.
    public init(path: String, mode: LineWriter.Mode) throws {
        file = try LineWriter(path: path, mode: mode)
    }

    public func write(_ record: EvaluationRecord, event: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var object = try JSONSerialization.jsonObject(with: encoder.encode(record)) as! [String: Any]
        object["event"] = event
        let line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try file.write(String(decoding: line, as: UTF8.self))
    }

    public func sync() throws { try file.sync() }
}
