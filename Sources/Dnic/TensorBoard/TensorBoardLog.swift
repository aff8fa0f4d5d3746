import Foundation

/// `--tensorboard DIR`: a run's evaluations as TensorBoard scalars, in an
/// event file of its own in DIR (`events.out.tfevents.<time>.<host>.<pid>`,
/// TensorBoard's naming; a resumed run adds a new file beside the earlier
/// ones, which TensorBoard reads as one run). Every number of an
/// evaluation's JSON Lines record goes in at the record's step, tagged by
/// its key (`test_loss`, `interfaces/layer_2/loss`, `blocks/1/wait_seconds`),
/// so a field added to the log reaches TensorBoard too. Each event is
/// written through at once (evaluations are rare), so a run killed later
/// leaves a readable file.
public final class TensorBoardLog {
    public let path: String
    public let directory: String
    /// `directory` did not exist and was made for this run.
    public let madeDirectory: Bool
    private let fd: Int32
    private let started: Date
    /// The file-version record goes in with the first evaluation, so a run
    /// that fails before one leaves an empty file its command can remove.
    private var headerWritten = false
    /// A resumed run: the step it starts from.
    private let resumedStep: Int?

    /// Checks before the run that `directory` is one (or can be made) and takes a new file.
    public static func check(_ directory: String) throws {
        try OutputFile.checkNewDirectory(directory)  // a directory there, or one can be made
        var info = stat()
        if stat(directory, &info) == 0 {
            do { try OutputFile.probeDirectory(of: PathName.joining(directory, "events.out.tfevents")) } catch {
                throw OutputError(directory, "cannot create a file in it")
            }
        }
    }

    /// Makes `directory` if need be and starts a new event file in it.
    /// - Parameter resumedStep: a resumed run's starting step, marked as a
    ///   restart so TensorBoard drops what a killed run wrote past it.
    public init(directory: String, resumedStep: Int? = nil, now: Date = Date()) throws {
        self.resumedStep = resumedStep
        madeDirectory = !FileManager.default.fileExists(atPath: directory)  // check() saw to it being a directory if there
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw OutputError(directory, "cannot create the directory")
        }
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "_")
        let base = "events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host).\(getpid())"
        var suffix = 0, candidate = PathName.joining(directory, base), opened: Int32 = -1
        while true {
            opened = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
            if opened >= 0 || errno != EEXIST { break }
            suffix += 1  // a second run of this process in the same second
            candidate = PathName.joining(directory, "\(base).\(suffix)")
        }
        guard opened >= 0 else { throw OutputError.system(candidate, "cannot create the event file") }
        path = candidate
        self.directory = PathName.withoutTrailingSlashes(directory)
        fd = opened
        started = now
    }

    deinit { close(fd) }

    /// One evaluation: its scalars at its step.
    public func write(_ record: EvaluationRecord, now: Date = Date()) throws {
        if !headerWritten {
            try append(EventProto.fileVersion(wallTime: started.timeIntervalSince1970))
            // TensorBoard drops earlier events at the START step and past it;
            // the checkpoint's own step was evaluated before it was saved
            if let resumedStep { try append(EventProto.sessionStart(step: resumedStep + 1, wallTime: started.timeIntervalSince1970)) }
            headerWritten = true
        }
        let scalars = try Self.scalars(of: record)
        try append(EventProto.scalars(scalars, step: record.step, wallTime: now.timeIntervalSince1970))
    }

    /// The record's numbers as the log has them (its line, read back, so
    /// the two always agree), flattened to tags; `step` is the event's step.
    public static func scalars(of record: EvaluationRecord) throws -> [(tag: String, value: Float)] {
        let line = try MetricsLog.line(record, event: "eval", identity: nil)
        // JSONDecoder, not JSONSerialization: the latter's numbers are off
        // by a unit in the last place now and then, which can change the float
        guard case .object(let object) = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) else { return [] }
        var out = [(tag: String, value: Float)]()
        for key in object.keys.sorted() where key != "step" {
            switch object[key] {
            case .number(let v)?: out.append((key, Float(v)))
            case .array(let items)?:
                for (index, element) in items.enumerated() {
                    guard case .object(let item) = element else { continue }
                    // interfaces are named by their layer, blocks by their place (bottom first)
                    var name = "\(index + 1)"
                    if case .number(let layer)? = item["layer"] { name = "layer_\(Int(layer))" }
                    for sub in item.keys.sorted() where sub != "layer" {
                        if case .number(let v)? = item[sub] { out.append(("\(key)/\(name)/\(sub)", Float(v))) }
                    }
                }
            default: continue  // the event's name; a non-finite number is said as a string and left out
            }
        }
        return out
    }

    /// A log line's values, as far as scalars need them.
    private enum JSONValue: Decodable {
        case number(Double), array([JSONValue]), object([String: JSONValue]), other

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode(Double.self) { self = .number(v) }
            else if let v = try? c.decode([JSONValue].self) { self = .array(v) }
            else if let v = try? c.decode([String: JSONValue].self) { self = .object(v) }
            else { self = .other }
        }
    }

    private func append(_ event: [UInt8]) throws {
        let record = TFRecord.framed(event)
        var done = 0
        while done < record.count {
            let n = record.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, record.count - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw OutputError.system(path, "cannot write") }
            done += n
        }
    }
}
