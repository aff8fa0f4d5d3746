import Foundation

/// Reads a JSON Lines log as MetricsLog writes it (and `dnic reproduce`'s
/// RunStore, whose runs log the same evaluation lines): one JSON object per
/// line. The one reader of dnic's logs: a resumed run deciding whether a
/// log is its own (LogContinuation), a reproduction finding what its runs
/// logged (RunStore), `dnic analyze alignment` reading the curves.
public struct MetricsLogReader {
    /// The log's bytes.
    public let bytes: [UInt8]
    /// Every line ended by a newline, in order (empty ones too), as ranges
    /// of `bytes` without their newline.
    public let lines: [Range<Int>]
    /// What follows the last newline: a line cut short (the writer was
    /// killed mid-write), or a last line written without its newline.
    public let unterminated: Range<Int>?

    public init(_ data: Data) {
        bytes = [UInt8](data)
        var lines = [Range<Int>]()
        var start = 0
        // memchr: a resumed run reads its whole log, and debug builds are slow at byte loops
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            while start < raw.count, let hit = memchr(base + start, 0x0A, raw.count - start) {
                let newline = base.distance(to: UnsafeRawPointer(hit))
                lines.append(start ..< newline)
                start = newline + 1
            }
        }
        self.lines = lines
        unterminated = start < bytes.count ? start ..< bytes.count : nil
    }

    /// The log at `path`; nil when it cannot be read (absent, unreadable).
    public init?(path: String) {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        self.init(data)
    }

    /// Where the complete lines end: the byte after the last newline.
    public var completeEnd: Int { lines.last.map { $0.upperBound + 1 } ?? 0 }

    public func text(_ line: Range<Int>) -> String { String(decoding: bytes[line], as: UTF8.self) }

    /// A line's JSON object; nil when it is not one.
    public func object(_ line: Range<Int>) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(bytes[line])) as? [String: Any]
    }

    /// A line decoded as `type` (numbers that are not finite written as
    /// "inf", "-inf", "nan", as the writers write them); nil when it is not one.
    public func decode<T: Decodable>(_ type: T.Type, _ line: Range<Int>) -> T? {
        try? Self.decoder.decode(type, from: Data(bytes[line]))
    }

    /// The evaluations (`"event": "eval"`) among `some` of the lines.
    public func evaluations(in some: some Sequence<Range<Int>>) -> [EvaluationRecord] {
        some.compactMap { line in
            guard decode(Event.self, line)?.event == "eval" else { return nil }
            return decode(EvaluationRecord.self, line)
        }
    }

    /// One record as far as the log's continuation needs it: what happened,
    /// at which step, written by which run and segment (RunIdentity).
    /// A record's event, step and ids (RecordStamp, which checkpoint loading uses too).
    public typealias Record = RecordStamp

    public func record(_ line: Range<Int>) -> Record? { Record(bytes[line]) }

    private struct Event: Decodable { var event: String? }

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }()
}
