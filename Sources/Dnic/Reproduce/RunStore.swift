import CDnic
import Foundation

/// The runs of one result under `DIR/<result>/runs/`: per run a JSON Lines
/// log (`NAME.jsonl`: a `config` line, `eval` lines, a `final` line with the
/// run's measured result) and a checkpoint (`NAME.safetensors`). A run whose
/// log ends with its final line (and whose checkpoint, if it has one, loads
/// and holds that final step) is complete and is not run
/// again; one with a
/// checkpoint continues from it; a log written with other settings is
/// refused (one line) unless the reproduction overwrites.
public final class RunStore {
    public let directory: String
    let reproduction: Reproduction

    init(directory: String, reproduction: Reproduction) {
        self.directory = directory
        self.reproduction = reproduction
    }

    public func logPath(_ name: String) -> String { PathName.joining(directory, name + ".jsonl") }
    public func checkpointPath(_ name: String) -> String { PathName.joining(directory, name + ".safetensors") }

    /// What one run produced: its evaluations (the last is the final one),
    /// what `measure` returned, and the trained trainer when it ran now
    /// (nil when its log was complete already).
    public struct Outcome<Result: Codable> {
        public var evaluations: [EvaluationRecord]
        public var result: Result
        public var trainer: Trainer?
        /// Whether it was complete in DIR already.
        public var skipped: Bool
        public var final: EvaluationRecord { evaluations.last! }
    }

    /// How a run may be interrupted and continued.
    public enum Continuation {
        /// Checkpoints at every evaluation (and at a stop); an interrupted
        /// run continues from its checkpoint.
        case checkpoints
        /// Short runs whose measurements follow every step (`observe`):
        /// an interrupted run starts again (the same numbers: same seed).
        case restart
    }

    struct ConfigLine: Codable { var event = "config"; var data: String; var config: RunConfig; var extra: String? }
    struct FinalLine<Result: Codable>: Codable { var event = "final"; var record: EvaluationRecord; var result: Result }

    /// Runs (or finds) the run `name`: trains `config` on `split`, calling
    /// `observe` after every step, then `measure` on the trained trainer;
    /// `key` names what else defines the run (measurement settings), so a
    /// log made with other ones is not taken for this run's.
    public func run<Result: Codable>(_ name: String, config: RunConfig, split: DataSplit, key: String? = nil,
                                     continuation: Continuation = .checkpoints,
                                     observe: @escaping (Trainer) throws -> Void = { _ in },
                                     measure: (Trainer, EvaluationRecord) throws -> Result) throws -> Outcome<Result> {
        let log = logPath(name), checkpoint = checkpointPath(name)
        let header = ConfigLine(data: config.data, config: config, extra: key)
        let headerText = try Self.line(header)
        let logged = MetricsLogReader(path: log) ?? MetricsLogReader(Data())
        // its complete lines: a torn last line, written when the process was killed mid-write, is dropped
        var lines = logged.lines.filter { !$0.isEmpty }
        if let first = lines.first, logged.text(first) != headerText {
            guard reproduction.options.overwrite else {
                throw DnicError("\(pathText(log)): was run with other settings; pass {option:overwrite} to run it again, "
                                + "or use another {option:out}")
            }
            lines = []
        }
        if let last = lines.last, let final = logged.decode(FinalLine<Result>.self, last) {
            if let damage = damagedCheckpoint(name, config: config, split: split, final: final.record) {
                reproduction.progress.note("run \(name) has its final line, but \(damage): running it again")
            } else {
                reproduction.progress.skipped(name, final: final.record)
                let earlier = logged.evaluations(in: lines).filter { $0.step < final.record.step }
                return Outcome(evaluations: earlier + [final.record], result: final.result, trainer: nil, skipped: true)
            }
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // continue from the checkpoint when it belongs to this run
        var restoring: RunSnapshot?
        if continuation == .checkpoints, !lines.isEmpty, FileManager.default.fileExists(atPath: checkpoint),
           let loaded = try? Checkpoint.load(path: checkpoint, maxBatch: Trainer.maxBatch(config, split)),
           Self.sameSettings(loaded.config, config) {
            restoring = loaded
        }
        let trainer = try Trainer(config: config, data: split, restoring: restoring)
        // the log holds what the run before the checkpoint logged, no more
        let kept = restoring.map { restoring in
            lines.dropFirst().filter { logged.decode(EvaluationRecord.self, $0).map { $0.step <= restoring.step } ?? false }
        } ?? []
        try AtomicFile.write(Data(([headerText] + kept.map(logged.text)).map { $0 + "\n" }.joined().utf8), to: log,
                             what: "the run's log")
        // evaluations as `dnic train --log` writes them, without run ids: a
        // reproduction's run is named by its file and its `config` line, and
        // only one `dnic reproduce` writes a DIR at a time
        let logFile = try MetricsLog(path: log, mode: .append, identity: nil)
        let run = TrainingRun(trainer: trainer, checkpoint: checkpoint, every: continuation == .checkpoints ? trainer.evalEvery : nil,
                              log: logFile)
        var evaluations = logged.evaluations(in: kept)
        reproduction.progress.started(name, steps: trainer.totalSteps, from: trainer.state.step)
        var final: EvaluationRecord
        var diverged = false
        do {
            final = try run.train(onEvent: { event in
                switch event {
                case .progress(let step, let total, _, _, _, _, _, _):
                    self.reproduction.progress.step(step, of: total)
                case .evaluation(let record):
                    evaluations.append(record)
                    self.reproduction.progress.step(record.step, of: trainer.totalSteps)
                }
            }, shouldStop: continuation == .checkpoints ? reproduction.shouldStop : { false }, afterStep: observe)
        } catch Trainer.Stop.requested {
            throw Reproduction.Stopped(step: trainer.state.step, run: name)
        } catch let error as DnicError where error.status == DNIC_ERR_NONFINITE && continuation == .restart {
            // a learning rate too large for the method is a result here: the run ends where it diverged
            diverged = true
            final = EvaluationRecord(step: trainer.state.step, epoch: Double(trainer.state.step) / Double(trainer.stepsPerEpoch),
                                     trainLoss: .nan, testLoss: .nan, testAccuracy: .nan, samplesPerSecond: 0, seconds: 0)
        }
        // saved at its end but cut off before its final line: the run's last
        // evaluation, logged already, is its final record (not the one-off
        // evaluation a trainer resumed at its end makes, which has no training loss)
        if let restoring, restoring.step >= trainer.totalSteps, let logged = evaluations.last, logged.step == restoring.step {
            final = logged
        }
        if evaluations.last?.step == final.step { evaluations.removeLast() }
        let result = try measure(trainer, final)
        if reproduction.options.checkpoints, !diverged { try run.saveCheckpoint(final: true) }
        try logFile.write(line: Self.line(FinalLine(record: final, result: result)))
        try logFile.sync()
        if !reproduction.options.checkpoints { try? FileManager.default.removeItem(atPath: checkpoint) }
        reproduction.progress.finished(name, final: final)
        if reproduction.shouldStop() { throw Reproduction.Stopped(step: nil, run: name) }
        return Outcome(evaluations: evaluations + [final], result: result, trainer: trainer, skipped: false)
    }

    /// Why a run whose log ends with its final line is not complete (nil:
    /// it is). Its checkpoint, when there is one, is part of it (fig5 and
    /// fig8 read fig3's): it must load and hold the final step of these
    /// settings. None is fine (`--no-checkpoints`, or a run that diverged).
    func damagedCheckpoint(_ name: String, config: RunConfig, split: DataSplit, final: EvaluationRecord) -> String? {
        let path = checkpointPath(name)
        guard final.trainLoss.isFinite, FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let loaded = try Checkpoint.load(path: path, maxBatch: Trainer.maxBatch(config, split))
            if !Self.sameSettings(loaded.config, config) { return "its checkpoint holds other settings" }
            if loaded.step != final.step { return "its checkpoint holds step \(loaded.step), not the final step \(final.step)" }
            return nil
        } catch let error as DnicError {
            return "its checkpoint does not load (\(error.message))"
        } catch {
            return "its checkpoint does not load"
        }
    }

    /// The trained network of a complete run: the run's trainer when it ran
    /// now, else its checkpoint (nil when there is none: --no-checkpoints).
    public func network(_ outcome: Outcome<some Codable>, name: String) throws -> (Network, DNI)? {
        if let t = outcome.trainer { return (t.network, t.dni) }
        guard FileManager.default.fileExists(atPath: checkpointPath(name)) else { return nil }
        let c = try Checkpoint.load(path: checkpointPath(name))
        return (c.network, c.interfaces)
    }

    /// Whether a checkpoint's configuration is `config`: compared as the
    /// text `--print-config` writes, since a stored configuration has its
    /// defaults filled in (an optimizer's `lr` nil here is 0.001 there).
    static func sameSettings(_ stored: RunConfig, _ config: RunConfig) -> Bool {
        guard let a = try? ConfigFile.yaml(stored), let b = try? ConfigFile.yaml(config) else { return false }
        return a == b
    }

    static func line<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
