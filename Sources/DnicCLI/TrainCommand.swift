import ArgumentParser
import Dnic
import Foundation

/// `dnic train`: builds the run configuration (defaults ← --config file ←
/// flags), loads the data, trains, and reports.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network.",
        discussion: """
        Settings come from the defaults, then --config FILE (YAML, or JSON for *.json), then flags.
        --print-config prints the effective settings in a form --config accepts.
        Data: fashion-mnist | mnist | idx:DIR | csv:TRAIN.csv[,TEST.csv] | synth:NAME
        """
    )

    @Option(help: "Run configuration file (YAML, or JSON for *.json).")
    var config: String?

    /// Every setting of the run (the settings table's flags).
    @OptionGroup var settings: TrainSettingOptions

    @Option(help: "Write metrics as JSON Lines to FILE (refuses an existing file without --overwrite).")
    var log: String?

    @Option(help: "Also write the evaluations' scalars as a TensorBoard event file in DIR (made if need be; a resumed run adds a new file there).")
    var tensorboard: String?

    @Option(help: "Save the run (safetensors checkpoint) to FILE at the end and when stopped (refuses an existing file without --overwrite). (default with --resume: the resumed file)")
    var save: String?

    @Option(parsing: .unconditional, help: "With --save: also write the checkpoint every STEPS steps (atomically; the previous one survives until the new one is complete).", transform: ArgumentValue.integer)
    var checkpointEvery: Int?

    @Option(help: "Also save the best evaluation's checkpoint to FILE, atomically, each time the monitored metric improves; needs --early-stop (refuses an existing file without --overwrite, except, resuming, the run's own). (default with --resume: the run's)")
    var saveBest: String?

    @Option(help: "Continue the run saved in FILE (parameters, optimizer and data-order state, early stopping's count), saving back to FILE and appending to its log; flags may change only its length, outputs and early stopping's patience.")
    var resume: String?

    @Flag(help: "Each block an MPI rank: start as mpirun -np BLOCKS dnic train --mpi --schedule pipeline|async …; rank 0 loads the data, evaluates, logs and checkpoints, the others take its settings.")
    var mpi = false

    @Option(parsing: .unconditional, help: "With --mpi: seconds a rank waits for another before giving up. (default: 120)", transform: ArgumentValue.number)
    var mpiTimeout: Double?

    /// With --mpi and --sg-at balanced[:K]: the link between the ranks, for the plan.
    @OptionGroup var linkOptions: LinkOptions

    @Flag(help: "Allow --log and --save to replace existing regular files.")
    var overwrite = false

    @Flag(help: "Print only the final summary line.")
    var quiet = false

    @Flag(help: "Print the effective configuration (YAML) and exit.")
    var printConfig = false

    /// Defaults (or `base`, a resumed run's), then the config file, then
    /// flags, not yet validated. What each flag does is its setting's row in
    /// the settings table (`--rule` brings its preset, `--optimizer` drops a
    /// rate chosen for another optimizer, …).
    func mergedConfig(base: RunConfig? = nil) throws -> RunConfig {
        if resume != nil, config != nil { throw UsageError("--resume takes its configuration from the checkpoint; drop --config") }
        var c = try base ?? config.map { try ConfigFile.load(path: $0) } ?? RunConfig()
        if config == nil, resume == nil, let rule = settings.rule { c.model = RunConfig.defaultModel(for: rule) } // e.g. batch norm for dfa
        try c.apply(SettingFlags.given(in: settings))
        return c
    }

    func run() throws {
        // a setting the user did not type is named where it came from (a
        // config file's key, or a resumed checkpoint's), never as a flag
        // they did not give; hints for a resumed run still name flags
        let namer = SettingNamer(arguments: CommandLine.arguments,
                                 source: config.map { "config \(pathText($0))" } ?? resume.map { "checkpoint \(pathText($0))" },
                                 resumed: resume != nil)
        // every message names settings the way this user wrote them
        do { try train(namer) } catch { throw Failure(error, namer: namer) ?? error }
    }

    /// Checks everything that can be checked first (settings, outputs), then
    /// loads the data, builds the trainer and its TrainingRun, and hands
    /// them to a TrainSession to print.
    func train(_ namer: SettingNamer) throws {
        if !mpi { try MPITraining.refuseRanksWithoutMPI() }
        if mpiTimeout != nil, !mpi { throw UsageError("--mpi-timeout needs --mpi") }
        let timeout = mpiTimeout ?? MPITraining.defaultTimeout
        if let t = mpiTimeout, !(t > 0 && t <= 86_400) { throw UsageError("--mpi-timeout \(t): must be between 0 and 86400 seconds") }
        // the link prices messages between ranks: in one process there are none
        let link = try linkOptions.value()
        if link != nil, !mpi {
            throw UsageError("--link prices the messages between MPI ranks and needs --mpi; "
                             + "to see a plan over a link without training: dnic plan --link")
        }
        if mpi {
            try MPITraining.start()
            if MPIRanks.rank > 0 { MPITraining.serve(timeout: timeout) }
        }
        // a resumed run starts from the checkpoint's configuration; under
        // MPI its bytes go to the other ranks too
        var resumeBytes = mpi ? try resume.map { path in
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw DnicError("\(pathText(path)): cannot read the checkpoint (missing or unreadable)")
            }
            return bytes
        } : nil
        let restored = try resume.map { path in
            try resumeBytes.map { try Checkpoint.load(bytes: $0, name: path, maxBatch: nil) }
                ?? Checkpoint.load(path: path, maxBatch: nil)
        }
        var config = try asUsage { () throws -> RunConfig in
            // what a resume may not change is said first: `--rule dfa` on an
            // sg checkpoint is a different run, not a bad schedule for dfa
            let c = try mergedConfig(base: restored?.config)
            if let restored, let difference = RunConfig.resumeDifference(restored.config, DataIdentity.comparable(c, to: restored)) {
                throw UsageError("--resume \(pathText(resume!)): \(difference)")
            }
            if let restored, c.data == DataSpec.inMemory {
                throw UsageError("--resume \(pathText(resume!)): " + restored.inMemoryDataLine(path: resume!, command: "dnic train"))
            }
            try c.validate()
            _ = try DataSpec.parse(c.data)
            return c
        }
        if link != nil {
            // a fixed placement (or a resumed run's list) is not planned: nothing would price the link
            if let resume {
                throw UsageError("--link prices a new plan, but the run in \(pathText(resume)) keeps its boundaries "
                                 + "(\(config.interfaces.at.text)): drop --link")
            }
            guard case .balanced = config.interfaces.at else {
                throw UsageError("--link prices the plan of {interfaces.at} balanced[:K]; "
                                 + "{interfaces.at} \(config.interfaces.at.text) is fixed: give balanced[:K] or drop --link")
            }
        }
        if printConfig {
            var text = try ConfigFile.yaml(config)
            if text.hasSuffix("\n") { text.removeLast() }
            try Console.out.write(text)
            return
        }
        let saveBest = try checkEarlyStopping(config, restored, namer)
        let outputs = try TrainOutputs.resolve(save: save, log: log, checkpointEvery: checkpointEvery, overwrite: overwrite,
                                               resume: resume, restored: restored, config: self.config, tensorboard: tensorboard)
        if let threads = config.training.threads { try CoreSystem.setThreads(threads) }
        else if mpi { try CoreSystem.setThreads(MPITraining.defaultThreads()) }
        if mpi, config.training.schedule == .locked {
            throw UsageError("--mpi runs an unlocked schedule, one rank per block: add --schedule pipeline or --schedule async")
        }
        let options = config.dataOptions
        let spec = try asUsage { try DataSpec.parse(config.data) }
        let loadStart = Date()
        let data = try restored.map { try DataIdentity.resumed($0, from: resume!, given: settings.data, spec: spec, options: options) }
            ?? loadData(spec, options: options)
        // --sg-at balanced: measured here (the run's batch, a core per block) and
        // replaced by the boundaries found (which the checkpoint keeps)
        let plan = try PlacementPlanner.resolve(&config, inputDim: data.train.dim, classes: data.train.classes, link: link)
        let trainer = try Trainer(config: config, data: data, restoring: restored)
        let resumedStopping = restored?.earlyStopping?.continued(by: config.training)
        if let resume, let stopping = resumedStopping, stopping.exhausted {
            try Console.out.write("run \(pathText(resume)) already stopped early at step \(trainer.state.step): "
                                  + EarlyStoppingText.stopped(stopping) + "; "
                                  + namer.render("nothing to do (pass a larger {training.early-stop} to train it longer)"))
            if mpi { MPIRanks.abort(0) }
            return
        }
        if let resume, trainer.state.step >= trainer.totalSteps {
            try Console.out.write("run \(pathText(resume)) already finished: step \(trainer.state.step) of \(trainer.totalSteps); "
                                  + namer.render("nothing to do (pass a larger {training.steps} or {training.epochs} to train it longer)"))
            if mpi { MPIRanks.abort(0) } // the other ranks wait for a run that will not come
            return
        }
        try TrainOutputs.flagged { try outputs.checkRoom(for: trainer) }
        if mpi {
            try MPITraining.shareRun(trainer, checkpoint: resumeBytes, threads: config.training.threads, timeout: timeout)
            resumeBytes = nil // sent: a wide network's checkpoint is gigabytes
        }
        warnAboutData(config, data, namer)
        let run = try TrainOutputs.flagged {
            try TrainingRun(trainer: trainer, outputs: outputs, resumedStep: restored?.step, earlyStopping: resumedStopping)
        }
        run.saveBest = saveBest
        // a run that fails before its first record leaves no empty log behind
        if outputs.logMode == .create, let log = run.log { CreatedOutputs.createdFile(log.path) }
        if let events = run.tensorboard {
            if events.madeDirectory { CreatedOutputs.madeDirectory(events.directory) }
            CreatedOutputs.createdFile(events.path)
        }
        let session = TrainSession(run: run, outputs: outputs, report: Report(quiet: quiet), namer: namer)
        session.plan = plan
        if !quiet { try printHeader(config, spec, data, trainer, Date().timeIntervalSince(loadStart)) }
        if !quiet, let plan { try Console.out.write(PlacementPlanner.line(plan, rule: config.interfaces.rule)) }
        if !quiet, let note = session.logContinuationNote { try Console.out.write(note) }
        if !quiet, let resume, let stopping = run.earlyStopping {
            try Console.out.write(EarlyStoppingText.resumed(stopping, from: resume, kept: restored?.earlyStopping != nil))
        }
        StopSignal.install()
        try session.train()
        MPITraining.end()
    }

    /// Early stopping's own refusals, and the --save-best file (a resumed
    /// run's default: the checkpoint's): --save-best needs early stopping and
    /// a file of its own, which may exist only when it is the resumed run's
    /// own or with --overwrite; a resumed run watches the metric it watched.
    private func checkEarlyStopping(_ config: RunConfig, _ restored: RunSnapshot?, _ namer: SettingNamer) throws -> String? {
        let flag = namer.render("{training.early-stop}")
        if let resume, let stored = restored?.earlyStopping, config.training.earlyStop != nil, stored.monitor != config.training.monitor {
            throw UsageError("\(namer.render("{training.monitor}")) \(config.training.monitor.rawValue): the run in \(pathText(resume)) "
                             + "stops early on \(stored.monitor.rawValue); a resumed run keeps its monitor")
        }
        let runsOwn = restored?.earlyStopping == nil || config.training.earlyStop == nil ? nil : restored?.outputs.saveBest
        guard let saveBest = self.saveBest ?? runsOwn else { return nil }
        if config.training.earlyStop == nil { throw UsageError("--save-best needs \(flag)") }
        for (other, what) in [(save ?? resume, "--save"), (log, "--log"), (tensorboard, "--tensorboard")] {
            if let other, OutputFile.same(saveBest, other) { throw UsageError("--save-best \(pathText(saveBest)): is also the \(what) path") }
        }
        // the run's own best checkpoint is replaced only when the resumed run beats it
        let own = runsOwn.map { OutputFile.same(saveBest, $0) } ?? false
        do { try OutputFile.check(saveBest, existing: own ? .allow : .refuse, replace: overwrite) } catch let error as OutputError {
            throw UsageError("--save-best \(error.description)\(error.reason == .exists ? " (pass --overwrite to replace it)" : "")")
        }
        return saveBest
    }
}
