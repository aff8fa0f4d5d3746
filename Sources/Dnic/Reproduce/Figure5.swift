import Foundation

/// The paper's Figure 5: each hidden layer's share of the squared weight
/// norm, on the deep stack WITHOUT batch norm (under batch norm a layer's
/// weight scale does not change its function, so its norm says nothing about
/// how much it computes), with a larger L2 penalty, backprop at three seeds.
public enum Figure5: PaperResult {
    public static let id = "fig5"
    public static let summary = "Figure 5: weight-norm profiles (L2 penalty, no batch norm) of the deep stack."

    /// The models: the set without batch norm, backprop at every seed.
    static func members(_ s: DeepStack.Settings) -> [DeepStack.Member] {
        DeepStack.set(.plain) + DeepStack.extraSeeds(.plain, s)
    }

    public static func run(_ r: Reproduction) throws -> ResultReport {
        var report = ResultReport(id: id, title: "Figure 5 — weight norms per hidden layer", data: r.imageDataName,
                                  command: r.command(id), quick: r.options.quick, setup: "")
        let settings = DeepStack.Settings(quick: r.options.quick)
        let (s, models) = try DeepStack.models(r, result: id, report: &report, members: members(settings))
        report.setup = DeepStack.plainSetupText(s) + " Stack: \(s.hidden) hidden layers × \(s.width) relu, softmax cross-entropy, "
                       + "Adam, batch 64; the single SG after hidden layer \(s.single) (linear cDNI), SG everywhere after each of hidden "
                       + "layers 1–\(s.hidden - 1) (bootstrapped targets); backprop at "
                       + "seeds \(s.backpropSeeds.map(String.init).joined(separator: ", ")), the SG models at seed 1. Share of layer l: "
                       + "‖W_l‖²_F / Σ_k ‖W_k‖²_F over the hidden weight matrices; at He-uniform init every layer's expected ‖W‖²_F "
                       + "is 2 × its width, so every share starts near 1/\(s.hidden)."
        struct Row: Codable {
            var model: String; var run: String; var batchnorm: Bool; var seed: Int; var boundaries: [Int]; var testAccuracy: Double
            var shares: [Double]
        }
        let rows = models.map {
            Row(model: $0.label, run: $0.name, batchnorm: $0.batchnorm, seed: $0.seed, boundaries: $0.boundaries,
                testAccuracy: $0.final.testAccuracy, shares: WeightNorms.normalised($0.network))
        }
        var csv = "model,run,batchnorm,seed,layer,share\n"
        for row in rows {
            for (l, v) in row.shares.enumerated() { csv += "\(csvField(row.model)),\(row.run),\(row.batchnorm),\(row.seed),\(l + 1),\(v)\n" }
        }
        try AtomicFile.write(Data(csv.utf8), to: try r.path(id, "fig5.csv"), what: "the norms")
        try AtomicFile.write(try jsonData(rows), to: try r.path(id, "fig5.json"), what: "the norms")
        let plot = AnalysisPlots.norms(rows.map { (.init(label: $0.model, boundaries: $0.boundaries), $0.shares) })
        try plot.write(to: try r.path(id, "fig5.svg"))
        report.figures = [.init(file: "fig5.svg", caption: "Normalised squared Frobenius norm of each hidden layer's weight matrix, "
                                                           + "without batch norm: backprop (\(s.backpropSeeds.count) seeds), a single SG "
                                                           + "after hidden layer \(s.single) (dashed) and an SG between every pair of "
                                                           + "layers (SG*).")]
        func signed(_ v: Double) -> String { String(format: "%+.2e", v) }
        report.tables.append(.init(caption: "Weight-norm shares (no batch norm)", header: ["model", "test accuracy", "slope per layer", "first layer", "last layer"],
                                   rows: rows.map { row in
                                       [row.model, fixed(row.testAccuracy, 3), signed(DeepStack.slope(row.shares)),
                                        fixed(row.shares.first ?? .nan),
                                        fixed(row.shares.last ?? .nan)]
                                   }))
        let backprops = rows.filter { $0.run.hasPrefix(DeepStack.Variant.plain.prefix + "backprop") }
        let bp = backprops[0], single = rows.first { $0.run.hasSuffix("sg-single") }!, every = rows.first { $0.run.hasSuffix("sg-every") }!
        let bpSlopes = backprops.map { DeepStack.slope($0.shares) }
        let slopesText = bpSlopes.map(signed).joined(separator: ", ")
        // 1. backprop: norms increase slowly towards the output, in every seed
        let rising = bpSlopes.filter { $0 > 0 }.count
        report.findings.append(.init(
            paper: "with backprop the norms increase slowly towards the output.",
            ours: "backprop's shares have least-squares slopes of \(slopesText) per layer (seeds "
                  + "\(s.backpropSeeds.map(String.init).joined(separator: ", "))); first layer \(fixed(bp.shares.first ?? .nan)), "
                  + "last \(fixed(bp.shares.last ?? .nan)) (seed 1).",
            verdict: Verdict.counting(rising, of: bpSlopes.count),
            rule: "reproduced when the slope of backprop's shares over the layers is positive in every seed; partly when in some",
            baseline: "at init every share is near 1/\(s.hidden) = \(fixed(1 / Double(s.hidden))) (slope 0)"))
        // 2. SG everywhere: norms start high and fall towards the output, beyond backprop's seed range
        let everySlope = DeepStack.slope(every.shares)
        let falls = everySlope < 0, beyond = everySlope < (bpSlopes.min() ?? .nan)
        report.findings.append(.init(
            paper: "with an SG between every two layers the norms start high and decrease towards the output.",
            ours: "the SG-everywhere model's shares have a slope of \(signed(everySlope)) per layer (first layer "
                  + "\(fixed(every.shares.first ?? .nan)), last \(fixed(every.shares.last ?? .nan))); its test accuracy "
                  + "\(fixed(every.testAccuracy, 3)) (backprop \(fixed(bp.testAccuracy, 3))).",
            verdict: falls && beyond ? .reproduced : falls ? .partly : .not,
            rule: "reproduced when the slope of its shares is negative and below every backprop seed's slope; partly when it is "
                  + "negative only",
            baseline: "backprop's slopes \(slopesText) (\(bpSlopes.count) seeds)"))
        // 3. single SG: above the SG like backprop's profile, below it more chaotic than seed-to-seed noise
        let k = s.single
        func correlation(_ a: Row, _ b: Row, above: Bool) -> Double {
            above ? DeepStack.correlation(Array(a.shares[k...]), Array(b.shares[k...]))
                  : DeepStack.correlation(Array(a.shares[0 ..< k]), Array(b.shares[0 ..< k]))
        }
        let sgAbove = correlation(single, bp, above: true), sgBelow = correlation(single, bp, above: false)
        let seedsAbove = backprops.dropFirst().map { correlation($0, bp, above: true) }
        let seedsBelow = backprops.dropFirst().map { correlation($0, bp, above: false) }
        let higherAbove = sgAbove > sgBelow, chaoticBelow = sgBelow < (seedsBelow.min() ?? .nan)
        report.findings.append(.init(
            paper: "with a single SG, the norms after the SG resemble backprop's, while before it they are more chaotic.",
            ours: "correlation of the single-SG model's shares with backprop's (seed 1): \(fixed(sgAbove, 2)) above the SG, "
                  + "\(fixed(sgBelow, 2)) below it.",
            verdict: higherAbove && chaoticBelow ? .reproduced : higherAbove ? .partly : .not,
            rule: "reproduced when its correlation with backprop's profile is higher above the SG than below it, and below the SG "
                  + "lower than that of every other backprop seed with seed 1; partly when only the first holds",
            baseline: "backprop seeds \(backprops.dropFirst().map { String($0.seed) }.joined(separator: ", ")) against seed 1: "
                      + "\(seedsAbove.map { fixed($0, 2) }.joined(separator: ", ")) above the SG, "
                      + "\(seedsBelow.map { fixed($0, 2) }.joined(separator: ", ")) below"))
        return report
    }
}
