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
        let models = try options.prepare(files: ["probes.json", "probes.csv", "probes.svg"])
        struct Row: Codable { var model: String; var checkpoint: String; var data: String; var boundaries: [Int]; var layers: [LinearProbes.Result] }
        var rows = [Row]()
        for (i, m) in models.enumerated() {
            let c = m.checkpoint
            let (spec, split) = try trainingData(c, path: options.checkpoints[i], data: data)
            let live = isatty(STDERR_FILENO) != 0
            let layers = try LinearProbes.run(c.network, train: split.train, test: split.test, ridge: ridge) { l in
                if live { Console.err("\r\(m.label): probing layer \(l) of \(c.network.layerCount - 1)\u{1B}[K") }
            }
            if live { Console.err("\r\u{1B}[K") }
            rows.append(Row(model: m.label, checkpoint: options.checkpoints[i], data: spec.description,
                            boundaries: boundaries(of: c), layers: layers))
        }
        var csv = "model,layer,width,train_accuracy,test_accuracy\n"
        for r in rows { for l in r.layers { csv += "\(csvField(r.model)),\(l.layer),\(l.width),\(l.trainAccuracy),\(l.testAccuracy)\n" } }
        let plot = AnalysisPlots.probes(rows.map { (.init(label: $0.model, boundaries: $0.boundaries), $0.layers) })
        try AtomicFile.write(try AnalysisOutputs.json(rows), to: options.path("probes.json"), what: "the probes")
        try AtomicFile.write(Data(csv.utf8), to: options.path("probes.csv"), what: "the probes")
        try plot.write(to: options.path("probes.svg"))
        for r in rows {
            try Console.out.write("\(r.model): test accuracy by layer " + r.layers.map { String(format: "%d %.4f", $0.layer, $0.testAccuracy) }.joined(separator: ", "))
        }
        try Console.out.write("wrote \(options.path("probes.svg")), probes.json, probes.csv")
    }
}
