/// Where to cut a network into K blocks so that the slowest block is as
/// fast as possible (`--sg-at balanced`, `dnic plan`).
///
/// A block is a run of consecutive hidden layers plus, below the top, the
/// interface on its top boundary; the top block also holds the output
/// layer. Under the pipeline every block runs on its own core, one tick
/// per batch, so a tick lasts as long as the slowest block:
/// samples/s = batch / max block seconds.
///
/// With a link (blocks on machines, MPI ranks: `--link`, `--latency`), a
/// block also spends, per batch, the time of the messages over each of its
/// boundaries (PipelineScaling.messageSeconds: the simulator's model), not
/// overlapped with its compute; a narrow boundary is then a cheaper cut.
public struct PlacementPlan: Equatable, Sendable {
    /// Hidden-layer numbers (1-based) an interface sits after, ascending.
    public var boundaries: [Int]
    /// Each block's predicted compute seconds per batch, bottom first.
    public var computeSeconds: [Double]
    /// Each block's message seconds per batch over the link (zeros without one).
    public var messageSeconds: [Double]
    public var batch: Int
    /// The link the messages were priced on; nil: blocks in one process.
    public var link: PipelineScaling.Link?
    /// What the blocks' interfaces spend predicting as a batch passes, which
    /// the locked step does not (it predicts once, when it trains).
    public var predictionSeconds: Double = 0

    /// Each block's predicted seconds per batch: compute and messages.
    public var blockSeconds: [Double] { zip(computeSeconds, messageSeconds).map { $0 + $1 } }
    /// Every block on one core: one batch through all of them in turn
    /// (locked training with the same interfaces, 1 thread, no messages).
    public var lockedSeconds: Double { computeSeconds.reduce(0, +) - predictionSeconds }
    public var slowestBlockSeconds: Double { blockSeconds.max() ?? 0 }
    /// One core (or machine) per block (the pipeline).
    public var predictedSamplesPerSecond: Double { Double(batch) / max(slowestBlockSeconds, 1e-12) }
    public var lockedSamplesPerSecond: Double { Double(batch) / max(lockedSeconds, 1e-12) }
}

/// What one batch costs on this machine, per layer and per candidate
/// interface (LayerCosts measures them), and the hidden layers' widths
/// (what crosses a boundary).
public struct LayerCosts: Equatable, Sendable {
    /// Forward + backward + update of hidden layers 1 … H, then the output layer (H + 1 entries).
    public var layerSeconds: [Double]
    /// The interface's own work when placed after hidden layer k, k = 1 … H − 1.
    public var interfaceSeconds: [Double]
    /// The part of each interfaceSeconds spent predicting as the batch passes
    /// (an unlocked schedule's forward; locked training does not repeat it);
    /// empty: none.
    public var interfacePredictionSeconds: [Double]
    public var batch: Int
    /// Hidden layers 1 … H's widths (H entries), for pricing messages; empty when unknown.
    public var widths: [Int]

    public init(layerSeconds: [Double], interfaceSeconds: [Double], batch: Int, widths: [Int] = [],
                interfacePredictionSeconds: [Double] = []) {
        self.layerSeconds = layerSeconds
        self.interfaceSeconds = interfaceSeconds
        self.interfacePredictionSeconds = interfacePredictionSeconds
        self.batch = batch
        self.widths = widths
    }

    public var hiddenLayers: Int { layerSeconds.count - 1 }
}

public enum PlacementPlanner {
    /// The boundaries splitting the network into `blocks` blocks whose
    /// slowest is fastest, found exactly by dynamic programming over
    /// contiguous partitions; among equally fast plans, the
    /// lexicographically smallest boundary list.
    public static func plan(_ costs: LayerCosts, blocks k: Int, link: PipelineScaling.Link? = nil) throws -> PlacementPlan {
        let c = try Pricing(costs, link: link)
        let h = costs.hiddenLayers
        guard k >= 2, k <= h else { throw blocksRefusal(k, hidden: h) }
        // best[j][s]: the slowest block's seconds, at best, when hidden
        // layers s+1 … H (and the output layer) form j blocks
        var best = [[Double]](repeating: [Double](repeating: .infinity, count: h), count: k + 1)
        for s in 0 ..< h { best[1][s] = c.topBlock(above: s) }
        for j in 2 ... k {
            for s in 0 ..< h where h - s >= j {
                for b in s + 1 ... h - j + 1 {
                    best[j][s] = min(best[j][s], max(c.lowerBlock(above: s, top: b), best[j - 1][b]))
                }
            }
        }
        // from the bottom, the first boundary that keeps every block within
        // the optimum with the rest still feasible (the same values,
        // computed the same way: the comparison is exact)
        let optimum = best[k][0]
        var cuts = [Int](), s = 0
        for j in stride(from: k, to: 1, by: -1) {
            let b = (s + 1 ... h - j + 1).first { max(c.lowerBlock(above: s, top: $0), best[j - 1][$0]) <= optimum }!
            cuts.append(b)
            s = b
        }
        return try evaluate(costs, boundaries: cuts, link: link)
    }

    /// The plan of given boundaries (e.g. `--sg-at 2`), to compare with the balanced one.
    public static func evaluate(_ costs: LayerCosts, boundaries: [Int], link: PipelineScaling.Link? = nil) throws -> PlacementPlan {
        let c = try Pricing(costs, link: link)
        let h = costs.hiddenLayers
        let cuts = boundaries.sorted()
        guard cuts.allSatisfy({ $0 >= 1 && $0 < h }), Set(cuts).count == cuts.count else {
            throw DnicError("boundaries \(cuts) do not fit \(h) hidden layers")
        }
        var compute = [Double](), messages = [Double](), s = 0
        for b in cuts {
            compute.append(c.lowerCompute(above: s, top: b))
            messages.append(c.messages(above: s, top: b))
            s = b
        }
        compute.append(c.topCompute(above: s))
        messages.append(c.messages(above: s, top: h))
        let predictions = costs.interfacePredictionSeconds
        return PlacementPlan(boundaries: cuts, computeSeconds: compute, messageSeconds: messages, batch: costs.batch, link: link,
                             predictionSeconds: predictions.isEmpty ? 0 : cuts.map { predictions[$0 - 1] }.reduce(0, +))
    }

    /// The messages over the boundary after hidden layer k, k = 1 … H − 1, per batch over `link`.
    public static func boundaryMessageSeconds(_ costs: LayerCosts, link: PipelineScaling.Link) throws -> [Double] {
        try Pricing(costs, link: link).message
    }

    /// Why `blocks` blocks cannot be planned on `hidden` hidden layers, or nil.
    public static func blocksProblem(_ k: Int, hidden h: Int) -> String? {
        if k < 2 { return "needs at least 2 blocks" }
        if k > h { return "\(k) blocks need at least \(k) hidden layers (there are \(h))" }
        return nil
    }

    static func blocksRefusal(_ k: Int, hidden h: Int) -> SettingError {
        SettingError("interfaces.at", "balanced:\(k)", blocksProblem(k, hidden: h) ?? "")
    }

    /// The costs checked, and each boundary's message seconds over the link.
    private struct Pricing {
        let costs: LayerCosts
        /// message[b - 1]: the messages over the boundary after hidden layer b, per batch (0 without a link).
        let message: [Double]

        init(_ costs: LayerCosts, link: PipelineScaling.Link?) throws {
            let h = costs.hiddenLayers
            guard h >= 1, costs.interfaceSeconds.count == h - 1,
                  costs.interfacePredictionSeconds.isEmpty || costs.interfacePredictionSeconds.count == h - 1,
                  (costs.layerSeconds + costs.interfaceSeconds + costs.interfacePredictionSeconds).allSatisfy({ $0.isFinite && $0 >= 0 }),
                  zip(costs.interfacePredictionSeconds, costs.interfaceSeconds).allSatisfy({ $0 <= $1 }), costs.batch >= 1 else {
                throw DnicError("layer costs: \(costs.layerSeconds.count) layer and \(costs.interfaceSeconds.count) interface times "
                                + "(need H + 1 and H − 1, finite, not negative) for batch \(costs.batch)")
            }
            self.costs = costs
            guard let link else {
                message = [Double](repeating: 0, count: h - 1)
                return
            }
            guard costs.widths.count == h, costs.widths.allSatisfy({ $0 >= 1 }) else {
                throw DnicError("layer costs: pricing messages needs the \(h) hidden layers' widths (given \(costs.widths.count))")
            }
            message = costs.widths.dropLast().map { width in
                let bytes = PipelineScaling.messageBytes(batch: costs.batch, width: width)
                return PipelineScaling.messageSeconds(up: bytes.up, down: bytes.down, link: link)
            }
        }

        /// Hidden layers s+1 … b, the interface after b, and the messages over boundaries s and b.
        func lowerBlock(above s: Int, top b: Int) -> Double {
            lowerCompute(above: s, top: b) + messages(above: s, top: b)
        }

        /// Hidden layers s+1 … H, the output layer, and the messages over boundary s.
        func topBlock(above s: Int) -> Double {
            topCompute(above: s) + messages(above: s, top: costs.hiddenLayers)
        }

        func lowerCompute(above s: Int, top b: Int) -> Double {
            layers(s, b) + costs.interfaceSeconds[b - 1]
        }

        func topCompute(above s: Int) -> Double {
            layers(s, costs.hiddenLayers) + costs.layerSeconds[costs.hiddenLayers]
        }

        /// The block between boundaries s and b (0: the data below; H: the output above) sends and receives over both.
        func messages(above s: Int, top b: Int) -> Double {
            (s > 0 ? message[s - 1] : 0) + (b < costs.hiddenLayers ? message[b - 1] : 0)
        }

        private func layers(_ s: Int, _ b: Int) -> Double {
            var sum = 0.0
            for l in s ..< b { sum += costs.layerSeconds[l] }
            return sum
        }
    }
}
