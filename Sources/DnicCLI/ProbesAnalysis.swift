import ArgumentParser
import Dnic
import Foundation

/// `dnic analyze probes` (Figure 8).
struct ProbesAnalysis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probes",
        abstract: "Linear-probe accuracy of every layer (the paper's Figure 8).",
        discussion: "Per layer (0 = the input): ridge least squares from the layer's activations on the training set to one-hot labels (closed form through LAPACK; the penalty is --ridge times the training rows), scored by argmax on the training and the test set. Writes probes.json, probes.csv and probes.svg.")

    @OptionGroup var options: AnalysisOptions

    @Option(help: "Dataset (as for train). (default: each checkpoint's own)")
    var data: String?

    @Option(parsing: .unconditional, help: "Ridge penalty per training row. (default: 0.001)", transform: ArgumentValue.number)
    var ridge: Double = LinearProbes.defaultRidge

    func run() throws {
        guard ridge >= 0, ridge.isFinite else { throw UsageError("--ridge \(ridge): must be a finite number >= 0") }
        let models = try options.prepare(files: LinearProbes.files)
        let rows = try LinearProbes.analyse(models, data: data, ridge: ridge, into: options.out, notes: options.notes)
        for r in rows {
            try Console.out.write("\(r.model): test accuracy by layer "
                                  + r.layers.map { String(format: "%d %.4f", $0.layer, $0.testAccuracy) }.joined(separator: ", "))
        }
        try Console.out.write("wrote \(options.path("probes.svg")), probes.json, probes.csv")
    }
}
