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

    @Option(help: "Dataset: fashion-mnist, mnist, idx:DIR, csv:TRAIN[,TEST], synth:NAME. (default: fashion-mnist)")
    var data: String?

    @Option(parsing: .unconditional, help: "Number of hidden layers. (default: 3)", transform: ArgumentValue.integer)
    var hidden: Int?

    @Option(parsing: .unconditional, help: "Units per hidden layer. (default: 256)", transform: ArgumentValue.integer)
    var width: Int?

    @Option(help: "Hidden activation: \(Activation.choiceList). (default: relu)")
    var activation: Activation?

    @Flag(inversion: .prefixedNo, help: "Batch normalisation after every hidden dense layer. (default: off)")
    var batchnorm: Bool?

    @Option(help: "Loss: \(LossKind.choiceList). (default: ce)")
    var loss: LossKind?

    @Option(name: .customLong("init"), help: "Weight initialisation: \(InitKind.choiceList). (default: he-uniform)")
    var initializer: InitKind?

    @Option(help: "Optimizer: \(OptimizerKind.choiceList). (default: adam)")
    var optimizer: OptimizerKind?

    @Option(parsing: .unconditional, help: "Learning rate. (default: adam 1e-3, sgd 0.05, momentum 0.01)", transform: ArgumentValue.number)
    var lr: Double?

    @Option(parsing: .unconditional, help: "L2 penalty on weight matrices. (default: 0)", transform: ArgumentValue.number)
    var l2: Double?

    @Option(parsing: .unconditional, help: "Momentum coefficient for --optimizer momentum. (default: 0.9)", transform: ArgumentValue.number)
    var momentum: Double?

    @Option(help: "Learning rule: \(Rule.choiceList). (default: backprop)")
    var rule: Rule?

    @Option(help: "Interface placement: mid, every, output (on the output, before the loss), none, or hidden-layer numbers such as 2,4. (default: mid for sg/sgprop; every hidden layer for fa/dfa/kickback)")
    var sgAt: String?

    @Option(help: "Interface prediction: \(InterfaceKind.choiceList). (default: from --rule)")
    var sgKind: InterfaceKind?

    @Option(help: "Interface target: \(InterfaceTarget.choiceList). (default: from --rule)")
    var sgTarget: InterfaceTarget?

    @Option(help: "Interface loss: \(InterfaceLoss.choiceList). (default: from --rule)")
    var sgLoss: InterfaceLoss?

    @Option(help: "Signal to the block below: \(InterfaceSignal.choiceList). (default: from --rule)")
    var sgSignal: InterfaceSignal?

    @Option(parsing: .unconditional, help: "Weight of the propagated gradient in pred+prop. (default: 0.1 for sgprop)", transform: ArgumentValue.number)
    var sgAlpha: Double?

    @Option(help: "Hidden layers of an mlp interface: COUNTxWIDTH (2x1024) or widths (1024,512). (default: 0)")
    var sgHidden: String?

    @Flag(inversion: .prefixedNo, help: "Batch norm in an mlp interface's hidden layers. (default: off)")
    var sgBatchnorm: Bool?

    @Option(help: "Interfaces' optimizer: \(OptimizerKind.choiceList). (default: the network's)")
    var sgOptimizer: OptimizerKind?

    @Option(parsing: .unconditional, help: "Interfaces' learning rate. (default: the network's)", transform: ArgumentValue.number)
    var sgLr: Double?

    @Option(parsing: .unconditional, help: "Train interfaces for STEPS steps while delivering their targets instead of their predictions. (default: 0)", transform: ArgumentValue.integer)
    var sgWarmup: Int?

    @Flag(inversion: .prefixedNo, help: "Log the cosine between each interface's signal and the true gradient (one extra backward per step). (default: off)")
    var trackAlignment: Bool?

    @Option(parsing: .unconditional, help: "Batch size. (default: 64)", transform: ArgumentValue.integer)
    var batch: Int?

    @Option(parsing: .unconditional, help: "Passes over the training set. (default: 1)", transform: ArgumentValue.integer)
    var epochs: Int?

    @Option(parsing: .unconditional, help: "Total training steps; overrides --epochs.", transform: ArgumentValue.integer)
    var steps: Int?

    @Option(parsing: .unconditional, help: "Evaluate every N steps. (default: once per epoch)", transform: ArgumentValue.integer)
    var evalEvery: Int?

    @Option(parsing: .unconditional, help: "Random seed for initialisation, data order and synthetic data. (default: 1)", transform: ArgumentValue.seed)
    var seed: UInt64?

    @Option(parsing: .unconditional, help: "Threads for dnic and its GEMM backend together. (default: all cores)", transform: ArgumentValue.integer)
    var threads: Int?

    @Option(parsing: .unconditional, help: "Fraction of the training set held out for validation. (default: 0)", transform: ArgumentValue.number)
    var validation: Double?

    @Option(parsing: .unconditional, help: "Output classes (the output layer's width). (default: what the data implies: 10 for IDX, max label + 1 for CSV)", transform: ArgumentValue.integer)
    var classes: Int?

    @Option(help: "Write metrics as JSON Lines to FILE (refuses an existing file without --overwrite).")
    var log: String?

    @Option(help: "Save the run (safetensors checkpoint) to FILE at the end and when stopped (refuses an existing file without --overwrite). (default with --resume: the resumed file)")
    var save: String?

    @Option(parsing: .unconditional, help: "With --save: also write the checkpoint every STEPS steps (atomically; the previous one survives until the new one is complete).", transform: ArgumentValue.integer)
    var checkpointEvery: Int?

    @Option(help: "Continue the run saved in FILE (parameters, optimizer and data-order state), saving back to FILE and appending to its log; flags may change only its length and outputs.")
    var resume: String?

    @Option(parsing: .unconditional, help: "Clip gradients to this global L2 norm (network and each interface). (default: off)", transform: ArgumentValue.number)
    var clipGrad: Double?

    @Option(help: "Block schedule: \(ScheduleKind.choiceList). pipeline runs the blocks between interfaces in parallel in lockstep, each on its own batch; async runs them free with bounded queues (rule sg). (default: locked)")
    var schedule: ScheduleKind?

    @Option(parsing: .unconditional, help: "With --schedule pipeline or async: each block applies its update for a batch with this probability (update decoupling). (default: 1)", transform: ArgumentValue.number)
    var updateProb: Double?

    @Option(parsing: .unconditional, help: "With --schedule async: messages each queue between blocks holds (how far a block may run ahead). (default: \(TrainingSpec.defaultQueue))", transform: ArgumentValue.integer)
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
    /// flags, not yet validated.
    func mergedConfig(base: RunConfig? = nil) throws -> RunConfig {
        if resume != nil, config != nil { throw UsageError("--resume takes its configuration from the checkpoint; drop --config") }
        var c = try base ?? config.map { try ConfigFile.load(path: $0) } ?? RunConfig()
        if config == nil, resume == nil, let rule { c.model = RunConfig.defaultModel(for: rule) } // e.g. batch norm for dfa
        if let data { c.data = data }
        if hidden != nil || width != nil {
            let template = c.model.layers.first ?? LayerSpec(width: 256)
            let count = hidden ?? c.model.layers.count
            if count < 0 || count > ModelDescription.maxLayers {
                throw SettingError("model.layers", count, "must be between 0 and \(ModelDescription.maxLayers) hidden layers")
            }
            c.model.layers = Array(repeating: LayerSpec(width: width ?? template.width, activation: template.activation,
                                                        batchnorm: template.batchnorm), count: count)
        }
        if let activation { c.model.layers = c.model.layers.map { var l = $0; l.activation = activation; return l } }
        if let batchnorm { c.model.layers = c.model.layers.map { var l = $0; l.batchnorm = batchnorm; return l } }
        if let loss { c.model.loss = loss }
        if let classes { c.model.classes = classes }
        if let initializer { c.model.initializer = initializer }
        if let optimizer, optimizer != c.optimizer.kind {
            c.optimizer.kind = optimizer
            c.optimizer.lr = nil // the file's lr was chosen for another optimizer
        }
        if let lr { c.optimizer.lr = lr }
        try applyInterfaceFlags(&c)
        if let l2 { c.optimizer.l2 = l2 }
        if let momentum { c.optimizer.momentum = momentum }
        if let batch { c.training.batch = batch }
        if let epochs { c.training.epochs = epochs }
        if let steps { c.training.steps = steps }
        if let evalEvery { c.training.evalEvery = evalEvery }
        if let seed { c.training.seed = seed }
        if let threads { c.training.threads = threads }
        if let validation { c.training.validation = validation }
        if let clipGrad { c.training.clipGrad = clipGrad }
        if let schedule { c.training.schedule = schedule }
        if let updateProb { c.training.updateProb = updateProb }
        if let queue { c.training.queue = queue }
        return c
    }

    /// --rule resets the interfaces to that rule's preset; --sg-* override parts.
    func applyInterfaceFlags(_ c: inout RunConfig) throws {
        if let rule, rule != c.interfaces.rule { c.interfaces = InterfaceSpec(rule: rule) }
        if let sgAt { c.interfaces.at = try Placement(parsing: sgAt) }
        if let sgKind { c.interfaces.kind = sgKind }
        if let sgTarget { c.interfaces.target = sgTarget }
        if let sgLoss { c.interfaces.loss = sgLoss }
        if let sgSignal { c.interfaces.signal = sgSignal }
        if let sgAlpha { c.interfaces.alpha = sgAlpha }
        if let sgHidden { c.interfaces.hidden = try parseMLPHidden(sgHidden) }
        if let sgBatchnorm { c.interfaces.batchnorm = sgBatchnorm }
        if let sgWarmup { c.interfaces.warmup = sgWarmup }
        if let trackAlignment { c.interfaces.trackAlignment = trackAlignment }
        if sgOptimizer != nil || sgLr != nil {
            var o = c.interfaces.optimizer ?? c.optimizer
            if let sgOptimizer, sgOptimizer != o.kind { o.kind = sgOptimizer; o.lr = nil }
            if let sgLr { o.lr = sgLr }
            c.interfaces.optimizer = o
        }
    }

    func run() throws {
        // a setting the user did not type is named where it came from (a
        // config file's key, or a resumed checkpoint's), never as a flag
        // they did not give; hints for a resumed run still name flags
        let namer = SettingNamer(arguments: CommandLine.arguments,
                                 source: config.map { "config \(pathText($0))" } ?? resume.map { "checkpoint \(pathText($0))" },
                                 resumed: resume != nil)
        // every message names settings the way this user wrote them
        do { try train(namer) } catch let error as SettingError {
            throw UsageError(namer.render(error))
        } catch let error as UsageError {
            throw UsageError(namer.render(error.message))
        } catch let error as DataError {
            throw DataError(namer.render(error.message))
        } catch let error as DnicError {
            throw DnicError(namer.render(error.message), status: error.status)
        }
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
        var options = DataOptions()
        options.seed = config.training.seed
        options.validationFraction = config.training.validation
        options.classes = config.model.classes
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
