import Dnic
import Foundation

/// One `dnic train` run once everything is checked: trains, writes the log
/// and standard output line by line, checkpoints, and decides how the run
/// ends. Nothing a run produced is lost: whichever output fails (log,
/// standard output, a signal asking to stop), the checkpoint is still
/// written when a path is set, and the last line says where the run stands
/// and the command that continues it.
final class TrainSession {
    let trainer: Trainer
    let outputs: TrainOutputs
    let report: Report
    let namer: SettingNamer
    let log: MetricsLog?
    /// The step the checkpoint file on disk holds, if there is one.
    private var savedStep: Int?

    /// A checkpoint write that failed (the failing output is the checkpoint itself).
    struct CheckpointFailure: Error {
        let error: OutputError
    }

    init(trainer: Trainer, outputs: TrainOutputs, report: Report, namer: SettingNamer, resumedStep: Int?) throws {
        self.trainer = trainer
        self.outputs = outputs
        self.report = report
        report.showStaleness = trainer.pipeline?.isAsync == true
        self.namer = namer
        // resuming into the same file: it holds the step the run starts from
        if outputs.savesToResumed { savedStep = resumedStep }
        log = try outputs.log.map { path in
            do {
                let log = try MetricsLog(path: path, mode: outputs.logMode, identity: outputs.identity, resuming: outputs.continuing,
                                         pending: outputs.pendingRecord)
                // a run that fails before its first record leaves no empty log behind
                if outputs.logMode == .create { CreatedOutputs.createdFile(path) }
                return log
            } catch let error as OutputError {
                throw refusal(outputs.logName, error)
            }
        }
    }

    /// What continuing the run's log cut back, for the header: records past
    /// the checkpoint that the run which saved it wrote before it was killed.
    var logContinuationNote: String? {
        guard let log, let c = log.continuation, c.cutSteps != nil || c.tornLine else { return nil }
        let cut = c.cutSteps.map { steps in
            "its records of step\(steps.count > 1 ? "s \(steps.lowerBound)–\(steps.upperBound)" : " \(steps.lowerBound)") "
                + "(logged after this checkpoint by the run that saved it, before it was stopped) are written again"
        }
        let torn = c.tornLine ? "a line cut short at its end was dropped" : nil
        return "\(outputs.logName) \(pathText(log.path)): " + [cut, torn].compactMap { $0 }.joined(separator: "; ")
    }

    /// Trains to the end and prints the summary; every other ending exits
    /// the process with its status (130/143 for a signal, 1 for a failure).
    func run() throws {
        let final: EvaluationRecord
        do {
            final = try trainer.run(onEvent: { event in
                try self.report.show(event)
                if case .evaluation(let record) = event { try self.log?.write(record, event: "eval") }
            }, checkpointEvery: outputs.save == nil ? nil : outputs.checkpointEvery, checkpoint: { _ in
                try self.checkpoint()
            }, shouldStop: { StopSignal.requested })
            try log?.write(final, event: "final")
            try log?.sync()
        } catch Trainer.Stop.requested {
            report.finish()
            let saved = outputs.save.map { "; checkpoint saved to \(pathText($0)) (continue with: \(continueCommand($0)))" }
                ?? " (no --save: nothing saved)"
            Console.err("dnic: \(StopSignal.name) at step \(trainer.state.step)\(saved)\n")
            MPITraining.end()
            Foundation.exit(StopSignal.exitStatus)
        } catch let failure as CheckpointFailure {
            report.finish()
            DnicCommand.fail(checkpointFailure(failure.error), code: 1)
        } catch let error as OutputError {
            report.finish()
            DnicCommand.fail(outputFailure(error), code: 1)
        } catch let error as DnicError {
            // a fault (NaN, a failed kernel) ends the run without saving
            // its state; say what the checkpoint on disk still holds
            report.finish()
            DnicCommand.fail(namer.render(error.message) + (outputs.save.map { "; " + held($0) } ?? ""), code: 1)
        }
        do {
            try checkpoint(final: true)
        } catch let failure as CheckpointFailure {
            report.finish()
            DnicCommand.fail(checkpointFailure(failure.error), code: 1)
        }
        report.finish()
        do {
            if let blocks = trainer.blockRecords, !report.quiet {
                // where the schedule stalls: each block's share of the run computing
                let wait = blocks.map { String(format: "%.2f s", $0.waitSeconds) }
                let async = trainer.pipeline?.isAsync == true
                try Console.out.write("\(async ? "async" : "pipeline"): \(blocks.count) blocks (bottom first) busy \(Report.busy(blocks, separator: " / ")), "
                                      + "waiting for the others \(wait.joined(separator: " / "))"
                                      + (async ? "," + Report.staleness(blocks).dropFirst() + " batches" : ""))
            }
            try Console.out.write(String(format: "test accuracy %.4f (test loss %.4f) after %.2f epochs, %d steps, %.0f samples/s, %.1f s",
                                         final.testAccuracy, final.testLoss, final.epoch, final.step,
                                         final.samplesPerSecond, final.seconds))
        } catch let error as OutputError {
            DnicCommand.fail("\(error.description) (the run finished\(outputs.save.map { "; its checkpoint is \(pathText($0))" } ?? ""))", code: 1)
        }
    }

    /// Writes the checkpoint (when a path is set) after flushing the log, so
    /// a checkpoint never holds a step the log has not recorded, then notes
    /// the save in the log, so that resuming an older checkpoint of this run
    /// later is refused rather than taken for a run killed after it
    /// (LogContinuation). The last save needs no note (the `final` record
    /// says it); when the log is what failed, it is left alone.
    private func checkpoint(final: Bool = false, logFailed: Bool = false) throws {
        guard let save = outputs.save else { return }
        if !logFailed { try log?.sync() }
        var stored = outputs.stored
        // the record the log could not take goes with the checkpoint
        if logFailed { stored.pendingRecord = log?.unwritten }
        do {
            try Checkpoint.save(trainer.snapshot(outputs: stored), to: save)
        } catch let error as OutputError {
            throw CheckpointFailure(error: error)
        }
        savedStep = trainer.state.step
        if !logFailed, !final { try log?.noteCheckpoint(step: trainer.state.step) }
    }

    /// The log or standard output failed: save what the run has, then one
    /// line naming the output, the OS's reason, and where the run stands.
    private func outputFailure(_ error: OutputError) -> String {
        let name = error.path == Console.out.path ? "" : "\(outputs.logName) "
        var line = "\(name)\(error.description) (step \(trainer.state.step))"
        guard let save = outputs.save else { return line + "; no --save was given, so nothing was saved" }
        do {
            try checkpoint(logFailed: error.path != Console.out.path)
            let elsewhere = error.path == Console.out.path ? "" : " --log ANOTHER-FILE"
            line += "; checkpoint saved to \(pathText(save)) (continue with: \(continueCommand(save))\(elsewhere))"
        } catch let failure as CheckpointFailure {
            line += "; the checkpoint could not be written either (\(failure.error.problem)); \(held(save))"
        } catch {
            line += "; the checkpoint could not be written either (\(error)); \(held(save))"
        }
        return line
    }

    private func checkpointFailure(_ error: OutputError) -> String {
        "\(outputs.saveName) \(error.description) (step \(trainer.state.step)); \(held(error.path))"
    }

    /// What the checkpoint path holds now: a failed write leaves the previous file intact.
    private func held(_ path: String) -> String {
        savedStep.map { "\(pathText(path)) still holds step \($0)" } ?? "no checkpoint was saved"
    }

    /// The command that continues this run from `save`.
    private func continueCommand(_ save: String) -> String {
        "dnic train --resume \(shellQuoted(save))"
    }
}
