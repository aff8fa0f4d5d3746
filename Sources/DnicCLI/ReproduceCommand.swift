import ArgumentParser
import Dnic
import Foundation

/// `dnic reproduce RESULT --out DIR`: the paper's results, each into
/// DIR/<result>/ (runs, numbers, pictures, summary.md with verdicts the
/// numbers decide) and all of them on DIR/index.html. Rerunning the same
/// command skips the runs DIR holds complete and continues interrupted ones
/// from their checkpoints.
struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce", abstract: "Reproduce the paper's results, with a verdict from the numbers.",
        discussion: "RESULT: " + paperResults.map { "\($0.id) (\($0.summary))" }.joined(separator: "; ") + "; all: every one of them. Writes DIR/<result>/ (runs/ with each run's JSON Lines log and checkpoint, CSV/JSON numbers, pictures, summary.md, result.json) and DIR/index.html. Interrupt with Ctrl-C at any time: the same command continues where it stopped.")

    @Argument(help: "table1, table2, thm1, fig2, fig3, fig4, fig5, fig8 or all.")
    var result: String

    @Option(help: "Directory for the results (created if absent; its parent must exist).")
    var out: String

    @Flag(help: "Reduced sizes (fewer steps, depths, seeds): minutes for all; the qualitative checks only.")
    var quick = false

    @Option(help: "Image data of table1, fig3, fig4, fig5, fig8 (fashion-mnist stands in for MNIST; idx:DIR for real MNIST).")
    var data = "fashion-mnist"

    @Option(parsing: .unconditional, help: "Seeds per rule in table1 and per configuration in fig4. (default: 3, quick 1)", transform: ArgumentValue.integer)
    var seeds: Int?

    @Option(help: "fig4's depths, e.g. 3,5,10. (default: 3,5,10,20,50; quick 3,5)")
    var depths: String?

    @Flag(name: .customLong("no-checkpoints"), help: "Delete each run's checkpoint once it is complete (interrupted runs still continue from theirs).")
    var noCheckpoints = false

    @Flag(help: "Run again the runs in DIR that were made with other settings (otherwise refused).")
    var overwrite = false

    @OptionGroup var threadsOption: ThreadsOption

    func run() throws {
        let chosen: [PaperResultEntry]
        if result == "all" { chosen = paperResults } else {
            guard let one = paperResults.first(where: { $0.id == result }) else {
                throw UsageError("'\(result)': no such result; choose one of \(paperResults.map(\.id).joined(separator: ", ")) or all")
            }
            chosen = [one]
        }
        var options = Reproduction.Options(out: out)
        options.quick = quick
        options.data = try asUsage { try DataSpec.parse(data) }
        if let seeds {
            guard (1 ... 100).contains(seeds) else { throw UsageError("--seeds \(seeds): must be between 1 and 100") }
            options.seeds = seeds
        }
        if let depths {
            let parts = depths.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 2 && ($0 ?? 0) <= 1000 }) else {
                throw UsageError("--depths '\(depths)': expected hidden-layer counts 2 … 1000 separated by commas, such as 3,5,10")
            }
            options.depths = Array(Set(parts.map { $0! })).sorted()
        }
        options.checkpoints = !noCheckpoints
        options.overwrite = overwrite
        options.threads = threadsOption.threads
        try threadsOption.apply()
        if try AnalysisOutputs.check(directory: out, files: [], overwrite: false), !CreatedOutputs.makeDirectory(out) {
            throw UsageError("--out \(out): cannot create it: \(String(cString: strerror(errno)))")
        }
        // one reproduction at a time in DIR: a second would redo (and tear) the first one's runs
        let lock: DirectoryLock
        do { lock = try DirectoryLock(directory: out) } catch let error as OutputError {
            throw UsageError("--out \(error.description); wait for it to end, or use another --out")
        }
        defer { lock.release() }
        StopSignal.install()
        let display = ReproduceProgress(live: isatty(STDERR_FILENO) != 0)
        let reproduction = Reproduction(options: options, progress: ProgressTracker(display: display.show),
                                        shouldStop: { StopSignal.requested })
        for (i, r) in chosen.enumerated() {
            display.heading = chosen.count > 1 ? "[\(i + 1)/\(chosen.count)] " : ""
            let report: ResultReport
            do {
                report = try reproduction.run(r)
            } catch let stop as Reproduction.Stopped {
                display.clear()
                let where_ = stop.step.map { "in \(r.id) run \(stop.run) at step \($0) (its checkpoint is kept)" } ?? "in \(r.id) after run \(stop.run) (complete)"
                Console.err("dnic: \(StopSignal.name): stopped \(where_); run the same command again to continue\n")
                Foundation.exit(StopSignal.exitStatus)
            } catch let error as DnicError {
                display.clear()
                throw DnicError("\(r.id): \(error.message)", status: error.status)
            }
            display.clear()
            try Console.out.write("\(r.id): \(report.verdict.rawValue) — \(report.title) (\(report.runs) runs, \(report.skippedRuns) found complete, \(ResultReport.duration(report.wallSeconds)))")
            for f in report.findings { try Console.out.write("  \(f.verdict.rawValue): \(f.ours)") }
            if StopSignal.requested, i + 1 < chosen.count {
                Console.err("dnic: \(StopSignal.name): stopped after \(r.id) (complete); run the same command again to continue\n")
                Foundation.exit(StopSignal.exitStatus)
            }
        }
        try Console.out.write("wrote \(PathName.joining(out, "index.html"))")
    }
}

/// Where a reproduction stands, on standard error: on a terminal one line
/// rewritten in place (result, run i of n, step, ETA); otherwise a line per
/// finished or skipped run, so a log file stays readable.
final class ReproduceProgress {
    let live: Bool
    var heading = ""
    private var shown = false
    private var lastDraw = Date.distantPast

    init(live: Bool) { self.live = live }

    func show(_ line: ProgressTracker.Line) {
        let eta = line.eta.map { ", ETA \(ResultReport.duration($0))" } ?? ""
        let position = "\(heading)\(line.result) run \(line.index)/\(line.count) \(line.run)"
        switch line.kind {
        case .step:
            guard live, Date().timeIntervalSince(lastDraw) > 0.2 else { return }
            lastDraw = Date()
            Console.err("\r\(position): step \(line.step ?? 0)/\(line.steps ?? 0)\(eta)\u{1B}[K")
            shown = true
        case .finished, .skipped:
            let f = line.final
            let what = line.kind == .skipped ? "complete in DIR, skipped" : "done"
            let acc = f.map { $0.testAccuracy.isFinite ? String(format: ", test accuracy %.4f", $0.testAccuracy) : ", diverged" } ?? ""
            if live {
                Console.err("\r\(position): \(what)\(acc)\(eta)\u{1B}[K")
                shown = true
            } else {
                Console.err("\(position): \(what)\(acc)\(eta)\n")
            }
        case .note:
            if live { Console.err("\r\(heading)\(line.result): \(line.text ?? "")\u{1B}[K"); shown = true } else {
                Console.err("\(heading)\(line.result): \(line.text ?? "")\n")
            }
        }
    }

    func clear() {
        if live, shown { Console.err("\r\u{1B}[K") }
        shown = false
    }
}
