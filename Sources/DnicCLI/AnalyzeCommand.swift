import ArgumentParser
import Dnic
import Foundation

/// `dnic analyze …`: the paper's analyses (Sections 3–5) on trained
/// checkpoints, each writing its numbers (JSON, CSV) and a picture into
/// `--out DIR`. Several `--checkpoint`s appear side by side, labelled by
/// their rule.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze", abstract: "The paper's analyses of trained checkpoints, as numbers and pictures.",
        subcommands: [LossSurfaceAnalysis.self, RDMAnalysis.self, ProbesAnalysis.self, NormsAnalysis.self, AlignmentAnalysis.self])
}

/// What every analysis takes: checkpoints, the output directory, threads.
struct AnalysisOptions: ParsableArguments {
    @Option(name: .customLong("checkpoint"), help: "A checkpoint written by `dnic train --save` (repeat for several models).")
    var checkpoints: [String] = []

    @Option(help: "Directory for the results (created if absent; its parent must exist).")
    var out: String

    @Flag(help: "Replace result files already in --out.")
    var overwrite = false

    @Option(parsing: .unconditional, help: "Threads for dnic and its GEMM backend together. (default: all cores)",
            transform: ArgumentValue.integer)
    var threads: Int?

    /// Checks the threads and that every output file can be written (before
    /// any work, as `dnic train` checks its outputs), loads the checkpoints,
    /// each labelled by its rule (and file, where two share one), lets
    /// `validate` refuse one, and only then creates the output directory.
    func prepare(files: [String], checkpointsNeeded: Bool = true,
                 validate: (Checkpoint.Loaded, String) throws -> Void = { _, _ in })
        throws -> [(label: String, checkpoint: Checkpoint.Loaded)] {
        if checkpointsNeeded, checkpoints.isEmpty { throw UsageError("--checkpoint: give at least one checkpoint") }
        if let threads {
            if threads < 1 || threads > 4096 { throw UsageError("--threads \(threads): must be between 1 and 4096") }
            try asUsage { try CoreSystem.setThreads(threads) }
        }
        let create = try AnalysisOutputs.check(directory: out, files: files, overwrite: overwrite)
        let loaded = try checkpoints.map { try Checkpoint.load(path: $0) }
        for (c, path) in zip(loaded, checkpoints) { try validate(c, path) }
        if create, mkdir(out, 0o777) != 0 {
            throw UsageError("--out \(out): cannot create it: \(String(cString: strerror(errno)))")
        }
        let rules = loaded.map { $0.config.interfaces.rule.rawValue }
        return zip(loaded, zip(rules, checkpoints)).map { c, named in
            let (rule, path) = named
            let shared = rules.filter { $0 == rule }.count > 1
            return (shared ? "\(rule) (\((path as NSString).lastPathComponent))" : rule, c)
        }
    }

    func path(_ file: String) -> String { (out as NSString).appendingPathComponent(file) }
}

/// The output directory of an analysis and the files it will write.
enum AnalysisOutputs {
    /// Refuses (one line, nothing created) unless every file can be
    /// written: an existing `directory` must be a directory; an absent one
    /// must have a parent that takes it. Returns whether it is to be created.
    static func check(directory: String, files: [String], overwrite: Bool) throws -> Bool {
        var info = stat()
        if stat(directory, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw UsageError("--out \(directory): not a directory") }
            for f in files {
                do {
                    try OutputFile.check((directory as NSString).appendingPathComponent(f), existing: .refuse, replace: overwrite)
                } catch let error as OutputError {
                    throw UsageError("--out \(error.description)\(error.reason == .exists ? " (pass --overwrite to replace it)" : "")")
                }
            }
            return false
        }
        do {
            try OutputFile.check(directory, existing: .refuse, replace: false)
        } catch let error as OutputError {
            throw UsageError("--out \(error.description)")
        }
        return true
    }

    static func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(value) + Data("\n".utf8)
    }
}

/// The SG positions of a checkpoint: hidden-layer numbers (1-based) an
/// interface sits after.
func boundaries(of c: Checkpoint.Loaded) -> [Int] {
    (try? c.config.interfaces.boundaries(hidden: c.config.model.layers.count)) ?? []
}

/// `dnic analyze norms` (Figure 5).
struct NormsAnalysis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "norms",
        abstract: "Each hidden layer's share of the squared weight norm (the paper's Figure 5).",
        discussion: "Per hidden layer l: ‖W_l‖²_F / Σ_k ‖W_k‖²_F over the hidden weight matrices (biases, batch norm and the output layer not counted). Writes norms.json, norms.csv and norms.svg (one line per model, SG positions marked).")

    @OptionGroup var options: AnalysisOptions

    func run() throws {
        let models = try options.prepare(files: ["norms.json", "norms.csv", "norms.svg"])
        struct Row: Codable { var model: String; var checkpoint: String; var boundaries: [Int]; var shares: [Double] }
        var rows = [Row]()
        for (i, m) in models.enumerated() {
            rows.append(Row(model: m.label, checkpoint: options.checkpoints[i], boundaries: boundaries(of: m.checkpoint),
                            shares: WeightNorms.normalised(m.checkpoint.network)))
        }
        var csv = "model,layer,share\n"
        for r in rows { for (l, s) in r.shares.enumerated() { csv += "\(csvField(r.model)),\(l + 1),\(s)\n" } }
        var plot = LinePlot(title: "Weight norm per hidden layer", xLabel: "hidden layer",
                            yLabel: "‖W‖²_F share", series: rows.map { r in
                                .init(label: r.model, points: r.shares.enumerated().map { (Double($0.offset + 1), $0.element) })
                            })
        plot.integerX = true
        plot.marks = markList(rows.map { ($0.model, $0.boundaries) })
        try AtomicFile.write(try AnalysisOutputs.json(rows), to: options.path("norms.json"), what: "the norms")
        try AtomicFile.write(Data(csv.utf8), to: options.path("norms.csv"), what: "the norms")
        try plot.write(to: options.path("norms.svg"))
        for r in rows {
            try Console.out.write("\(r.model): " + r.shares.enumerated().map { String(format: "%d %.3f", $0.offset + 1, $0.element) }.joined(separator: ", "))
        }
        try Console.out.write("wrote \(options.path("norms.svg")), norms.json, norms.csv")
    }
}

/// `dnic analyze probes` (Figure 8).
struct ProbesAnalysis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probes",
        abstract: "Linear-probe accuracy of every layer (the paper's Figure 8).",
        discussion: "Per layer (0 = the input): ridge least squares from the layer's activations on the training set to one-hot labels (closed form through LAPACK; the penalty is --ridge times the training rows), scored by argmax on the training and the test set. Writes probes.json, probes.csv and probes.svg.")

    @OptionGroup var options: AnalysisOptions

    @Option(help: "Dataset (as for train). (default: each checkpoint's own)")
    var data: String?

    @Option(parsing: .unconditional, help: "Ridge penalty per training row. (default: 0.001)", transform: ArgumentValue.number)
    var ridge: Double = LinearProbes.defaultRidge

    func run() throws {
        guard ridge >= 0, ridge.isFinite else { throw UsageError("--ridge \(ridge): must be a finite number >= 0") }
        let models = try options.prepare(files: ["probes.json", "probes.csv", "probes.svg"])
        struct Row: Codable { var model: String; var checkpoint: String; var data: String; var boundaries: [Int]; var layers: [LinearProbes.Result] }
        var rows = [Row]()
        for (i, m) in models.enumerated() {
            let c = m.checkpoint
            let (spec, split) = try trainingData(c, path: options.checkpoints[i], data: data)
            let live = isatty(STDERR_FILENO) != 0
            let layers = try LinearProbes.run(c.network, train: split.train, test: split.test, ridge: ridge) { l in
                if live { Console.err("\r\(m.label): probing layer \(l) of \(c.network.layerCount - 1)\u{1B}[K") }
            }
            if live { Console.err("\r\u{1B}[K") }
            rows.append(Row(model: m.label, checkpoint: options.checkpoints[i], data: spec.description,
                            boundaries: boundaries(of: c), layers: layers))
        }
        var csv = "model,layer,width,train_accuracy,test_accuracy\n"
        for r in rows { for l in r.layers { csv += "\(csvField(r.model)),\(l.layer),\(l.width),\(l.trainAccuracy),\(l.testAccuracy)\n" } }
        var plot = LinePlot(title: "Linear probe accuracy per layer", xLabel: "layer (0 = input)", yLabel: "accuracy",
                            series: rows.flatMap { r in [
                                LinePlot.Series(label: "\(r.model) test", points: r.layers.map { (Double($0.layer), $0.testAccuracy) }),
                                LinePlot.Series(label: "\(r.model) train", points: r.layers.map { (Double($0.layer), $0.trainAccuracy) }),
                            ] })
        plot.integerX = true
        plot.marks = markList(rows.map { ($0.model, $0.boundaries) })
        try AtomicFile.write(try AnalysisOutputs.json(rows), to: options.path("probes.json"), what: "the probes")
        try AtomicFile.write(Data(csv.utf8), to: options.path("probes.csv"), what: "the probes")
        try plot.write(to: options.path("probes.svg"))
        for r in rows {
            try Console.out.write("\(r.model): test accuracy by layer " + r.layers.map { String(format: "%d %.4f", $0.layer, $0.testAccuracy) }.joined(separator: ", "))
        }
        try Console.out.write("wrote \(options.path("probes.svg")), probes.json, probes.csv")
    }
}

/// The data split a checkpoint was trained on (or `data`), checked to fit its network.
func trainingData(_ c: Checkpoint.Loaded, path: String, data: String? = nil) throws -> (DataSpec, DataSplit) {
    let spec = try asUsage { try DataSpec.parse(data ?? c.config.data) }
    var options = DataOptions()
    options.seed = c.config.training.seed
    options.validationFraction = c.config.training.validation
    options.classes = c.config.model.classes
    let split = try loadData(spec, options: options)
    guard split.train.dim == c.network.inputDim else {
        throw DnicError("\(spec.description) has \(split.train.dim) features per example; \(path) expects \(c.network.inputDim)")
    }
    return (spec, split)
}

/// SG marks for a plot: one per position, naming the models that have an
/// interface there when they differ.
func markList(_ models: [(String, [Int])]) -> [(x: Double, label: String)] {
    let positions = Set(models.flatMap(\.1)).sorted()
    return positions.map { k in
        let having = models.filter { $0.1.contains(k) }.map(\.0)
        return (Double(k), having.count == models.count ? "SG" : "SG " + having.joined(separator: ", "))
    }
}

/// A CSV field, quoted when it holds a comma, quote or newline.
func csvField(_ s: String) -> String {
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}
