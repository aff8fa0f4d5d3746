import CDnic
import Foundation

/// How the learning rate moves over a run (`training.lr-schedule`).
public enum LRScheduleKind: String, Codable, CaseIterable, Sendable {
    case constant, step, cosine, linear
}

extension LRScheduleKind: ConfigChoice {}
extension LRScheduleKind: SettingValue {}

/// The interfaces' schedule (`interfaces.lr-schedule`): `follow` takes the
/// network's (its factor on the interfaces' own base rate), any other kind
/// is their own, set by the `interfaces.lr-*` settings.
public enum InterfaceLRScheduleKind: String, Codable, CaseIterable, Sendable {
    case follow, constant, step, cosine, linear

    /// The kind of their own schedule (nil: follow the network's).
    var own: LRScheduleKind? { LRScheduleKind(rawValue: rawValue) }
}

extension InterfaceLRScheduleKind: ConfigChoice {}
extension InterfaceLRScheduleKind: SettingValue {}

/// A learning-rate schedule: the rate each optimizer update uses, a pure
/// function of the updater's own step counter computed by the core
/// (`dnic_lr_schedule_rate`), so a resumed run sets exactly the rates a
/// straight run would. The Swift side only describes it (header, log).
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

    public init(kind: LRScheduleKind, warmup: Int, milestones: [Int], gamma: Double, minimum: Double, totalSteps: Int) {
        self.kind = kind
        self.warmup = warmup
        self.milestones = milestones
        self.gamma = gamma
        self.minimum = minimum
        self.totalSteps = totalSteps
    }

    /// The network's schedule.
    public init(_ training: TrainingSpec, totalSteps: Int) {
        self.init(kind: training.lrSchedule, warmup: training.lrWarmup, milestones: training.lrSteps,
                  gamma: training.lrGamma, minimum: training.lrMin, totalSteps: totalSteps)
    }

    /// The interfaces' schedule: their own, or the network's (`follow`).
    public init(interfaces: InterfaceSpec, training: TrainingSpec, totalSteps: Int) {
        guard let own = interfaces.lrSchedule.own else {
            self.init(training, totalSteps: totalSteps)
            return
        }
        self.init(kind: own, warmup: interfaces.lrWarmup, milestones: interfaces.lrSteps,
                  gamma: interfaces.lrGamma, minimum: interfaces.lrMin, totalSteps: totalSteps)
    }

    /// Whether the rate ever differs from the base rate.
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
        return parts.isEmpty ? "constant" : parts.joined(separator: ", ")
    }

    /// The schedule as the core takes it (validated settings: at most
    /// DNIC_LR_MAX_MILESTONES milestones).
    public var core: dnic_lr_schedule {
        var s = dnic_lr_schedule_default()
        switch kind {
        case .constant: s.kind = DNIC_LR_CONSTANT
        case .step: s.kind = DNIC_LR_STEP
        case .cosine: s.kind = DNIC_LR_COSINE
        case .linear: s.kind = DNIC_LR_LINEAR
        }
        s.warmup = Int64(warmup)
        let n = min(milestones.count, Int(DNIC_LR_MAX_MILESTONES))
        s.n_milestones = Int32(n)
        withUnsafeMutableBytes(of: &s.milestones) { raw in
            let slots = raw.bindMemory(to: Int64.self)
            for i in 0..<n { slots[i] = Int64(milestones[i]) }
        }
        s.gamma = gamma
        s.min_rate = minimum
        s.total_steps = Int64(totalSteps)
        return s
    }

    /// The rate of update `step` (1-based) for a base rate `base`, as the core sets it.
    public func rate(at step: Int, base: Float) -> Float {
        var s = core
        return dnic_lr_schedule_rate(&s, Int64(step), base)
    }
}

/// The rules of one schedule's settings between themselves, named by
/// their keys (`training.lr-*` or `interfaces.lr-*`).
private func validateSchedule(_ prefix: String, kind: LRScheduleKind?, steps: [Int]) throws {
    let stepsText = steps.map(String.init).joined(separator: ",")
    // the list's own faults first: they are wrong under any kind
    for (a, b) in zip(steps, steps.dropFirst()) where b <= a {
        throw SettingError("\(prefix).lr-steps", stepsText, "steps must be increasing (\(b) follows \(a))")
    }
    if steps.count > Int(DNIC_LR_MAX_MILESTONES) {
        throw SettingError("\(prefix).lr-steps", stepsText, "\(steps.count) steps; at most \(DNIC_LR_MAX_MILESTONES)")
    }
    guard let kind else { return } // interfaces following the network's: checked by the caller
    if !steps.isEmpty, kind != .step {
        throw SettingError("\(prefix).lr-steps", stepsText, "needs {\(prefix).lr-schedule} step")
    }
    if kind == .step, steps.isEmpty {
        throw SettingError("\(prefix).lr-schedule", kind.rawValue, "needs {\(prefix).lr-steps}")
    }
}

/// Rules that need the run's length and the base rate the schedule scales.
private func validateSchedule(_ prefix: String, kind: LRScheduleKind, warmup: Int, minimum: Double, totalSteps: Int,
                              rates: [(key: String, lr: Double)]) throws {
    if warmup > totalSteps {
        throw SettingError("\(prefix).lr-warmup", warmup, "a warm-up of \(warmup) steps is longer than the run's \(totalSteps) steps")
    }
    guard kind == .cosine || kind == .linear else { return }
    for (key, lr) in rates where minimum > lr {
        throw SettingError("\(prefix).lr-min", minimum, "is above {\(key)} \(lr)")
    }
}

extension TrainingSpec {
    /// The schedule's rules between its own settings (the run's length and
    /// base rate are checked where they are known).
    func validateLearningRateSchedule() throws {
        try validateSchedule("training", kind: lrSchedule, steps: lrSteps)
    }
}

extension InterfaceSpec {
    /// The interfaces' own schedule's rules; under `follow` their other
    /// `lr-*` settings would go unused, so they are refused.
    func validateLearningRateSchedule() throws {
        try validateSchedule("interfaces", kind: lrSchedule.own, steps: lrSteps)
        guard lrSchedule == .follow else { return }
        let why = "needs an {interfaces.lr-schedule} of the interfaces' own (follow takes the network's)"
        if !lrSteps.isEmpty { throw SettingError("interfaces.lr-steps", lrSteps.map(String.init).joined(separator: ","), why) }
        if lrWarmup > 0 { throw SettingError("interfaces.lr-warmup", lrWarmup, why) }
    }
}

extension RunConfig {
    /// Rules that need the base rates and the run's length.
    func validateLearningRateSchedule(totalSteps: Int) throws {
        let t = training, i = interfaces
        let ifaceRate = (key: "interfaces.optimizer.lr", lr: interfaceOptimizer.learningRate)
        let following = i.lrSchedule.own == nil
        try validateSchedule("training", kind: t.lrSchedule, warmup: t.lrWarmup, minimum: t.lrMin, totalSteps: totalSteps,
                             rates: [(key: "optimizer.lr", lr: networkOptimizer.learningRate)] + (following ? [ifaceRate] : []))
        if let own = i.lrSchedule.own {
            try validateSchedule("interfaces", kind: own, warmup: i.lrWarmup, minimum: i.lrMin, totalSteps: totalSteps,
                                 rates: [ifaceRate])
        }
    }

    /// The network's and the interfaces' schedules of a run of `totalSteps` steps.
    public func learningRateSchedules(totalSteps: Int) -> (network: LearningRateSchedule, interfaces: LearningRateSchedule) {
        (LearningRateSchedule(training, totalSteps: totalSteps),
         LearningRateSchedule(interfaces: interfaces, training: training, totalSteps: totalSteps))
    }
}

/// `--lr-steps 300000,400000` (and `--sg-lr-steps`, `key` interfaces.lr-steps):
/// the steps after which the rate drops, each >= 1.
public func parseLRSteps(_ text: String, key: String = "training.lr-steps") throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
        throw SettingError(key, "'\(messageText(text))'", "expected increasing step numbers >= 1, such as 300000,400000")
    }
    return parts.map { $0! }
}
