import ArgumentParser
import Dnic
import Foundation

/// `dnic predict`: a checkpoint's class (and probabilities) for every row
/// of the data given, in input order, as CSV or as a NumPy .npy array.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Write a checkpoint's class for every row of the data given, as CSV or .npy.",
        discussion: """
        The data is used whole, as by `dnic eval --data`: csv:FILE every row of FILE, csv:TRAIN,TEST every row of TEST, \
        npy:X.npy every row of X, fashion-mnist, mnist and idx:DIR their t10k files, synth:NAME its generated test set. \
        New data needs no labels: a CSV row of as many fields as the model takes features is all features, one with a field more \
        has its label in the first field (unused), any other width is refused; npy:X.npy alone is features only. \
        The CSV has one line per row, in input order, under a header line: `class`, and with --proba `p0`, `p1`, … \
        (softmax for --loss ce, sigmoids for logistic). --out FILE.npy writes one NumPy array instead (format 1.0, \
        little-endian, C order): the classes as int32 of shape (rows,), or with --proba the probabilities alone as float32 \
        of shape (rows, classes), whose argmax along axis 1 is the class; any other name gets CSV, and .npz is refused. \
        --out is written whole or not at all (a temporary file renamed over it), and a line says so; without it, the CSV goes to standard output.
        """)

    @Option(help: "Checkpoint file written by `dnic train --save`.")
    var checkpoint: String

    @Option(help: "The rows to classify, with or without their labels (csv:FILE: every row of FILE; npy:X.npy: every row of X).")
    var data: String

    @Option(help: "Write the predictions to FILE: .npy as a NumPy array, any other name as CSV (refuses an existing file without --overwrite). (default: CSV to standard output)")
    var out: String?

    @Flag(help: "Also write each class's probability (with --out FILE.npy: the probabilities alone).")
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
        let (spec, rows, _, _) = try ScoredData.load(data, for: loaded, at: checkpoint)
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
