import ArgumentParser
import Dnic
import Foundation

/// `dnic eval`: evaluates a checkpoint written by `dnic train --save` on
/// the test set it was tested on (the files it records), or on data given.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a checkpoint on a dataset's test set.",
        discussion: """
        Without --data: the test set the run was tested on, read from the files the checkpoint records \
        (absolute paths, so from any directory; a CSV without a test file gives its seeded 20% hold-out again). \
        With --data: what it names is test data and is scored whole: csv:FILE is all of FILE, csv:TRAIN,TEST all of TEST \
        (TRAIN is not read), fashion-mnist, mnist and idx:DIR their t10k files, synth:NAME its generated test set. \
        The result line names the files read; a warning says when they are not the data the checkpoint was trained or tested on.
        """)

    @Option(help: "Checkpoint file written by `dnic train --save`.")
    var checkpoint: String

    @Option(help: "Test data to score, whole (as for train: csv:FILE scores every row of FILE). (default: the test set the checkpoint records)")
    var data: String?

    @Flag(help: "Also print each class's accuracy and F1 and the confusion matrix, as aligned tables.")
    var perClass = false

    @Option(help: "Also write accuracy, loss, macro-F1, per-class scores and the confusion matrix as JSON to FILE (refuses an existing file without --overwrite).")
    var json: String?

    @Option(help: "Also write the confusion matrix as CSV to FILE: a header `true\\predicted,0,1,…`, then per true class its label and counts (refuses an existing file without --overwrite).")
    var csv: String?

    @Flag(help: "Let --json and --csv replace an existing file.")
    var overwrite = false

    @OptionGroup var threadsOption: ThreadsOption

    func run() throws {
        try threadsOption.apply()
        for (flag, path) in [("--json", json), ("--csv", csv)] {
            guard let path else { continue }
            do { try OutputFile.check(path, existing: .refuse, replace: overwrite) } catch let error as OutputError {
                throw refusal(flag, error)
            }
        }
        if let json, let csv, OutputFile.same(json, csv) {
            throw UsageError("--csv \(pathText(csv)): is also the --json path; give each its own file")
        }
        let loaded = try Checkpoint.load(path: checkpoint)
        let (spec, test, read, labelled) = try ScoredData.load(data, for: loaded, at: checkpoint, needsLabels: true)
        guard labelled else {
            throw UsageError("\(pathText(spec.description)) holds features without labels: eval needs each row's label; "
                             + "`dnic predict` classifies unlabelled rows")
        }
        guard test.dim == loaded.network.inputDim else {
            throw DnicError("\(spec.description) has \(test.dim) features per example; \(checkpoint) expects \(loaded.network.inputDim)")
        }
        guard test.classes <= loaded.classes else {
            throw DnicError("\(spec.description) has \(test.classes) classes; \(checkpoint) was trained on \(loaded.classes)")
        }
        DataIdentity.check(read, against: loaded, path: checkpoint)
        let result = try Evaluation(network: loaded.network, data: test, classes: loaded.classes)
        if let json { try AtomicFile.write(try result.json(), to: json, what: "the evaluation") }
        if let csv { try AtomicFile.write(Data(result.confusionCSV.utf8), to: csv, what: "the confusion matrix") }
        try Console.out.write(String(format: "test accuracy %.4f (test loss %.4f, macro-F1 %.4f) on %d examples of %@ (%@), checkpoint step %d",
                     result.accuracy, result.loss, result.macroF1, test.count, pathText(spec.description), read.filesText, loaded.step))
        if perClass { try Console.out.write(result.perClassTable.dropLast().description) }
    }
}
