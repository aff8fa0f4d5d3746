import CDnic

/// The named choices of a model description, spelled as on the command
/// line and in config files.

public enum Activation: String, Codable, CaseIterable, Sendable {
    case relu, sigmoid, tanh, linear

    var core: dnic_activation {
        switch self {
        case .relu: return DNIC_ACT_RELU
        case .sigmoid: return DNIC_ACT_SIGMOID
        case .tanh: return DNIC_ACT_TANH
        case .linear: return DNIC_ACT_IDENTITY
        }
    }
}

public enum LossKind: String, Codable, CaseIterable, Sendable {
    /// softmax cross-entropy
    case ce
    /// ½‖p − onehot(y)‖² per example
    case mse
    /// sigmoid + log loss on one output (binary labels) or one-vs-rest
    case logistic

    var core: dnic_loss {
        switch self {
        case .ce: return DNIC_LOSS_SOFTMAX_CE
        case .mse: return DNIC_LOSS_MSE
        case .logistic: return DNIC_LOSS_LOGISTIC
        }
    }
}

public enum InitKind: String, Codable, CaseIterable, Sendable {
    case heUniform = "he-uniform", heNormal = "he-normal"
    case glorotUniform = "glorot-uniform", glorotNormal = "glorot-normal"

    var core: dnic_init {
        switch self {
        case .heUniform: return DNIC_INIT_HE_UNIFORM
        case .heNormal: return DNIC_INIT_HE_NORMAL
        case .glorotUniform: return DNIC_INIT_GLOROT_UNIFORM
        case .glorotNormal: return DNIC_INIT_GLOROT_NORMAL
        }
    }
}

public enum OptimizerKind: String, Codable, CaseIterable, Sendable {
    case sgd, momentum, adam

    var core: dnic_optimizer {
        switch self {
        case .sgd: return DNIC_OPT_SGD
        case .momentum: return DNIC_OPT_MOMENTUM
        case .adam: return DNIC_OPT_ADAM
        }
    }

    /// Defaults that train every network of the paper out of the box
    /// (Adam 1e-3 at batch 64: a plain PyTorch script of the 3 x 256 net
    /// reached 0.850 after one epoch of Fashion-MNIST with these).
    public var defaultLearningRate: Double {
        switch self {
        case .sgd: return 0.05
        case .momentum: return 0.01
        case .adam: return 1e-3
        }
    }
}

/// How blocks are scheduled (docs/unlocked.md): `locked`, one batch at a time
/// through every block (the reference); `pipeline`, blocks in lockstep
/// ticks, each on its own batch, updating from its interface's prediction;
/// `async`, the same blocks free-running on worker threads, bounded queues
/// between them.
public enum ScheduleKind: String, Codable, CaseIterable, Sendable {
    case locked, pipeline, async

    /// The network's default learning rate under this schedule (nil: the
    /// optimizer's own), where `blocks` blocks run and `predicted` of the
    /// boundaries between them pass down a trained prediction.
    ///
    /// Unlocked blocks learn from predictions made and trained ticks late,
    /// more so the deeper the pipeline, so the default is the locked one
    /// divided by the number of blocks. Measured on Fashion-MNIST, 5 epochs
    /// of sg: 3 x 256 with 2 blocks oscillated at Adam 1e-3 (0.79) and
    /// reached 0.877 at 5e-4 (locked sg: 0.871); 6 x 256 with 3 blocks
    /// collapsed at 5e-4 (0.17) and reached 1e-3 / 3 0.867 (locked: 0.858).
    ///
    /// Locked, one predicted boundary keeps the optimizer's rate; n > 1 in
    /// series (each bootstrapping its target from the one above) divide it
    /// by n: on 20 x 256 relu + batch norm with an SG after each of the 19
    /// hidden layers below the top, 3 epochs, seeds 1-3, Adam 1e-3 reached
    /// 0.289 (0.315, 0.366, 0.186), 1e-3 / 19 0.779 (0.778, 0.778, 0.782)
    /// and 1e-3 / sqrt(19) 0.758 (the rule: the higher mean); on 6 x 128 (5 boundaries), one epoch,
    /// 1e-3 0.828, 1e-3 / 5 0.812 (docs/rules-and-interfaces.md).
    public func defaultLearningRate(_ optimizer: OptimizerKind, blocks: Int, predicted: Int) -> Double? {
        guard let divisor = defaultLearningRateDivisor(blocks: blocks, predicted: predicted) else { return nil }
        return optimizer.defaultLearningRate / Double(divisor)
    }

    /// How `defaultLearningRate` chose, for a run's header: "the default
    /// 0.001 / 2 blocks, unlocked" (nil: the optimizer's own default).
    public func defaultLearningRateReason(_ optimizer: OptimizerKind, blocks: Int, predicted: Int) -> String? {
        guard let divisor = defaultLearningRateDivisor(blocks: blocks, predicted: predicted) else { return nil }
        return self == .locked
            ? String(format: "the default %g / %d synthetic gradients in series", optimizer.defaultLearningRate, divisor)
            : String(format: "the default %g / %d blocks, unlocked", optimizer.defaultLearningRate, divisor)
    }

    private func defaultLearningRateDivisor(blocks: Int, predicted: Int) -> Int? {
        if self != .locked { return blocks }
        return predicted > 1 ? predicted : nil
    }
}

/// Choices decode with a message that lists the accepted spellings.
public protocol ConfigChoice: RawRepresentable, CaseIterable, Codable where RawValue == String {}

extension ConfigChoice {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: text) else {
            let choices = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw BadValueError(codingPath: decoder.codingPath, problem: "'\(messageText(text))' is not one of \(choices)")
        }
        self = value
    }

    public static var choiceList: String { allCases.map(\.rawValue).joined(separator: "|") }
}

extension Activation: ConfigChoice {}
extension LossKind: ConfigChoice {}
extension InitKind: ConfigChoice {}
extension OptimizerKind: ConfigChoice {}
extension ScheduleKind: ConfigChoice {}
extension MonitorKind: ConfigChoice {}

/// The validation metric early stopping watches (`training.monitor`):
/// a loss improves by falling, an accuracy by rising.
public enum MonitorKind: String, Codable, CaseIterable, Sendable {
    case validationLoss = "validation_loss", validationAccuracy = "validation_accuracy"

    /// Lower is better for a loss, higher for an accuracy.
    public var lowerIsBetter: Bool { self == .validationLoss }

    /// The metric's value in an evaluation (nil: the run has no validation split).
    public func value(in record: EvaluationRecord) -> Double? {
        self == .validationLoss ? record.validationLoss : record.validationAccuracy
    }
}
