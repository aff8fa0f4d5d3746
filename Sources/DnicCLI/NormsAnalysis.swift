import ArgumentParser
import Dnic
import Foundation

/// `dnic analyze norms` (Figure 5).
struct NormsAnalysis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "norms",
        abstract: "Each hidden layer's share of the squared weight norm (the paper's Figure 5).",
        discussion: "Per hidden layer l: ‖W_l‖²_F / Σ_k ‖W_k‖²_F over the hidden weight matrices (biases, batch norm and the output layer not counted). Writes norms.json, norms.csv and norms.svg (one line per model, SG positions marked).")

    @OptionGroup var options: AnalysisOptions

    func run() throws {
        let models = try options.prepare(files: ["norms.json", "norms.csv", "norms.svg"])
        struct Row: Codable { var model: String; var checkpoint: String; var boundaries: [Int]; var shares: [Double] }
        var rows = [Row]()
        for (i, m) in models.enumerated() {
            rows.append(Row(model: m.label, checkpoint: options.checkpoints[i], boundaries: boundaries(of: m.checkpoint),
                            shares: WeightNorms.normalised(m.checkpoint.network)))
        }
        var csv = "model,layer,share\n"
        for r in rows { for (l, s) in r.shares.enumerated() { csv += "\(csvField(r.model)),\(l + 1),\(s)\n" } }
        let plot = AnalysisPlots.norms(rows.map { (.init(label: $0.model, boundaries: $0.boundaries), $0.shares) })
        try AtomicFile.write(try AnalysisOutputs.json(rows), to: options.path("norms.json"), what: "the norms")
        try AtomicFile.write(Data(csv.utf8), to: options.path("norms.csv"), what: "the norms")
        try plot.write(to: options.path("norms.svg"))
        for r in rows {
            try Console.out.write("\(r.model): " + r.shares.enumerated().map { String(format: "%d %.3f", $0.offset + 1, $0.element) }.joined(separator: ", "))
        }
        try Console.out.write("wrote \(options.path("norms.svg")), norms.json, norms.csv")
    }
}
