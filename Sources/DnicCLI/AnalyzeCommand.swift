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
    /// lets `validate` refuse them, and only then creates the output
    /// directory; each model labelled by its rule.
    func prepare(files: [String], checkpointsNeeded: Bool = true,
                 validate: ([(path: String, checkpoint: Checkpoint.Loaded)]) throws -> Void = { _ in }) throws -> [AnalysedModel] {
        if checkpointsNeeded, checkpoints.isEmpty { throw UsageError("--checkpoint: give at least one checkpoint") }
        try threadsOption.apply()
        let create = try AnalysisOutputs.check(directory: out, files: files, overwrite: overwrite)
        let loaded = try checkpoints.map { (path: $0, checkpoint: try Checkpoint.load(path: $0)) }
        try validate(loaded)
        if create, !CreatedOutputs.makeDirectory(out) {
            throw UsageError("--out \(out): cannot create it: \(String(cString: strerror(errno)))")
        }
        return AnalysedModel.labelled(loaded)
    }

    func path(_ file: String) -> String { PathName.joining(out, file) }

    /// An analysis's notes: lines to standard output, warnings and (on a
    /// terminal) progress to standard error.
    var notes: AnalysisNotes {
        let live = isatty(STDERR_FILENO) != 0
        return AnalysisNotes(say: { try Console.out.write($0) }, warn: Console.warn, progress: { text in
            if live { Console.err(text.isEmpty ? "\r\u{1B}[K" : "\r\(text)\u{1B}[K") }
        })
    }
}

/// The output directory of an analysis (or a reproduction), its refusals
/// named by --out.
enum AnalysisOutputs {
    /// Refuses (one line, nothing created) unless every file can be
    /// written; returns whether the directory is to be created.
    static func check(directory: String, files: [String], overwrite: Bool) throws -> Bool {
        do { return try AnalysisDirectory.check(directory, files: files, overwrite: overwrite) } catch let error as OutputError {
            throw UsageError("--out \(error.description)\(error.reason == .exists ? " (pass --overwrite to replace it)" : "")")
        }
    }
}
