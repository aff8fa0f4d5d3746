/// `dnic analyze alignment`: the cosine between each interface's signal and
/// the true gradient, over training from runs' logs (written with alignment
/// tracking on), or recomputed on checkpoints for one batch; as
/// alignment.json, alignment.csv, alignment.svg (logs) and
/// alignment-layers.svg (checkpoints).
public enum Alignment {
    public struct Point: Codable {
        public var step: Int
        public var alignment: Double
    }

    /// One interface's cosine over a run, from its log.
    public struct Curve: Codable {
        public var source: String
        public var boundary: Int
        public var points: [Point]
    }

    /// Every interface's cosine on one batch of a checkpoint's training data.
    public struct Recomputed: Codable {
        public var model: String
        public var checkpoint: String
        public var step: Int
        public var rows: Int
        public var boundaries: [Int]
        public var alignments: [Double]
    }

    public struct Result: Codable {
        public var logs: [Curve]
        public var checkpoints: [Recomputed]
    }

    public static func files(logs: Bool, checkpoints: Bool) -> [String] {
        ["alignment.json", "alignment.csv"] + (logs ? ["alignment.svg"] : []) + (checkpoints ? ["alignment-layers.svg"] : [])
    }

    /// The curves of the log at `path`, one per interface, from its
    /// evaluations; refused when it is not a log or holds no alignment.
    public static func curves(inLog path: String) throws -> [Curve] {
        guard let log = MetricsLogReader(path: path) else { throw UsageError("{option:log} \(path): cannot read it") }
        var byBoundary = [Int: [Point]]()
        for (n, line) in (log.lines + [log.unterminated].compactMap { $0 }).enumerated() where !line.isEmpty {
            guard let record = log.object(line) else { throw UsageError("{option:log} \(path): line \(n + 1) is not a JSON object") }
            guard record["event"] as? String == "eval", let step = record["step"] as? Int,
                  let interfaces = record["interfaces"] as? [[String: Any]] else { continue }
            for i in interfaces {
                guard let k = i["layer"] as? Int, let a = i["alignment"] as? Double else { continue }
                byBoundary[k, default: []].append(Point(step: step, alignment: a))
            }
        }
        guard !byBoundary.isEmpty else {
            throw UsageError("{option:log} \(path): no alignment in it (train with {interfaces.track-alignment})")
        }
        let name = PathName.lastComponent(of: path)
        return byBoundary.keys.sorted().map { Curve(source: name, boundary: $0, points: byBoundary[$0]!) }
    }

    /// The refusal, before any work: a run without interfaces has no signal.
    public static func check(_ c: Checkpoint.Loaded, path: String) throws {
        guard !c.interfaces.boundaries.isEmpty else {
            throw UsageError("\(path): a run without interfaces (rule \(c.config.interfaces.rule.rawValue)) has no signal to align")
        }
    }

    /// Every interface's cosine on `batch` rows of the checkpoint's training
    /// data (chosen with `seed`): one training step on the checkpoint in
    /// memory, nothing saved.
    public static func recompute(_ m: AnalysedModel, batch: Int, seed: UInt64, notes: AnalysisNotes) throws -> Recomputed {
        let c = m.checkpoint
        let (_, split) = try m.trainingData(notes: notes)
        let rows = min(batch, split.train.count, c.network.maxBatch)
        var rng = seed
        let order = shuffledIndices(split.train.count, rng: &rng)
        let picked = split.train.subset(order.prefix(rows).map { Int($0) })
        try c.interfaces.setTrackAlignment(true)
        _ = try picked.features.withUnsafeBufferPointer { x in
            try picked.labels.withUnsafeBufferPointer { y in
                try c.interfaces.trainStep(x: x.baseAddress!, labels: y.baseAddress!, batch: rows)
            }
        }
        return Recomputed(model: m.label, checkpoint: m.path, step: c.step, rows: rows,
                          boundaries: c.interfaces.boundaries, alignments: c.interfaces.alignments.map(Double.init))
    }

    /// The curves of logs and the cosines recomputed on `models`, written into `directory`.
    public static func analyse(curves: [Curve], models: [AnalysedModel], batch: Int, seed: UInt64, into directory: String,
                               notes: AnalysisNotes) throws -> Result {
        let recomputed = try models.map { try recompute($0, batch: batch, seed: seed, notes: notes) }
        var csv = "source,kind,step,boundary,alignment\n"
        for cv in curves { for p in cv.points { csv += "\(csvField(cv.source)),log,\(p.step),\(cv.boundary),\(p.alignment)\n" } }
        for r in recomputed {
            for (k, a) in zip(r.boundaries, r.alignments) { csv += "\(csvField(r.model)),checkpoint,\(r.step),\(k),\(a)\n" }
        }
        let result = Result(logs: curves, checkpoints: recomputed)
        try AnalysisDirectory.writeJSON(result, directory, "alignment.json", what: "the alignments")
        try AnalysisDirectory.write(csv, directory, "alignment.csv", what: "the alignments")
        if !curves.isEmpty {
            let plot = LinePlot(title: "Signal / true gradient cosine over training", xLabel: "step", yLabel: "cosine",
                                series: curves.map { c in
                                    .init(label: "\(c.source) h\(c.boundary)", points: c.points.map { (Double($0.step), $0.alignment) })
                                })
            try plot.write(to: PathName.joining(directory, "alignment.svg"))
        }
        if !recomputed.isEmpty {
            var plot = LinePlot(title: "Signal / true gradient cosine per interface", xLabel: "interface after hidden layer",
                                yLabel: "cosine", series: recomputed.map { r in
                                    .init(label: r.model, points: zip(r.boundaries, r.alignments).map { (Double($0), $1) }
                                        .sorted { $0.0 < $1.0 })
                                })
            plot.integerX = true
            try plot.write(to: PathName.joining(directory, "alignment-layers.svg"))
        }
        return result
    }
}
