import ArgumentParser
import Dnic
import Foundation

/// `dnic analyze alignment`: the cosine between each interface's signal
/// and the true gradient, over training from runs' logs (written with
/// `--track-alignment`), or recomputed on checkpoints for a batch.
struct AlignmentAnalysis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alignment",
        abstract: "Cosine between each interface's signal and the true gradient, over training or on a checkpoint.",
        discussion: "--log FILE (a run's JSON Lines log written with --track-alignment): the mean cosine of every evaluation interval, per interface, over the steps (alignment.svg). --checkpoint FILE: recomputed on one batch of its training data (--batch rows, seeded choice; the step runs on a copy in memory, nothing is saved), per interface (alignment-layers.svg). alignment.json and alignment.csv hold both.")

    @OptionGroup var options: AnalysisOptions

    @Option(name: .customLong("log"), help: "A JSON Lines log of `dnic train --track-alignment --log` (repeat for several runs).")
    var logs: [String] = []

    @Option(parsing: .unconditional, help: "Rows of the batch the alignment is recomputed on. (default: 256)", transform: ArgumentValue.integer)
    var batch = 256

    @Option(help: "Seed of the choice of rows. (default: 1)", transform: ArgumentValue.seed)
    var seed: UInt64 = 1

    func run() throws {
        guard !logs.isEmpty || !options.checkpoints.isEmpty else {
            throw UsageError("give a --log (written with --track-alignment) or a --checkpoint")
        }
        guard batch >= 1, batch <= 1 << 20 else { throw UsageError("--batch \(batch): must be between 1 and 1048576") }
        // logs are read (and refused) before anything is created
        let curves = try logs.flatMap { try Alignment.curves(inLog: $0) }
        let files = Alignment.files(logs: !logs.isEmpty, checkpoints: !options.checkpoints.isEmpty)
        let models = try options.prepare(files: files, checkpointsNeeded: false) {
            for c in $0 { try Alignment.check(c.checkpoint, path: c.path) }
        }
        let result = try Alignment.analyse(curves: curves, models: models, batch: batch, seed: seed, into: options.out,
                                           notes: options.notes)
        for r in result.checkpoints {
            try Console.out.write("\(r.model) (step \(r.step), \(r.rows) rows): cosine " + zip(r.boundaries, r.alignments)
                .sorted { $0.0 < $1.0 }.map { String(format: "h%d %.3f", $0.0, $0.1) }.joined(separator: ", "))
        }
        for c in curves {
            guard let last = c.points.last else { continue }
            try Console.out.write(String(format: "%@ h%d: cosine %.3f at step %d (%d evaluations)", c.source, c.boundary,
                                         last.alignment, last.step, c.points.count))
        }
        try Console.out.write("wrote \(options.path("alignment.json")), alignment.csv"
                              + (curves.isEmpty ? "" : ", alignment.svg") + (result.checkpoints.isEmpty ? "" : ", alignment-layers.svg"))
    }
}
