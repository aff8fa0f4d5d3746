import ArgumentParser
import Dnic
import Foundation

/// `dnic predict`: a checkpoint's class (and probabilities) for every row
/// of the data given, in input order, as CSV.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Write a checkpoint's class for every row of the data given, as CSV.",
        discussion: """
        The data is used whole, as by `dnic eval --data`: csv:FILE every row of FILE, csv:TRAIN,TEST every row of TEST, \
        fashion-mnist, mnist and idx:DIR their t10k files, synth:NAME its generated test set. One line per row, in input order, \
        under a header line: `class`, and with --proba `p0`, `p1`, … (softmax for --loss ce, sigmoids for logistic). \
        --out is written whole or not at all (a temporary file renamed over it), and a line says so; without it, the CSV goes to standard output.
        """)

    @Option(help: "Checkpoint file written by `dnic train --save`.")
    var checkpoint: String

    @Option(help: "The rows to classify (csv:FILE: every row of FILE).")
    var data: String

    @Option(help: "Write the CSV to FILE (refuses an existing file without --overwrite). (default: standard output)")
    var out: String?

    @Flag(help: "Also write each class's probability.")
    var proba = false

    @Flag(help: "Let --out replace an existing file.")
    var overwrite = false

    @OptionGroup var threadsOption: ThreadsOption

    func run() throws {
        try threadsOption.apply()
        if let out {
            if out.lowercased().hasSuffix(".npz") {
                throw UsageError("--out \(pathText(out)): .npz output is not supported; give a .npy or .csv file")
            }
            do { try OutputFile.check(out, existing: .refuse, replace: overwrite) } catch let error as OutputError {
                throw refusal("--out", error)
            }
        }
        let loaded = try Checkpoint.load(path: checkpoint)
        if proba, loaded.network.description.loss == .mse {
            throw UsageError("--proba: \(pathText(checkpoint)) was trained with --loss mse, whose outputs are not probabilities")
        }
        let (spec, rows, _, _) = try ScoredData.load(data, for: loaded)
        guard rows.dim == loaded.network.inputDim else {
            throw UsageError("the model takes \(loaded.network.inputDim) features; \(pathText(spec.description)) has \(rows.dim)")
        }
        let predictions = try Predictions(network: loaded.network, data: rows)
        if let out {
            let bytes = out.lowercased().hasSuffix(".npy")
                ? try predictions.npy(probabilities: proba) : Data(try predictions.csv(probabilities: proba).utf8)
            try AtomicFile.write(bytes, to: out, what: "the predictions")
            try Console.out.write("\(rows.count) predictions for \(pathText(spec.description)) written to \(pathText(out))")
        } else {
            try Console.out.write(String(try predictions.csv(probabilities: proba).dropLast()))
        }
    }
}
