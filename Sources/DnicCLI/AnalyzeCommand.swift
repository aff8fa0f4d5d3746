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

    @OptionGroup var threadsOption: ThreadsOption

    /// Checks the threads and that every output file can be written (before
    /// any work, as `dnic train` checks its outputs), loads the checkpoints,
    /// each labelled by its rule (and file, where two share one), lets
    /// `validate` refuse one, and only then creates the output directory.
    func prepare(files: [String], checkpointsNeeded: Bool = true,
                 validate: (Checkpoint.Loaded, String) throws -> Void = { _, _ in })
        throws -> [(label: String, checkpoint: Checkpoint.Loaded)] {
        if checkpointsNeeded, checkpoints.isEmpty { throw UsageError("--checkpoint: give at least one checkpoint") }
        try threadsOption.apply()
        let create = try AnalysisOutputs.check(directory: out, files: files, overwrite: overwrite)
        let loaded = try checkpoints.map { try Checkpoint.load(path: $0) }
        for (c, path) in zip(loaded, checkpoints) { try validate(c, path) }
        if create, !CreatedOutputs.makeDirectory(out) {
            throw UsageError("--out \(out): cannot create it: \(String(cString: strerror(errno)))")
        }
        let rules = loaded.map { $0.config.interfaces.rule.rawValue }
        return zip(loaded, zip(rules, checkpoints)).map { c, named in
            let (rule, path) = named
            let shared = rules.filter { $0 == rule }.count > 1
            return (shared ? "\(rule) (\(PathName.lastComponent(of: path)))" : rule, c)
        }
    }

    func path(_ file: String) -> String { PathName.joining(out, file) }
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
                    try OutputFile.check(PathName.joining(directory, f), existing: .refuse, replace: overwrite)
                } catch let error as OutputError {
                    throw UsageError("--out \(error.description)\(error.reason == .exists ? " (pass --overwrite to replace it)" : "")")
                }
            }
            return false
        }
        do {
            try OutputFile.checkNewDirectory(directory)
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

/// The data split a checkpoint was trained on (the files it records,
/// whatever the working directory), or `data`, checked to fit its network.
/// Says which files it read, and warns when they are not the data the
/// checkpoint (or one of `others`, analysed on the same data) was trained on.
func trainingData(_ c: Checkpoint.Loaded, path: String, data: String? = nil,
                  others: [(checkpoint: Checkpoint.Loaded, path: String)] = []) throws -> (DataSpec, DataSplit) {
    let spec = try asUsage { try DataSpec.parse(data ?? c.config.data) }
    let options = c.config.dataOptions
    let split = try (data == nil ? c.data : nil).map { try loadData(recorded: $0, options: options) }
        ?? loadData(spec, options: options)
    guard split.train.dim == c.network.inputDim else {
        throw DnicError("\(spec.description) has \(split.train.dim) features per example; \(path) expects \(c.network.inputDim)")
    }
    try Console.out.write("data \(pathText(spec.description)) for \(pathText(path)): \(split.record?.filesText ?? "")")
    for (checkpoint, p) in [(c, path)] + others { DataIdentity.check(split.record, against: checkpoint, path: p) }
    return (spec, split)
}
