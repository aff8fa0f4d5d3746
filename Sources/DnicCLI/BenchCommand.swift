import ArgumentParser
import Dnic
import Foundation

/// `dnic bench`: end-to-end benchmarks with references measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks measured against same-run references.",
        subcommands: [TrainBenchCommand.self, PipelineBenchCommand.self, TTABenchCommand.self])
}

extension TrainBenchmark.Workload: ExpressibleByArgument {}
extension CoreSystem.GemmBackend: ExpressibleByArgument {}

struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training-step speed on a standard workload, as a ratio to the GEMM backend's sgemm on the step's own GEMMs and to the FMA peak.",
        discussion: """
        w1: 784-256-256-256-10 relu, batch 256, SGD. w2: 20 hidden layers x 256 relu, batch 256, SGD.
        The GEMM backend is dnic's choice (oneDNN when installed) unless --gemm or DNIC_GEMM names one.
        Data: 60,000 x 784 MNIST-shaped random values, 10 classes, generated in process.
        """)

    @Option(help: "Workload (described above).")
    var workload: TrainBenchmark.Workload = .w1

    @Option(help: "Learning rule: backprop, or sg for one linear cDNI in the middle.")
    var rule: Rule = .backprop

    @Option(parsing: .unconditional, help: "Threads for dnic and its GEMM backend. (default: all cores)", transform: ArgumentValue.integer)
    var threads: Int?

    @Option(parsing: .unconditional, help: "Batch size. (default: 256)", transform: ArgumentValue.integer)
    var batch: Int?

    @Option(help: "GEMM backend: onednn | openblas | builtin. (default: dnic's choice, see dnic info)")
    var gemm: CoreSystem.GemmBackend?

    @Option(help: "Block schedule. With pipeline or async (rule sg), the same run also times locked sg at 1 thread and locked backprop at 1 and all threads (async: and the pipeline), alternating, and prints the ratios.")
    var schedule: ScheduleKind = .locked

    @Option(help: "With --rule sg: where the interfaces go, as train's --sg-at (mid, every, balanced[:K] planned once for every row, or a list like 1,2). (default: mid)")
    var sgAt: String?

    @Option(parsing: .unconditional, help: "With --schedule pipeline: rounds of the alternating comparison (medians). (default: 3)",
            transform: ArgumentValue.integer)
    var rounds: Int = 3

    @Option(parsing: .unconditional, help: "Steps to time (median of five windows). (default: 300 for w1, 100 for w2)",
            transform: ArgumentValue.integer)
    var steps: Int?

    @Option(help: "Also write the result as JSON to FILE (refuses an existing file without --overwrite).")
    var json: String?

    @Flag(help: "Allow --json to replace an existing regular file.")
    var overwrite = false

    func run() throws {
        guard [.backprop, .sg, .sgprop].contains(rule) else {
            throw UsageError("--rule \(rule.rawValue): dnic bench train measures backprop, sg and sgprop")
        }
        if let steps, steps < 5 || steps > 1 << 30 { throw UsageError("--steps \(steps): must be between 5 and 2^30") }
        if let json {
            // checked before the benchmark runs, so its result has somewhere to go
            do { try OutputFile.check(json, existing: .refuse, replace: overwrite) } catch let error as OutputError {
                throw refusal("--json", error)
            }
        }
        if let threads {
            if threads < 1 || threads > 4096 { throw UsageError("--threads \(threads): must be between 1 and 4096") }
            try asUsage { try CoreSystem.setThreads(threads) }
        }
        if let batch, batch < 1 || batch > 60_000 { throw UsageError("--batch \(batch): must be between 1 and 60000") }
        if let gemm { try asUsage { try CoreSystem.setGemmBackend(gemm) } }
        if schedule != .locked, rule != .sg {
            throw UsageError("--schedule \(schedule.rawValue): needs --rule sg (\(rule.rawValue)'s signal needs the same batch's result from above)")
        }
        if rounds < 1 || rounds > 100 { throw UsageError("--rounds \(rounds): must be between 1 and 100") }
        let placement = try sgAt.map { text in try asUsage { try Placement(parsing: text) } }
        if placement != nil, rule == .backprop { throw UsageError("--sg-at: needs --rule sg or sgprop") }
        let (bench, plan) = try TrainBenchmark(workload: workload, rule: rule, batch: batch ?? 256, steps: steps, schedule: schedule,
                                               placement: placement).planned()
        if let plan { try Console.out.write(PlacementPlanner.line(plan, rule: rule)) }
        let data = TrainBenchmark.syntheticMNIST()
        var r = try bench.run(data: data)
        if schedule != .locked { r.comparison = try compareSchedules(data: data, placement: bench.placement) }
        try Console.out.write("workload \(r.workload) rule \(r.rule), batch \(r.batch), \(r.threads) thread(s), GEMM \(r.gemmBackend) (\(r.gemmISA)), kernels \(r.kernelISA), FMA \(r.fmaISA)")
        try Console.out.write(String(format: "  samples/s           %10.0f   (%.3f ms per step, median of 5 windows, %d steps)",
                     r.samplesPerSecond, r.stepMilliseconds, r.stepsTimed))
        try Console.out.write(String(format: "  training GFLOP/s    %10.1f   (%.3f GFLOP of GEMMs per step)", r.trainingGFLOPS, r.stepGFLOP))
        try Console.out.write(String(format: "  sgemm GFLOP/s       %10.1f   (the backend's sgemm on the step's own GEMM shapes and operand sizes, same run)", r.sgemmGFLOPS))
        try Console.out.write(String(format: "  sgemm hot GFLOP/s   %10.1f   (same shapes, one cache-resident operand set: an upper bound)", r.sgemmHotGFLOPS))
        try Console.out.write(String(format: "  FMA peak GFLOP/s    %10.1f   (same run)", r.fmaPeakGFLOPS))
        try Console.out.write(String(format: "  training / sgemm    %10.3f", r.ratioToSgemm))
        try Console.out.write(String(format: "  training / hot sgemm%10.3f", r.ratioToHotSgemm))
        try Console.out.write(String(format: "  training / peak     %10.3f", r.ratioToPeak))
        try Console.out.write(String(format: "  peak memory         %10.1f MiB", r.peakMemoryMiB))
        if let rows = r.comparison {
            let mine = rows[0].samplesPerSecond
            try Console.out.write("same run, \(rounds) alternating round(s), medians, samples/s; ratio = \(rows[0].name) over the row:")
            try Console.out.write("  \(rows[0].name.padding(toLength: 30, withPad: " ", startingAt: 0))" + String(format: "%10.0f", mine))
            for row in rows.dropFirst() {
                let name = row.name.padding(toLength: 30, withPad: " ", startingAt: 0)
                try Console.out.write("  \(name)" + String(format: "%10.0f   ratio %.2f", row.samplesPerSecond, mine / row.samplesPerSecond))
            }
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do { try AtomicFile.write(try encoder.encode(r), to: json, what: "the result") } catch let error as OutputError {
                throw OutputError(error.path, "\(error.problem) (the result is printed above)")
            }
        }
    }
}

extension TrainBenchCommand {
    /// This schedule beside locked sg at 1 thread and locked backprop at 1
    /// and at all threads (async: and the pipeline), measured in turn `rounds` times (a machine that
    /// slows down slows all of them), medians.
    func compareSchedules(data: Dataset, placement: Placement?) throws -> [TrainBenchmark.Comparison] {
        let all = CoreSystem.threads
        let size = batch ?? 256
        var runs: [(String, Rule, ScheduleKind, Int)] = [
            ("\(schedule.rawValue) \(rule.rawValue), \(all) thread(s)", rule, schedule, all),
            ("locked \(rule.rawValue), 1 thread", rule, .locked, 1),
            ("locked backprop, 1 thread", .backprop, .locked, 1),
            ("locked backprop, \(all) thread(s)", .backprop, .locked, all),
        ]
        if schedule == .async { runs.insert(("pipeline \(rule.rawValue), \(all) thread(s)", rule, .pipeline, all), at: 1) }
        var rates = Array(repeating: [Double](), count: runs.count)
        for _ in 0..<rounds {
            for (i, run) in runs.enumerated() {
                try CoreSystem.setThreads(run.3)
                let b = TrainBenchmark(workload: workload, rule: run.1, batch: size, steps: steps, schedule: run.2,
                                       placement: run.1 == .backprop ? nil : placement)
                rates[i].append(try b.samplesPerSecond(data: data))
            }
        }
        try CoreSystem.setThreads(all)
        return runs.indices.map {
            TrainBenchmark.Comparison(name: runs[$0].0, threads: runs[$0].3, samplesPerSecond: rates[$0].sorted()[rates[$0].count / 2])
        }
    }
}
