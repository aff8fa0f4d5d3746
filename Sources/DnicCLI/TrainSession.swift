import Dnic
import Foundation

/// One `dnic train` run once everything is checked: the library's
/// TrainingRun trains, logs and checkpoints; this prints its events
/// (Report), says how it ended in one line with the command that continues
/// it, and exits with the status (130/143 for a signal, 1 for a failure).
final class TrainSession {
    let run: TrainingRun
    let outputs: RunOutputs
    let report: Report
    let namer: SettingNamer
    /// The balanced placement this run planned (`--sg-at balanced`), to set
    /// its prediction beside what the run measured.
    var plan: PlacementPlan?

    init(run: TrainingRun, outputs: RunOutputs, report: Report, namer: SettingNamer) {
        self.run = run
        self.outputs = outputs
        self.report = report
        report.showStaleness = run.trainer.config.training.schedule == .async
        self.namer = namer
    }

    /// What continuing the run's log cut back, for the header: records past
    /// the checkpoint that the run which saved it wrote before it was killed.
    var logContinuationNote: String? {
        guard let log = run.log, let note = log.continuation?.note else { return nil }
        return "\(TrainOutputs.name(outputs.logOutput)) \(pathText(log.path)): \(note)"
    }

    /// Trains to the end and prints the summary; every other ending exits
    /// the process with its status.
    func train() throws {
        let ending = try run.run(onEvent: { try self.report.show($0) }, shouldStop: { StopSignal.requested })
        report.finish()
        switch ending {
        case .finished(let final):
            try summary(final)
            try earlyStoppingSummary()
        case .stopped(let step, let saved):
            let said = saved.map { "; checkpoint saved to \(pathText($0)) (continue with: \(continueCommand($0)))" }
                ?? " (no --save: nothing saved)"
            Console.err("dnic: \(StopSignal.name) at step \(step)\(said)\n")
            MPITraining.end()
            Foundation.exit(StopSignal.exitStatus)
        case .checkpointFailed(let error, let step, let held):
            DnicCommand.fail("\(TrainOutputs.name(outputs.saveOutput)) \(error.description) (step \(step)); \(held)", code: 1)
        case .outputFailed(let error, let inLog, let step, let saved):
            var line = "\(inLog ? TrainOutputs.name(outputs.logOutput) + " " : "")\(error.description) (step \(step))"
            switch saved {
            case .nothing:
                line += "; no --save was given, so nothing was saved"
            case .saved(let path):
                line += "; checkpoint saved to \(pathText(path)) (continue with: \(continueCommand(path))\(inLog ? " --log ANOTHER-FILE" : ""))"
            case .failed(let problem, let held):
                line += "; the checkpoint could not be written either (\(problem)); \(held)"
            }
            DnicCommand.fail(line, code: 1)
        case .fault(let error, let held):
            // a fault (NaN, a failed kernel) saves nothing: say what the checkpoint on disk still holds
            DnicCommand.fail(namer.render(error.message) + (held.map { "; \($0)" } ?? ""), code: 1)
        }
    }

    /// Where the schedule stalled (each block's share of the run computing), and the result.
    private func summary(_ final: EvaluationRecord) throws {
        do {
            if let blocks = run.trainer.blockRecords, !report.quiet {
                let wait = blocks.map { String(format: "%.2f s", $0.waitSeconds) }
                let schedule = run.trainer.config.training.schedule
                try Console.out.write("\(schedule.rawValue): \(blocks.count) blocks (bottom first) busy \(Report.busy(blocks, separator: " / ")), "
                                      + "waiting for the others \(wait.joined(separator: " / "))"
                                      + (schedule == .async ? "," + Report.staleness(blocks).dropFirst() + " batches" : ""))
            }
            if let plan, !report.quiet, run.trainer.pipeline != nil, final.samplesPerSecond > 0 {
                try Console.out.write("plan: predicted \(PlacementPlanner.grouped(plan.predictedSamplesPerSecond)) samples/s; "
                                      + "measured \(PlacementPlanner.grouped(final.samplesPerSecond)) "
                                      + String(format: "(%.0f%% of it)", 100 * final.samplesPerSecond / plan.predictedSamplesPerSecond))
            }
            try Console.out.write(String(format: "test accuracy %.4f (test loss %.4f) after %.2f epochs, %d steps, %.0f samples/s, %.1f s",
                                         final.testAccuracy, final.testLoss, final.epoch, final.step,
                                         final.samplesPerSecond, final.seconds))
        } catch let error as OutputError {
            DnicCommand.fail("\(error.description) (the run finished\(run.checkpoint.map { "; its checkpoint is \(pathText($0))" } ?? ""))", code: 1)
        }
    }

    /// With early stopping: which evaluation was best, where it is kept, and why the run stopped where it did.
    private func earlyStoppingSummary() throws {
        guard let stopping = run.earlyStopping, let best = stopping.best else { return }
        let metric = stopping.monitor.rawValue
        let kept = run.saveBest.map { ", saved to \(pathText($0))" } ?? ""
        let bestText = EarlyStoppingText.best(best) + kept
        let line = run.stoppedEarly.map {
            "stopped early at step \($0): \(metric) has not improved for \(stopping.patience) evaluation\(stopping.patience == 1 ? "" : "s"); \(bestText)"
        } ?? "\(metric) \(bestText)"
        do { try Console.out.write(line) } catch let error as OutputError {
            DnicCommand.fail("\(error.description) (the run finished)", code: 1)
        }
    }

    /// The command that continues this run from `save`.
    private func continueCommand(_ save: String) -> String {
        "dnic train --resume \(shellWord(save))"
    }
}
