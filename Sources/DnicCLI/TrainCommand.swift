import ArgumentParser
import Dnic
import Foundation

extension Activation: ExpressibleByArgument {}
extension LossKind: ExpressibleByArgument {}
extension InitKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}

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

    @Option(help: "Number of hidden layers. (default: 3)")
    var hidden: Int?

    @Option(help: "Units per hidden layer. (default: 256)")
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

    @Option(help: "Learning rate. (default: adam 1e-3, sgd 0.05, momentum 0.01)")
    var lr: Double?

    @Option(help: "L2 penalty on weight matrices. (default: 0)")
    var l2: Double?

    @Option(help: "Momentum coefficient for --optimizer momentum. (default: 0.9)")
    var momentum: Double?

    @Option(help: "Batch size. (default: 64)")
    var batch: Int?

    @Option(help: "Passes over the training set. (default: 1)")
    var epochs: Int?

    @Option(help: "Total training steps; overrides --epochs.")
    var steps: Int?

    @Option(help: "Evaluate every N steps. (default: once per epoch)")
    var evalEvery: Int?

    @Option(help: "Random seed for initialisation, data order and synthetic data. (default: 1)")
    var seed: UInt64?

    @Option(help: "Threads for dnic and OpenBLAS together. (default: all cores)")
    var threads: Int?

    @Option(help: "Fraction of the training set held out for validation. (default: 0)")
    var validation: Double?

    @Option(help: "Write metrics as JSON Lines to FILE (refuses an existing file without --overwrite).")
    var log: String?

    @Option(help: "Save the trained parameters (safetensors) to FILE at the end (refuses an existing file without --overwrite).")
    var save: String?

    @Flag(help: "Allow --log and --save to replace existing files.")
    var overwrite = false

    @Flag(help: "Print only the final summary line.")
    var quiet = false

    @Flag(help: "Print the effective configuration (YAML) and exit.")
    var printConfig = false

    /// Defaults, then the config file, then flags.
    func effectiveConfig() throws -> RunConfig {
        var c = try config.map { try ConfigFile.load(path: $0) } ?? RunConfig()
        if let data { c.data = data }
        if hidden != nil || width != nil {
            let template = c.model.layers.first ?? LayerSpec(width: 256)
            let count = hidden ?? c.model.layers.count
            if count < 0 { throw UsageError("--hidden \(count) must be >= 0") }
            c.model.layers = Array(repeating: LayerSpec(width: width ?? template.width, activation: template.activation,
                                                        batchnorm: template.batchnorm), count: count)
        }
        if let activation { c.model.layers = c.model.layers.map { var l = $0; l.activation = activation; return l } }
        if let batchnorm { c.model.layers = c.model.layers.map { var l = $0; l.batchnorm = batchnorm; return l } }
        if let loss { c.model.loss = loss }
        if let initializer { c.model.initializer = initializer }
        if let optimizer, optimizer != c.optimizer.kind {
            c.optimizer.kind = optimizer
            c.optimizer.lr = nil // the file's lr was chosen for another optimizer
        }
        if let lr { c.optimizer.lr = lr }
        if let l2 { c.optimizer.l2 = l2 }
        if let momentum { c.optimizer.momentum = momentum }
        if let batch { c.training.batch = batch }
        if let epochs { c.training.epochs = epochs }
        if let steps { c.training.steps = steps }
        if let evalEvery { c.training.evalEvery = evalEvery }
        if let seed { c.training.seed = seed }
        if let threads { c.training.threads = threads }
        if let validation { c.training.validation = validation }
        try c.validate()
        _ = try DataSpec.parse(c.data)
        return c
    }

    func run() throws {
        let config = try asUsage { try effectiveConfig() }
        if printConfig {
            print(try ConfigFile.yaml(config), terminator: "")
            return
        }
        if let threads = config.training.threads { try CoreSystem.setThreads(threads) }
        var options = DataOptions()
        options.seed = config.training.seed
        options.validationFraction = config.training.validation
        let spec = try asUsage { try DataSpec.parse(config.data) }
        if let save, !overwrite, FileManager.default.fileExists(atPath: save) {
            throw UsageError("--save \(save): file exists (pass --overwrite to replace it)")
        }
        let loadStart = Date()
        let data = try loadData(spec, options: options)
        let trainer = try Trainer(config: config, data: data)
        // the log is opened only once everything else is known to be valid
        let logPath = self.log
        let log: MetricsLog? = try asUsage { try logPath.map { try MetricsLog(path: $0, overwrite: overwrite) } }
        let report = Report(quiet: quiet)
        if !quiet {
            let blas = CoreSystem.blasInfo()
            let widths = ([data.train.dim] + config.model.layers.map(\.width) + [trainer.network.outputDim])
                .map(String.init).joined(separator: "-")
            print("data \(spec.description): \(data.train.count) train, \(data.validation?.count ?? 0) validation, "
                  + "\(data.test.count) test (loaded in \(String(format: "%.1f", Date().timeIntervalSince(loadStart))) s)")
            print("network \(widths) \(config.model.layers.first?.activation.rawValue ?? "linear")"
                  + "\(config.model.layers.contains { $0.batchnorm } ? "+bn" : ""), \(config.model.loss.rawValue) loss, "
                  + "\(config.optimizer.kind.rawValue) lr \(config.optimizer.learningRate), batch \(config.training.batch), "
                  + "\(trainer.totalSteps) steps, \(CoreSystem.threads) thread(s), BLAS \(blas.corename)")
        }
        var logError: Error?
        let final = try trainer.run { event in
            report.show(event)
            if case .evaluation(let record) = event, let log, logError == nil {
                do { try log.write(record, event: "eval") } catch { logError = error }
            }
        }
        if let logError { throw DnicError("--log \(log?.path ?? ""): \(logError)") }
        try log?.write(final, event: "final")
        if let save {
            try Checkpoint.save(trainer.network, config: config, step: final.step, classes: data.train.classes, to: save)
        }
        report.finish()
        print(String(format: "test accuracy %.4f (test loss %.4f) after %.2f epochs, %d steps, %.0f samples/s, %.1f s",
                     final.testAccuracy, final.testLoss, final.epoch, final.step, final.samplesPerSecond, final.seconds))
    }
}
