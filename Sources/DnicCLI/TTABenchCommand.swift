import ArgumentParser
import Dnic
import Foundation

/// `dnic bench tta`: time to a target test accuracy for backprop and the
/// synthetic-gradient schedules (TimeToAccuracy races them); this parses,
/// checks and prints.
struct TTABenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tta",
        abstract: "Time to a target test accuracy: backprop, sg locked, sg pipeline and sg async on the same data, network and threads.",
        discussion: """
        Each rule trains from scratch per seed, evaluating the test set every --eval-every-epochs epochs, and stops at the first \
        evaluation at or above --target. Reported: training seconds to the target (the trainer's step time; evaluations, and \
        draining the unlocked schedules' batches in flight before them, are the separate eval column), training samples, and \
        the ratio of training seconds to backprop's; medians over seeds, a seed that never reaches the target counting as \
        infinitely slow. Model and optimizer flags are train's; the sg rules use --sg-at (default: the middle for locked sg, balanced for the pipeline and async). Exit 1 when no rule reaches the target.
        """)

    @Option(parsing: .unconditional, help: "Target test accuracy, in (0, 1].", transform: ArgumentValue.number)
    var target: Double

    @Option(parsing: .unconditional, help: "Seeds per rule (the network's seed is --seed + i). (default: 3)", transform: ArgumentValue.integer)
    var seeds: Int = 3

    @Option(parsing: .unconditional, help: "Give up on a seed after this many epochs. (default: 20)", transform: ArgumentValue.integer)
    var maxEpochs: Int = 20

    @Option(parsing: .unconditional, help: "Evaluate the test set every this many epochs. (default: 0.25)", transform: ArgumentValue.number)
    var evalEveryEpochs: Double = 0.25

    @Flag(help: "Choose each rule's learning rate first: 1 epoch at each of --sweep-factors x its default, on a held-out 10% of the training set; the best validation accuracy wins (ties: the earlier factor).")
    var sweep = false

    @Option(help: "With --sweep: the factors of the default rate to try. (default: 0.5,1,2)")
    var sweepFactors: String?

    @Option(help: "Also write the report as JSON to FILE (refuses an existing file without --overwrite).")
    var json: String?

    @Flag(help: "Allow --json to replace an existing regular file.")
    var overwrite = false

    /// The network, optimizer and data settings, as train's flags.
    @OptionGroup var settings: TrainSettingOptions

    func run() throws {
        guard target > 0, target <= 1 else { throw UsageError("--target \(SVGNumber(target)): must be in (0, 1]") }
        guard seeds >= 1, seeds <= 100 else { throw UsageError("--seeds \(seeds): must be between 1 and 100") }
        guard maxEpochs >= 1, maxEpochs <= 100_000 else { throw UsageError("--max-epochs \(maxEpochs): must be between 1 and 100000") }
        guard evalEveryEpochs > 0, evalEveryEpochs <= 1000 else {
            throw UsageError("--eval-every-epochs \(SVGNumber(evalEveryEpochs)): must be greater than 0 and at most 1000")
        }
        if sweepFactors != nil, !sweep { throw UsageError("--sweep-factors needs --sweep") }
        let factors = try sweep ? parseFactors(sweepFactors) : nil
        // the race sets these itself
        let owned: [(Any?, String)] = [(settings.rule, "--rule"), (settings.schedule, "--schedule"), (settings.epochs, "--epochs"),
                                       (settings.steps, "--steps"), (settings.evalEvery, "--eval-every"),
                                       (settings.earlyStop, "--early-stop"), (settings.validation, "--validation")]
        for (value, flag) in owned where value != nil {
            throw UsageError("\(flag): dnic bench tta sets it for each rule (use --max-epochs, --eval-every-epochs, --sweep)")
        }
        if let json {
            // checked before the race, so its result has somewhere to go
            do { try OutputFile.check(json, existing: .refuse, replace: overwrite) } catch let error as OutputError {
                throw refusal("--json", error)
            }
        }
        let given = SettingFlags.given(in: settings)
        // every contender's settings are checked before any trains
        let configs = try TimeToAccuracy.Contender.standard.map { try TimeToAccuracy.config(given, $0) }
        _ = try asUsage { try DataSpec.parse(configs[0].data) }
        if let threads = configs[0].training.threads { try CoreSystem.setThreads(threads) }
        let bench = TimeToAccuracy(target: target, seeds: seeds, maxEpochs: maxEpochs, evalEveryEpochs: evalEveryEpochs,
                                   sweepFactors: factors)
        let report = try bench.run(base: given) { try Console.out.write("  " + $0) }
        try print(report)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do { try AtomicFile.write(try encoder.encode(report), to: json, what: "the report") } catch let error as OutputError {
                throw OutputError(error.path, "\(error.problem) (the report is printed above)")
            }
        }
        if !report.anyReached {
            throw DnicError(String(format: "no rule reached test accuracy %g within %d epoch%@ (best: %.4f)", target, maxEpochs,
                                   maxEpochs == 1 ? "" : "s",
                                   report.rows.flatMap(\.attempts).map(\.testAccuracy).max() ?? 0))
        }
    }

    func parseFactors(_ text: String?) throws -> [Double] {
        guard let text else { return TimeToAccuracy.defaultSweepFactors }
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !items.isEmpty, items.count <= 20, items.allSatisfy({ $0 != nil && $0! > 0 && $0!.isFinite }) else {
            throw UsageError("--sweep-factors '\(text)': expected up to 20 positive numbers separated by commas")
        }
        return items.map { $0! }
    }

    /// The aligned table: one row per rule.
    func print(_ report: TimeToAccuracy.Report) throws {
        try Console.out.write("time to test accuracy \(SVGNumber(report.target)) on \(report.data), \(report.model), batch \(report.batch), "
                              + "\(report.threads) thread(s), GEMM \(report.gemmBackend), \(report.seeds) seed(s) (medians), "
                              + "evaluated every \(SVGNumber(report.evalEveryEpochs)) epochs (\(report.evalEverySteps) steps), "
                              + "at most \(report.maxEpochs) epochs")
        let header = ["rule", "lr", "reached", "train s", "eval s", "samples", "epochs", "samples/s", "x backprop"]
        var lines = [header]
        for row in report.rows {
            let epochs = row.medianEpochs
            lines.append([row.name, String(format: "%g", row.lr), "\(row.reachedSeeds)/\(row.attempts.count)",
                          row.medianTrainingSeconds.map { String(format: "%.2f", $0) } ?? "not reached",
                          String(format: "%.2f", row.medianEvaluationSeconds),
                          row.medianSamples.map { String(format: "%.0f", $0) } ?? "-",
                          epochs.map { String(format: "%.2f", $0) } ?? "-",
                          String(format: "%.0f", row.medianSamplesPerSecond),
                          row.ratioToBackprop.map { String(format: "%.2f", $0) } ?? "-"])
        }
        let widths = header.indices.map { i in lines.map { $0[i].count }.max() ?? 0 }
        for line in lines {
            let cells = line.indices.map { i in
                i == 0 ? line[i].padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - line[i].count) + line[i]
            }
            try Console.out.write("  " + cells.joined(separator: "  "))
        }
        for row in report.rows {
            let at = row.sgAt.map { $0 == "mid" ? "; interface in the middle" : "; interface(s) after hidden layer(s) \($0)" } ?? ""
            try Console.out.write("  \(row.name): lr \(String(format: "%g", row.lr)), \(row.lrChosenBy)\(at)")
        }
        try Console.out.write("samples/s: training samples per training second (all seeds); "
                              + "x backprop: median training seconds over backprop's (below 1: sooner than backprop)")
    }
}
