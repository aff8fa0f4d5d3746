import Foundation

/// Whether a resumed run may continue an existing log, decided from the
/// log's bytes and the checkpoint being resumed. Every record carries the
/// `run` and `segment` that wrote it; the checkpoint knows its run, the
/// segment that saved it and its step N. The log is continued when
///
/// - it is empty, or its last record is this run's and at step ≤ N: the
///   new records follow on; or
/// - the records past step N were all written by the segment that saved
///   this checkpoint, and none of them says that segment saved again (a
///   `checkpoint` or `final` record): the run was killed after its last
///   checkpoint, so those records are cut back and written again.
///
/// Anything else is refused: a file that is not a dnic log, another run's
/// log, or records past N from another continuation of the run (one
/// resumed from a copy of this checkpoint, or the run itself after it saved
/// again). A last line cut short (a crash mid-write) is dropped when the
/// complete line before it is this run's record.
public enum LogContinuation {
    /// The checkpoint being resumed: who saved it (nil: an earlier dnic,
    /// which wrote no ids) and its step.
    public struct Resumed: Equatable, Sendable {
        public var identity: RunIdentity?
        public var step: Int
        public init(identity: RunIdentity?, step: Int) {
            self.identity = identity
            self.step = step
        }
    }

    /// How a log is continued: its first `keep` bytes stay.
    public struct Continuation: Equatable, Sendable {
        public var keep: Int
        /// Steps of the records past the checkpoint that are cut back.
        public var cutSteps: ClosedRange<Int>?
        /// A last line cut short is dropped.
        public var tornLine: Bool

        /// What continuing cut back, in words to follow the log's path (nil: nothing).
        public var note: String? {
            guard cutSteps != nil || tornLine else { return nil }
            let cut = cutSteps.map { steps in
                "its records of step\(steps.count > 1 ? "s \(steps.lowerBound)–\(steps.upperBound)" : " \(steps.lowerBound)") "
                    + "(logged after this checkpoint by the run that saved it, before it was stopped) are written again"
            }
            let torn = tornLine ? "a line cut short at its end was dropped" : nil
            return [cut, torn].compactMap { $0 }.joined(separator: "; ")
        }
    }

    public enum Verdict: Equatable, Sendable {
        case `continue`(Continuation)
        /// Why not, worded to follow the log's path.
        case refuse(String)
    }

    public static func verdict(_ data: Data, resuming checkpoint: Resumed) -> Verdict {
        let log = MetricsLogReader(data)
        guard !log.bytes.isEmpty else { return .continue(Continuation(keep: 0, cutSteps: nil, tornLine: false)) }
        // the complete lines end at `end`; after it, a line cut short
        guard !log.lines.isEmpty else {
            return .refuse("is not a dnic log (it holds no complete line)")
        }
        let end = log.completeEnd
        let run = checkpoint.identity?.run
        var keep = end
        var tail = [RecordStamp]()
        for line in log.lines.reversed() {
            guard let record = log.record(line) else {
                return .refuse(tail.isEmpty ? "is not a dnic log (its last line is not a dnic JSON record)"
                                            : "is not a dnic log (a line before its last record is not a dnic JSON record)")
            }
            if tail.isEmpty, record.run != run { return .refuse(otherRun(record.run, checkpoint: run)) }
            if record.step <= checkpoint.step { break }
            tail.append(record)
            keep = line.lowerBound
        }
        let torn = log.unterminated != nil
        guard let last = tail.first else { return .continue(Continuation(keep: end, cutSteps: nil, tornLine: torn)) }
        let rewritable = checkpoint.identity.map { id in
            tail.allSatisfy { $0.run == id.run && $0.segment == id.segment && $0.event == "eval" }
        } ?? false
        guard rewritable else {
            if run == nil {
                return .refuse("holds records up to step \(last.step), past this checkpoint's step \(checkpoint.step); "
                               + "the dnic that wrote them kept no run ids, so whether they continue this checkpoint cannot be told")
            }
            return .refuse("holds this run's records up to step \(last.step), past this checkpoint's step \(checkpoint.step), "
                           + "from another continuation of the run (a copy of this checkpoint resumed, or the "
                           + "run going on after saving it)")
        }
        return .continue(Continuation(keep: keep, cutSteps: tail.last!.step...last.step, tornLine: torn))
    }

    private static func otherRun(_ found: String?, checkpoint run: String?) -> String {
        switch (found, run) {
        case (nil, _): return "holds records of another run (they carry no run id; this checkpoint's run is \(run ?? "none"))"
        case (let found?, nil):
            return "holds the records of run \(messageText(found)), and this checkpoint, written by an earlier dnic, has no run id"
        case (let found?, let run?): return "holds another run's records (run \(messageText(found)); this checkpoint's run is \(run))"
        }
    }
}
