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

    struct Layer: Codable { var boundary: Int; var spearman: Double }
    struct Snapshot: Codable { var step: Int; var layers: [Layer] }
    struct Model: Codable { var model: String; var checkpoint: String; var data: String; var snapshots: [Snapshot] }

    func run() throws {
        let steps = try parseSteps()
        let n = options.checkpoints.count
        let pictures = (1 ... max(n, 1)).flatMap { ["loss-surface-\($0).png", "loss-surface-\($0).svg"] }
        // every refusal before any work
        let models = try options.prepare(files: ["loss-surface.json", "loss-surface.csv"] + pictures) { c, path in
            try check(c, path: path, steps: steps)
        }
        var results = [Model]()
        var csv = "model,step,boundary,spearman\n"
        for (i, m) in models.enumerated() {
            let c = m.checkpoint, path = options.checkpoints[i]
            let (spec, split) = try trainingData(c, path: path)
            var panels = [HeatmapPanel]()
            var snapshots = [Snapshot]()
            func record(_ network: Network, _ dni: DNI, step: Int) throws {
                let (snapshot, row) = try analyse(network, dni, grid: split.test, loss: c.config.model.loss, step: step)
                snapshots.append(snapshot)
                panels += row
            }
            let earlier = steps.filter { $0 < c.step }
            if !earlier.isEmpty { try retrain(c, split: split, at: earlier, path: path, record: record) }
            try record(c.network, c.interfaces, step: c.step)
            for s in snapshots { for l in s.layers { csv += "\(csvField(m.label)),\(s.step),\(l.boundary),\(l.spearman)\n" } }
            results.append(Model(model: m.label, checkpoint: path, data: spec.description, snapshots: snapshots))
            let figure = HeatmapFigure(panels: panels, columns: 1 + c.interfaces.boundaries.count)
            try figure.write(to: options.path("loss-surface-\(i + 1)"))
            for s in snapshots {
                try Console.out.write("\(m.label) step \(s.step): Spearman(L̂, L) " + s.layers.map {
                    "\($0.boundary == c.config.model.layers.count + 1 ? "output" : "h\($0.boundary)") \(String(format: "%.3f", $0.spearman))"
                }.joined(separator: ", "))
            }
        }
        try AtomicFile.write(try AnalysisOutputs.json(results), to: options.path("loss-surface.json"), what: "the loss surfaces")
        try AtomicFile.write(Data(csv.utf8), to: options.path("loss-surface.csv"), what: "the loss surfaces")
        try Console.out.write("wrote \(options.path("loss-surface-1.png")) (and .svg), loss-surface.json, loss-surface.csv")
    }

    func parseSteps() throws -> [Int] {
        guard let at else { return [] }
        let parts = at.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw UsageError("--at '\(at)': expected steps >= 1 separated by commas, such as 100,1000")
        }
        return Array(Set(parts.map { $0! })).sorted()
    }

    /// The refusals: grid data, interfaces, linear ones, steps within the run.
    func check(_ c: Checkpoint.Loaded, path: String, steps: [Int]) throws {
        let data = c.config.data
        guard data == "synth:grid" || data == "synth:grid-random" else {
            throw UsageError("\(path): trained on \(data); loss-surface needs grid data (synth:grid or synth:grid-random)")
        }
        guard !c.interfaces.boundaries.isEmpty else {
            throw UsageError("\(path): a run without interfaces (rule \(c.config.interfaces.rule.rawValue)); loss-surface needs linear synthetic gradients")
        }
        for i in c.interfaces.boundaries.indices where LossSurface.Linear(c.interfaces, interface: i) == nil {
            throw UsageError("\(path): its \(c.config.interfaces.kind.rawValue) interfaces imply no quadratic loss; loss-surface needs linear (or nolabel) ones")
        }
        if let late = steps.first(where: { $0 > c.step }) {
            throw UsageError("--at \(late): \(path) stops at step \(c.step)")
        }
        if steps.contains(where: { $0 < c.step }), c.config.training.schedule != .locked {
            throw UsageError("--at: \(path) was trained under the \(c.config.training.schedule.rawValue) schedule; only locked runs are trained again step for step")
        }
    }

    /// Trains the checkpoint's run again from its start, recording at `steps`.
    func retrain(_ c: Checkpoint.Loaded, split: DataSplit, at steps: [Int], path: String,
                 record: (Network, DNI, Int) throws -> Void) throws {
        struct Reached: Error {}
        let trainer = try Trainer(config: c.config, data: split)
        do {
            _ = try trainer.run(afterStep: { t in
                let step = t.state.step
                if steps.contains(step) { try record(t.network, t.dni, step) }
                if step >= c.step { throw Reached() }
            })
        } catch is Reached {}
        if trainer.state.step == c.step, trainer.network.parameters() != c.network.parameters() {
            Console.warn("\(path): trained again, the run differs from the checkpoint (another thread count?); the earlier steps are of the run trained again")
        }
    }

    /// One step: per interface, Spearman of L̂ and L over the grid, and the
    /// panels (true loss, then L̂ at each interface, top interface last).
    func analyse(_ network: Network, _ dni: DNI, grid: Dataset, loss: LossKind, step: Int) throws -> (Snapshot, [HeatmapPanel]) {
        let s = try LossSurface.snapshot(network, dni, grid: grid, loss: loss, step: step)
        return (Snapshot(step: step, layers: s.layers.map { Layer(boundary: $0.boundary, spearman: $0.spearman) }),
                LossSurface.panels(s, outputBoundary: network.layerCount))
    }
}
