/// Where to cut a network into K blocks so that the slowest block is as
/// fast as possible (`--sg-at balanced`, `dnic plan`).
///
/// A block is a run of consecutive hidden layers plus, below the top, the
/// interface on its top boundary; the top block also holds the output
/// layer. Under the pipeline every block runs on its own core, one tick
/// per batch, so a tick lasts as long as the slowest block:
/// samples/s = batch / max block seconds.
public struct PlacementPlan: Equatable, Sendable {
    /// Hidden-layer numbers (1-based) an interface sits after, ascending.
    public var boundaries: [Int]
    /// Each block's predicted seconds per batch, bottom first.
    public var blockSeconds: [Double]
    public var batch: Int

    /// Every block on one core: one batch through all of them in turn
    /// (locked training with the same interfaces, 1 thread).
    public var lockedSeconds: Double { blockSeconds.reduce(0, +) }
    public var slowestBlockSeconds: Double { blockSeconds.max() ?? 0 }
    /// One core per block (the pipeline).
    public var predictedSamplesPerSecond: Double { Double(batch) / max(slowestBlockSeconds, 1e-12) }
    public var lockedSamplesPerSecond: Double { Double(batch) / max(lockedSeconds, 1e-12) }
}

/// What one batch costs on this machine, per layer and per candidate
/// interface (LayerCosts measures them).
public struct LayerCosts: Equatable, Sendable {
    /// Forward + backward + update of hidden layers 1 … H, then the output layer (H + 1 entries).
    public var layerSeconds: [Double]
    /// The interface's own work when placed after hidden layer k, k = 1 … H − 1.
    public var interfaceSeconds: [Double]
    public var batch: Int

    public init(layerSeconds: [Double], interfaceSeconds: [Double], batch: Int) {
        self.layerSeconds = layerSeconds
        self.interfaceSeconds = interfaceSeconds
        self.batch = batch
    }

    public var hiddenLayers: Int { layerSeconds.count - 1 }
}

public enum PlacementPlanner {
    /// The boundaries splitting the network into `blocks` blocks whose
    /// slowest is fastest, found exactly by dynamic programming over
    /// contiguous partitions; among equally fast plans, the
    /// lexicographically smallest boundary list.
    public static func plan(_ costs: LayerCosts, blocks k: Int) throws -> PlacementPlan {
        try check(costs)
        let h = costs.hiddenLayers
        guard k >= 2, k <= h else { throw blocksRefusal(k, hidden: h) }
        // best[j][s]: the slowest block's seconds, at best, when hidden
        // layers s+1 … H (and the output layer) form j blocks
        var best = [[Double]](repeating: [Double](repeating: .infinity, count: h), count: k + 1)
        for s in 0 ..< h { best[1][s] = topBlock(costs, above: s) }
        for j in 2 ... k {
            for s in 0 ..< h where h - s >= j {
                for b in s + 1 ... h - j + 1 {
                    best[j][s] = min(best[j][s], max(lowerBlock(costs, above: s, top: b), best[j - 1][b]))
                }
            }
        }
        // from the bottom, the first boundary that keeps every block within
        // the optimum with the rest still feasible (the same values,
        // computed the same way: the comparison is exact)
        let optimum = best[k][0]
        var cuts = [Int](), s = 0
        for j in stride(from: k, to: 1, by: -1) {
            let b = (s + 1 ... h - j + 1).first { max(lowerBlock(costs, above: s, top: $0), best[j - 1][$0]) <= optimum }!
            cuts.append(b)
            s = b
        }
        return try evaluate(costs, boundaries: cuts)
    }

    /// The plan of given boundaries (e.g. `--sg-at 2`), to compare with the balanced one.
    public static func evaluate(_ costs: LayerCosts, boundaries: [Int]) throws -> PlacementPlan {
        try check(costs)
        let h = costs.hiddenLayers
        let cuts = boundaries.sorted()
        guard cuts.allSatisfy({ $0 >= 1 && $0 < h }), Set(cuts).count == cuts.count else {
            throw DnicError("boundaries \(cuts) do not fit \(h) hidden layers")
        }
        var seconds = [Double](), s = 0
        for b in cuts {
            seconds.append(lowerBlock(costs, above: s, top: b))
            s = b
        }
        seconds.append(topBlock(costs, above: s))
        return PlacementPlan(boundaries: cuts, blockSeconds: seconds, batch: costs.batch)
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

    private static func check(_ costs: LayerCosts) throws {
        let h = costs.hiddenLayers
        guard h >= 1, costs.interfaceSeconds.count == h - 1,
              (costs.layerSeconds + costs.interfaceSeconds).allSatisfy({ $0.isFinite && $0 >= 0 }), costs.batch >= 1 else {
            throw DnicError("layer costs: \(costs.layerSeconds.count) layer and \(costs.interfaceSeconds.count) interface times "
                            + "(need H + 1 and H − 1, finite, not negative) for batch \(costs.batch)")
        }
    }

    /// Hidden layers s+1 … b and the interface after b.
    private static func lowerBlock(_ c: LayerCosts, above s: Int, top b: Int) -> Double {
        layers(c, s, b) + c.interfaceSeconds[b - 1]
    }

    /// Hidden layers s+1 … H and the output layer.
    private static func topBlock(_ c: LayerCosts, above s: Int) -> Double {
        layers(c, s, c.hiddenLayers) + c.layerSeconds[c.hiddenLayers]
    }

    private static func layers(_ c: LayerCosts, _ s: Int, _ b: Int) -> Double {
        var sum = 0.0
        for l in s ..< b { sum += c.layerSeconds[l] }
        return sum
    }
}
