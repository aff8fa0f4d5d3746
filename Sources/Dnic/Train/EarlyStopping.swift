/// Early stopping (`training.early-stop`, `training.monitor`): follows the
/// monitored validation metric over a run's evaluations, remembering the
/// best and counting the evaluations since, so the run can stop once
/// `patience` evaluations in a row have not improved on it.
public struct EarlyStopping: Sendable {
    public let patience: Int
    public let monitor: MonitorKind
    /// The best evaluation so far: its step and the metric's value there.
    public private(set) var best: (step: Int, value: Double)?
    /// Evaluations since the best one.
    public private(set) var sinceBest = 0

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

    /// Notes an evaluation; true when it is the best so far (a tie is not an improvement).
    public mutating func note(_ record: EvaluationRecord) -> Bool {
        guard let value = monitor.value(in: record) else { return false }
        if let best, !(monitor.lowerIsBetter ? value < best.value : value > best.value) {
            sinceBest += 1
            return false
        }
        best = (record.step, value)
        sinceBest = 0
        return true
    }

    /// Patience has run out.
    public var exhausted: Bool { sinceBest >= patience }
}
