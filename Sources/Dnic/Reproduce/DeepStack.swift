import Foundation

/// The trained models of the paper's Figures 3, 5 and 8: a deep relu stack
/// with batch norm trained with backprop, with one SG in the middle and
/// with an SG between every pair of layers, with a small L2 penalty (the
/// paper's footnote for Figure 5). The three figures share these runs; they
/// live in DIR/fig3/runs whichever figure trains them first.
enum DeepStack {
    struct Settings {
        var hidden: Int
        var width: Int
        var epochs: Int?
        var steps: Int?
        /// The single SG's boundary: the paper's "between layers 11 and 12".
        var single: Int
        /// Interface learning rate and warm-up of the SG-everywhere model.
        var everySGLR: Double
        var everyLR: Double
        var l2: Double
        init(quick: Bool) {
            if quick {
                hidden = 6
                width = 128
                steps = 500
                single = 3
            } else {
                hidden = 20
                width = 256
                epochs = 3
                single = 11
            }
            everySGLR = 1e-3
            everyLR = 1e-4
            l2 = 1e-5
        }
    }

    struct Model {
        var name: String
        var label: String
        var boundaries: [Int]
        var network: Network
        var final: EvaluationRecord
    }

    static let runsOf = "fig3"

    static func config(_ kind: String, settings s: Settings, data: DataSpec) -> RunConfig {
        var c = RunConfig(data: data.description,
                          model: ModelDescription(layers: Reproduction.layers(s.hidden, width: s.width, batchnorm: true)))
        c.optimizer.l2 = s.l2
        switch kind {
        case "sg-single":
            c.interfaces = InterfaceSpec(rule: .sg)
            c.interfaces.at = .list([s.single])
        case "sg-every":
            c.interfaces = InterfaceSpec(rule: .sg)
            c.interfaces.at = .every
            c.optimizer.lr = s.everyLR
            c.interfaces.optimizer = OptimizerSpec(kind: .adam, lr: s.everySGLR)
        default: break
        }
        c.training.batch = 64
        c.training.seed = 1
        if let steps = s.steps {
            c.training.steps = steps
            c.training.evalEvery = steps
        } else {
            c.training.epochs = s.epochs ?? 3
        }
        return c
    }

    static let kinds = ["backprop", "sg-single", "sg-every"]

    static func setupText(_ s: Settings, _ r: Reproduction) -> String {
        "\(s.hidden) hidden layers × \(s.width) relu with batch norm, softmax cross-entropy, Adam, batch 64, "
        + "\(s.steps.map { "\($0) steps" } ?? "\(s.epochs ?? 0) epochs"), L2 penalty \(SVGNumber(s.l2)) on the weights; backprop and the "
        + "single SG (after hidden layer \(s.single), linear cDNI) at lr 1e-3; the SG-everywhere model (an SG after each of hidden layers "
        + "1–\(s.hidden - 1), bootstrapped targets) at network lr \(SVGNumber(s.everyLR)) and interface lr \(SVGNumber(s.everySGLR)): "
        + "with lr 1e-3 it does not train (test accuracy 0.18 after 3 epochs), at 1e-4 it reaches 0.78 (calibrated on 20 × 256)."
    }

    /// The three trained models (each run or found complete).
    static func models(_ r: Reproduction, result: String, report: inout ResultReport) throws -> (Settings, [Model]) {
        let s = Settings(quick: r.options.quick)
        let split = try r.data(r.options.data)
        r.progress.begin(result, runs: kinds.map { Reproduction.planned($0, config($0, settings: s, data: r.options.data), split: split) })
        let store = try r.store(runsOf)
        var models = [Model]()
        for kind in kinds {
            let c = config(kind, settings: s, data: r.options.data)
            var outcome = try store.run(kind, config: c, split: split) { _, _ in NoMeasurement() }
            var trained = try store.network(outcome, name: kind)
            if trained == nil {
                // complete but its checkpoint was not kept (--no-checkpoints): train it again
                r.progress.note("\(kind): no checkpoint kept; training it again")
                try? FileManager.default.removeItem(atPath: store.logPath(kind))
                outcome = try store.run(kind, config: c, split: split) { _, _ in NoMeasurement() }
                trained = try store.network(outcome, name: kind)
            }
            report.runs += 1
            if outcome.skipped { report.skippedRuns += 1 }
            report.computeSeconds += outcome.final.seconds
            let label = kind == "backprop" ? "backprop" : kind == "sg-single" ? "SG at \(s.single)" : "SG every layer"
            models.append(Model(name: kind, label: label, boundaries: (try? c.interfaces.boundaries(hidden: s.hidden)) ?? [],
                                network: trained!.0, final: outcome.final))
        }
        report.notes.append("The three models are shared by fig3, fig5 and fig8 (runs in `fig3/runs/`); test accuracies: " +
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
