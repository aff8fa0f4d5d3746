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

    struct Point: Codable { var step: Int; var alignment: Double }
    struct Curve: Codable { var source: String; var boundary: Int; var points: [Point] }
    struct Recomputed: Codable { var model: String; var checkpoint: String; var step: Int; var rows: Int; var boundaries: [Int]; var alignments: [Double] }
    struct Result: Codable { var logs: [Curve]; var checkpoints: [Recomputed] }

    func run() throws {
        guard !logs.isEmpty || !options.checkpoints.isEmpty else {
            throw UsageError("give a --log (written with --track-alignment) or a --checkpoint")
        }
        guard batch >= 1, batch <= 1 << 20 else { throw UsageError("--batch \(batch): must be between 1 and 1048576") }
        var files = ["alignment.json", "alignment.csv"]
        if !logs.isEmpty { files.append("alignment.svg") }
        if !options.checkpoints.isEmpty { files.append("alignment-layers.svg") }
        // logs are read (and refused) before anything is created
        let curves = try logs.flatMap { try readLog($0) }
        let models = try options.prepare(files: files, checkpointsNeeded: false) { c, path in
            guard !c.interfaces.boundaries.isEmpty else {
                throw UsageError("\(path): a run without interfaces (rule \(c.config.interfaces.rule.rawValue)) has no signal to align")
            }
        }
        var recomputed = [Recomputed]()
        for (i, m) in models.enumerated() {
            let c = m.checkpoint
            let (_, split) = try trainingData(c, path: options.checkpoints[i])
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
            recomputed.append(Recomputed(model: m.label, checkpoint: options.checkpoints[i], step: c.step, rows: rows,
                                         boundaries: c.interfaces.boundaries, alignments: c.interfaces.alignments.map(Double.init)))
        }
        var csv = "source,kind,step,boundary,alignment\n"
        for cv in curves { for p in cv.points { csv += "\(csvField(cv.source)),log,\(p.step),\(cv.boundary),\(p.alignment)\n" } }
        for r in recomputed { for (k, a) in zip(r.boundaries, r.alignments) { csv += "\(csvField(r.model)),checkpoint,\(r.step),\(k),\(a)\n" } }
        try AtomicFile.write(try AnalysisOutputs.json(Result(logs: curves, checkpoints: recomputed)), to: options.path("alignment.json"), what: "the alignments")
        try AtomicFile.write(Data(csv.utf8), to: options.path("alignment.csv"), what: "the alignments")
        if !curves.isEmpty {
            let plot = LinePlot(title: "Signal / true gradient cosine over training", xLabel: "step", yLabel: "cosine",
                                series: curves.map { .init(label: "\($0.source) h\($0.boundary)", points: $0.points.map { (Double($0.step), $0.alignment) }) })
            try plot.write(to: options.path("alignment.svg"))
        }
        if !recomputed.isEmpty {
            var plot = LinePlot(title: "Signal / true gradient cosine per interface", xLabel: "interface after hidden layer", yLabel: "cosine",
                                series: recomputed.map { r in .init(label: r.model, points: zip(r.boundaries, r.alignments).map { (Double($0), $1) }.sorted { $0.0 < $1.0 }) })
            plot.integerX = true
            try plot.write(to: options.path("alignment-layers.svg"))
        }
        for r in recomputed {
            try Console.out.write("\(r.model) (step \(r.step), \(r.rows) rows): cosine " + zip(r.boundaries, r.alignments).sorted { $0.0 < $1.0 }
                .map { String(format: "h%d %.3f", $0.0, $0.1) }.joined(separator: ", "))
        }
        for cv in curves {
            if let last = cv.points.last { try Console.out.write(String(format: "%@ h%d: cosine %.3f at step %d (%d evaluations)", cv.source, cv.boundary, last.alignment, last.step, cv.points.count)) }
        }
        try Console.out.write("wrote \(options.path("alignment.json")), alignment.csv\(curves.isEmpty ? "" : ", alignment.svg")\(recomputed.isEmpty ? "" : ", alignment-layers.svg")")
    }

    /// The alignment curves of one log, a curve per interface.
    func readLog(_ path: String) throws -> [Curve] {
        guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("--log \(path): cannot read it") }
        let name = PathName.lastComponent(of: path)
        var byBoundary = [Int: [Point]]()
        for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
            guard let record = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw UsageError("--log \(path): line \(n + 1) is not a JSON object")
            }
            guard record["event"] as? String == "eval", let step = record["step"] as? Int,
                  let interfaces = record["interfaces"] as? [[String: Any]] else { continue }
            for i in interfaces {
                guard let k = i["layer"] as? Int, let a = i["alignment"] as? Double else { continue }
                byBoundary[k, default: []].append(Point(step: step, alignment: a))
            }
        }
        guard !byBoundary.isEmpty else {
            throw UsageError("--log \(path): no alignment in it (train with --track-alignment)")
        }
        return byBoundary.keys.sorted().map { Curve(source: name, boundary: $0, points: byBoundary[$0]!) }
    }
}
