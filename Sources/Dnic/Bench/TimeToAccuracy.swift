import CDnic
import Foundation

/// `dnic bench tta`: how long each learning rule takes to reach a target
/// test accuracy on the same data, network and machine. Every contender
/// trains through the ordinary Trainer, evaluating the test set every
/// `evalEveryEpochs` epochs, and stops at the first evaluation at or above
/// the target. Training seconds are the trainer's own step time
/// (`TrainerState.trainingSeconds`); everything else between the start and
/// that evaluation (evaluations, and under an unlocked schedule draining the
/// batches in flight before each) is reported as evaluation seconds.
public struct TimeToAccuracy {
    /// One rule and schedule raced.
    public struct Contender: Sendable, Equatable {
        public let name: String
        public let rule: Rule
        public let schedule: ScheduleKind

        /// Backprop (locked), sg locked, sg pipeline, sg async: the ratio column divides by the first.
        public static let standard: [Contender] = [
            Contender(name: "backprop", rule: .backprop, schedule: .locked),
            Contender(name: "sg locked", rule: .sg, schedule: .locked),
            Contender(name: "sg pipeline", rule: .sg, schedule: .pipeline),
            Contender(name: "sg async", rule: .sg, schedule: .async),
        ]
    }

    /// One seed of one contender.
    public struct Attempt: Codable, Sendable, Equatable {
        public var seed: UInt64
        public var reached: Bool
        /// At the evaluation that reached the target (or the last one).
        public var trainingSeconds: Double
        public var evaluationSeconds: Double
        public var samples: Int
        public var epochs: Double
        public var testAccuracy: Double
        /// The run stopped on a NaN or infinity (a rate too high for the rule): not reached.
        public var diverged = false

        enum CodingKeys: String, CodingKey {
            case seed, reached, samples, epochs, diverged
            case trainingSeconds = "training_seconds", evaluationSeconds = "evaluation_seconds", testAccuracy = "test_accuracy"
        }
    }

    /// One rate tried by the sweep: the validation accuracy after one epoch.
    public struct SweepPoint: Codable, Sendable, Equatable {
        public var factor: Double
        public var lr: Double
        public var validationAccuracy: Double

        enum CodingKeys: String, CodingKey { case factor, lr, validationAccuracy = "validation_accuracy" }
    }

    /// One contender over all seeds. Medians count a seed that did not
    /// reach the target as infinitely slow, so a row is reached when more
    /// than half of its seeds are.
    public struct Row: Encodable, Sendable {
        public var name: String
        public var rule: String
        public var schedule: String
        /// The network's learning rate it trained with, and where it came from.
        public var lr: Double
        public var lrChosenBy: String
        public var sweep: [SweepPoint]?
        /// Where the interfaces went (hidden-layer numbers, or mid), for the sg rules.
        public var sgAt: String?
        public var attempts: [Attempt]
        public var reachedSeeds: Int { attempts.filter(\.reached).count }
        public var reached: Bool { medianTrainingSeconds != nil }
        public var medianTrainingSeconds: Double? { TimeToAccuracy.median(attempts.map { $0.reached ? $0.trainingSeconds : .infinity }) }
        public var medianEvaluationSeconds: Double { TimeToAccuracy.median(attempts.map(\.evaluationSeconds)) ?? 0 }
        public var medianSamples: Double? {
            TimeToAccuracy.median(attempts.map { $0.reached ? Double($0.samples) : .infinity })
        }
        public var medianEpochs: Double? { TimeToAccuracy.median(attempts.map { $0.reached ? $0.epochs : .infinity }) }
        /// Training samples per training second, median over all seeds
        /// (reached or not): how fast the rule trains, apart from how many
        /// samples it needs.
        public var medianSamplesPerSecond: Double {
            TimeToAccuracy.median(attempts.map { Double($0.samples) / max($0.trainingSeconds, 1e-9) }) ?? 0
        }
        /// Median training seconds over backprop's (below 1: sooner than backprop).
        public var ratioToBackprop: Double?

        enum CodingKeys: String, CodingKey {
            case name, rule, schedule, lr, sweep, attempts
            case sgAt = "sg_at"
            case lrChosenBy = "lr_chosen_by", ratioToBackprop = "ratio_to_backprop"
            case reachedSeeds = "reached_seeds", reached
            case medianTrainingSeconds = "median_training_seconds", medianEvaluationSeconds = "median_evaluation_seconds"
            case medianSamples = "median_samples", medianEpochs = "median_epochs"
            case medianSamplesPerSecond = "median_samples_per_sec"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(rule, forKey: .rule)
            try c.encode(schedule, forKey: .schedule)
            try c.encode(lr, forKey: .lr)
            try c.encode(lrChosenBy, forKey: .lrChosenBy)
            try c.encodeIfPresent(sgAt, forKey: .sgAt)
            try c.encodeIfPresent(sweep, forKey: .sweep)
            try c.encode(attempts, forKey: .attempts)
            try c.encode(reachedSeeds, forKey: .reachedSeeds)
            try c.encode(reached, forKey: .reached)
            try c.encodeIfPresent(medianTrainingSeconds, forKey: .medianTrainingSeconds)
            try c.encode(medianEvaluationSeconds, forKey: .medianEvaluationSeconds)
            try c.encodeIfPresent(medianSamples, forKey: .medianSamples)
            try c.encodeIfPresent(medianEpochs, forKey: .medianEpochs)
            try c.encode(medianSamplesPerSecond, forKey: .medianSamplesPerSecond)
            try c.encodeIfPresent(ratioToBackprop, forKey: .ratioToBackprop)
        }
    }

    public struct Report: Encodable, Sendable {
        public var data: String
        public var target: Double
        public var seeds: Int
        public var maxEpochs: Int
        public var evalEveryEpochs: Double
        public var evalEverySteps: Int
        public var threads: Int
        /// The network as `dnic train --print-config` would name it, in short: "3 x 256 relu".
        public var model: String
        public var batch: Int
        public var gemmBackend: String
        public var rows: [Row]
        public var anyReached: Bool { rows.contains(where: \.reached) }

        enum CodingKeys: String, CodingKey {
            case data, target, seeds, rows, threads, model, batch
            case gemmBackend = "gemm_backend"
            case maxEpochs = "max_epochs", evalEveryEpochs = "eval_every_epochs", evalEverySteps = "eval_every_steps"
        }
    }

    public var target: Double
    public var seeds: Int
    public var maxEpochs: Int
    public var evalEveryEpochs: Double
    /// Factors of each contender's default rate to try on a held-out
    /// `sweepValidation` of the training set; nil: no sweep, the defaults.
    public var sweepFactors: [Double]?
    public var sweepValidation = 0.1
    public var contenders = Contender.standard

    public init(target: Double, seeds: Int, maxEpochs: Int, evalEveryEpochs: Double, sweepFactors: [Double]?) {
        self.target = target
        self.seeds = seeds
        self.maxEpochs = maxEpochs
        self.evalEveryEpochs = evalEveryEpochs
        self.sweepFactors = sweepFactors
    }

    public static let defaultSweepFactors: [Double] = [0.5, 1, 2]

    /// The configuration a contender trains with: `base` (the user's
    /// settings), its rule and schedule applied as the flags would.
    /// Backprop drops the interface settings, which are not its own; the
    /// pipeline and async place theirs with the planner (`balanced`)
    /// unless the user placed them.
    public static func config(_ base: SettingOverrides, _ contender: Contender) throws -> RunConfig {
        var values = base.values
        if contender.rule == .backprop { values = values.filter { !$0.key.hasPrefix("interfaces.") } }
        values["interfaces.rule"] = contender.rule
        values["training.schedule"] = contender.schedule
        // the unlocked schedules cut where their two blocks balance, unless told where
        if contender.schedule != .locked, values["interfaces.at"] == nil { values["interfaces.at"] = "balanced" }
        var c = RunConfig()
        try c.apply(SettingOverrides(values))
        try c.validate()
        return c
    }

    /// Races every contender over `seeds` seeds (the data stays the same;
    /// the network's seed is the base seed + i), the contenders in turn
    /// within each seed. `progress` hears one line per sweep and per attempt.
    public func run(base: SettingOverrides, progress: (String) throws -> Void = { _ in }) throws -> Report {
        let first = try Self.config(base, contenders[0])
        let data = try loadData(DataSpec.parse(first.data), options: first.dataOptions)
        var sweepOptions = first.dataOptions
        sweepOptions.validationFraction = sweepValidation
        let sweepData = try sweepFactors.map { _ in try loadData(DataSpec.parse(first.data), options: sweepOptions) }
        var rows = [Row](), configs = [RunConfig]()
        for contender in contenders {
            var config = try Self.config(base, contender)
            let defaultRate = config.networkOptimizer.learningRate
            var row = Row(name: contender.name, rule: contender.rule.rawValue, schedule: contender.schedule.rawValue,
                          lr: defaultRate, lrChosenBy: config.optimizer.lr == nil ? "default" : "given", attempts: [])
            // a balanced cut is planned once, before the sweep and the seeds, so all train the same blocks
            if let plan = try PlacementPlanner.resolve(&config, inputDim: data.train.dim, classes: data.train.classes) {
                try progress("\(contender.name): " + PlacementPlanner.line(plan, rule: contender.rule))
            }
            if contender.rule != .backprop { row.sgAt = config.interfaces.at.text }
            if let factors = sweepFactors, let sweepData {
                let points = try factors.map { f -> SweepPoint in
                    var c = config
                    c.optimizer.lr = defaultRate * f
                    return SweepPoint(factor: f, lr: defaultRate * f, validationAccuracy: try oneEpochValidation(c, sweepData))
                }
                // ties go to the earlier factor in the list
                let best = points.indices.reduce(0) { points[$1].validationAccuracy > points[$0].validationAccuracy ? $1 : $0 }
                row.sweep = points
                row.lr = points[best].lr
                row.lrChosenBy = String(format: "sweep (%g x the \(row.lrChosenBy) rate, validation accuracy %.4f)", points[best].factor,
                                        points[best].validationAccuracy)
                config.optimizer.lr = row.lr
                try progress("\(contender.name): sweep chose lr " + String(format: "%g", row.lr) + " of " + points.map { String(format: "%g", $0.lr) }.joined(separator: ", "))
            }
            try warmUp(config, data)
            rows.append(row)
            configs.append(config)
        }
        // seed by seed, every rule in turn: a stretch when the machine is
        // busy with other work slows all rules alike, not one
        var evalSteps = 1
        for i in 0..<seeds {
            for (k, config) in configs.enumerated() {
                var c = config
                c.training.seed = first.training.seed &+ UInt64(i)
                let (attempt, steps) = try race(c, data)
                evalSteps = steps
                rows[k].attempts.append(attempt)
                let outcome = attempt.reached ? "reached" : attempt.diverged ? "diverged (NaN or infinity), not reached" : "not reached"
                try progress(String(format: "\(rows[k].name) seed \(c.training.seed): %@ (%.2f s training, %d samples, test accuracy %.4f)",
                                    outcome, attempt.trainingSeconds, attempt.samples, attempt.testAccuracy))
            }
        }
        if let reference = rows.first?.medianTrainingSeconds {
            for i in rows.indices { rows[i].ratioToBackprop = rows[i].medianTrainingSeconds.map { $0 / reference } }
        }
        return Report(data: first.data, target: target, seeds: seeds, maxEpochs: maxEpochs, evalEveryEpochs: evalEveryEpochs,
                      evalEverySteps: evalSteps, threads: CoreSystem.threads, model: Self.modelText(first.model),
                      batch: first.training.batch, gemmBackend: CoreSystem.gemmInfo().name, rows: rows)
    }

    /// "3 x 256 relu", or each layer's width when they differ.
    static func modelText(_ model: ModelDescription) -> String {
        let widths = model.layers.map(\.width)
        let activation = model.layers.first?.activation.rawValue ?? ""
        if widths.isEmpty { return "no hidden layers" }
        if Set(widths).count == 1 { return "\(widths.count) x \(widths[0]) \(activation)" }
        return widths.map(String.init).joined(separator: "-") + " " + activation
    }

    /// Validation accuracy after one epoch of `config` on `data` (which holds a validation part).
    func oneEpochValidation(_ config: RunConfig, _ data: DataSplit) throws -> Double {
        var c = config
        c.training.epochs = 1
        c.training.steps = nil
        c.training.evalEvery = nil
        let trainer = try Trainer(config: c, data: data)
        do { return try trainer.run().validationAccuracy ?? 0 } catch let error as DnicError where error.status == DNIC_ERR_NONFINITE {
            return 0 // diverged: the worst a rate can do
        }
    }

    /// A few untimed steps of `config`, so one-off costs (the GEMM backend's
    /// kernels built for these shapes, threads started) fall on no seed.
    func warmUp(_ config: RunConfig, _ data: DataSplit) throws {
        var c = config
        c.training.steps = min(20, max(1, data.train.count / max(c.training.batch, 1)))
        c.training.evalEvery = nil
        let probe = data.test.subset(Array(0..<min(data.test.count, c.training.batch)), name: "warm-up")
        do { _ = try Trainer(config: c, data: DataSplit(train: data.train, validation: nil, test: probe)).run() }
        catch let error as DnicError where error.status == DNIC_ERR_NONFINITE {} // the race will say so
    }

    /// The first evaluation that reaches the target ends a race.
    private struct Reached: Error { let attempt: Attempt }

    /// One seed: trains up to `maxEpochs`, evaluating every `evalEveryEpochs`.
    func race(_ config: RunConfig, _ data: DataSplit) throws -> (Attempt, evalEverySteps: Int) {
        var c = config
        let batch = min(c.training.batch, data.train.count)
        let stepsPerEpoch = (data.train.count + batch - 1) / batch
        let every = max(1, Int((Double(stepsPerEpoch) * evalEveryEpochs).rounded()))
        c.training.epochs = maxEpochs
        c.training.steps = nil
        c.training.evalEvery = every
        let trainer = try Trainer(config: c, data: data)
        func attempt(_ record: EvaluationRecord, reached: Bool) -> Attempt {
            let training = trainer.state.trainingSeconds
            return Attempt(seed: c.training.seed, reached: reached, trainingSeconds: training,
                           evaluationSeconds: max(record.seconds - training, 0), samples: trainer.state.samples,
                           epochs: record.epoch, testAccuracy: record.testAccuracy)
        }
        do {
            let last = try trainer.run(onEvent: { event in
                if case .evaluation(let record) = event, record.testAccuracy >= target {
                    throw Reached(attempt: attempt(record, reached: true))
                }
            })
            return (attempt(last, reached: false), every)
        } catch let reached as Reached {
            return (reached.attempt, every)
        } catch let error as DnicError where error.status == DNIC_ERR_NONFINITE {
            let training = trainer.state.trainingSeconds
            return (Attempt(seed: c.training.seed, reached: false, trainingSeconds: training, evaluationSeconds: 0,
                            samples: trainer.state.samples, epochs: Double(trainer.state.step) / Double(stepsPerEpoch),
                            testAccuracy: 0, diverged: true), every)
        }
    }

    /// The median (the mean of the middle two for an even count); nil when it is infinite or there are no values.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted(), n = s.count
        let m = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
        return m.isFinite ? m : nil
    }
}
