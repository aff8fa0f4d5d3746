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

    /// The link given, checked; nil without --link. Bounded (1 Mbit/s to
    /// 1 Pbit/s, latency up to 1 s) so that every price is a plain number.
    func value() throws -> PipelineScaling.Link? {
        if let latency, !(latency >= 0 && latency <= 1e6) {
            throw UsageError("--latency \(Self.text(latency)): must be between 0 and 1000000 microseconds")
        }
        guard let link else {
            if latency != nil { throw UsageError("--latency needs --link (the link's bandwidth in Gbit/s)") }
            return nil
        }
        guard link >= 0.001, link <= 1e6 else { throw UsageError("--link \(Self.text(link)): must be between 0.001 and 1000000 Gbit/s") }
        return PipelineScaling.Link(gigabitsPerSecond: link, latencyMicroseconds: latency ?? PipelineScaling.Link.defaultLatencyMicroseconds)
    }

    static func text(_ x: Double) -> String { String(format: "%g", x) }
}
