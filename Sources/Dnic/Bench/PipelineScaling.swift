import Foundation

/// Blocks on K machines, projected from one: each block's compute per batch
/// is measured here (the in-process pipeline at 1 thread, so a block's busy
/// time is its own compute on one core), message sizes follow from the
/// boundaries' widths, and a link is a bandwidth and a latency.
///
/// The model, per batch:
/// - a message over a boundary costs latency + bytes / bandwidth; up
///   (activations and labels) and down (gradients) travel at once (full duplex);
/// - pipeline, messages overlapped with compute (non-blocking sends):
///   tick = max(slowest block, slowest boundary's message);
/// - pipeline, not overlapped: tick = slowest block + slowest message;
/// - locked model-parallel backprop on the same K machines: one batch at
///   a time through every block and back, the others idle:
///   Σ blocks + Σ boundaries 2 × message (forward chain, backward chain).
/// samples/s = batch / tick.
public enum PipelineScaling {
    public struct Link: Codable, Sendable, Equatable {
        public var gigabitsPerSecond: Double
        public var latencyMicroseconds: Double
        public init(gigabitsPerSecond: Double, latencyMicroseconds: Double) {
            self.gigabitsPerSecond = gigabitsPerSecond
            self.latencyMicroseconds = latencyMicroseconds
        }
        /// The latency assumed where none is given (a LAN's order of magnitude).
        public static let defaultLatencyMicroseconds = 50.0

        public func seconds(bytes: Int) -> Double {
            latencyMicroseconds * 1e-6 + Double(bytes) * 8 / (gigabitsPerSecond * 1e9)
        }
    }

    /// The bytes crossing a boundary of `width` per batch: activations and
    /// an int32 label per row up, the gradient at the boundary down.
    public static func messageBytes(batch: Int, width: Int) -> (up: Int, down: Int) {
        let labels = 4
        return (batch * (width * 4 + labels), batch * width * 4)
    }

    /// One boundary's messages per batch over `link`: up and down at once
    /// (full duplex), so the larger decides. The one definition of a
    /// message's cost: the projection and the placement planner use it.
    public static func messageSeconds(up: Int, down: Int, link: Link) -> Double {
        link.seconds(bytes: max(up, down))
    }

    /// What one split of the network costs: per block its compute seconds
    /// per batch (bottom first), per boundary the bytes each way.
    public struct Split: Codable, Sendable {
        public var blocks: Int
        public var batch: Int
        public var blockSeconds: [Double]
        public var upBytes: [Int]
        public var downBytes: [Int]
    }

    public struct Projection: Codable, Sendable {
        public var blocks: Int
        public var link: Link
        public var pipelineOverlapped: Double
        public var pipelineSerial: Double
        public var lockedBackprop: Double
        /// Pipeline (overlapped) over locked model-parallel backprop.
        public var speedup: Double { pipelineOverlapped / lockedBackprop }
    }

    public static func project(_ s: Split, link: Link) -> Projection {
        let message = zip(s.upBytes, s.downBytes).map { messageSeconds(up: $0, down: $1, link: link) }
        let slowestBlock = s.blockSeconds.max() ?? 0, slowestMessage = message.max() ?? 0
        let overlapped = max(slowestBlock, slowestMessage)
        let serial = slowestBlock + slowestMessage
        let locked = s.blockSeconds.reduce(0, +) + 2 * message.reduce(0, +)
        let b = Double(s.batch)
        return Projection(blocks: s.blocks, link: link, pipelineOverlapped: b / max(overlapped, 1e-12),
                          pipelineSerial: b / max(serial, 1e-12), lockedBackprop: b / max(locked, 1e-12))
    }

    /// Boundaries splitting `hidden` layers into `k` blocks of near-equal
    /// depth (hidden-layer numbers an interface sits after).
    public static func boundaries(hidden: Int, blocks k: Int) -> [Int] {
        (1 ..< k).map { ($0 * hidden + k / 2) / k }
    }

    /// Measures `k` blocks of `widths` hidden layers (relu, SGD, one linear
    /// cDNI per boundary) on `data`: `steps` pipeline ticks at 1 thread.
    public static func measure(widths: [Int], blocks k: Int, batch: Int, steps: Int, data: Dataset) throws -> Split {
        precondition(k >= 2 && k <= widths.count)
        var c = RunConfig()
        c.model.layers = widths.map { LayerSpec(width: $0) }
        c.optimizer = OptimizerSpec(kind: .sgd, lr: 0.01)
        c.interfaces = InterfaceSpec(rule: .sg)
        let cuts = boundaries(hidden: widths.count, blocks: k)
        c.interfaces.at = .list(cuts)
        c.training.batch = batch
        c.training.steps = steps
        c.training.evalEvery = steps
        c.training.schedule = .pipeline
        let before = CoreSystem.threads
        try CoreSystem.setThreads(1)
        defer { try? CoreSystem.setThreads(before) }
        let test = data.subset(Array(0 ..< min(batch, data.count)))
        let trainer = try Trainer(config: c, data: DataSplit(train: data, test: test))
        _ = try trainer.run()
        let blocks = trainer.blockRecords ?? []
        let bytes = cuts.map { messageBytes(batch: batch, width: widths[$0 - 1]) }
        return Split(blocks: k, batch: batch, blockSeconds: blocks.map { $0.busySeconds / Double(steps) },
                     upBytes: bytes.map(\.up), downBytes: bytes.map(\.down))
    }
}
