import ArgumentParser
import Dnic
import Foundation

/// `dnic plan`: what `dnic train --sg-at balanced[:K]` would measure and
/// choose, without training; with a fixed placement (--sg-at 2), what those
/// blocks are predicted to do, for comparison.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Measure each layer on this machine and print where --sg-at balanced[:K] would put the interfaces.",
        discussion: """
        Takes train's settings (--config FILE and flags). Each layer's and each candidate interface's \
        forward + backward + update is timed at the run's batch on 1 thread (a block's core under \
        --schedule pipeline), and the boundaries are chosen so that the slowest block is as fast as possible. \
        With --link G [--latency US] (blocks on machines, MPI ranks), each block also pays, per batch, the messages \
        over its boundaries: latency + bytes / bandwidth (activations and labels up, gradients down, at once).
        """
    )

    @Option(help: "Run configuration file (YAML, or JSON for *.json).")
    var config: String?

    @OptionGroup var settings: TrainSettingOptions

    @OptionGroup var link: LinkOptions

    func run() throws {
        let namer = SettingNamer(arguments: CommandLine.arguments, source: config.map { "config \(pathText($0))" })
        do { try plan() } catch { throw Failure(error, namer: namer) ?? error }
    }

    private func plan() throws {
        let link = try self.link.value()
        let file = self.config
        let config = try asUsage { () throws -> RunConfig in
            var c = try file.map { try ConfigFile.load(path: $0) } ?? RunConfig()
            if file == nil, let rule = settings.rule { c.model = RunConfig.defaultModel(for: rule) }
            // bare `dnic plan` (or --rule sg without --sg-at) plans what it is for:
            // a synthetic gradient where two blocks balance
            if file == nil, settings.rule == nil { c.interfaces = InterfaceSpec(rule: .sg) }
            if file == nil, settings.sgAt == nil, [.sg, .sgprop].contains(settings.rule ?? .sg) { c.interfaces.at = .balanced(2) }
            // sg's blocks, each on its own core: the pipeline's, unless told otherwise
            if file == nil, settings.schedule == nil, (settings.rule ?? .sg) == .sg { c.training.schedule = .pipeline }
            try c.apply(SettingFlags.given(in: settings))
            try c.validate()
            return c
        }
        let spec = try asUsage { try DataSpec.parse(config.data) }
        let hidden = config.model.layers.count
        var fixed: [Int]?
        if case .balanced = config.interfaces.at {} else {
            fixed = try config.interfaces.boundaries(hidden: hidden)
            if fixed?.isEmpty ?? true || fixed!.contains(where: { $0 > hidden - 1 }) {
                throw UsageError("{interfaces.at} \(config.interfaces.at.text): nothing to plan: "
                                 + "give balanced, balanced:K or boundaries between hidden layers such as 2")
            }
        }
        if let threads = config.training.threads { try CoreSystem.setThreads(threads) }
        let data = try loadData(spec, options: config.dataOptions)
        let costs = try LayerCostProbe.measure(config, inputDim: data.train.dim, classes: data.train.classes)
        let plan: PlacementPlan
        if let fixed { plan = try PlacementPlanner.evaluate(costs, boundaries: fixed, link: link) } else {
            guard case .balanced(let k) = config.interfaces.at else { return }
            plan = try PlacementPlanner.plan(costs, blocks: k, link: link)
        }
        try Console.out.write(PlacementPlanner.costsLine(costs))
        if let link { try Console.out.write(PlacementPlanner.messagesLine(costs, link: link)) }
        try Console.out.write(PlacementPlanner.line(plan, rule: config.interfaces.rule))
    }
}
