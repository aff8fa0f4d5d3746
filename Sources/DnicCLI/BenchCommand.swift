import ArgumentParser
import Dnic
import Foundation

/// `dnic bench`: end-to-end benchmarks with references measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks measured against same-run references.",
        subcommands: [TrainBenchCommand.self])
}

extension TrainBenchmark.Workload: ExpressibleByArgument {}

struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training-step speed on a standard workload, as a ratio to sgemm on the step's own GEMMs and to the FMA peak.",
        discussion: """
        w1: 784-256-256-256-10 relu, batch 256, SGD. w2: 20 hidden layers x 256 relu, batch 256, SGD.
        Data: 60,000 x 784 MNIST-shaped random values, 10 classes, generated in process.
        """)

    @Option(help: "Workload: w1 | w2. (default: w1)")
    var workload: TrainBenchmark.Workload = .w1

    @Option(help: "Learning rule: backprop, or sg for one linear cDNI in the middle. (default: backprop)")
    var rule: Rule = .backprop

    @Option(help: "Threads for dnic and OpenBLAS. (default: all cores)")
    var threads: Int?

    @Option(help: "Steps to time (median of five windows). (default: 300 for w1, 100 for w2)")
    var steps: Int?

    @Option(help: "Also write the result as JSON to FILE.")
    var json: String?

    func run() throws {
        guard [.backprop, .sg, .sgprop].contains(rule) else {
            throw UsageError("--rule \(rule.rawValue): dnic bench train measures backprop, sg and sgprop")
        }
        if let steps, steps < 5 { throw UsageError("--steps \(steps) must be at least 5") }
        if let threads { try asUsage { try CoreSystem.setThreads(threads) } }
        let bench = TrainBenchmark(workload: workload, rule: rule, steps: steps)
        let data = TrainBenchmark.syntheticMNIST()
        let r = try bench.run(data: data)
        print("workload \(r.workload) rule \(r.rule), batch \(r.batch), \(r.threads) thread(s), BLAS \(r.blasKernel), FMA \(r.fmaISA)")
        print(String(format: "  samples/s           %10.0f   (%.3f ms per step, median of 5 windows, %d steps)",
                     r.samplesPerSecond, r.stepMilliseconds, r.stepsTimed))
        print(String(format: "  training GFLOP/s    %10.1f   (%.3f GFLOP of GEMMs per step)", r.trainingGFLOPS, r.stepGFLOP))
        print(String(format: "  sgemm GFLOP/s       %10.1f   (the step's own GEMM shapes and operand sizes, same run)", r.sgemmGFLOPS))
        print(String(format: "  sgemm hot GFLOP/s   %10.1f   (same shapes, one cache-resident operand set: an upper bound)", r.sgemmHotGFLOPS))
        print(String(format: "  FMA peak GFLOP/s    %10.1f   (same run)", r.fmaPeakGFLOPS))
        print(String(format: "  training / sgemm    %10.3f", r.ratioToSgemm))
        print(String(format: "  training / hot sgemm%10.3f", r.ratioToHotSgemm))
        print(String(format: "  training / peak     %10.3f", r.ratioToPeak))
        print(String(format: "  peak memory         %10.1f MiB", r.peakMemoryMiB))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(r).write(to: URL(fileURLWithPath: json))
        }
    }
}
