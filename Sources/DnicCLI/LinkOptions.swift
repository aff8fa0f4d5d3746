import ArgumentParser
import Dnic

/// `--link G --latency US` on `dnic plan` and `dnic train --mpi`: the link
/// between the machines blocks run on, for the placement planner to price
/// each block's messages (the simulator's model, PipelineScaling). Options
/// of the command, not settings of the run: they describe the cluster, not
/// the training, and are used once, when `--sg-at balanced` plans; the run
/// keeps the boundaries found, which is all a checkpoint or a resume needs.
struct LinkOptions: ParsableArguments {
    // unconditional: `--link -1` is a (bad) value, not a missing one
    @Option(parsing: .unconditional, help: "Plan for blocks on machines joined by a link of G Gbit/s: each block's messages count in its time (dnic plan; dnic train --mpi with --sg-at balanced[:K]). (default: none, blocks in one process)", transform: ArgumentValue.number)
    var link: Double?

    @Option(parsing: .unconditional, help: "With --link: the link's latency in microseconds. (default: 50)", transform: ArgumentValue.number)
    var latency: Double?

    /// The link given, checked; nil without --link.
    func value() throws -> PipelineScaling.Link? {
        if let latency, !(latency >= 0 && latency.isFinite) {
            throw UsageError("--latency \(Self.text(latency)): must be a finite number of microseconds >= 0")
        }
        guard let link else {
            if latency != nil { throw UsageError("--latency needs --link (the link's bandwidth in Gbit/s)") }
            return nil
        }
        guard link > 0, link.isFinite else { throw UsageError("--link \(Self.text(link)): must be a positive number of Gbit/s") }
        return PipelineScaling.Link(gigabitsPerSecond: link, latencyMicroseconds: latency ?? PipelineScaling.Link.defaultLatencyMicroseconds)
    }

    static func text(_ x: Double) -> String { String(format: "%g", x) }
}
