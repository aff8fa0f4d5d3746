import ArgumentParser
import Dnic
import Foundation

extension RunCurves.Metric: ExpressibleByArgument {}

/// `dnic plot`: curves of runs from their JSON Lines logs (RunCurves).
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot", abstract: "Plot the training, validation and test curves of runs from their JSON Lines logs.",
        discussion: "One colour per run (labelled by file name, or by run id where two share a name); train solid, validation dashed, test dotted; x: steps. --out FILE.svg or FILE.png (760 x 420).")

    @Argument(help: "JSON Lines logs of `dnic train --log` (or of `dnic reproduce`'s runs).")
    var logs: [String] = []

    @Option(help: "The figure: a file ending in .svg or .png (refuses an existing file without --overwrite).")
    var out: String

    @Option(help: "loss (train, validation, test) or accuracy (validation, test).")
    var metric: RunCurves.Metric = .loss

    @Flag(help: "Allow --out to replace an existing regular file.")
    var overwrite = false

    func run() throws {
        guard !logs.isEmpty else { throw UsageError("give one or more logs to plot (dnic plot RUN.jsonl --out curves.svg)") }
        let format = try RunCurves.format(of: out)
        do { try OutputFile.check(out, existing: .refuse, replace: overwrite) } catch let error as OutputError {
            throw refusal("--out", error)
        }
        // every log is read (and refused) before anything is written
        let runs = RunCurves.labelled(try logs.map(RunCurves.read))
        try RunCurves.write(RunCurves.plot(runs, metric: metric), format: format, to: out)
        for (i, run) in runs.enumerated() {
            let last = run.evaluations.last!.step
            try Console.out.write("\(run.label): \(run.evaluations.count) evaluations to step \(last), colour \(RunCurves.colour(ofRun: i))")
        }
        try Console.out.write("wrote \(out) (\(metric.rawValue); \(metric == .loss ? "train solid, " : "")validation dashed, test dotted)")
    }
}
