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
        "\(s.hidden) hidden layers × \(s.width) relu with batch norm, softmax cross-entropy, Adam, batch 64, \(s.steps.map { "\($0) steps" } ?? "\(s.epochs ?? 0) epochs"), L2 penalty \(SVGNumber(s.l2)) on the weights; backprop and the single SG (after hidden layer \(s.single), linear cDNI) at lr 1e-3; the SG-everywhere model (an SG after each of hidden layers 1–\(s.hidden - 1), bootstrapped targets) at network lr \(SVGNumber(s.everyLR)) and interface lr \(SVGNumber(s.everySGLR)): with lr 1e-3 it does not train (test accuracy 0.18 after 3 epochs), at 1e-4 it reaches 0.78 (calibrated on 20 × 256)."
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

/// The paper's Figure 3: RDMs of every hidden layer for a label-ordered
/// sample of test points, and the distance of each layer's within-class
/// blocks to the last layer's.
public enum Figure3: PaperResult {
    public static let id = "fig3"
    public static let summary = "Figure 3: RDMs of a deep stack under backprop, one SG and SG everywhere."

    public static func run(_ r: Reproduction) throws -> ResultReport {
        var report = ResultReport(id: id, title: "Figure 3 — representational dissimilarity matrices", data: r.imageDataName,
                                  command: r.command(id), quick: r.options.quick, setup: "")
        let (s, models) = try DeepStack.models(r, result: id, report: &report)
        r.progress.note("RDMs")
        let split = try r.data(r.options.data)
        let perClass = r.options.quick ? 20 : 40, drawnPerClass = 10
        let chosen = split.test.subset(try RDM.points(split.test, perClass: perClass, seed: 1))
        let drawn = split.test.subset(try RDM.points(split.test, perClass: drawnPerClass, seed: 1))
        struct Layer: Codable { var layer: Int; var distanceToLast: Double; var distanceToBackprop: Double; var withinClass: Double; var betweenClass: Double }
        struct Row: Codable { var model: String; var boundaries: [Int]; var testAccuracy: Double; var layers: [Layer] }
        var rows = [Row]()
        var panels = [HeatmapPanel]()
        let backprop = try RDM.matrices(models[0].network, points: chosen)
        for m in models {
            let rdms = try RDM.matrices(m.network, points: chosen)
            let layers = rdms.enumerated().map { l, rdm in
                let (w, b) = RDM.meanDissimilarity(rdm, labels: chosen.labels)
                return Layer(layer: l + 1, distanceToLast: RDM.blockDistance(rdm, rdms[rdms.count - 1], labels: chosen.labels),
                             distanceToBackprop: RDM.blockDistance(rdm, backprop[l], labels: chosen.labels), withinClass: w, betweenClass: b)
            }
            rows.append(Row(model: m.label, boundaries: m.boundaries, testAccuracy: m.final.testAccuracy, layers: layers))
            for (l, rdm) in try RDM.matrices(m.network, points: drawn).enumerated() {
                panels.append(HeatmapPanel(title: "\(m.label) h\(l + 1)", rows: drawn.count, cols: drawn.count, values: rdm.map(Double.init)))
            }
        }
        try HeatmapFigure(panels: panels, columns: s.hidden).write(to: try r.path(id, "fig3-rdm"))
        var plot = LinePlot(title: "Within-class RDM blocks: distance to the last hidden layer", xLabel: "hidden layer", yLabel: "L2 distance",
                            series: rows.map { row in .init(label: row.model, points: row.layers.map { (Double($0.layer), $0.distanceToLast) }) })
        plot.integerX = true
        plot.marks = markList(rows.map { ($0.model, $0.boundaries) })
        try plot.write(to: try r.path(id, "fig3-distance.svg"))
        var csv = "model,layer,distance_to_last,distance_to_backprop,within_class,between_class\n"
        for row in rows { for l in row.layers { csv += "\(csvField(row.model)),\(l.layer),\(l.distanceToLast),\(l.distanceToBackprop),\(l.withinClass),\(l.betweenClass)\n" } }
        try AtomicFile.write(Data(csv.utf8), to: try r.path(id, "fig3.csv"), what: "the RDM figures")
        try AtomicFile.write(try jsonData(rows), to: try r.path(id, "fig3.json"), what: "the RDM figures")
        report.setup = DeepStack.setupText(s, r) + " RDMs: 1 − corr(h(xᵢ), h(xⱼ)) over \(perClass) test points per class (seeded, label-ordered) for the distances, \(drawnPerClass) per class in the picture; distances are L2 over the within-class diagonal blocks."
        report.figures = [
            .init(file: "fig3-rdm.png", caption: "RDMs of every hidden layer (columns h1 … h\(s.hidden)) for a label-ordered sample of \(drawnPerClass) test points per class: backprop (top row), a single SG after hidden layer \(s.single) (middle), an SG between every pair of layers (bottom). Dark diagonal blocks: points of one class represented alike. Each panel has its own colour scale."),
            .init(file: "fig3-distance.svg", caption: "L2 distance between each layer's within-class RDM blocks and the same blocks at the last hidden layer (\(perClass) points per class); dashed lines: where the SGs sit."),
        ]
        let mid = s.hidden / 2
        let bp = rows[0].layers, single = rows[1].layers, every = rows[2].layers
        report.tables.append(.init(caption: "Distance to the last layer's within-class blocks", header: ["model"] + [1, mid / 2, mid, s.single + 1, s.hidden - 1].map { "h\($0)" },
                                   rows: rows.map { row in [row.model] + [1, mid / 2, mid, s.single + 1, s.hidden - 1].map { fixed(row.layers[$0 - 1].distanceToLast, 1) } }))
        // 1. backprop settles early: from the middle on, near the final representation
        let bpSettled = bp[mid - 1].distanceToLast < 0.5 * bp[0].distanceToLast
        report.findings.append(.init(
            paper: "with backprop, the representation after 9 of 20 layers is nearly the same as the final layer's.",
            ours: "backprop's distance to the last layer falls from \(fixed(bp[0].distanceToLast, 1)) at h1 to \(fixed(bp[mid - 1].distanceToLast, 1)) at h\(mid).",
            verdict: bpSettled ? .reproduced : .not, rule: "reproduced when backprop's distance at the middle layer is below half its distance at h1"))
        // 2. single SG: below the SG the representation differs from backprop's more than above it
        let below = mean(single[0 ..< s.single].map(\.distanceToBackprop)), above = mean(single[s.single...].map(\.distanceToBackprop))
        report.findings.append(.init(
            paper: "with a single SG in the middle, the layers before the SG develop a qualitatively different style of representation from backprop's.",
            ours: "the single-SG model's RDM blocks are on average \(fixed(below, 1)) from backprop's below the SG and \(fixed(above, 1)) above it.",
            verdict: below > above ? .reproduced : .not, rule: "reproduced when the mean distance to backprop's RDM (layer by layer) is larger below the SG than above it"))
        // 3. SG everywhere: no layer from which the representation is static
        let everyFar = every[mid - 1].distanceToLast > 2 * bp[mid - 1].distanceToLast
        report.findings.append(.init(
            paper: "with an SG between every pair of layers the representation is scattered more broadly: there is no point in the stack where it becomes static.",
            ours: "at h\(mid) the SG-everywhere model is \(fixed(every[mid - 1].distanceToLast, 1)) from its last layer (backprop \(fixed(bp[mid - 1].distanceToLast, 1))), and \(fixed(every[s.hidden - 2].distanceToLast, 1)) at h\(s.hidden - 1).",
            verdict: everyFar ? .reproduced : .not, rule: "reproduced when at the middle layer its distance to the last layer is more than twice backprop's"))
        return report
    }
}

/// The paper's Figure 5: each hidden layer's share of the squared weight norm.
public enum Figure5: PaperResult {
    public static let id = "fig5"
    public static let summary = "Figure 5: weight-norm profiles (small L2 penalty) of the deep stack."

    public static func run(_ r: Reproduction) throws -> ResultReport {
        var report = ResultReport(id: id, title: "Figure 5 — weight norms per hidden layer", data: r.imageDataName,
                                  command: r.command(id), quick: r.options.quick, setup: "")
        let (s, models) = try DeepStack.models(r, result: id, report: &report)
        report.setup = DeepStack.setupText(s, r) + " Share of layer l: ‖W_l‖²_F / Σ_k ‖W_k‖²_F over the hidden weight matrices."
        struct Row: Codable { var model: String; var boundaries: [Int]; var shares: [Double] }
        let rows = models.map { Row(model: $0.label, boundaries: $0.boundaries, shares: WeightNorms.normalised($0.network)) }
        var csv = "model,layer,share\n"
        for row in rows { for (l, v) in row.shares.enumerated() { csv += "\(csvField(row.model)),\(l + 1),\(v)\n" } }
        try AtomicFile.write(Data(csv.utf8), to: try r.path(id, "fig5.csv"), what: "the norms")
        try AtomicFile.write(try jsonData(rows), to: try r.path(id, "fig5.json"), what: "the norms")
        var plot = LinePlot(title: "Weight norm per hidden layer", xLabel: "hidden layer", yLabel: "‖W‖²_F share",
                            series: rows.map { row in .init(label: row.model, points: row.shares.enumerated().map { (Double($0.offset + 1), $0.element) }) })
        plot.integerX = true
        plot.marks = markList(rows.map { ($0.model, $0.boundaries) })
        try plot.write(to: try r.path(id, "fig5.svg"))
        report.figures = [.init(file: "fig5.svg", caption: "Normalised squared Frobenius norm of each hidden layer's weight matrix: backprop, a single SG after hidden layer \(s.single) (dashed) and an SG between every pair of layers (SG*).")]
        report.tables.append(.init(caption: "Weight-norm shares", header: ["model", "slope per layer", "first layer", "last layer"],
                                   rows: rows.map { [$0.model, String(format: "%+.2e", DeepStack.slope($0.shares)), fixed($0.shares.first ?? .nan), fixed($0.shares.last ?? .nan)] }))
        let bpSlope = DeepStack.slope(rows[0].shares), everySlope = DeepStack.slope(rows[2].shares)
        report.findings.append(.init(
            paper: "with backprop the norms increase slowly towards the output.",
            ours: "backprop's shares have a least-squares slope of \(String(format: "%+.2e", bpSlope)) per layer.",
            verdict: bpSlope > 0 ? .reproduced : .not, rule: "reproduced when the slope of backprop's shares over the layers is positive"))
        report.findings.append(.init(
            paper: "with an SG between every two layers the norms start high and decrease towards the output.",
            ours: "the SG-everywhere model's shares have a slope of \(String(format: "%+.2e", everySlope)) per layer (first layer \(fixed(rows[2].shares.first ?? .nan)), last \(fixed(rows[2].shares.last ?? .nan))).",
            verdict: everySlope < 0 ? .reproduced : .not, rule: "reproduced when the slope of its shares is negative"))
        let k = s.single
        let below = DeepStack.correlation(Array(rows[1].shares[0 ..< k]), Array(rows[0].shares[0 ..< k]))
        let above = DeepStack.correlation(Array(rows[1].shares[k...]), Array(rows[0].shares[k...]))
        report.findings.append(.init(
            paper: "with a single SG, the norms after the SG resemble backprop's, while before it they are more chaotic.",
            ours: "correlation of the single-SG model's shares with backprop's: \(fixed(above, 2)) above the SG, \(fixed(below, 2)) below it.",
            verdict: above > below ? .reproduced : .not, rule: "reproduced when the correlation with backprop's profile is higher above the SG than below it"))
        return report
    }
}

/// The paper's supplementary Figure 8: linear-probe accuracy per layer.
public enum Figure8: PaperResult {
    public static let id = "fig8"
    public static let summary = "Figure 8: linear probes on every layer of the deep stack."

    public static func run(_ r: Reproduction) throws -> ResultReport {
        var report = ResultReport(id: id, title: "Figure 8 — linear probes per layer", data: r.imageDataName,
                                  command: r.command(id), quick: r.options.quick, setup: "")
        let (s, models) = try DeepStack.models(r, result: id, report: &report)
        let split = try r.data(r.options.data)
        // the probes' training set: all of it (quick: the first 1,000 points)
        let probeTrain = r.options.quick ? split.train.subset(Array(0 ..< min(1000, split.train.count))) : split.train
        report.setup = DeepStack.setupText(s, r) + " Probes: ridge least squares (penalty \(SVGNumber(LinearProbes.defaultRidge)) per row) from a layer's activations to one-hot labels, fitted on \(probeTrain.count) training points, argmax accuracy on them and on the test set."
        struct Row: Codable { var model: String; var boundaries: [Int]; var layers: [LinearProbes.Result] }
        var rows = [Row]()
        for m in models {
            r.progress.note("probing \(m.label)")
            rows.append(Row(model: m.label, boundaries: m.boundaries,
                            layers: try LinearProbes.run(m.network, train: probeTrain, test: split.test)))
        }
        var csv = "model,layer,width,train_accuracy,test_accuracy\n"
        for row in rows { for l in row.layers { csv += "\(csvField(row.model)),\(l.layer),\(l.width),\(l.trainAccuracy),\(l.testAccuracy)\n" } }
        try AtomicFile.write(Data(csv.utf8), to: try r.path(id, "fig8.csv"), what: "the probes")
        try AtomicFile.write(try jsonData(rows), to: try r.path(id, "fig8.json"), what: "the probes")
        var plot = LinePlot(title: "Linear probe accuracy per layer", xLabel: "layer (0 = input)", yLabel: "accuracy",
                            series: rows.flatMap { row in [
                                LinePlot.Series(label: "\(row.model) train", points: row.layers.map { (Double($0.layer), $0.trainAccuracy) }),
                                LinePlot.Series(label: "\(row.model) test", points: row.layers.map { (Double($0.layer), $0.testAccuracy) }),
                            ] })
        plot.integerX = true
        plot.marks = markList(rows.map { ($0.model, $0.boundaries) }, seriesPerModel: 2)
        try plot.write(to: try r.path(id, "fig8.svg"))
        report.figures = [.init(file: "fig8.svg", caption: "Accuracy of a linear probe on each layer (0 = the input) on its training points and on the test set: backprop, a single SG after hidden layer \(s.single) and an SG between every pair of layers.")]
        report.tables.append(.init(caption: "Probe accuracy (train / test)", header: ["model"] + [0, 1, 2, s.single, s.hidden].map { "layer \($0)" },
                                   rows: rows.map { row in [row.model] + [0, 1, 2, s.single, s.hidden].map { "\(fixed(row.layers[$0].trainAccuracy, 3)) / \(fixed(row.layers[$0].testAccuracy, 3))" } }))
        let bp2 = rows[0].layers[2].trainAccuracy, sg2 = rows[1].layers[2].trainAccuracy
        report.findings.append(.init(
            paper: "as with backprop, probes on the SG-based model reach 100% training accuracy after the first two hidden layers (the layers before the SG learn something useful).",
            ours: "probe training accuracy on hidden layer 2: single SG \(fixed(sg2)), backprop \(fixed(bp2)).",
            verdict: sg2 >= 0.99 ? .reproduced : sg2 >= bp2 - 0.01 ? .partly : .not,
            rule: "reproduced when the single-SG model's layer-2 probe separates its training points (≥ 0.99); partly when it is within 0.01 of backprop's"))
        let every = rows[2].layers
        let peak = every.map(\.testAccuracy).max() ?? .nan, lastAcc = every.last?.testAccuracy ?? .nan
        report.findings.append(.init(
            paper: "with an SG between every pair of layers each layer contributes a small amount to the final solution.",
            ours: "the SG-everywhere model's probe test accuracy goes from \(fixed(every[0].testAccuracy, 3)) (input) to \(fixed(every[1].testAccuracy, 3)) (h1), peaks at \(fixed(peak, 3)) and ends at \(fixed(lastAcc, 3)); backprop's last layer \(fixed(rows[0].layers.last?.testAccuracy ?? .nan, 3)).",
            verdict: (every.last?.testAccuracy ?? 0) > every[1].testAccuracy ? .reproduced : .not,
            rule: "reproduced when its last layer's probe beats its first hidden layer's (layers keep adding to the solution)"))
        return report
    }
}
