import ArgumentParser
import Dnic
import Foundation

extension Activation: ExpressibleByArgument {}
extension LossKind: ExpressibleByArgument {}
extension InitKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension Rule: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}
extension InterfaceKind: ExpressibleByArgument {}
extension InterfaceTarget: ExpressibleByArgument {}
extension InterfaceLoss: ExpressibleByArgument {}
extension InterfaceSignal: ExpressibleByArgument {}

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

    @Option(help: .setting("data"))
    var data: String?

    @Option(parsing: .unconditional, help: .setting("model.layers"), transform: ArgumentValue.integer)
    var hidden: Int?

    @Option(parsing: .unconditional, help: .setting("model.layers[].width"), transform: ArgumentValue.integer)
    var width: Int?

    @Option(help: .setting("model.layers[].activation"))
    var activation: Activation?

    @Flag(inversion: .prefixedNo, help: .setting("model.layers[].batchnorm"))
    var batchnorm: Bool?

    @Option(help: .setting("model.loss"))
    var loss: LossKind?

    @Option(help: .setting("model.init"))
    var `init`: InitKind?

    @Option(help: .setting("optimizer.kind"))
    var optimizer: OptimizerKind?

    @Option(parsing: .unconditional, help: .setting("optimizer.lr"), transform: ArgumentValue.number)
    var lr: Double?

    @Option(parsing: .unconditional, help: .setting("optimizer.l2"), transform: ArgumentValue.number)
    var l2: Double?

    @Option(parsing: .unconditional, help: .setting("optimizer.momentum"), transform: ArgumentValue.number)
    var momentum: Double?

    @Option(help: .setting("interfaces.rule"))
    var rule: Rule?

    @Option(help: .setting("interfaces.at"))
    var sgAt: String?

    @Option(help: .setting("interfaces.kind"))
    var sgKind: InterfaceKind?

    @Option(help: .setting("interfaces.target"))
    var sgTarget: InterfaceTarget?

    @Option(help: .setting("interfaces.loss"))
    var sgLoss: InterfaceLoss?

    @Option(help: .setting("interfaces.signal"))
    var sgSignal: InterfaceSignal?

    @Option(parsing: .unconditional, help: .setting("interfaces.alpha"), transform: ArgumentValue.number)
    var sgAlpha: Double?

    @Option(help: .setting("interfaces.hidden"))
    var sgHidden: String?

    @Flag(inversion: .prefixedNo, help: .setting("interfaces.batchnorm"))
    var sgBatchnorm: Bool?

    @Option(help: .setting("interfaces.optimizer.kind"))
    var sgOptimizer: OptimizerKind?

    @Option(parsing: .unconditional, help: .setting("interfaces.optimizer.lr"), transform: ArgumentValue.number)
    var sgLr: Double?

    @Option(parsing: .unconditional, help: .setting("interfaces.warmup"), transform: ArgumentValue.integer)
    var sgWarmup: Int?

    @Flag(inversion: .prefixedNo, help: .setting("interfaces.track-alignment"))
    var trackAlignment: Bool?

    @Option(parsing: .unconditional, help: .setting("training.batch"), transform: ArgumentValue.integer)
    var batch: Int?

    @Option(parsing: .unconditional, help: .setting("training.epochs"), transform: ArgumentValue.integer)
    var epochs: Int?

    @Option(parsing: .unconditional, help: .setting("training.steps"), transform: ArgumentValue.integer)
    var steps: Int?

    @Option(parsing: .unconditional, help: .setting("training.eval-every"), transform: ArgumentValue.integer)
    var evalEvery: Int?

    @Option(parsing: .unconditional, help: .setting("training.seed"), transform: ArgumentValue.seed)
    var seed: UInt64?

    @Option(parsing: .unconditional, help: .setting("training.threads"), transform: ArgumentValue.integer)
    var threads: Int?

    @Option(parsing: .unconditional, help: .setting("training.validation"), transform: ArgumentValue.number)
    var validation: Double?

    @Option(parsing: .unconditional, help: .setting("model.classes"), transform: ArgumentValue.integer)
    var classes: Int?

    @Option(help: "Write metrics as JSON Lines to FILE (refuses an existing file without --overwrite).")
    var log: String?

    @Option(help: "Save the run (safetensors checkpoint) to FILE at the end and when stopped (refuses an existing file without --overwrite). (default with --resume: the resumed file)")
    var save: String?

    @Option(parsing: .unconditional, help: "With --save: also write the checkpoint every STEPS steps (atomically; the previous one survives until the new one is complete).", transform: ArgumentValue.integer)
    var checkpointEvery: Int?

    @Option(help: "Continue the run saved in FILE (parameters, optimizer and data-order state), saving back to FILE and appending to its log; flags may change only its length and outputs.")
    var resume: String?

    @Option(parsing: .unconditional, help: .setting("training.clip-grad"), transform: ArgumentValue.number)
    var clipGrad: Double?

    @Option(help: .setting("training.schedule"))
    var schedule: ScheduleKind?

    @Option(parsing: .unconditional, help: .setting("training.update-prob"), transform: ArgumentValue.number)
    var updateProb: Double?

    @Option(parsing: .unconditional, help: .setting("training.queue"), transform: ArgumentValue.integer)
    var queue: Int?

    @Flag(help: "Each block an MPI rank: start as mpirun -np BLOCKS dnic train --mpi --schedule pipeline|async …; rank 0 loads the data, evaluates, logs and checkpoints, the others take its settings.")
    var mpi = false

    @Option(parsing: .unconditional, help: "With --mpi: seconds a rank waits for another before giving up. (default: 120)", transform: ArgumentValue.number)
    var mpiTimeout: Double?

    @Flag(help: "Allow --log and --save to replace existing regular files.")
    var overwrite = false

    @Flag(help: "Print only the final summary line.")
    var quiet = false

    @Flag(help: "Print the effective configuration (YAML) and exit.")
    var printConfig = false

    /// Defaults, then the config file, then flags; validated.
    func effectiveConfig(base: RunConfig? = nil) throws -> RunConfig {
        let c = try mergedConfig(base: base)
        try c.validate()
        _ = try DataSpec.parse(c.data)
        return c
    }

    /// Defaults (or `base`, a resumed run's), then the config file, then
    /// flags, not yet validated. What each flag does is its setting's row in
    /// the settings table (`--rule` brings its preset, `--optimizer` drops a
    /// rate chosen for another optimizer, …).
    func mergedConfig(base: RunConfig? = nil) throws -> RunConfig {
        if resume != nil, config != nil { throw UsageError("--resume takes its configuration from the checkpoint; drop --config") }
        var c = try base ?? config.map { try ConfigFile.load(path: $0) } ?? RunConfig()
        if config == nil, resume == nil, let rule { c.model = RunConfig.defaultModel(for: rule) } // e.g. batch norm for dfa
        try c.apply(SettingFlags.given(in: self))
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
        if mpi {
            try MPITraining.start()
            if MPIRanks.rank > 0 { MPITraining.serve(timeout: timeout) }
        }
        // a resumed run starts from the checkpoint's configuration; under
        // MPI its bytes go to the other ranks too
        let resumeBytes = mpi ? try resume.map { path in
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw DnicError("\(pathText(path)): cannot read the checkpoint (missing or unreadable)")
            }
            return bytes
        } : nil
        let restored = try resume.map { path in
            try resumeBytes.map { try Checkpoint.load(bytes: $0, name: path, maxBatch: nil) }
                ?? Checkpoint.load(path: path, maxBatch: nil)
        }
        let config = try asUsage { () throws -> RunConfig in
            // what a resume may not change is said first: `--rule dfa` on an
            // sg checkpoint is a different run, not a bad schedule for dfa
            let c = try mergedConfig(base: restored?.config)
            if let restored, let difference = RunConfig.resumeDifference(restored.config, DataIdentity.comparable(c, to: restored)) {
                throw UsageError("--resume \(pathText(resume!)): \(difference)")
            }
            try c.validate()
            _ = try DataSpec.parse(c.data)
            return c
        }
        if printConfig {
            var text = try ConfigFile.yaml(config)
            if text.hasSuffix("\n") { text.removeLast() }
            try Console.out.write(text)
            return
        }
        let outputs = try TrainOutputs.resolve(save: save, log: log, checkpointEvery: checkpointEvery, overwrite: overwrite,
                                               resume: resume, restored: restored, config: self.config)
        if let threads = config.training.threads { try CoreSystem.setThreads(threads) }
        else if mpi { try CoreSystem.setThreads(MPITraining.defaultThreads()) }
        if mpi, config.training.schedule == .locked {
            throw UsageError("--mpi runs an unlocked schedule, one rank per block: add --schedule pipeline or --schedule async")
        }
        let options = config.dataOptions
        let spec = try asUsage { try DataSpec.parse(config.data) }
        let loadStart = Date()
        let data = try restored.map { try DataIdentity.resumed($0, from: resume!, given: self.data, spec: spec, options: options) }
            ?? loadData(spec, options: options)
        let trainer = try Trainer(config: config, data: data, restoring: restored)
        if let resume, trainer.state.step >= trainer.totalSteps {
            try Console.out.write("run \(pathText(resume)) already finished: step \(trainer.state.step) of \(trainer.totalSteps); "
                                  + namer.render("nothing to do (pass a larger {training.steps} or {training.epochs} to train it longer)"))
            if mpi { MPIRanks.abort(0) } // the other ranks wait for a run that will not come
            return
        }
        try TrainOutputs.flagged { try outputs.checkRoom(for: trainer) }
        if mpi {
            try MPITraining.shareRun(trainer, checkpoint: resumeBytes, threads: config.training.threads, timeout: timeout)
        }
        warnAboutData(config, data, namer)
        let run = try TrainOutputs.flagged { try TrainingRun(trainer: trainer, outputs: outputs, resumedStep: restored?.step) }
        // a run that fails before its first record leaves no empty log behind
        if outputs.logMode == .create, let log = run.log { CreatedOutputs.createdFile(log.path) }
        let session = TrainSession(run: run, outputs: outputs, report: Report(quiet: quiet), namer: namer)
        if !quiet { try printHeader(config, spec, data, trainer, Date().timeIntervalSince(loadStart)) }
        if !quiet, let note = session.logContinuationNote { try Console.out.write(note) }
        StopSignal.install()
        try session.train()
        MPITraining.end()
    }

    /// Settings that run but are probably not what the user meant.
    func warnAboutData(_ config: RunConfig, _ data: DataSplit, _ namer: SettingNamer) {
        for unseen in data.labelsMissingFromTraining() {
            Console.warn("the \(unseen.part) set has label(s) \(labelRanges(unseen.labels)) that no training example has "
                         + "(training labels: \(labelRanges(data.trainingLabels))); the output layer has \(data.train.classes) classes"
                         + (config.model.classes == nil ? namer.render(" (set {model.classes} to choose)") : ""))
        }
        if config.interfaces.rule == .kickback, config.model.loss == .ce {
            Console.warn("kickback sums the output errors through all-ones, which is identically "
                + "zero under softmax cross-entropy: the hidden layers get no signal (use a single-output task: "
                + namer.render("{model.loss} logistic on binary data, or mse)"))
        }
    }

    func printHeader(_ config: RunConfig, _ spec: DataSpec, _ data: DataSplit, _ trainer: Trainer, _ loadSeconds: Double) throws {
        let gemm = CoreSystem.gemmInfo()
        let widths = ([data.train.dim] + config.model.layers.map(\.width) + [trainer.network.outputDim])
            .map(String.init).joined(separator: "-")
        try Console.out.write("data \(pathText(spec.description)): \(data.train.count) train, \(data.validation?.count ?? 0) validation, "
              + "\(data.test.count) test (loaded in \(String(format: "%.1f", loadSeconds)) s)")
        try Console.out.write("network \(widths) \(config.model.layers.first?.activation.rawValue ?? "linear")"
              + "\(config.model.layers.contains { $0.batchnorm } ? "+bn" : ""), \(config.model.loss.rawValue) loss, "
              + "\(config.optimizer.kind.rawValue) lr \(String(format: "%g", config.networkOptimizer.learningRate))"
              + (config.networkLearningRateReason.map { " (\($0))" } ?? "") + ", batch \(config.training.batch), "
              + "\(trainer.totalSteps) steps, \(CoreSystem.threads) thread(s), GEMM \(gemm.summary)"
              + (trainer.pipeline.map { ", schedule \(config.training.schedule.rawValue) (\($0.blockCount) blocks"
                  + (mpi ? " as \(MPIRanks.size) MPI ranks" : "")
                  + (config.training.schedule == .async ? ", queue \(config.training.queue ?? TrainingSpec.defaultQueue))" : ")") } ?? ""))
        if !trainer.dni.boundaries.isEmpty {
            let dni = trainer.dni, i = config.interfaces
            let place = i.at == .output ? "one \(i.kind.rawValue) interface on the output"
                : "\(i.kind.rawValue) interfaces after hidden layer(s) \(dni.boundaries.sorted().map(String.init).joined(separator: ","))"
            try Console.out.write("rule \(i.rule.rawValue): \(place), target \(i.target.rawValue), "
                  + "loss \(i.loss.rawValue), signal \(i.signal.rawValue)\(i.signal == .predProp ? " (alpha \(i.alpha))" : "")"
                  + (i.kind.trainable ? ", \(config.interfaceOptimizer.kind.rawValue) lr \(String(format: "%g", config.interfaceOptimizer.learningRate))" : ""))
        } else {
            try Console.out.write("rule \(config.interfaces.rule.rawValue)")
        }
        if trainer.state.step > 0 {
            try Console.out.write("resumed at step \(trainer.state.step) from \(pathText(resume ?? ""))"
                                  + (data.record.map { "; data \($0.filesText)" } ?? ""))
        }
    }
}
