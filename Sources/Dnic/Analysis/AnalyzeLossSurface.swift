/// `dnic analyze loss-surface` (Figure 2): per model, the loss each linear
/// interface implies beside the true loss over its grid data's test grid, at
/// the checkpoint's step and at earlier steps of the run trained again from
/// its settings (the same seed and thread count give the same run); as
/// loss-surface-N.png / .svg per model, loss-surface.json and .csv.
extension LossSurface {
    /// Spearman's ρ(L̂, L) at one interface (`boundary`: after that hidden
    /// layer; layers + 1: on the output).
    public struct Correlation: Codable {
        public var boundary: Int
        public var spearman: Double
    }

    public struct Step: Codable {
        public var step: Int
        public var layers: [Correlation]
    }

    public struct ModelResult: Codable {
        public var model: String
        public var checkpoint: String
        public var data: String
        public var snapshots: [Step]
    }

    public static func files(models n: Int) -> [String] {
        ["loss-surface.json", "loss-surface.csv"] + (1 ... max(n, 1)).flatMap { ["loss-surface-\($0).png", "loss-surface-\($0).svg"] }
    }

    /// Steps from "100,1000" (each at least 1), sorted, each once.
    public static func steps(parsing text: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw UsageError("{option:at} '\(text)': expected steps >= 1 separated by commas, such as 100,1000")
        }
        return Array(Set(parts.map { $0! })).sorted()
    }

    /// The refusals, before any work: grid data, interfaces, linear ones,
    /// `steps` within the run and, before its end, a locked run.
    public static func check(_ c: Checkpoint.Loaded, path: String, steps: [Int]) throws {
        let data = c.config.data
        guard data == "synth:grid" || data == "synth:grid-random" else {
            throw UsageError("\(path): trained on \(data); loss-surface needs grid data (synth:grid or synth:grid-random)")
        }
        guard !c.interfaces.boundaries.isEmpty else {
            throw UsageError("\(path): a run without interfaces (rule \(c.config.interfaces.rule.rawValue)); "
                             + "loss-surface needs linear synthetic gradients")
        }
        for i in c.interfaces.boundaries.indices where Linear(c.interfaces, interface: i) == nil {
            throw UsageError("\(path): its \(c.config.interfaces.kind.rawValue) interfaces imply no quadratic loss; "
                             + "loss-surface needs linear (or nolabel) ones")
        }
        if let late = steps.first(where: { $0 > c.step }) {
            throw UsageError("{option:at} \(late): \(path) stops at step \(c.step)")
        }
        if steps.contains(where: { $0 < c.step }), c.config.training.schedule != .locked {
            throw UsageError("{option:at}: \(path) was trained under the \(c.config.training.schedule.rawValue) schedule; "
                             + "only locked runs are trained again step for step")
        }
    }

    /// Model `number`'s snapshots at `steps` before its own and at its own,
    /// its picture written into `directory`.
    public static func analyse(_ m: AnalysedModel, number: Int, steps: [Int], into directory: String,
                               notes: AnalysisNotes) throws -> ModelResult {
        let c = m.checkpoint
        let (spec, split) = try m.trainingData(notes: notes)
        let earlier = steps.filter { $0 < c.step }
        let recorder = Recorder(steps: earlier, grid: split.test, loss: c.config.model.loss)
        if !earlier.isEmpty { try retrain(m, split: split, recorder: recorder, notes: notes) }
        let snapshots = recorder.snapshots + [try snapshot(c.network, c.interfaces, grid: split.test, loss: c.config.model.loss,
                                                           step: c.step)]
        let rows = snapshots.flatMap { panels($0, outputBoundary: c.network.layerCount) }
        let figure = HeatmapFigure(panels: rows, columns: 1 + c.interfaces.boundaries.count)
        try figure.write(to: PathName.joining(directory, "loss-surface-\(number)"))
        return ModelResult(model: m.label, checkpoint: m.path, data: spec.description, snapshots: snapshots.map { s in
            Step(step: s.step, layers: s.layers.map { Correlation(boundary: $0.boundary, spearman: $0.spearman) })
        })
    }

    /// loss-surface.json and loss-surface.csv of every model.
    public static func write(_ results: [ModelResult], into directory: String) throws {
        var csv = "model,step,boundary,spearman\n"
        for m in results {
            for s in m.snapshots { for l in s.layers { csv += "\(csvField(m.model)),\(s.step),\(l.boundary),\(l.spearman)\n" } }
        }
        try AnalysisDirectory.writeJSON(results, directory, "loss-surface.json", what: "the loss surfaces")
        try AnalysisDirectory.write(csv, directory, "loss-surface.csv", what: "the loss surfaces")
    }

    /// Trains the checkpoint's run again from its start up to its step,
    /// recording on the way.
    static func retrain(_ m: AnalysedModel, split: DataSplit, recorder: Recorder, notes: AnalysisNotes) throws {
        struct Reached: Error {}
        let c = m.checkpoint
        let trainer = try Trainer(config: c.config, data: split)
        do {
            _ = try trainer.run(afterStep: { t in
                try recorder.observe(t)
                if t.state.step >= c.step { throw Reached() }
            })
        } catch is Reached {}
        if trainer.state.step == c.step, trainer.network.parameters() != c.network.parameters() {
            notes.warn("\(m.path): trained again, the run differs from the checkpoint (another thread count?); "
                       + "the earlier steps are of the run trained again")
        }
    }
}
