import ArgumentParser
import Dnic
import Foundation

/// `dnic bench pipeline --simulate K,…`: the pipeline on K machines,
/// projected from block compute measured here and a link model
/// (PipelineScaling states it), beside locked model-parallel backprop on
/// the same K machines.
struct PipelineBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Project the pipeline's samples/s on K machines from block compute measured here and a link model.",
        discussion: """
        Each split (K blocks of near-equal depth, a linear cDNI at each boundary) runs --steps pipeline ticks at 1 thread \
        here: a block's busy time per batch is its compute on one core. A message costs latency + bytes / bandwidth \
        (activations and labels up, gradients down, at once). Pipeline with overlapped messages: tick = max(slowest block, \
        slowest message); without overlap: slowest block + slowest message. Locked model-parallel backprop on the same K \
        machines: the sum of the blocks plus two messages per boundary. samples/s = batch / tick.
        Workloads: w2 = 20 hidden layers x 256 relu; wide = 20 x 4096 relu; batch 256, MNIST-shaped random data.
        """)

    enum Workload: String, ExpressibleByArgument, CaseIterable {
        case w2, wide
        var widths: [Int] { Array(repeating: self == .w2 ? 256 : 4096, count: 20) }
        var text: String { self == .w2 ? "20 x 256 relu" : "20 x 4096 relu" }
    }

    @Option(parsing: .unconditional, help: "Block counts to project, e.g. 2,4,8,16 (each at most the hidden layers).")
    var simulate: String

    // unconditional: `--link -1` is a (bad) value, not a missing one
    @Option(parsing: .unconditional, help: "Link bandwidths in Gbit/s, e.g. 1,10,100.")
    var link = "1,10,100"

    @Option(parsing: .unconditional, help: "Link latency in microseconds. (default: 50)", transform: ArgumentValue.number)
    var latency = PipelineScaling.Link.defaultLatencyMicroseconds

    @Option(help: "Workload (w2: 20 x 256 relu, wide: 20 x 4096 relu).")
    var workload: Workload = .w2

    @Option(parsing: .unconditional, help: "Batch size. (default: 256)", transform: ArgumentValue.integer)
    var batch = 256

    @Option(parsing: .unconditional, help: "Pipeline ticks measured per split. (default: 40 for w2, 4 for wide)", transform: ArgumentValue.integer)
    var steps: Int?

    func run() throws {
        let hidden = workload.widths.count
        let ks = try list(simulate, "--simulate") { Int($0) }.map { k -> Int in
            guard k >= 2, k <= hidden else { throw UsageError("--simulate \(k): block counts must be between 2 and \(hidden) (the workload's hidden layers)") }
            return k
        }
        let links = try list(link, "--link") { Double($0) }.map { g -> Double in
            guard g > 0, g.isFinite else { throw UsageError("--link \(String(format: "%g", g)): bandwidths must be positive Gbit/s") }
            return g
        }
        guard latency >= 0, latency.isFinite else { throw UsageError("--latency \(latency): must be a finite number of microseconds >= 0") }
        guard batch >= 1, batch <= 60_000 else { throw UsageError("--batch \(batch): must be between 1 and 60000") }
        let ticks = steps ?? (workload == .w2 ? 40 : 4)
        guard ticks >= 2, ticks <= 1 << 20 else { throw UsageError("--steps \(ticks): must be between 2 and 2^20") }
        let data = TrainBenchmark.syntheticMNIST(count: max(batch * 2, 1024))
        try Console.out.write("workload \(workload.rawValue) (\(workload.text)), batch \(batch); block compute measured here on 1 core (\(ticks) pipeline ticks per split), latency \(SVGNumber(latency)) µs")
        try Console.out.write("   K  link Gbit/s  slowest block ms  pipeline overlapped  pipeline serial  locked backprop  pipeline/locked   (samples/s)")
        for k in ks {
            let split = try PipelineScaling.measure(widths: workload.widths, blocks: k, batch: batch, steps: ticks, data: data)
            for g in links {
                let p = PipelineScaling.project(split, link: .init(gigabitsPerSecond: g, latencyMicroseconds: latency))
                try Console.out.write(String(format: "%4d  %11g  %16.2f  %19.0f  %15.0f  %15.0f  %15.2f", k, g,
                                             (split.blockSeconds.max() ?? 0) * 1e3, p.pipelineOverlapped, p.pipelineSerial,
                                             p.lockedBackprop, p.speedup))
            }
        }
    }

    /// A comma-separated list, each item parsed or a one-line usage error.
    func list<T>(_ text: String, _ flag: String, _ parse: (String) -> T?) throws -> [T] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = items.map(parse)
        guard !items.isEmpty, values.allSatisfy({ $0 != nil }) else { throw UsageError("\(flag) '\(text)': expected numbers separated by commas") }
        return values.map { $0! }
    }
}
