import ArgumentParser
import Dnic
import Foundation

/// `dnic analyze loss-surface` (Figure 2): the loss each linear interface
/// implies against the true loss, over the test grid of `synth:grid` or
/// `synth:grid-random`, at the checkpoint's step and at chosen earlier
/// steps (`--at`, snapshots of the run trained again from the checkpoint's
/// settings: the same seed and thread count give the same run).
struct LossSurfaceAnalysis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss-surface",
        abstract: "The loss each linear interface implies, beside the true loss (the paper's Figure 2).",
        discussion: "For a linear interface s = hA + yB + C, L̂(h) = ½ h A_s hᵀ + (yB + C) hᵀ (A_s the symmetric part), up to a constant. On every point of the checkpoint's grid data (synth:grid or synth:grid-random, its 41x41 test grid) L̂ at the point's activation is set beside the true loss of the network's output; Spearman's rank correlation per interface and step. Writes loss-surface.json, loss-surface.csv and per model loss-surface-N.png / .svg (a row per step: true | implied at each interface, each panel its own colour scale).")

    @OptionGroup var options: AnalysisOptions

    @Option(help: "Earlier steps to show too, e.g. 100,1000: the run is trained again from the checkpoint's settings (locked schedule) and snapshotted there.")
    var at: String?

    func run() throws {
        let steps = try at.map { try LossSurface.steps(parsing: $0) } ?? []
        // every refusal before any work
        let models = try options.prepare(files: LossSurface.files(models: options.checkpoints.count)) {
            for c in $0 { try LossSurface.check(c.checkpoint, path: c.path, steps: steps) }
        }
        var results = [LossSurface.ModelResult]()
        for (i, m) in models.enumerated() {
            let result = try LossSurface.analyse(m, number: i + 1, steps: steps, into: options.out, notes: options.notes)
            let output = m.checkpoint.config.model.layers.count + 1
            for s in result.snapshots {
                try Console.out.write("\(m.label) step \(s.step): Spearman(L̂, L) " + s.layers.map {
                    "\($0.boundary == output ? "output" : "h\($0.boundary)") \(String(format: "%.3f", $0.spearman))"
                }.joined(separator: ", "))
            }
            results.append(result)
        }
        try LossSurface.write(results, into: options.out)
        try Console.out.write("wrote \(options.path("loss-surface-1.png")) (and .svg), loss-surface.json, loss-surface.csv")
    }
}
