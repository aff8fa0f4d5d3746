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
        let models = try options.prepare(files: WeightNorms.files)
        let rows = try WeightNorms.analyse(models, into: options.out)
        for r in rows {
            try Console.out.write("\(r.model): " + r.shares.enumerated().map { String(format: "%d %.3f", $0.offset + 1, $0.element) }
                .joined(separator: ", "))
        }
        try Console.out.write("wrote \(options.path("norms.svg")), norms.json, norms.csv")
    }
}
