import Foundation

/// The trained models of the paper's Figures 3, 5 and 8: a deep relu stack
/// trained with backprop, with one SG in the middle and with an SG between
/// every pair of layers, with an L2 penalty (the paper's footnote for
/// Figure 5). Two sets: with batch norm (the paper's setting for Figures 3
/// and 8) and without (Figure 5, whose weight norms mean nothing under batch
/// norm, and Figure 3's alternative reading), each with backprop at extra
/// seeds for a seed-to-seed baseline. The figures share these runs; they
/// live in DIR/fig3/runs whichever figure trains them first.
enum DeepStack {
    struct Settings {
        var hidden: Int
        var width: Int
        var epochs: Int?
        var steps: Int?
        /// The single SG's boundary: the paper's "between layers 11 and 12".
        var single: Int
        var l2: Double
        /// The set without batch norm: a larger L2 (so that a layer's norm
        /// follows how much it is used) and longer training.
        var plainL2: Double
        /// Its learning rates (calibrated on 20 × 256, one epoch): at 1e-3
        /// the single SG's interface loss explodes (3.5e3 after 560 steps,
        /// test accuracy 0.23), at 1e-4 with interface lr 1e-3 it reaches
        /// 0.82; backprop runs at the same rate so that only the rule differs.
        /// SG everywhere trains at none tried (one epoch, network/interface
        /// lr: 1e-4/1e-3 0.08, 1e-4/1e-4 0.11, 1e-4/1e-3 with clipping at 1
        /// 0.17, 1e-5/1e-4 0.21, 3e-5/1e-3 0.31): the best of those.
        var plainLR: Double
        var plainSGLR: Double
        var plainEveryLR: Double
        var plainEpochs: Int?
        var plainSteps: Int?
        /// Backprop seeds of each set (the first is the models' seed; the
        /// others are the seed-to-seed baseline).
        var backpropSeeds: [Int]
        init(quick: Bool) {
            if quick {
                hidden = 6
                width = 128
                steps = 500
                plainSteps = 500
                single = 3
            } else {
                hidden = 20
                width = 256
                epochs = 3
                plainEpochs = 5
                single = 11
            }
            l2 = 1e-5
            plainL2 = 1e-4
            plainLR = 1e-4
            plainSGLR = 1e-3
            plainEveryLR = 3e-5
            backpropSeeds = [1, 2, 3]
        }
    }

    /// With or without batch norm after every hidden layer's linear map.
    enum Variant: String, Codable, Sendable {
        case batchnorm, plain
        var prefix: String { self == .batchnorm ? "" : "nobn-" }
    }

    /// One trained model of a set: its kind (backprop, sg-single, sg-every) and seed.
    struct Member: Hashable {
        var kind: String
        var variant: Variant
        var seed: Int = 1
        /// The run's name (the seed-1 batch-norm runs keep their names of before).
        var name: String { variant.prefix + kind + (seed == 1 ? "" : "-seed\(seed)") }
    }

    struct Model {
        var name: String
        var label: String
        var variant: Variant
        var seed: Int
        var batchnorm: Bool
        var boundaries: [Int]
        var network: Network
        var final: EvaluationRecord
    }

    static let runsOf = "fig3"

    static func config(_ m: Member, settings s: Settings, data: DataSpec) -> RunConfig {
        let plain = m.variant == .plain
        var c = RunConfig(data: data.description,
                          model: ModelDescription(layers: Reproduction.layers(s.hidden, width: s.width, batchnorm: !plain)))
        c.optimizer.l2 = plain ? s.plainL2 : s.l2
        if plain { c.optimizer.lr = s.plainLR }
        switch m.kind {
        case "sg-single":
            c.interfaces = InterfaceSpec(rule: .sg)
            c.interfaces.at = .list([s.single])
            if plain { c.interfaces.optimizer = OptimizerSpec(kind: .adam, lr: s.plainSGLR) }
        case "sg-every":
            // with batch norm, dnic's defaults (lr 1e-3 / the number of SGs in series, centred predictions)
            c.interfaces = InterfaceSpec(rule: .sg)
            c.interfaces.at = .every
            if plain {
                c.optimizer.lr = s.plainEveryLR
                c.interfaces.optimizer = OptimizerSpec(kind: .adam, lr: s.plainSGLR)
            }
        default: break
        }
        c.training.batch = 64
        c.training.seed = UInt64(m.seed)
        if let steps = plain ? s.plainSteps : s.steps {
            c.training.steps = steps
            c.training.evalEvery = steps
        } else {
            c.training.epochs = (plain ? s.plainEpochs : s.epochs) ?? 3
        }
        return c
    }

    static let kinds = ["backprop", "sg-single", "sg-every"]

    /// The three models of a set at seed 1.
    static func set(_ v: Variant) -> [Member] { kinds.map { Member(kind: $0, variant: v) } }

    /// Backprop at the baseline's extra seeds.
    static func extraSeeds(_ v: Variant, _ s: Settings) -> [Member] {
        s.backpropSeeds.dropFirst().map { Member(kind: "backprop", variant: v, seed: $0) }
    }

    static func label(_ m: Member, _ s: Settings) -> String {
        let base = m.kind == "backprop" ? "backprop" : m.kind == "sg-single" ? "SG at \(s.single)" : "SG every layer"
        return base + (m.seed == 1 ? "" : " seed \(m.seed)") + (m.variant == .plain ? " (no BN)" : "")
    }

    static func setupText(_ s: Settings, _ r: Reproduction) -> String {
        "\(s.hidden) hidden layers × \(s.width) relu with batch norm, softmax cross-entropy, Adam, batch 64, "
        + "\(s.steps.map { "\($0) steps" } ?? "\(s.epochs ?? 0) epochs"), L2 penalty \(SVGNumber(s.l2)) on the weights; backprop and the "
        + "single SG (after hidden layer \(s.single), linear cDNI) at lr 1e-3; the SG-everywhere model (an SG after each of hidden layers "
        + "1–\(s.hidden - 1), bootstrapped targets) with dnic's defaults for it: Adam at 1e-3 / \(s.hidden - 1) (the SGs in series) "
        + "for network and interfaces, each prediction centred over the batch (the layer above has batch norm). At lr 1e-3 it does "
        + "not train (0.29 test accuracy after 3 epochs on 20 × 256, seeds 1–3)."
    }

    /// The set without batch norm, in words.
    static func plainSetupText(_ s: Settings) -> String {
        "The models without batch norm (no BN): the same stack and He-uniform init with no batch norm, "
        + "L2 penalty \(SVGNumber(s.plainL2)) (ten times the batch-norm set's: without batch norm a layer's weight scale is its "
        + "function's, and the penalty shrinks the layers the solution uses least), "
        + "\(s.plainSteps.map { "\($0) steps" } ?? "\(s.plainEpochs ?? 0) epochs"), network lr \(SVGNumber(s.plainLR)) for backprop "
        + "and the single SG, interface lr \(SVGNumber(s.plainSGLR)) (calibrated on 20 × 256 for one epoch: at lr 1e-3 the single SG's "
        + "interface loss explodes and it reaches 0.23 test accuracy, at 1e-4 0.82; backprop runs at the same rate so that only "
        + "the rule differs); SG everywhere at network lr \(SVGNumber(s.plainEveryLR)), the best of five settings tried, none of "
        + "which trains it well without batch norm (one epoch: 0.08–0.31 test accuracy)."
    }

    /// The three batch-norm models at seed 1 (each run or found complete).
    static func models(_ r: Reproduction, result: String, report: inout ResultReport) throws -> (Settings, [Model]) {
        let (s, trained) = try models(r, result: result, report: &report, members: set(.batchnorm))
        return (s, trained)
    }

    /// `members`' models, in their order (each run or found complete).
    static func models(_ r: Reproduction, result: String, report: inout ResultReport, members: [Member]) throws -> (Settings, [Model]) {
        let s = Settings(quick: r.options.quick)
        let split = try r.data(r.options.data)
        r.progress.begin(result, runs: members.map {
            Reproduction.planned($0.name, config($0, settings: s, data: r.options.data), split: split)
        })
        let store = try r.store(runsOf)
        var models = [Model]()
        for m in members {
            let name = m.name
            let c = config(m, settings: s, data: r.options.data)
            var outcome = try store.run(name, config: c, split: split) { _, _ in NoMeasurement() }
            var trained = try store.network(outcome, name: name)
            if trained == nil {
                // complete but its checkpoint was not kept (--no-checkpoints): train it again
                r.progress.note("\(name): no checkpoint kept; training it again")
                try? FileManager.default.removeItem(atPath: store.logPath(name))
                outcome = try store.run(name, config: c, split: split) { _, _ in NoMeasurement() }
                trained = try store.network(outcome, name: name)
            }
            report.runs += 1
            if outcome.skipped { report.skippedRuns += 1 }
            report.computeSeconds += outcome.final.seconds
            models.append(Model(name: name, label: label(m, s), variant: m.variant, seed: m.seed,
                                batchnorm: c.model.layers.contains { $0.batchnorm },
                                boundaries: (try? c.interfaces.boundaries(hidden: s.hidden)) ?? [],
                                network: trained!.0, final: outcome.final))
        }
        report.notes.append("The models are shared by fig3, fig5 and fig8 (runs in `fig3/runs/`); test accuracies: " +
                            models.map { "\($0.label) \(fixed($0.final.testAccuracy))" }.joined(separator: ", ") + ".")
        return (s, models)
    }

    /// Pearson correlation of two series (NaN when one is constant).
    static func correlation(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        guard n > 1 else { return .nan }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan
    }

    /// Least-squares slope of y over 1, 2, …, n.
    static func slope(_ y: [Double]) -> Double {
        correlation(y.indices.map(Double.init), y) * standardDeviation(y) / standardDeviation(y.indices.map(Double.init))
    }

    static func standardDeviation(_ v: [Double]) -> Double {
        let m = v.reduce(0, +) / Double(v.count)
        return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(v.count - 1, 1))).squareRoot()
    }
}
