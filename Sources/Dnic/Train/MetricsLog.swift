import Foundation

/// A run's JSON Lines log: one object per evaluation (`"event": "eval"`),
/// one per checkpoint saved (`"event": "checkpoint"`, with its step) and a
/// last one with `"event": "final"`. Every record carries the `run` and
/// `segment` that wrote it (RunIdentity), so a resumed run can tell whether
/// a log is its own (LogContinuation); a log without an identity is
/// `dnic reproduce`'s, named by its file. Each line is written and checked as
/// it happens (LineWriter), so a full disk stops the run at the line that
/// failed, and the file is locked while the run writes it.
public final class MetricsLog {
    private let file: LineWriter
    public let identity: RunIdentity?
    public var path: String { file.path }
    /// How a resumed run continued the log (what it cut back), when it did.
    public private(set) var continuation: LogContinuation.Continuation?
    /// The line whose write failed (a full disk): the checkpoint saved then
    /// keeps it, and the resumed run writes it first (`pending`).
    public private(set) var unwritten: String?

    /// - Parameters:
    ///   - mode: `.create` refuses an existing file; `.append` continues a
    ///     resumed run's log; `.truncate` replaces a file.
    ///   - resuming: with `.append`, the checkpoint being resumed: the log is
    ///     checked again under its lock (LogContinuation) and cut back to it.
    ///   - pending: the record the resumed checkpoint's log could not take
    ///     (its `unwritten` line), written first.
    public init(path: String, mode: LineWriter.Mode, identity: RunIdentity?,
                resuming: LogContinuation.Resumed? = nil, pending: String? = nil) throws {
        file = try LineWriter(path: path, mode: mode)
        self.identity = identity
        if mode == .append, let resuming {
            switch LogContinuation.verdict(try file.contents(), resuming: resuming) {
            case .refuse(let why):
                throw OutputError(path, why)
            case .continue(let continuation):
                try file.truncate(to: continuation.keep)
                self.continuation = continuation
            }
        }
        if let pending { try write(line: pending) }
    }

    public func write(_ record: EvaluationRecord, event: String) throws {
        try write(line: Self.line(record, event: event, identity: identity))
    }

    /// Notes a checkpoint just saved at `step` (so that resuming an older
    /// checkpoint of this run later is not taken for a run killed after it);
    /// a log without ids is not continued that way and takes no note.
    public func noteCheckpoint(step: Int) throws {
        guard let identity else { return }
        let object: [String: Any] = ["event": "checkpoint", "step": step, "run": identity.run, "segment": identity.segment]
        try write(line: String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
    }

    /// One line as it is (a record of the caller's own, such as reproduce's `final`).
    public func write(line: String) throws {
        do {
            try file.write(line)
            unwritten = nil
        } catch {
            unwritten = line
            throw error
        }
    }

    public func sync() throws { try file.sync() }

    /// An evaluation as a log line: the record's fields, flat, with its
    /// event and (when given) who wrote it. `dnic reproduce` writes its
    /// runs' evaluations the same way.
    public static func line(_ record: EvaluationRecord, event: String, identity: RunIdentity?) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var object = try JSONSerialization.jsonObject(with: encoder.encode(record)) as! [String: Any]
        object["event"] = event
        if let identity {
            object["run"] = identity.run
            object["segment"] = identity.segment
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}
