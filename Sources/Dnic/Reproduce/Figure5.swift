import Foundation

/// The paper's Figure 5: each hidden layer's share of the squared weight norm.
public enum Figure5: PaperResult {
    public static let id = "fig5"
    public static let summary = "Figure 5: weight-norm profiles (small L2 penalty) of the deep stack."

    public static func run(_ r: Reproduction) throws -> ResultReport {
        var report = ResultReport(id: id, title: "Figure 5 — weight norms per hidden layer", data: r.imageDataName,
                                  command: r.command(id), quick: r.options.quick, setup: "")
        let (s, models) = try DeepStack.models(r, result: id, report: &report)
        report.setup = DeepStack.setupText(s, r) + " Share of layer l: ‖W_l‖²_F / Σ_k ‖W_k‖²_F over the hidden weight matrices."
        struct Row: Codable { var model: String; var boundaries: [Int]; var shares: [Double] }
        let rows = models.map { Row(model: $0.label, boundaries: $0.boundaries, shares: WeightNorms.normalised($0.network)) }
        var csv = "model,layer,share\n"
        for row in rows { for (l, v) in row.shares.enumerated() { csv += "\(csvField(row.model)),\(l + 1),\(v)\n" } }
        try AtomicFile.write(Data(csv.utf8), to: try r.path(id, "fig5.csv"), what: "the norms")
        try AtomicFile.write(try jsonData(rows), to: try r.path(id, "fig5.json"), what: "the norms")
        let plot = AnalysisPlots.norms(rows.map { (.init(label: $0.model, boundaries: $0.boundaries), $0.shares) })
        try plot.write(to: try r.path(id, "fig5.svg"))
        report.figures = [.init(file: "fig5.svg", caption: "Normalised squared Frobenius norm of each hidden layer's weight matrix: "
                                                           + "backprop, a single SG after hidden layer \(s.single) (dashed) and an SG "
                                                           + "between every pair of layers (SG*).")]
        report.tables.append(.init(caption: "Weight-norm shares", header: ["model", "slope per layer", "first layer", "last layer"],
                                   rows: rows.map { row in
                                       [row.model, String(format: "%+.2e", DeepStack.slope(row.shares)), fixed(row.shares.first ?? .nan),
                                        fixed(row.shares.last ?? .nan)]
                                   }))
        let bpSlope = DeepStack.slope(rows[0].shares), everySlope = DeepStack.slope(rows[2].shares)
        report.findings.append(.init(
            paper: "with backprop the norms increase slowly towards the output.",
            ours: "backprop's shares have a least-squares slope of \(String(format: "%+.2e", bpSlope)) per layer.",
            verdict: bpSlope > 0 ? .reproduced : .not,
            rule: "reproduced when the slope of backprop's shares over the layers is positive"))
        report.findings.append(.init(
            paper: "with an SG between every two layers the norms start high and decrease towards the output.",
            ours: "the SG-everywhere model's shares have a slope of \(String(format: "%+.2e", everySlope)) per layer (first layer "
                  + "\(fixed(rows[2].shares.first ?? .nan)), last \(fixed(rows[2].shares.last ?? .nan))).",
            verdict: everySlope < 0 ? .reproduced : .not,
            rule: "reproduced when the slope of its shares is negative"))
        let k = s.single
        let below = DeepStack.correlation(Array(rows[1].shares[0 ..< k]), Array(rows[0].shares[0 ..< k]))
        let above = DeepStack.correlation(Array(rows[1].shares[k...]), Array(rows[0].shares[k...]))
        report.findings.append(.init(
            paper: "with a single SG, the norms after the SG resemble backprop's, while before it they are more chaotic.",
            ours: "correlation of the single-SG model's shares with backprop's: \(fixed(above, 2)) above the SG, "
                  + "\(fixed(below, 2)) below it.",
            verdict: above > below ? .reproduced : .not,
            rule: "reproduced when the correlation with backprop's profile is higher above the SG than below it"))
        return report
    }
}
