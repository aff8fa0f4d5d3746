import Foundation

/// `--sg-at balanced[:K]` in a run: measured and planned once, when the run
/// starts, and written into the run's settings as the list of boundaries it
/// found, so that its checkpoint holds that list and a resume trains the
/// same blocks (it never plans again).
extension PlacementPlanner {
    /// Measures and plans a balanced placement, replacing it in `config`
    /// by its boundaries; nil (config unchanged) for any other placement.
    /// With a link (MPI ranks on machines), each block's messages count too.
    public static func resolve(_ config: inout RunConfig, inputDim: Int, classes: Int,
                               link: PipelineScaling.Link? = nil) throws -> PlacementPlan? {
        guard case .balanced(let k) = config.interfaces.at else { return nil }
        _ = try config.interfaces.boundaryCount(hidden: config.model.layers.count) // the rule and K, refused first
        let costs = try LayerCostProbe.measure(config, inputDim: inputDim, classes: classes)
        let plan = try PlacementPlanner.plan(costs, blocks: k, link: link)
        config.interfaces.at = .list(plan.boundaries)
        return plan
    }

    /// The plan in one line: "plan: boundaries after hidden layer(s) 1; blocks
    /// 2.1 ms / 1.9 ms; predicted 30,500 samples/s (locked sg 1 thread: 16,200)";
    /// with a link each block reads "2.1 ms compute + 0.6 ms messages".
    public static func line(_ plan: PlacementPlan, rule: Rule) -> String {
        let blocks = plan.link == nil ? plan.computeSeconds.map(milliseconds)
            : zip(plan.computeSeconds, plan.messageSeconds).map { "\(milliseconds($0)) compute + \(milliseconds($1)) messages" }
        let placement = plan.link.map { "one machine per block, messages over \(text($0))" } ?? "one core per block"
        return "plan: boundaries after hidden layer(s) \(plan.boundaries.map(String.init).joined(separator: ",")); "
            + "blocks \(blocks.joined(separator: " / ")); "
            + "predicted \(grouped(plan.predictedSamplesPerSecond)) samples/s, \(placement) "
            + "(locked \(rule.rawValue) 1 thread: \(grouped(plan.lockedSamplesPerSecond)))"
    }

    /// "a 1 Gbit/s link with 50 µs latency"
    static func text(_ link: PipelineScaling.Link) -> String {
        String(format: "a %g Gbit/s link with %g µs latency", link.gigabitsPerSecond, link.latencyMicroseconds)
    }

    /// What a boundary's messages cost per batch over the link, for `dnic plan`
    /// (each block beside that boundary pays them).
    public static func messagesLine(_ costs: LayerCosts, link: PipelineScaling.Link) throws -> String {
        let seconds = try boundaryMessageSeconds(costs, link: link)
        let each = seconds.enumerated().map { "after \($0.offset + 1) \(milliseconds($0.element))" }
        return "messages per batch over \(text(link)), paid by the blocks on both sides: \(each.joined(separator: ", "))"
    }

    /// What each part costs per batch, for `dnic plan`.
    public static func costsLine(_ costs: LayerCosts) -> String {
        let hidden = costs.layerSeconds.dropLast().map(milliseconds).joined(separator: " / ")
        let interfaces = costs.interfaceSeconds.enumerated().map { "after \($0.offset + 1) \(milliseconds($0.element))" }
        let predicting = costs.interfacePredictionSeconds.map(milliseconds)
        return "measured per batch of \(costs.batch), 1 thread: hidden layers \(hidden), output layer "
            + "\(milliseconds(costs.layerSeconds.last ?? 0))"
            + (interfaces.isEmpty ? "" : "; interfaces \(interfaces.joined(separator: ", "))")
            + (predicting.isEmpty ? "" : " (of which predicting as the batch passes, which the locked step does not: "
                + "\(predicting.joined(separator: ", ")))")
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
