import Foundation

/// Early stopping (`training.early-stop`, `training.monitor`): follows the
/// monitored validation metric over a run's evaluations, remembering the
/// best and counting the evaluations since, so the run can stop once
/// `patience` evaluations in a row have not improved on it. A checkpoint
/// keeps it (metadata `early_stopping`), so a resumed run counts on.
public struct EarlyStopping: Sendable, Equatable {
    public let patience: Int
    public let monitor: MonitorKind
    /// The best evaluation so far: its step and the metric's value there.
    public private(set) var best: Best?
    /// Evaluations since the best one.
    public private(set) var sinceBest = 0

    public struct Best: Sendable, Equatable {
        public let step: Int
        public let value: Double
    }

    /// Thrown out of the training loop when patience runs out.
    struct Stopped: Error {}

    public init(patience: Int, monitor: MonitorKind) {
        self.patience = patience
        self.monitor = monitor
    }

    /// The run's early stopping, if its configuration asks for one.
    public init?(_ training: TrainingSpec) {
        guard let patience = training.earlyStop else { return nil }
        self.init(patience: patience, monitor: training.monitor)
    }

    /// This state continued by a resumed run whose configuration is
    /// `training`: the same best and count under its (possibly changed)
    /// patience; nil when the run has no early stopping or watches another
    /// metric (then it cannot continue this count).
    public func continued(by training: TrainingSpec) -> EarlyStopping? {
        guard let patience = training.earlyStop, training.monitor == monitor else { return nil }
        var next = EarlyStopping(patience: patience, monitor: monitor)
        next.best = best
        next.sinceBest = sinceBest
        return next
    }

    /// Notes an evaluation; true when it is the best so far (a tie is not an improvement).
    public mutating func note(_ record: EvaluationRecord) -> Bool {
        guard let value = monitor.value(in: record) else { return false }
        if let best, !(monitor.lowerIsBetter ? value < best.value : value > best.value) {
            sinceBest += 1
            return false
        }
        best = Best(step: record.step, value: value)
        sinceBest = 0
        return true
    }

    /// Patience has run out.
    public var exhausted: Bool { sinceBest >= patience }
}

/// Stored as JSON in a checkpoint's metadata `early_stopping`:
/// {"monitor", "patience", "since_best", and once there is one "best_step", "best"}.
extension EarlyStopping: Codable {
    enum CodingKeys: String, CodingKey {
        case monitor, patience, sinceBest = "since_best", bestStep = "best_step", best
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let monitorText = try c.decode(String.self, forKey: .monitor)
        guard let monitor = MonitorKind(rawValue: monitorText) else {
            throw DnicError("early_stopping: monitor '\(messageText(monitorText))' is not \(MonitorKind.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        let patience = try c.decode(Int.self, forKey: .patience), since = try c.decode(Int.self, forKey: .sinceBest)
        guard (1...maxTrainingSamples).contains(patience), (0...maxTrainingSamples).contains(since) else {
            throw DnicError("early_stopping: patience must lie in 1...2^53 and since_best in 0...2^53")
        }
        self.init(patience: patience, monitor: monitor)
        sinceBest = since
        let step = try c.decodeIfPresent(Int.self, forKey: .bestStep), value = try c.decodeIfPresent(Double.self, forKey: .best)
        switch (step, value) {
        case (nil, nil):
            guard since == 0 else { throw DnicError("early_stopping: since_best \(since) without a best") }
        case let (step?, value?):
            guard (0...maxTrainingSamples).contains(step), value.isFinite else {
                throw DnicError("early_stopping: best_step must lie in 0...2^53 and best be finite")
            }
            best = Best(step: step, value: value)
        default:
            throw DnicError("early_stopping: best_step and best go together")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(monitor.rawValue, forKey: .monitor)
        try c.encode(patience, forKey: .patience)
        try c.encode(sinceBest, forKey: .sinceBest)
        try c.encodeIfPresent(best?.step, forKey: .bestStep)
        try c.encodeIfPresent(best?.value, forKey: .best)
    }
}
