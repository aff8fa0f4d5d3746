import Foundation

/// The paper's Figure 4: learning curves of deep stacks (3 to 50 hidden
/// layers, relu and sigmoid, batch norm) trained with backprop and with a
/// single SG in the middle, at several seeds; each run is scored by the mean
/// of its evaluations over the last quarter of training.
public enum Figure4: PaperResult {
    public static let id = "fig4"
    public static let summary = "Figure 4: learning curves for depths 3–50, relu and sigmoid, backprop vs one SG in the middle (3 seeds)."

    struct Settings {
        var depths: [Int]
        var width: Int
        var steps: Int
        var evalEvery: Int
        var seeds: [Int]
        /// The paper does not say. Our reading: its code was most likely
        /// TensorFlow of 2017, whose dense layers (Glorot uniform) and
        /// Sonnet's Linear (truncated normal, sd 1/√fan_in) both draw hidden
        /// weights with variance ≈ 1/fan_in, half of He's: Glorot normal is
        /// dnic's nearest. (At 50 relu layers with batch norm it matters:
        /// backprop's score is 0.41 with it, 0.60 with He uniform, 3 seeds.)
        var initializer = InitKind.glorotNormal
        init(quick: Bool, depths: [Int]?, seeds: Int?) {
            self.depths = depths ?? (quick ? [3, 5] : [3, 5, 10, 20, 50])
            width = quick ? 64 : 128
            steps = quick ? 400 : 3000
            evalEvery = quick ? 50 : 300
            self.seeds = Array(1 ... (seeds ?? (quick ? 1 : 3)))
        }
        /// The evaluations a run is scored by: those after three quarters of its steps.
        func scored(_ evals: [EvaluationRecord]) -> [EvaluationRecord] { evals.filter { 4 * $0.step > 3 * steps } }
    }

    struct Planned {
        var depth: Int
        var activation: Activation
        var sg: Bool
        var seed: Int
        var name: String { "depth\(depth)-\(activation.rawValue)-\(sg ? "sg" : "backprop")" + (seed == 1 ? "" : "-seed\(seed)") }
    }

    static func config(_ p: Planned, settings: Settings, data: DataSpec) -> RunConfig {
        var c = RunConfig(data: data.description, model: ModelDescription(
            layers: Reproduction.layers(p.depth, width: settings.width, activation: p.activation, batchnorm: true),
            initializer: settings.initializer))
        if p.sg {
            c.interfaces = InterfaceSpec(rule: .sg)
            c.interfaces.at = .mid
        }
        c.training.batch = 64
        c.training.steps = settings.steps
        c.training.evalEvery = settings.evalEvery
        c.training.seed = UInt64(p.seed)
        return c
    }

    public static func run(_ r: Reproduction) throws -> ResultReport {
        let settings = Settings(quick: r.options.quick, depths: r.options.depths, seeds: r.options.seeds)
        let split = try r.data(r.options.data)
        var plan = [Planned]()
        for seed in settings.seeds { for a in [Activation.relu, .sigmoid] { for d in settings.depths { for sg in [false, true] {
            plan.append(Planned(depth: d, activation: a, sg: sg, seed: seed))
        } } } }
        r.progress.begin(id, runs: plan.map {
            Reproduction.planned($0.name, config($0, settings: settings, data: r.options.data), split: split)
        })
        let store = try r.store(id)
        let seedsText = "\(settings.seeds.count) seed\(settings.seeds.count == 1 ? "" : "s")"
        var report = ResultReport(id: id, title: "Figure 4 — learning curves of deep stacks, backprop and one SG in the middle",
                                  data: r.imageDataName,
                                  command: r.command(id), quick: r.options.quick,
                                  setup: "hidden layers × \(settings.width) units, depths "
                                         + "\(settings.depths.map(String.init).joined(separator: ", ")), relu or sigmoid, batch norm, "
                                         + "\(settings.initializer.rawValue) init (the paper does not say; our reading: TensorFlow's "
                                         + "defaults of 2017, Glorot uniform for dense layers and Sonnet's truncated normal with sd "
                                         + "1/√fan_in, both draw hidden weights with variance ≈ 1/fan_in, half of He's; with He uniform "
                                         + "the 50-layer relu stack's backprop scores 0.60 instead of 0.41), softmax cross-entropy, "
                                         + "Adam lr 1e-3 (network and interface), batch 64, \(settings.steps) steps, test error every "
                                         + "\(settings.evalEvery) steps, \(seedsText) per configuration; a run's score is the mean test "
                                         + "error of its evaluations in the last quarter of training; SG: one linear cDNI after hidden "
                                         + "layer ⌈depth/2⌉ (`--sg-at mid`).")
        var curves = [(Planned, [EvaluationRecord])]()
        for p in plan {
            let outcome = try store.run(p.name, config: config(p, settings: settings, data: r.options.data),
                                        split: split) { _, _ in NoMeasurement() }
            report.runs += 1
            if outcome.skipped { report.skippedRuns += 1 }
            report.computeSeconds += outcome.final.seconds
            curves.append((p, outcome.evaluations))
        }
        var csv = "depth,activation,method,seed,step,test_error\n"
        for (p, evals) in curves {
            for e in evals {
                csv += "\(p.depth),\(p.activation.rawValue),\(p.sg ? "sg" : "backprop"),\(p.seed),\(e.step),\(1 - e.testAccuracy)\n"
            }
        }
        try AtomicFile.write(Data(csv.utf8), to: try r.path(id, "fig4.csv"), what: "the curves")
        struct Curve: Codable {
            var depth: Int; var activation: String; var method: String; var seed: Int; var steps: [Int]; var testError: [Double]
            var score: Double
        }
        try AtomicFile.write(try jsonData(curves.map { p, e in
            Curve(depth: p.depth, activation: p.activation.rawValue, method: p.sg ? "sg" : "backprop", seed: p.seed, steps: e.map(\.step),
                  testError: e.map { 1 - $0.testAccuracy }, score: mean(settings.scored(e).map { 1 - $0.testAccuracy }))
        }), to: try r.path(id, "fig4.json"), what: "the curves")
        func runs(_ d: Int, _ a: Activation, _ sg: Bool) -> [[EvaluationRecord]] {
            curves.filter { $0.0.depth == d && $0.0.activation == a && $0.0.sg == sg }.map(\.1)
        }
        for a in [Activation.relu, .sigmoid] {
            // the mean curve over the seeds, one line per depth and method
            var series = [LinePlot.Series]()
            for d in settings.depths {
                for sg in [false, true] {
                    let seeds = runs(d, a, sg)
                    guard let first = seeds.first else { continue }
                    series.append(.init(label: "\(d) layers \(sg ? "SG" : "backprop")",
                                        points: first.indices.map { i in
                                            (Double(first[i].step), mean(seeds.compactMap { i < $0.count ? 1 - $0[i].testAccuracy : nil }))
                                        },
                                        colour: settings.depths.firstIndex(of: d), dashed: sg))
                }
            }
            let plot = LinePlot(title: "Test error, \(a.rawValue): colour = depth; solid backprop, dashed SG", xLabel: "step",
                                yLabel: "test error", series: series)
            try plot.write(to: try r.path(id, "fig4-\(a.rawValue).svg"))
            report.figures.append(.init(file: "fig4-\(a.rawValue).svg",
                                        caption: "Learning curves (test error over training steps, mean over \(seedsText)) of "
                                                 + "\(a.rawValue) networks with batch norm, "
                                                 + "\(settings.depths.map(String.init).joined(separator: ", ")) hidden layers, "
                                                 + "trained with backprop and with a single SG in the middle of the stack."))
        }
        /// Each seed's score: the mean test error over the last quarter.
        func scores(_ d: Int, _ a: Activation, _ sg: Bool) -> [Double] {
            runs(d, a, sg).map { mean(settings.scored($0).map { 1 - $0.testAccuracy }) }
        }
        /// Each seed's test error at the evaluation about a quarter into training.
        func early(_ d: Int, _ a: Activation, _ sg: Bool) -> [Double] {
            runs(d, a, sg).map { $0.isEmpty ? .nan : 1 - $0[max(0, $0.count / 4 - 1)].testAccuracy }
        }
        func sd(_ v: [Double]) -> Double { v.count > 1 ? DeepStack.standardDeviation(v) : 0 }
        func spread(_ v: [Double]) -> String { v.count > 1 ? "\(fixed(mean(v), 3)) ± \(fixed(sd(v), 3))" : fixed(mean(v), 3) }
        report.tables.append(.init(caption: "Test error, mean of the last quarter's evaluations (backprop / SG; mean ± sd over "
                                            + "\(seedsText))",
                                   header: ["activation"] + settings.depths.map { "\($0) layers" },
                                   rows: [Activation.relu, .sigmoid].map { a in
                                       [a.rawValue] + settings.depths.map { d in
                                           "\(spread(scores(d, a, false))) / \(spread(scores(d, a, true)))"
                                       }
                                   }))
        // 1. converges well at every depth (where backprop itself trains)
        struct Pair { var name: String; var backprop: [Double]; var sg: [Double]
            var tolerance: Double { max(0.05, 2 * (backprop.count > 1 ? DeepStack.standardDeviation(backprop) : 0)) }
        }
        var pairs = [Pair]()
        for a in [Activation.relu, .sigmoid] {
            for d in settings.depths { pairs.append(Pair(name: "\(d) \(a.rawValue)", backprop: scores(d, a, false), sg: scores(d, a, true))) }
        }
        let untrained = pairs.filter { !(mean($0.backprop) < 0.5) }
        let trained = pairs.filter { mean($0.backprop) < 0.5 }
        let close = trained.filter { mean($0.sg) <= mean($0.backprop) + $0.tolerance }
        let far = trained.filter { !(mean($0.sg) <= mean($0.backprop) + $0.tolerance) }
            .map { "\($0.name) \(fixed(mean($0.sg), 3)) vs \(fixed(mean($0.backprop), 3))" }
        report.findings.append(.init(
            paper: "SG-based architectures converge well even with many hidden layers both below and above the module.",
            ours: "where backprop trains, the SG model's score is within the tolerance of backprop's in \(close.count) of "
                  + "\(trained.count) depth/activation pairs"
                  + (close.count < trained.count ? " (not: \(far.joined(separator: "; ")))" : "") + ".",
            verdict: Verdict.counting(close.count, of: trained.count),
            rule: "a run's score is its mean test error over the last quarter of training; reproduced when, for every pair whose "
                  + "backprop runs score below 0.5 on average, the SG runs' mean score is at most backprop's mean plus 0.05 or plus "
                  + "2 sd of backprop's seeds, whichever is larger",
            baseline: "backprop's seed-to-seed sd of the score: "
                      + pairs.map { "\($0.name) \(fixed(sd($0.backprop), 3))" }.joined(separator: ", ") + " (\(seedsText))"))
        if !untrained.isEmpty {
            let names = untrained.map { "\($0.name) layers (backprop \(fixed(mean($0.backprop), 3)), SG \(fixed(mean($0.sg), 3)))" }
            report.notes.append("Backprop itself does not train here (mean score ≥ 0.5) for \(names.joined(separator: "; ")): these "
                                + "pairs are left out of the verdict.")
        }
        // 2. faster early on for the deepest relu stacks, by more than backprop's seed spread
        let deepest = settings.depths.filter { mean(scores($0, .relu, false)) < 0.5 }.sorted().suffix(2)
        let faster = deepest.filter { mean(early($0, .relu, true)) < mean(early($0, .relu, false)) - sd(early($0, .relu, false)) }
        report.findings.append(.init(
            paper: "SG-based models seem to converge faster (compare the 20- or 50-layer relu networks).",
            ours: "a quarter into training the SG model's mean test error is below backprop's by more than its seed spread for "
                  + "\(faster.count) of the \(deepest.count) deepest relu stacks that backprop trains (" + deepest.map { d in
                      "\(d) layers: \(fixed(mean(early(d, .relu, true)), 3)) vs \(fixed(mean(early(d, .relu, false)), 3))"
                  }.joined(separator: "; ") + ").",
            verdict: Verdict.counting(faster.count, of: deepest.count),
            rule: "reproduced when, at the evaluation about a quarter into training, SG's mean test error is below backprop's mean "
                  + "minus backprop's seed-to-seed sd for each of the two deepest relu stacks whose backprop runs score below 0.5; "
                  + "partly when for one",
            baseline: "backprop's seed-to-seed sd a quarter in: " + deepest.map { d in
                "\(d) layers \(fixed(sd(early(d, .relu, false)), 3))"
            }.joined(separator: ", ") + " (\(seedsText))"))
        return report
    }
}
