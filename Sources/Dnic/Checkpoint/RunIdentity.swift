import Foundation

/// Who wrote a log record or a checkpoint. `run` is made when a run starts
/// fresh and kept by every resume of it (and by copies of its checkpoints);
/// `segment` is made by every invocation, start or resume. Together they
/// tell a resumed run whether a log is its own and whether the records past
/// its checkpoint were written by the invocation that saved it
/// (`LogContinuation`). Both are 16 random hexadecimal digits.
public struct RunIdentity: Equatable, Sendable {
    public let run: String
    public let segment: String

    /// A new segment of the run `run`, or of a new run when nil.
    public static func starting(run: String? = nil) -> RunIdentity {
        RunIdentity(checkedRun: run ?? randomID(), segment: randomID())
    }

    /// From stored text; nil when either is not an id.
    public init?(run: String, segment: String) {
        guard Self.isID(run), Self.isID(segment) else { return nil }
        self.init(checkedRun: run, segment: segment)
    }

    private init(checkedRun run: String, segment: String) {
        self.run = run
        self.segment = segment
    }

    static func randomID() -> String {
        let digits = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func isID(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// One line of a dnic log as far as who wrote it: its event, step, run and
/// segment (nil: not a dnic JSON record). A checkpoint checks the record it
/// carries for its log with it; `LogContinuation` reads a log's tail.
public struct RecordStamp {
    public var event: String
    public var step: Int
    public var run: String?
    public var segment: String?

    /// nil unless `line` is a JSON object with an event and a step.
    public init?(_ line: some Collection<UInt8>) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
              let event = object["event"] as? String, let step = object["step"] as? Int else { return nil }
        self.event = event
        self.step = step
        run = object["run"] as? String
        segment = object["segment"] as? String
    }
}
