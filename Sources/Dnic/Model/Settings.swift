/// The settings table: every setting of a run, one row each, in the order
/// --print-config writes them and a config file is decoded. A row says the
/// key, where the value lives, its flag (or why none), its help, its default
/// in words where the value cannot say it, and the bounds it must keep.
/// Decoding, encoding, --print-config, validation of single values, the
/// names messages use and the CLI's flags all derive from here
/// (Setting.swift); rules between settings are the sections' `validate`.
/// Help texts name other settings as `{key}`, so `--help` can name them as flags.

extension RunConfig: SettingSection {
    static let defaults = RunConfig()

    static let settings: [Setting<RunConfig>] = [
        .value("data", \.data, flag: "--data", help: "Dataset: fashion-mnist, mnist, idx:DIR, csv:TRAIN[,TEST], synth:NAME."),
        .section("model", \.model),
        .section("interfaces", \.interfaces),
        .section("optimizer", \.optimizer, flags: [
            "kind": EmbeddedFlag(.flag("--optimizer", set: { (o: inout OptimizerSpec, kind: OptimizerKind) in o.choose(kind) })),
            "lr": EmbeddedFlag("--lr", default: "adam 1e-3, sgd 0.05, momentum 0.01"),
            "l2": EmbeddedFlag("--l2"),
            "momentum": EmbeddedFlag("--momentum", help: "Momentum coefficient for {optimizer.kind} momentum."),
        ], otherwise: "Adam's constants; set them in a config file"),
        .section("training", \.training),
    ]
}

extension ModelDescription: SettingSection {
    static let defaults = ModelDescription()

    static let settings: [Setting<ModelDescription>] = [
        .list("layers", \.layers, flag: .flag("--hidden", set: { (m: inout ModelDescription, count: Int) in try m.setLayerCount(count) }),
              help: "Number of hidden layers.", default: "\(ModelDescription().layers.count)",
              bound: Bound { layers, key in
                  if layers.count > maxLayers { throw SettingError(key, nil, "\(layers.count) hidden layers; at most \(maxLayers)") }
              }),
        .value("loss", \.loss, flag: "--loss", help: "Loss: \(LossKind.choiceList)."),
        .value("init", \.initializer, flag: "--init", help: "Weight initialisation: \(InitKind.choiceList).", listedAfter: "classes"),
        .value("classes", \.classes, flag: "--classes",
               help: "Output classes (the output layer's width); 1 with {model.loss} logistic: one sigmoid output for labels 0 and 1.",
               default: "what the data implies: 10 for IDX, max label + 1 for CSV",
               bound: .between(1, maxWidth, "must be between 2 and \(maxWidth), or 1 with {model.loss} logistic")),
    ]
}

/// Flags set every hidden layer alike.
extension LayerSpec: SettingSection {
    static let defaults = LayerSpec(width: 256)

    static let settings: [Setting<LayerSpec>] = [
        .value("width", \.width, flag: .flag("--width", config: { (c: inout RunConfig, width: Int) in c.model.setLayerWidth(width) }),
               help: "Units per hidden layer.", bound: .between(1, ModelDescription.maxWidth), required: true),
        .value("activation", \.activation, flag: "--activation", help: "Hidden activation: \(Activation.choiceList)."),
        .value("batchnorm", \.batchnorm, flag: "--batchnorm", help: "Batch normalisation after every hidden dense layer."),
    ]
}

extension InterfaceSpec: SettingSection {
    static let defaults = InterfaceSpec(rule: .backprop)

    /// The file's rule brings its preset; the other settings override parts of it.
    static func decodingBase(_ container: KeyedDecodingContainer<AnyCodingKey>) throws -> InterfaceSpec {
        InterfaceSpec(rule: try container.decodeIfPresent(Rule.self, forKey: AnyCodingKey("rule")) ?? .backprop)
    }

    static let settings: [Setting<InterfaceSpec>] = [
        .value("rule", \.rule, flag: .flag("--rule", set: { (i: inout InterfaceSpec, rule: Rule) in
            if rule != i.rule { i = InterfaceSpec(rule: rule) }
        }), help: "Learning rule: \(Rule.choiceList)."),
        .value("at", \.at, flag: .flag("--sg-at", set: { (i: inout InterfaceSpec, text: String) in i.at = try Placement(parsing: text) }),
               help: "Interface placement: mid, every, output (on the output, before the loss), none, balanced (2 blocks whose slowest is fastest, measured on this machine) or balanced:K (K blocks), or hidden-layer numbers such as 2,4.",
               default: "mid for sg/sgprop; every hidden layer for fa/dfa/kickback"),
        .value("kind", \.kind, flag: "--sg-kind", help: "Interface prediction: \(InterfaceKind.choiceList).",
               default: "from {interfaces.rule}"),
        .value("target", \.target, flag: "--sg-target", help: "Interface target: \(InterfaceTarget.choiceList).",
               default: "from {interfaces.rule}"),
        .value("loss", \.loss, flag: "--sg-loss", help: "Interface loss: \(InterfaceLoss.choiceList).", default: "from {interfaces.rule}"),
        .value("signal", \.signal, flag: "--sg-signal", help: "Signal to the block below: \(InterfaceSignal.choiceList).",
               default: "from {interfaces.rule}"),
        .value("alpha", \.alpha, flag: "--sg-alpha", help: "Weight of the propagated gradient in pred+prop.", default: "0.1 for sgprop",
               bound: .finiteNonNegative),
        .value("hidden", \.hidden,
               flag: .flag("--sg-hidden", set: { (i: inout InterfaceSpec, text: String) in i.hidden = try parseMLPHidden(text) }),
               help: "Hidden layers of an mlp interface: COUNTxWIDTH (2x1024) or widths (1024,512).", default: "0",
               bound: Bound { widths, key in
                   if widths.count > maxMLPLayers { throw SettingError(key, nil, "\(widths.count) layers; at most \(maxMLPLayers)") }
                   for w in widths where w < 1 || w > maxMLPWidth {
                       throw SettingError(key, w, "a width must be between 1 and \(maxMLPWidth)")
                   }
               }),
        .value("batchnorm", \.batchnorm, flag: "--sg-batchnorm", help: "Batch norm in an mlp interface's hidden layers."),
        .value("warmup", \.warmup, flag: "--sg-warmup",
               help: "Train interfaces for STEPS steps while delivering their targets instead of their predictions.",
               bound: .between(0, maxTrainingSamples, "must be between 0 and 2^53 steps")),
        .value("centre", \.centre, flag: "--sg-centre",
               help: "Centre trained predictions over the batch: \(InterfaceCentre.choiceList); auto where the hidden layer above has batch norm."),
        // the interfaces' own learning-rate schedule (LearningRate.swift); follow: the network's
        .value("lr-schedule", \.lrSchedule, flag: "--sg-lr-schedule",
               help: "Interfaces' learning-rate schedule, over each interface's own updates: \(InterfaceLRScheduleKind.choiceList); "
                   + "follow applies {training.lr-schedule}'s factor to their own rate."),
        .value("lr-warmup", \.lrWarmup, flag: "--sg-lr-warmup",
               help: "With an own {interfaces.lr-schedule}: raise the interfaces' rate linearly over their first STEPS updates.",
               bound: .between(0, maxTrainingSamples, "must be between 0 and 2^53 steps")),
        .value("lr-steps", \.lrSteps,
               flag: .flag("--sg-lr-steps", set: { (i: inout InterfaceSpec, text: String) in i.lrSteps = try parseLRSteps(text, key: "interfaces.lr-steps") }),
               help: "With {interfaces.lr-schedule} step: multiply the interfaces' rate by {interfaces.lr-gamma} after each of these updates.",
               default: "none"),
        .value("lr-gamma", \.lrGamma, flag: "--sg-lr-gamma", help: "Factor of each step of {interfaces.lr-steps}.", bound: .positiveFinite),
        .value("lr-min", \.lrMin, flag: "--sg-lr-min",
               help: "With {interfaces.lr-schedule} cosine or linear: the rate the interfaces' decay reaches at the end of the run.",
               bound: .finiteNonNegative),
        .value("track-alignment", \.trackAlignment, flag: "--track-alignment",
               help: "Log the cosine between each interface's signal and the true gradient (one extra backward per step).",
               listedAfter: "optimizer"),
        // absent: the interfaces use the network's optimizer. A flag starts
        // them from it as the file and the network's kind and rate flags
        // leave it (not its l2 or momentum flags, as dnic always did).
        .section("optimizer", \.optimizer, whenAbsent: { config, given in
            var network = config
            try network.apply(given.only(["optimizer.kind", "optimizer.lr"]))
            return network.optimizer
        }, flags: [
            "kind": EmbeddedFlag(.flag("--sg-optimizer", set: { (o: inout OptimizerSpec, kind: OptimizerKind) in o.choose(kind) }),
                                 help: "Interfaces' optimizer: \(OptimizerKind.choiceList).", default: "the network's"),
            "lr": EmbeddedFlag("--sg-lr", help: "Interfaces' learning rate.", default: "the network's"),
        ], otherwise: "only the interfaces' optimizer kind and learning rate have flags; set it in a config file"),
    ]
}

/// The network's and the interfaces' optimizer; their flags are given where
/// each sits (RunConfig, InterfaceSpec).
extension OptimizerSpec: SettingSection {
    static let defaults = OptimizerSpec()

    static let settings: [Setting<OptimizerSpec>] = [
        .value("kind", \.kind, help: "Optimizer: \(OptimizerKind.choiceList)."),
        .value("lr", \.lr, help: "Learning rate.", bound: .positiveFinite),
        .value("l2", \.l2, help: "L2 penalty on weight matrices.", bound: .finiteNonNegative),
        .value("momentum", \.momentum, help: "Momentum coefficient of the momentum optimizer.", bound: .unitInterval),
        .value("beta1", \.beta1, help: "Adam's decay of its running mean of gradients.", bound: .unitInterval),
        .value("beta2", \.beta2, help: "Adam's decay of its running mean of squared gradients.", bound: .unitInterval),
        .value("eps", \.eps, help: "Adam's term added to the root of its mean of squared gradients.", bound: .positiveFinite),
    ]
}

extension TrainingSpec: SettingSection {
    static let defaults = TrainingSpec()

    static let settings: [Setting<TrainingSpec>] = [
        .value("batch", \.batch, flag: "--batch", help: "Batch size.", bound: .between(1, maxBatch)),
        .value("epochs", \.epochs, flag: "--epochs", help: "Passes over the training set.",
               bound: .between(1, maxTrainingSamples, "must be between 1 and 2^53")),
        .value("steps", \.steps, flag: "--steps", help: "Total training steps; overrides {training.epochs}.", bound: .atLeast(1)),
        .value("eval-every", \.evalEvery, flag: "--eval-every", help: "Evaluate every N steps.", default: "once per epoch",
               bound: .between(1, maxTrainingSamples, "must be between 1 and 2^53"), listedAfter: "schedule"),
        .value("seed", \.seed, flag: "--seed", help: "Random seed for initialisation, data order and synthetic data."),
        .value("threads", \.threads, flag: "--threads", help: "Threads for dnic and its GEMM backend together.", default: "all cores",
               bound: .between(1, 4096)),
        .value("validation", \.validation, flag: "--validation", help: "Fraction of the training set held out for validation.",
               bound: .unitInterval),
        .value("early-stop", \.earlyStop, flag: "--early-stop",
               help: "Stop after PATIENCE evaluations in a row without improvement of {training.monitor} (needs {training.validation}).",
               default: "off", bound: .atLeast(1)),
        .value("monitor", \.monitor, flag: "--monitor", help: "Metric {training.early-stop} watches: \(MonitorKind.choiceList)."),
        .value("schedule", \.schedule, flag: "--schedule",
               help: "Block schedule: \(ScheduleKind.choiceList). pipeline runs the blocks between interfaces in parallel in lockstep, "
                   + "each on its own batch; async runs them free with bounded queues (rule sg)."),
        .value("clip-grad", \.clipGrad, flag: "--clip-grad", help: "Clip gradients to this global L2 norm (network and each interface).",
               default: "off", bound: .positiveFinite),
        // below 2^-24 a float uniform draw never falls: the block would never update
        .value("update-prob", \.updateProb, flag: "--update-prob",
               help: "With {training.schedule} pipeline or async: each block applies its update for a batch with this probability "
                   + "(update decoupling).",
               default: "1", bound: .require("must be between 6e-08 (2^-24) and 1") { $0 >= minUpdateProb && $0 <= 1 }),
        .value("queue", \.queue, flag: "--queue",
               help: "With {training.schedule} async: messages each queue between blocks holds (how far a block may run ahead).",
               default: "\(defaultQueue)", bound: .between(1, maxQueue)),
        // learning-rate schedule (LearningRate.swift); by default the interfaces follow it on their own base rate
        .value("lr-schedule", \.lrSchedule, flag: "--lr-schedule",
               help: "Learning-rate schedule: \(LRScheduleKind.choiceList), over the network's (or each unlocked block's) own updates; "
                   + "the interfaces follow it scaled to their own rate unless {interfaces.lr-schedule} is set."),
        .value("lr-warmup", \.lrWarmup, flag: "--lr-warmup", help: "Raise the rate linearly over the first STEPS steps.",
               bound: .between(0, maxTrainingSamples, "must be between 0 and 2^53 steps")),
        .value("lr-steps", \.lrSteps,
               flag: .flag("--lr-steps", set: { (t: inout TrainingSpec, text: String) in t.lrSteps = try parseLRSteps(text) }),
               help: "With {training.lr-schedule} step: multiply the rate by {training.lr-gamma} after each of these steps (300000,400000).",
               default: "none"),
        .value("lr-gamma", \.lrGamma, flag: "--lr-gamma", help: "Factor of each step of {training.lr-steps}.", bound: .positiveFinite),
        .value("lr-min", \.lrMin, flag: "--lr-min", help: "With {training.lr-schedule} cosine or linear: the rate the decay reaches at the end of the run.",
               bound: .finiteNonNegative),
    ]
}
