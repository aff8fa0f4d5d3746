import Foundation

/// The paper's Theorem 1, measured: linear regression with a linear SG on
/// its output, s = pA + yB + C, converges to the global (least-squares)
/// solution for small enough learning rates. Full-batch gradient descent
/// on a dataset's one-hot labels with MSE (so the optimum is one point),
/// for several learning rates, SG beside backprop; the distance to the
/// least squares is measured on the outputs: ‖P − P*‖ / ‖P*‖ over the
/// training set, P* the least-squares fit (dnic_ridge_fit, penalty 0).
public enum Theorem1: PaperResult {
    public struct Curve: Codable, Equatable, Sendable {
        public var method: String
        public var lr: Double
        public var steps: [Int]
        public var distances: [Double]
        public var final: Double { distances.last ?? .nan }
    }

    public struct Settings: Sendable {
        public var learningRates: [Double]
        public var steps: Int
        public var every: Int
        public var interfaceLR: Double
        public init(quick: Bool) {
            learningRates = [0.05, 0.2, 0.5]
            steps = quick ? 1500 : 20000
            every = quick ? 50 : 200
            interfaceLR = 0.1
        }
    }

    public static let id = "thm1"
    public static let summary = "Theorem 1: linear regression with a linear SG on its output reaches the least-squares solution."

    /// Full-batch gradient descent with MSE on `synth:linear-2d`'s one-hot
    /// labels, each learning rate by backprop and with an SG on the output.
    static func config(_ method: String, lr: Double, settings: Settings, split: DataSplit) -> RunConfig {
        var config = RunConfig(data: "synth:linear-2d", model: ModelDescription(layers: [], loss: .mse))
        config.interfaces = InterfaceSpec(rule: method == "sg" ? .sg : .backprop)
        if method == "sg" {
            config.interfaces.at = .output
            config.interfaces.optimizer = OptimizerSpec(kind: .sgd, lr: settings.interfaceLR)
        }
        config.optimizer = OptimizerSpec(kind: .sgd, lr: lr)
        config.training.batch = split.train.count
        config.training.steps = settings.steps
        config.training.evalEvery = settings.steps
        config.training.seed = 1
        return config
    }

    public static func run(_ r: Reproduction) throws -> ResultReport {
        let spec = DataSpec.synthetic(name: "linear-2d")
        let split = try r.data(spec)
        let settings = Settings(quick: r.options.quick)
        let train = split.train
        let classes = max(train.classes, 2)
        let w = try LinearProbes.fit(train.features, count: train.count, width: train.dim, labels: train.labels,
                                     classes: classes, lambda: 0)
        let best = predictions(train, w: w, classes: classes)
        let norm = best.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let plan = ["backprop", "sg"].flatMap { m in settings.learningRates.map { (m, $0) } }
        func name(_ m: String, _ lr: Double) -> String { "\(m)-lr\(SVGNumber(lr))" }
        r.progress.begin(id, runs: plan.map { m, lr in
            Reproduction.planned(name(m, lr), config(m, lr: lr, settings: settings, split: split), split: split)
        })
        let store = try r.store(id)
        var report = ResultReport(id: id, title: "Theorem 1 — linear SG on linear regression converges to the least-squares solution",
                                  data: "synth:linear-2d (2,000 Gaussian points in 2-D, labels by a random hyperplane)",
                                  command: r.command(id), quick: r.options.quick,
                                  setup: "no hidden layer, MSE on one-hot labels, full-batch gradient descent for \(settings.steps) steps "
                                         + "at learning rates \(settings.learningRates.map(SVGNumber).joined(separator: ", ")); the SG "
                                         + "sits on the output p (s = pA + yB + C, zero-initialised, its own SGD at lr "
                                         + "\(SVGNumber(settings.interfaceLR)); the paper's line search is not used). Distance: "
                                         + "‖P − P*‖/‖P*‖ over the training set, P* the least-squares fit (closed form).")
        var curves = [Curve]()
        for (method, lr) in plan {
            var curve = Curve(method: method, lr: lr, steps: [], distances: [])
            func measure(_ t: Trainer) throws {
                let out = try t.network.activations(of: train, layer: t.network.layerCount - 1)
                var e = 0.0
                for (a, b) in zip(out, best) { e += (Double(a) - b) * (Double(a) - b) }
                curve.steps.append(t.state.step)
                curve.distances.append(e.squareRoot() / norm)
            }
            var started = false
            let outcome = try store.run(name(method, lr), config: config(method, lr: lr, settings: settings, split: split),
                                        split: split, key: "every \(settings.every)", continuation: .restart, observe: { t in
                // a restarted run measures afresh; step 1 stands for the start
                if !started {
                    started = true
                    curve = Curve(method: method, lr: lr, steps: [], distances: [])
                }
                if t.state.step == 1 || t.state.step % settings.every == 0 { try measure(t) }
            }) { t, final in
                if final.trainLoss.isNaN {
                    curve.steps.append(t.state.step)
                    curve.distances.append(.infinity)
                }
                return curve
            }
            report.runs += 1
            if outcome.skipped { report.skippedRuns += 1 }
            report.computeSeconds += outcome.final.seconds
            curves.append(outcome.result)
        }
        let (verdict, reached, of) = Self.verdict(curves)
        var csv = "method,lr,step,distance\n"
        for c in curves { for (s, d) in zip(c.steps, c.distances) { csv += "\(c.method),\(c.lr),\(s),\(d)\n" } }
        try AtomicFile.write(Data(csv.utf8), to: try r.path(id, "curves.csv"), what: "the curves")
        try AtomicFile.write(try jsonData(curves), to: try r.path(id, "thm1.json"), what: "the result")
        // log10 of the distance: it falls by orders of magnitude
        let plot = LinePlot(title: "Theorem 1: distance to the least-squares fit", xLabel: "step",
                            yLabel: "log10 ‖P − P*‖ / ‖P*‖", series: curves.map { c in
                                .init(label: "\(c.method) lr \(SVGNumber(c.lr))", points: zip(c.steps, c.distances).compactMap { s, d in
                                    d > 0 && d.isFinite ? (Double(s), log10(d)) : nil
                                })
                            })
        try plot.write(to: try r.path(id, "thm1.svg"))
        report.tables.append(.init(caption: "Final relative distance of the outputs to the least-squares fit",
                                   header: ["method", "learning rate", "final distance"],
                                   rows: curves.map { [$0.method, SVGNumber($0.lr), scientific($0.final)] }))
        report.figures.append(.init(file: "thm1.svg", caption: "Relative distance ‖P − P*‖/‖P*‖ (log10) of the outputs to the "
                                                               + "least-squares solution over full-batch training, backprop and a linear "
                                                               + "SG on the output, per learning rate."))
        report.findings.append(.init(
            paper: "linear regression trained through a linear SG module between its output and the loss converges to the global "
                   + "(least-squares) solution for a small enough learning rate (Theorem 1).",
            ours: "\(reached) of the \(of) SG runs whose backprop twin converged reached the least-squares fit within 1e-3 (final "
                  + "distances \(curves.filter { $0.method == "sg" }.map { scientific($0.final) }.joined(separator: ", "))).",
            verdict: verdict,
            rule: "reproduced when every SG run whose backprop twin converged (distance < 1e-3) converges too; partly when some do"))
        return report
    }

    /// [x 1] W for every row (W as dnic_ridge_fit writes it).
    static func predictions(_ data: Dataset, w: [Float], classes k: Int) -> [Double] {
        let d = data.dim
        var out = [Double](repeating: 0, count: data.count * k)
        for r in 0 ..< data.count {
            for c in 0 ..< k {
                var s = Double(w[d * k + c])
                for j in 0 ..< d { s += Double(data.features[r * d + j]) * Double(w[j * k + c]) }
                out[r * k + c] = s
            }
        }
        return out
    }

    /// Reproduced when every SG run whose backprop twin converged (final
    /// distance < tolerance) converges too; partly when some do.
    public static func verdict(_ curves: [Curve], tolerance: Double = 1e-3) -> (verdict: Verdict, reached: Int, of: Int) {
        let bp = Dictionary(uniqueKeysWithValues: curves.filter { $0.method == "backprop" }.map { ($0.lr, $0.final) })
        let eligible = curves.filter { $0.method == "sg" && (bp[$0.lr] ?? .infinity) < tolerance }
        let reached = eligible.filter { $0.final < tolerance }.count
        return (Verdict.counting(reached, of: eligible.count), reached, eligible.count)
    }
}
