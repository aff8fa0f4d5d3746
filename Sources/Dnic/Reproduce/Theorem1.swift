/// The paper's Theorem 1, measured: linear regression with a linear SG on
/// its output, s = pA + yB + C, converges to the global (least-squares)
/// solution for small enough learning rates. Full-batch gradient descent
/// on a dataset's one-hot labels with MSE (so the optimum is one point),
/// for several learning rates, SG beside backprop; the distance to the
/// least squares is measured on the outputs: ‖P − P*‖ / ‖P*‖ over the
/// training set, P* the least-squares fit (dnic_ridge_fit, penalty 0).
public enum Theorem1 {
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

    /// Runs every (method, learning rate) on `split` (classification labels).
    public static func run(_ split: DataSplit, settings: Settings, seed: UInt64 = 1,
                           progress: (String) -> Void = { _ in }) throws -> [Curve] {
        let train = split.train
        let classes = max(train.classes, 2)
        let w = try LinearProbes.fit(train.features, count: train.count, width: train.dim, labels: train.labels,
                                     classes: classes, lambda: 0)
        let best = predictions(train, w: w, classes: classes)
        let norm = best.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var curves = [Curve]()
        for method in ["backprop", "sg"] {
            for lr in settings.learningRates {
                progress("\(method) lr \(lr)")
                var config = RunConfig(data: "", model: ModelDescription(layers: [], loss: .mse))
                config.interfaces = InterfaceSpec(rule: method == "sg" ? .sg : .backprop)
                if method == "sg" {
                    config.interfaces.at = .output
                    config.interfaces.optimizer = OptimizerSpec(kind: .sgd, lr: settings.interfaceLR)
                }
                config.optimizer = OptimizerSpec(kind: .sgd, lr: lr)
                config.training.batch = train.count
                config.training.steps = settings.steps
                config.training.evalEvery = settings.steps
                config.training.seed = seed
                let trainer = try Trainer(config: config, data: split)
                var curve = Curve(method: method, lr: lr, steps: [], distances: [])
                func measure(_ step: Int) throws {
                    let out = try trainer.network.activations(of: train, layer: trainer.network.layerCount - 1)
                    var e = 0.0
                    for (a, b) in zip(out, best) { e += (Double(a) - b) * (Double(a) - b) }
                    curve.steps.append(step)
                    curve.distances.append(e.squareRoot() / norm)
                }
                try measure(0)
                do {
                    _ = try trainer.run(afterStep: { t in
                        if t.state.step % settings.every == 0 { try measure(t.state.step) }
                    })
                } catch let error as DnicError {
                    // a learning rate too large for the method: the curve ends where it diverged
                    curve.steps.append(trainer.state.step)
                    curve.distances.append(.infinity)
                    _ = error
                }
                curves.append(curve)
            }
        }
        return curves
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
    public static func verdict(_ curves: [Curve], tolerance: Double = 1e-3) -> (verdict: String, reached: Int, of: Int) {
        let bp = Dictionary(uniqueKeysWithValues: curves.filter { $0.method == "backprop" }.map { ($0.lr, $0.final) })
        let eligible = curves.filter { $0.method == "sg" && (bp[$0.lr] ?? .infinity) < tolerance }
        let reached = eligible.filter { $0.final < tolerance }.count
        let verdict = eligible.isEmpty ? "not" : reached == eligible.count ? "reproduced" : reached > 0 ? "partly" : "not"
        return (verdict, reached, eligible.count)
    }
}
