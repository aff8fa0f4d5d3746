import CDnic

/// One hidden layer: dense → optional batch norm → activation.
public struct LayerSpec: Codable, Equatable, Sendable {
    public var width: Int
    public var activation: Activation
    public var batchnorm: Bool

    public init(width: Int, activation: Activation = .relu, batchnorm: Bool = false) {
        self.width = width
        self.activation = activation
        self.batchnorm = batchnorm
    }

    public init(from decoder: Decoder) throws { try self.init(decodingSettings: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeSettings(to: encoder) }
}

/// The network: hidden layers (the output layer's width comes from the
/// data's class count), loss and initialisation.
public struct ModelDescription: Codable, Equatable, Sendable {
    public var layers: [LayerSpec]
    public var loss: LossKind
    public var initializer: InitKind
    /// Output classes; nil = what the data implies (10 for IDX, max label + 1
    /// for CSV, 2 for the synthetic sets). 1, with the logistic loss only:
    /// one sigmoid output for labels 0 and 1 (binary logistic regression).
    public var classes: Int?

    /// 3 × 256 relu, softmax cross-entropy, He uniform: the paper's MNIST net.
    public init(layers: [LayerSpec] = Array(repeating: LayerSpec(width: 256), count: 3),
                loss: LossKind = .ce, initializer: InitKind = .heUniform) {
        self.layers = layers
        self.loss = loss
        self.initializer = initializer
    }

    public init(from decoder: Decoder) throws { try self.init(decodingSettings: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeSettings(to: encoder) }

    /// Most hidden layers and units per layer a model may have.
    public static let maxLayers = 4096
    public static let maxWidth = 1 << 22

    /// `count` hidden layers like the first (`--hidden`).
    mutating func setLayerCount(_ count: Int) throws {
        if count < 0 || count > Self.maxLayers {
            throw SettingError("model.layers", count, "must be between 0 and \(Self.maxLayers) hidden layers")
        }
        layers = Array(repeating: layers.first ?? LayerSpec.defaults, count: count)
    }

    /// Every hidden layer like the first, `width` wide (`--width`).
    mutating func setLayerWidth(_ width: Int) {
        let first = layers.first ?? LayerSpec.defaults
        layers = Array(repeating: LayerSpec(width: width, activation: first.activation, batchnorm: first.batchnorm), count: layers.count)
    }

    /// Output units for `classes` classes: one logit per class, except a
    /// single output for binary logistic regression.
    public func outputWidth(classes: Int) -> Int {
        loss == .logistic && classes == 2 ? 1 : classes
    }

    /// The label classes the data may hold: `classes`, except 2 (labels 0
    /// and 1) for one logistic output (`classes` 1).
    public var labelClasses: Int? { classes == 1 ? 2 : classes }

    /// `classes` 1 is one sigmoid output: a loss for it is the logistic one
    /// (softmax over one class is constant, MSE would regress the label).
    func checkOneOutput() throws {
        if classes == 1, loss != .logistic {
            throw SettingError("model.classes", 1, "one output needs {model.loss} logistic (one sigmoid for labels 0 and 1); "
                               + "{model.loss} \(loss.rawValue) needs 2 or more")
        }
    }
}

/// Optimizer settings; `lr` nil means the kind's default.
public struct OptimizerSpec: Codable, Equatable, Sendable {
    public var kind: OptimizerKind
    public var lr: Double?
    public var l2: Double
    public var momentum: Double
    public var beta1: Double
    public var beta2: Double
    public var eps: Double

    public init(kind: OptimizerKind = .adam, lr: Double? = nil, l2: Double = 0, momentum: Double = 0.9,
                beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8) {
        self.kind = kind
        self.lr = lr
        self.l2 = l2
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
    }

    public var learningRate: Double { lr ?? kind.defaultLearningRate }

    public init(from decoder: Decoder) throws { try self.init(decodingSettings: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeSettings(to: encoder) }

    /// Another kind drops a learning rate chosen for the old one (`--optimizer`).
    mutating func choose(_ kind: OptimizerKind) {
        if kind != self.kind { self.kind = kind; lr = nil }
    }

    var core: dnic_optim_config {
        var c = dnic_optim_default(kind.core)
        c.lr = Float(learningRate)
        c.l2 = Float(l2)
        c.momentum = Float(momentum)
        c.beta1 = Float(beta1)
        c.beta2 = Float(beta2)
        c.eps = Float(eps)
        return c
    }
}

/// How long and how to train.
public struct TrainingSpec: Codable, Equatable, Sendable {
    public var batch: Int
    /// Passes over the training set; ignored when `steps` is set.
    public var epochs: Int
    /// Total training steps (batches), overriding `epochs`.
    public var steps: Int?
    /// Evaluate every this many steps; nil = once per epoch (and at the end).
    public var evalEvery: Int?
    public var seed: UInt64
    /// nil = every core.
    public var threads: Int?
    /// Fraction of the training set held out for validation.
    public var validation: Double
    public var schedule: ScheduleKind
    /// Clip gradients to this global L2 norm (network and each interface); nil = off.
    public var clipGrad: Double?
    /// Update decoupling under the unlocked schedules: each block applies
    /// its update for a batch with this probability; nil = every batch.
    public var updateProb: Double?
    /// Under async: messages each queue between blocks holds; nil = 2.
    public var queue: Int?
    /// The learning-rate schedule (LearningRate.swift); constant, no warm-up by default.
    public var lrSchedule: LRScheduleKind = .constant
    public var lrWarmup: Int = 0
    public var lrSteps: [Int] = []
    public var lrGamma: Double = 0.1
    public var lrMin: Double = 0
    /// Early stopping: stop after this many evaluations without improvement of `monitor`; nil = off.
    public var earlyStop: Int?
    public var monitor: MonitorKind = .validationLoss
    public static let defaultQueue = 2
    public static let maxQueue = 1024

    public init(batch: Int = 64, epochs: Int = 1, steps: Int? = nil, evalEvery: Int? = nil, seed: UInt64 = 1,
                threads: Int? = nil, validation: Double = 0, schedule: ScheduleKind = .locked) {
        self.batch = batch
        self.epochs = epochs
        self.steps = steps
        self.evalEvery = evalEvery
        self.seed = seed
        self.threads = threads
        self.validation = validation
        self.schedule = schedule
    }

    public init(from decoder: Decoder) throws { try self.init(decodingSettings: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeSettings(to: encoder) }
}

extension TrainingSpec {
    /// Largest batch the C core's networks are built for.
    public static let maxBatch = 1 << 20

    /// Counts are bounded so that no arithmetic on them can overflow: at most
    /// 2^53 samples (steps × batch) in a run; the epoch count is checked
    /// against the data's size when the trainer is built.
    /// The smallest update probability: 2^-24, the resolution of the
    /// core's float uniform draws (a block below it would never update).
    public static let minUpdateProb = 0x1p-24

    /// Each setting's bounds (the table's), then the rules between them.
    func validate() throws {
        try checkSettings(at: "training")
        let most = maxTrainingSamples
        if let s = steps, s > most / batch {
            throw SettingError("training.steps", s,
                               "\(s) steps of {training.batch} \(batch) are more than 2^53 samples; at most \(most / batch) steps")
        }
        // 1 is the default: every block updates, under any schedule
        if let p = updateProb, p < 1, schedule == .locked {
            throw SettingError("training.update-prob", p, "needs {training.schedule} pipeline or async: locked blocks update together")
        }
        if let q = queue, schedule != .async {
            throw SettingError("training.queue", q, "needs {training.schedule} async: only async blocks queue messages")
        }
        try validateLearningRateSchedule()
        if let patience = earlyStop, !(validation > 0) {
            throw SettingError("training.early-stop", patience, "needs a validation split: add {training.validation} (e.g. 0.1)")
        }
    }
}

/// Everything a training run needs: what `--print-config` prints and
/// `--config` reads.
public struct RunConfig: Codable, Equatable, Sendable {
    public var data: String
    public var model: ModelDescription
    /// Interfaces between blocks; the default (rule backprop, at none) has none.
    public var interfaces: InterfaceSpec
    public var optimizer: OptimizerSpec
    public var training: TrainingSpec

    public init(data: String = "fashion-mnist", model: ModelDescription = ModelDescription(),
                interfaces: InterfaceSpec = InterfaceSpec(rule: .backprop),
                optimizer: OptimizerSpec = OptimizerSpec(), training: TrainingSpec = TrainingSpec()) {
        self.data = data
        self.model = model
        self.interfaces = interfaces
        self.optimizer = optimizer
        self.training = training
    }

    public init(from decoder: Decoder) throws { try self.init(decodingSettings: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeSettings(to: encoder) }

    /// Impossible settings, each as a `SettingError` naming its config key.
    public func validate() throws {
        try model.checkSettings(at: "model")
        try model.checkOneOutput()
        try optimizer.checkSettings(at: "optimizer")
        try training.validate()
        // the hidden layers alone, before the data says its input and output
        // widths and how large a batch can be (Network.init checks the rest)
        try model.checkFits(inputDim: 1, outputDim: max(model.classes ?? 2, 1), maxBatch: 1)
        try interfaces.validate(hidden: model.layers.count)
        if training.schedule != .locked, let reason = interfaces.unlockedRefusal(training.schedule) {
            throw SettingError("training.schedule", training.schedule.rawValue, reason)
        }
    }

    /// The default network for a rule: the paper's 3 × 256 relu MLP; rules
    /// whose hidden layers learn from fixed random feedback (fa, dfa,
    /// kickback) add batch normalisation, without which their activations
    /// drift and one epoch of Fashion-MNIST reaches only 0.73-0.75.
    public static func defaultModel(for rule: Rule) -> ModelDescription {
        var m = ModelDescription()
        if [.fa, .dfa, .kickback].contains(rule) {
            m.layers = m.layers.map { var l = $0; l.batchnorm = true; return l }
        }
        return m
    }

    /// Why `new` cannot continue a run saved with `saved`, or nil. A resumed
    /// run may change its length, evaluation interval, threads, alignment
    /// tracking and learning rates, not what defines its state.
    public static func resumeDifference(_ saved: RunConfig, _ new: RunConfig) -> String? {
        func differ(_ what: String, _ a: Any, _ b: Any) -> String {
            "the checkpoint's \(what) is \(a), this run's \(b)"
        }
        if saved.data != new.data { return differ("data", saved.data, new.data) }
        if saved.model.layers.count != new.model.layers.count {
            return differ("number of hidden layers", saved.model.layers.count, new.model.layers.count)
        }
        for (i, (a, b)) in zip(saved.model.layers, new.model.layers).enumerated() where a != b {
            return differ("hidden layer \(i + 1)", "\(a.width) \(a.activation.rawValue)\(a.batchnorm ? "+bn" : "")",
                          "\(b.width) \(b.activation.rawValue)\(b.batchnorm ? "+bn" : "")")
        }
        if saved.model.loss != new.model.loss { return differ("loss", saved.model.loss.rawValue, new.model.loss.rawValue) }
        if saved.model.classes != new.model.classes {
            return differ("classes", saved.model.classes.map(String.init) ?? "from the data", new.model.classes.map(String.init) ?? "from the data")
        }
        var a = saved.interfaces, b = new.interfaces
        a.trackAlignment = false; b.trackAlignment = false
        a.optimizer?.lr = nil; b.optimizer?.lr = nil
        if a != b { return differ("interfaces", "\(saved.interfaces.rule.rawValue) at \(saved.interfaces.at.text)",
                                  "\(new.interfaces.rule.rawValue) at \(new.interfaces.at.text) (or other interface settings)") }
        if saved.optimizer.kind != new.optimizer.kind {
            return differ("optimizer", saved.optimizer.kind.rawValue, new.optimizer.kind.rawValue)
        }
        if saved.training.batch != new.training.batch { return differ("batch", saved.training.batch, new.training.batch) }
        if saved.training.seed != new.training.seed { return differ("seed", saved.training.seed, new.training.seed) }
        if saved.training.validation != new.training.validation {
            return differ("validation fraction", saved.training.validation, new.training.validation)
        }
        return nil
    }

    /// The network's optimizer with its default learning rate resolved for
    /// the schedule (`ScheduleKind.defaultLearningRate`). An explicit
    /// `optimizer.lr` is used as given.
    public var networkOptimizer: OptimizerSpec {
        var o = optimizer
        if o.lr == nil { o.lr = training.schedule.defaultLearningRate(o.kind, blocks: scheduleBlocks, predicted: predictedBoundaries) }
        return o
    }

    /// Why the network's learning rate is what it is, when the schedule chose it.
    public var networkLearningRateReason: String? {
        optimizer.lr == nil
            ? training.schedule.defaultLearningRateReason(optimizer.kind, blocks: scheduleBlocks, predicted: predictedBoundaries) : nil
    }

    /// The blocks an unlocked schedule runs: the interfaces split the network.
    private var scheduleBlocks: Int { ((try? interfaces.boundaryCount(hidden: model.layers.count)) ?? 1) + 1 }

    /// Boundaries whose lower block learns from a trained prediction.
    private var predictedBoundaries: Int {
        interfaces.passesPredictions ? (try? interfaces.boundaryCount(hidden: model.layers.count)) ?? 0 : 0
    }

    /// The interfaces' optimizer: their own, or the network's.
    public var interfaceOptimizer: OptimizerSpec { interfaces.optimizer ?? networkOptimizer }

    /// As --print-config writes it: every learning rate resolved.
    var resolvedForPrinting: RunConfig {
        var resolved = self
        resolved.optimizer.lr = networkOptimizer.learningRate
        if let io = interfaces.optimizer { resolved.interfaces.optimizer?.lr = io.learningRate }
        return resolved
    }
}
