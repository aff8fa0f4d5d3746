import Foundation

/// How the learning rate moves over a run (`training.lr-schedule`).
public enum LRScheduleKind: String, Codable, CaseIterable, Sendable {
    case constant, step, cosine, linear
}

extension LRScheduleKind: ConfigChoice {}
extension LRScheduleKind: SettingValue {}

/// The learning-rate schedule of a run: the factor its base rates are
/// multiplied by at each step. A pure function of the step and the run's
/// total steps, so a resumed run sets exactly the rates a straight run
/// would. The interfaces follow the same factor on their own base rate.
public struct LearningRateSchedule: Equatable, Sendable {
    public var kind: LRScheduleKind
    /// Steps 1...warmup rise linearly to the base rate (step t: t / warmup).
    public var warmup: Int
    /// `step`: the rate is multiplied by `gamma` after each of these steps.
    public var milestones: [Int]
    public var gamma: Double
    /// `cosine`, `linear`: the rate the decay reaches just after the last step.
    public var minimum: Double
    public var totalSteps: Int

    public init(_ training: TrainingSpec, totalSteps: Int) {
        kind = training.lrSchedule
        warmup = training.lrWarmup
        milestones = training.lrSteps
        gamma = training.lrGamma
        minimum = training.lrMin
        self.totalSteps = totalSteps
    }

    /// Whether the rate ever differs from the base rate (else nothing is set per step).
    public var isConstant: Bool { kind == .constant && warmup == 0 }

    /// For the run's header: "cosine to 0, warm-up 500", "step ×0.1 after 300,400".
    public var summary: String {
        var parts = [String]()
        switch kind {
        case .constant: break
        case .step: parts.append("step ×\(String(format: "%g", gamma)) after \(milestones.map(String.init).joined(separator: ","))")
        case .cosine, .linear: parts.append("\(kind.rawValue) to \(String(format: "%g", minimum))")
        }
        if warmup > 0 { parts.append("warm-up \(warmup)") }
        return parts.joined(separator: ", ")
    }

    /// The rate of step `step` (1-based) for a base rate `base`.
    public func rate(at step: Int, base: Double) -> Double {
        if step <= warmup { return base * Double(step) / Double(warmup) }
        switch kind {
        case .constant:
            return base
        case .step:
            let passed = milestones.reduce(0) { $0 + (step > $1 ? 1 : 0) }  // no array per step
            return base * pow(gamma, Double(passed))
        case .cosine, .linear:
            // as PyTorch's schedulers: the first step after the warm-up takes the
            // base rate and the rate reaches `minimum` just after the last step
            // (so a minimum of 0 never sets 0, which the core refuses)
            let span = max(totalSteps - warmup, 1)
            let p = min(Double(step - warmup - 1) / Double(span), 1)
            let shape = kind == .cosine ? (1 + cos(Double.pi * p)) / 2 : 1 - p
            return minimum + (base - minimum) * shape
        }
    }
}

extension TrainingSpec {
    /// The schedule's rules between its own settings (the run's length and
    /// base rate are checked where they are known).
    func validateLearningRateSchedule() throws {
        if !lrSteps.isEmpty, lrSchedule != .step {
            throw SettingError("training.lr-steps", lrSteps.map(String.init).joined(separator: ","),
                               "needs {training.lr-schedule} step")
        }
        if lrSchedule == .step, lrSteps.isEmpty {
            throw SettingError("training.lr-schedule", lrSchedule.rawValue, "needs {training.lr-steps}")
        }
        for (a, b) in zip(lrSteps, lrSteps.dropFirst()) where b <= a {
            throw SettingError("training.lr-steps", lrSteps.map(String.init).joined(separator: ","),
                               "steps must be increasing (\(b) follows \(a))")
        }
        if !(lrSchedule == .constant && lrWarmup == 0), schedule != .locked {
            let why = "needs {training.schedule} locked: unlocked blocks keep their own optimizers"
            if lrSchedule == .constant { throw SettingError("training.lr-warmup", lrWarmup, why) }
            throw SettingError("training.lr-schedule", lrSchedule.rawValue, why)
        }
    }
}

extension RunConfig {
    /// Rules that need the base rate and the run's length.
    func validateLearningRateSchedule(totalSteps: Int) throws {
        if training.lrWarmup > totalSteps {
            throw SettingError("training.lr-warmup", training.lrWarmup,
                               "a warm-up of \(training.lrWarmup) steps is longer than the run's \(totalSteps) steps")
        }
        guard training.lrSchedule == .cosine || training.lrSchedule == .linear else { return }
        for (key, spec) in [("optimizer.lr", networkOptimizer), ("interfaces.optimizer.lr", interfaceOptimizer)] {
            let lr = spec.learningRate
            if training.lrMin > lr {
                throw SettingError("training.lr-min", training.lrMin, "is above {\(key)} \(lr)")
            }
        }
    }
}

/// `--lr-steps 300000,400000`: the steps after which the rate drops, each >= 1.
public func parseLRSteps(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
        throw SettingError("training.lr-steps", "'\(messageText(text))'", "expected increasing step numbers >= 1, such as 300000,400000")
    }
    return parts.map { $0! }
}
