import Foundation

/// `--sg-at balanced[:K]` in a run: measured and planned once, when the run
/// starts, and written into the run's settings as the list of boundaries it
/// found, so that its checkpoint holds that list and a resume trains the
/// same blocks (it never plans again).
extension PlacementPlanner {
    /// Measures and plans a balanced placement, replacing it in `config`
    /// by its boundaries; nil (config unchanged) for any other placement.
    public static func resolve(_ config: inout RunConfig, inputDim: Int, classes: Int) throws -> PlacementPlan? {
        guard case .balanced(let k) = config.interfaces.at else { return nil }
        _ = try config.interfaces.boundaryCount(hidden: config.model.layers.count) // the rule and K, refused first
        let costs = try LayerCostProbe.measure(config, inputDim: inputDim, classes: classes)
        let plan = try PlacementPlanner.plan(costs, blocks: k)
        config.interfaces.at = .list(plan.boundaries)
        return plan
    }

    /// The plan in one line: "plan: boundaries after hidden layer(s) 1; blocks
    /// 2.1 ms / 1.9 ms; predicted 30,500 samples/s (locked sg 1 thread: 16,200)".
    public static func line(_ plan: PlacementPlan, rule: Rule) -> String {
        "plan: boundaries after hidden layer(s) \(plan.boundaries.map(String.init).joined(separator: ",")); "
            + "blocks \(plan.blockSeconds.map(milliseconds).joined(separator: " / ")); "
            + "predicted \(grouped(plan.predictedSamplesPerSecond)) samples/s, one core per block "
            + "(locked \(rule.rawValue) 1 thread: \(grouped(plan.lockedSamplesPerSecond)))"
    }

    /// What each part costs per batch, for `dnic plan`.
    public static func costsLine(_ costs: LayerCosts) -> String {
        let hidden = costs.layerSeconds.dropLast().map(milliseconds).joined(separator: " / ")
        let interfaces = costs.interfaceSeconds.enumerated().map { "after \($0.offset + 1) \(milliseconds($0.element))" }
        return "measured per batch of \(costs.batch), 1 thread: hidden layers \(hidden), output layer "
            + "\(milliseconds(costs.layerSeconds.last ?? 0))"
            + (interfaces.isEmpty ? "" : "; interfaces \(interfaces.joined(separator: ", "))")
    }

    static func milliseconds(_ s: Double) -> String { String(format: s < 0.001 ? "%.3f ms" : "%.2f ms", s * 1000) }

    /// 30500.4 → "30,500": samples/s to the nearest 100 (the measurement is not finer).
    public static func grouped(_ x: Double) -> String {
        let rounded = x >= 10_000 ? (x / 100).rounded() * 100 : x.rounded()
        guard rounded.isFinite, rounded < 1e15 else { return String(format: "%.3g", x) }
        var digits = String(Int(rounded)), out = ""
        while digits.count > 3 {
            out = "," + digits.suffix(3) + out
            digits.removeLast(3)
        }
        return digits + out
    }
}
