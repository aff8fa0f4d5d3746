import Foundation

/// A training run's lifecycle around its trainer: evaluations into the
/// log, checkpoints every so many steps and when stopped, and, whichever
/// way the run ends, what is saved and what the checkpoint on disk holds.
/// Nothing a run produced is lost: when the log or another output fails,
/// the checkpoint is still written (taking the record the log could not,
/// which the resumed run writes first), and an ending says where the run
/// stands. `dnic train` (MPI rank 0 too) and `dnic reproduce`'s runs use it.
public final class TrainingRun {
    public let trainer: Trainer
    /// The metrics log, if any.
    public let log: MetricsLog?
    /// The TensorBoard event file, if any: the same evaluations as scalars.
    public let tensorboard: TensorBoardLog?
    /// Where checkpoints go (nil: none are written).
    public let checkpoint: String?
    public let checkpointEvery: Int?
    /// What each checkpoint records about the run's outputs.
    let stored: Checkpoint.Outputs
    /// The step the checkpoint file holds, if there is one.
    public private(set) var savedStep: Int?
    /// Early stopping, when the configuration asks for it; `stoppedEarly`: the step it stopped the run at.
    public private(set) var earlyStopping: EarlyStopping?
    public private(set) var stoppedEarly: Int?
    /// Where the best evaluation's checkpoint goes (with early stopping).
    public var saveBest: String?
    private var lastRecord: EvaluationRecord?
    /// The outputs this run writes itself, to tell whose write failed.
    private enum Written { case log, checkpoint }
    /// The last write of its own that failed.
    private var failed: (error: OutputError, output: Written)?

    /// - Parameter savedStep: the step `checkpoint` holds already (resuming into the same file).
    /// - Parameter earlyStopping: the resumed checkpoint's early stopping,
    ///   which this run continues when it watches the same metric (under its own patience).
    public init(trainer: Trainer, checkpoint: String?, every: Int? = nil, stored: Checkpoint.Outputs = Checkpoint.Outputs(),
                log: MetricsLog?, savedStep: Int? = nil, tensorboard: TensorBoardLog? = nil, earlyStopping resumed: EarlyStopping? = nil) {
        self.tensorboard = tensorboard
        self.trainer = trainer
        self.checkpoint = checkpoint
        checkpointEvery = checkpoint == nil ? nil : every
        self.stored = stored
        self.log = log
        self.savedStep = savedStep
        earlyStopping = resumed?.continued(by: trainer.config.training) ?? EarlyStopping(trainer.config.training)
    }

    /// The run `outputs` describe: opens (or continues) its log.
    /// - Parameter resumedStep: the step of the checkpoint being resumed, if any.
    /// - Parameter earlyStopping: the resumed checkpoint's early stopping, if any.
    public convenience init(trainer: Trainer, outputs: RunOutputs, resumedStep: Int?, earlyStopping: EarlyStopping? = nil) throws {
        let log = try outputs.log.map { path in
            do {
                return try MetricsLog(path: path, mode: outputs.logMode, identity: outputs.identity, resuming: outputs.continuing,
                                      pending: outputs.pendingRecord)
            } catch let error as OutputError {
                throw RunOutputs.Refusal(output: outputs.logOutput, error: error, wayOut: error.reason == .exists ? .replace : nil)
            }
        }
        let tensorboard = try outputs.tensorboard.map { directory in
            do { return try TensorBoardLog(directory: directory, resumedStep: resumedStep) } catch let error as OutputError {
                throw RunOutputs.Refusal(output: outputs.tensorboardOutput, error: error, wayOut: nil)
            }
        }
        self.init(trainer: trainer, checkpoint: outputs.save, every: outputs.checkpointEvery, stored: outputs.stored, log: log,
                  savedStep: outputs.savesToResumed ? resumedStep : nil, tensorboard: tensorboard, earlyStopping: earlyStopping)
    }

    /// Trains to the end: events go to `onEvent`, then evaluations to the
    /// log; checkpoints every `checkpointEvery` steps, and when `shouldStop`
    /// (polled after each step) asks, before `Trainer.Stop.requested` is
    /// thrown. A failed output (the log, or one `onEvent` writes) is thrown
    /// as it is, with the trainer's state describing the last complete step.
    public func train(onEvent: (TrainEvent) throws -> Void = { _ in }, shouldStop: () -> Bool = { false },
                      afterStep: (Trainer) throws -> Void = { _ in }) throws -> EvaluationRecord {
        try trainer.run(onEvent: { event in
            try onEvent(event)
            if case .evaluation(let record) = event {
                try logged { try log?.write(record, event: "eval") }
                try tensorboard?.write(record)
                try watch(record)
            }
        }, checkpointEvery: checkpointEvery, checkpoint: { _ in try self.saveCheckpoint() }, shouldStop: shouldStop,
        afterStep: afterStep)
    }

    /// Early stopping's turn after an evaluation: the best one's checkpoint
    /// goes to `saveBest` (after the log, like every checkpoint); patience
    /// run out before the last step stops the run. An end-of-run
    /// evaluation off the evaluation grid does not count, so that a run
    /// stopped there by its length and resumed counts what a straight run would.
    private func watch(_ record: EvaluationRecord) throws {
        lastRecord = record
        guard var stopping = earlyStopping, record.step % trainer.evalEvery == 0 else { return }
        let improved = stopping.note(record)
        earlyStopping = stopping
        if improved, let saveBest {
            try logged { try log?.sync() }
            try Checkpoint.save(snapshot(outputs: stored), to: saveBest)
        }
        if stopping.exhausted, record.step < trainer.totalSteps { throw EarlyStopping.Stopped() }
    }

    /// Writes the checkpoint (when there is a path) after flushing the log,
    /// so a checkpoint never holds a step the log has not recorded, then
    /// notes the save in the log, so that resuming an older checkpoint of
    /// the run later is refused rather than taken for a run killed after it
    /// (LogContinuation). The last save needs no note (the `final` record
    /// says it); when the log is what failed, it is left alone and its
    /// unwritten record goes with the checkpoint.
    public func saveCheckpoint(final: Bool = false, logFailed: Bool = false) throws {
        guard let checkpoint else { return }
        if !logFailed { try logged { try log?.sync() } }
        var outputs = stored
        if logFailed { outputs.pendingRecord = log?.unwritten }
        do {
            try Checkpoint.save(snapshot(outputs: outputs), to: checkpoint)
        } catch let error as OutputError {
            failed = (error, .checkpoint)
            throw error
        }
        savedStep = trainer.state.step
        if !logFailed, !final { try logged { try log?.noteCheckpoint(step: trainer.state.step) } }
    }

    /// The run for a checkpoint: the trainer's, with early stopping's state
    /// and where the best checkpoint goes, so a resumed run continues both.
    private func snapshot(outputs: Checkpoint.Outputs) throws -> RunSnapshot {
        var outputs = outputs
        outputs.saveBest = saveBest.map(OutputFile.canonical)
        var run = try trainer.snapshot(outputs: outputs)
        run.earlyStopping = earlyStopping
        return run
    }

    /// A run that reached its last step: its final record, flushed (the last checkpoint follows).
    public func finish(_ final: EvaluationRecord) throws {
        try logged {
            try log?.write(final, event: "final")
            try log?.sync()
        }
    }

    /// How a `dnic train` run ended.
    public enum Ending {
        case finished(EvaluationRecord)
        /// Stopped when asked, after `step`; `saved`: the checkpoint written then.
        case stopped(step: Int, saved: String?)
        /// A checkpoint could not be written at `step`.
        case checkpointFailed(OutputError, step: Int, held: Held)
        /// The log (`inLog`) or another output failed at `step`; what was saved.
        case outputFailed(OutputError, inLog: Bool, step: Int, saved: Saved)
        /// A fault (NaN, a failed kernel) ended the run without saving its
        /// state; `held`: what the checkpoint path still holds (nil: no path).
        case fault(DnicError, held: Held?)
    }

    /// After a failed output: what became of the checkpoint.
    public enum Saved {
        /// There is no checkpoint path.
        case nothing
        case saved(String)
        /// It could not be written either (`problem`).
        case failed(problem: String, held: Held)
    }

    /// What a checkpoint path holds now: a failed write leaves the previous file intact.
    public struct Held: CustomStringConvertible {
        public let path: String
        public let step: Int?
        public var description: String { step.map { "\(pathText(path)) still holds step \($0)" } ?? "no checkpoint was saved" }
    }

    /// The whole run as `dnic train` has it: `train`, then the final
    /// record and the last checkpoint; every way it can end that leaves
    /// something to say is an Ending (other errors are thrown).
    public func run(onEvent: (TrainEvent) throws -> Void, shouldStop: () -> Bool) throws -> Ending {
        let final: EvaluationRecord
        do {
            do {
                final = try train(onEvent: onEvent, shouldStop: shouldStop)
            } catch is EarlyStopping.Stopped {
                // an early stop ends the run as its last step would: final record, last checkpoint
                stoppedEarly = trainer.state.step
                final = lastRecord!
            }
            try finish(final)
        } catch Trainer.Stop.requested {
            return .stopped(step: trainer.state.step, saved: checkpoint)
        } catch let error as OutputError {
            return ending(after: error)
        } catch let error as DnicError {
            return .fault(error, held: checkpoint.map(held))
        }
        do {
            try saveCheckpoint(final: true)
        } catch let error as OutputError where written(error) == .checkpoint {
            return ending(after: error)
        }
        return .finished(final)
    }

    /// A failed output: a checkpoint that failed says what the file still
    /// holds; the log or another output failing saves what the run has.
    private func ending(after error: OutputError) -> Ending {
        let step = trainer.state.step
        if written(error) == .checkpoint { return .checkpointFailed(error, step: step, held: held(error.path)) }
        let inLog = written(error) == .log
        guard let checkpoint else { return .outputFailed(error, inLog: inLog, step: step, saved: .nothing) }
        do {
            try saveCheckpoint(logFailed: inLog)
            return .outputFailed(error, inLog: inLog, step: step, saved: .saved(checkpoint))
        } catch let second as OutputError where written(second) == .checkpoint {
            return .outputFailed(error, inLog: inLog, step: step, saved: .failed(problem: second.problem, held: held(checkpoint)))
        } catch let second {
            return .outputFailed(error, inLog: inLog, step: step, saved: .failed(problem: "\(second)", held: held(checkpoint)))
        }
    }

    private func held(_ path: String) -> Held { Held(path: path, step: savedStep) }

    /// Which of this run's own writes `error` came from (nil: another output's, such as one `onEvent` wrote).
    private func written(_ error: OutputError) -> Written? { failed?.error == error ? failed?.output : nil }

    /// Runs a write to the log, remembering a failure as the log's.
    private func logged(_ body: () throws -> Void) throws {
        do { try body() } catch let error as OutputError {
            failed = (error, .log)
            throw error
        }
    }
}
