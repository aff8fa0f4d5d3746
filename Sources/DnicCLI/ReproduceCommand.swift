import ArgumentParser
import Dnic
import Foundation

/// `dnic reproduce …`: the paper's results, each into `--out DIR/<result>/`
/// with its runs' numbers, a picture and a summary.md whose verdict the
/// numbers decide. So far: thm1.
struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce", abstract: "Reproduce the paper's results, with a verdict from the numbers.",
        subcommands: [Theorem1Reproduction.self])
}

/// `dnic reproduce thm1`.
struct Theorem1Reproduction: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thm1",
        abstract: "Theorem 1: linear regression with a linear SG on its output reaches the least-squares solution.",
        discussion: "Full-batch gradient descent with MSE on one-hot labels, no hidden layer, learning rates 0.05, 0.2 and 0.5, SG on the output (interface sgd lr 0.1) beside backprop; the relative distance of the outputs to the least-squares fit over training. Writes DIR/thm1/: curves.csv, thm1.json, thm1.svg, summary.md.")

    @Option(help: "Directory for the results (created if absent; its parent must exist).")
    var out: String

    @Flag(help: "Reduced sizes (1,500 steps instead of 20,000), for tests.")
    var quick = false

    @Option(help: "Dataset (as for train). (default: synth:linear-2d)")
    var data = "synth:linear-2d"

    @Flag(help: "Replace result files already in DIR/thm1.")
    var overwrite = false

    @OptionGroup var threadsOption: ThreadsOption

    func run() throws {
        try threadsOption.apply()
        let spec = try asUsage { try DataSpec.parse(data) }
        let dir = (out as NSString).appendingPathComponent("thm1")
        let files = ["curves.csv", "thm1.json", "thm1.svg", "summary.md"]
        let createOut = try AnalysisOutputs.check(directory: out, files: [], overwrite: overwrite)
        if !createOut {
            var info = stat()
            if stat(dir, &info) == 0 { _ = try AnalysisOutputs.check(directory: dir, files: files, overwrite: overwrite) }
        }
        var options = DataOptions()
        options.seed = 1
        let split = try loadData(spec, options: options)
        for d in [out, dir] where mkdir(d, 0o777) != 0 && errno != EEXIST {
            throw UsageError("--out \(d): cannot create it: \(String(cString: strerror(errno)))")
        }
        let settings = Theorem1.Settings(quick: quick)
        let live = isatty(STDERR_FILENO) != 0
        let curves = try Theorem1.run(split, settings: settings) { what in
            if live { Console.err("\rthm1: \(what)\u{1B}[K") }
        }
        if live { Console.err("\r\u{1B}[K") }
        let (verdict, reached, of) = Theorem1.verdict(curves)
        func path(_ f: String) -> String { (dir as NSString).appendingPathComponent(f) }
        var csv = "method,lr,step,distance\n"
        for c in curves { for (s, d) in zip(c.steps, c.distances) { csv += "\(c.method),\(c.lr),\(s),\(d)\n" } }
        struct Result: Codable { var data: String; var steps: Int; var verdict: String; var curves: [Theorem1.Curve] }
        try AtomicFile.write(Data(csv.utf8), to: path("curves.csv"), what: "the curves")
        try AtomicFile.write(try AnalysisOutputs.json(Result(data: spec.description, steps: settings.steps, verdict: verdict, curves: curves)),
                             to: path("thm1.json"), what: "the result")
        // log10 of the distance: it falls by orders of magnitude
        let plot = LinePlot(title: "Theorem 1: distance to the least-squares fit", xLabel: "step",
                            yLabel: "log10 ‖P − P*‖ / ‖P*‖", series: curves.map { c in
                                .init(label: "\(c.method) lr \(SVGNumber(c.lr))", points: zip(c.steps, c.distances).compactMap { s, d in
                                    d > 0 && d.isFinite ? (Double(s), log10(d)) : nil
                                })
                            })
        try plot.write(to: path("thm1.svg"))
        let rows = curves.map { c in
            "| \(c.method) | \(SVGNumber(c.lr)) | \(c.final.isFinite ? String(format: "%.2e", c.final) : "diverged") |"
        }.joined(separator: "\n")
        let summary = """
        # Theorem 1 — \(verdict)

        **Paper:** linear regression with a linear SG module between its output and the loss converges to the global solution for a small enough learning rate.
        **Ours:** \(reached) of the \(of) SG runs whose backprop twin converged reached the least-squares fit within 1e-3 (relative distance of the outputs), on \(spec.description), \(settings.steps) full-batch steps of MSE on one-hot labels.

        | method | learning rate | final distance |
        |---|---|---|
        \(rows)

        ![distance over training](thm1.svg)

        Verdict rule: reproduced when every such SG run converges, partly when some do. Command: `dnic reproduce thm1\(quick ? " --quick" : "") --data \(spec.description)`.

        """
        try AtomicFile.write(Data(summary.utf8), to: path("summary.md"), what: "the summary")
        for c in curves {
            try Console.out.write("\(c.method) lr \(SVGNumber(c.lr)): distance to least squares \(c.final.isFinite ? String(format: "%.2e", c.final) : "diverged") after \(c.steps.last ?? 0) steps")
        }
        try Console.out.write("thm1: \(verdict) (\(reached) of \(of)); wrote \(path("summary.md"))")
    }
}

/// A number as the plots print it.
func SVGNumber(_ v: Double) -> String { String(format: "%g", v) }
