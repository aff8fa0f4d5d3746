import CDnic

/// The learning rules of the paper's Table 1, each a preset of the one
/// interface mechanism (docs/rules-and-interfaces.md).
public enum Rule: String, Codable, CaseIterable, Sendable, ConfigChoice {
    case backprop, sg, sgprop, fa, dfa, kickback
}

public enum InterfaceKind: String, Codable, CaseIterable, Sendable, ConfigChoice {
    case linear, nolabel, sigmoid, mlp, identity, random, ones, oracle

    var core: dnic_iface_kind {
        switch self {
        case .linear: return DNIC_IFACE_LINEAR
        case .nolabel: return DNIC_IFACE_NOLABEL
        case .sigmoid: return DNIC_IFACE_SIGMOID
        case .mlp: return DNIC_IFACE_MLP
        case .identity: return DNIC_IFACE_IDENTITY
        case .random: return DNIC_IFACE_RANDOM
        case .ones: return DNIC_IFACE_ONES
        case .oracle: return DNIC_IFACE_ORACLE
        }
    }

    public var trainable: Bool { [.linear, .nolabel, .sigmoid, .mlp].contains(self) }
}

public enum InterfaceTarget: String, Codable, CaseIterable, Sendable, ConfigChoice {
    case `true`, bootstrap
    case outputError = "output-error", nextError = "next-error"

    var core: dnic_iface_target {
        switch self {
        case .true: return DNIC_TARGET_TRUE
        case .bootstrap: return DNIC_TARGET_BOOTSTRAP
        case .outputError: return DNIC_TARGET_OUTPUT_ERROR
        case .nextError: return DNIC_TARGET_NEXT_ERROR
        }
    }
}

public enum InterfaceLoss: String, Codable, CaseIterable, Sendable, ConfigChoice {
    case l2, inner
    var core: dnic_iface_loss { self == .l2 ? DNIC_IFACE_LOSS_L2 : DNIC_IFACE_LOSS_INNER }
}

/// Whether a trained prediction is centred over the batch (each column's
/// batch mean subtracted): `auto` where the hidden layer above the boundary
/// has batch norm, whose targets all sum to zero over the batch.
public enum InterfaceCentre: String, Codable, CaseIterable, Sendable, ConfigChoice {
    case auto, on, off
    var core: dnic_iface_centre {
        switch self {
        case .auto: return DNIC_CENTRE_AUTO
        case .on: return DNIC_CENTRE_ON
        case .off: return DNIC_CENTRE_OFF
        }
    }
}

public enum InterfaceSignal: String, Codable, CaseIterable, Sendable, ConfigChoice {
    case pred, prop
    case predProp = "pred+prop"
    var core: dnic_iface_signal {
        switch self {
        case .pred: return DNIC_SIGNAL_PRED
        case .prop: return DNIC_SIGNAL_PROP
        case .predProp: return DNIC_SIGNAL_PRED_PROP
        }
    }
}

/// Where interfaces go: boundary k sits after hidden layer k (1-based).
public enum Placement: Equatable, Sendable, Codable {
    /// no interface (plain backprop)
    case none
    /// one boundary in the middle of the stack: after hidden layer ⌈H/2⌉
    case mid
    /// every boundary that has hidden layers above it (1 … H−1) for trainable
    /// interfaces; every hidden layer (1 … H) for fa, dfa and kickback
    case every
    /// on the output p, before the loss (the paper's Table 2 and Theorem 1):
    /// boundary H+1, for any depth including a linear model (H = 0)
    case output
    /// K blocks whose slowest is as fast as possible on this machine: the
    /// boundaries are measured and planned when the run starts
    /// (PlacementPlanner), and the run keeps the list it was given
    case balanced(Int)
    case list([Int])

    public init(parsing text: String) throws {
        switch text {
        case "none": self = .none
        case "mid": self = .mid
        case "every": self = .every
        case "output": self = .output
        case "balanced": self = .balanced(2)
        case _ where text.hasPrefix("balanced:"):
            guard let k = Int(text.dropFirst("balanced:".count)) else {
                throw SettingError("interfaces.at", "'\(messageText(text))'", "expected balanced or balanced:K with K a number of blocks, such as balanced:3")
            }
            self = .balanced(k)
        default:
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
                Int($0.trimmingCharacters(in: .whitespaces))
            }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
                throw SettingError("interfaces.at", "'\(messageText(text))'", "expected mid, every, output, none, balanced[:K] or a list of hidden-layer numbers such as 2,4")
            }
            self = .list(parts.map { $0! })
        }
    }

    public var text: String {
        switch self {
        case .none: return "none"
        case .mid: return "mid"
        case .every: return "every"
        case .output: return "output"
        case .balanced(let k): return k == 2 ? "balanced" : "balanced:\(k)"
        case .list(let l): return l.map(String.init).joined(separator: ",")
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let list = try? c.decode([Int].self) {
            self = .list(list)
        } else if let one = try? c.decode(Int.self) {
            self = .list([one])
        } else {
            let text = try c.decode(String.self)
            do { self = try Placement(parsing: text) } catch let error as SettingError {
                throw BadValueError(codingPath: decoder.codingPath, problem: "\(error.value ?? ""): \(error.problem)")
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if case .list(let l) = self { try c.encode(l) } else { try c.encode(text) }
    }
}

/// Hidden layers of an `mlp` interface: "2x1024", "1024,512", or "0" for none.
public func parseMLPHidden(_ text: String) throws -> [Int] {
    let t = text.trimmingCharacters(in: .whitespaces)
    func bad() -> SettingError {
        SettingError("interfaces.hidden", "'\(messageText(text))'", "expected COUNTxWIDTH (e.g. 2x1024) with at most \(InterfaceSpec.maxMLPLayers) layers, a list of widths (1024,512) or 0")
    }
    if t == "0" || t.isEmpty { return [] }
    if t.contains("x") {
        let p = t.split(separator: "x", omittingEmptySubsequences: false)
        guard p.count == 2, let n = Int(p[0]), let w = Int(p[1]), n >= 0, n <= InterfaceSpec.maxMLPLayers,
              w >= 1, w <= InterfaceSpec.maxMLPWidth else { throw bad() }
        return Array(repeating: w, count: n)
    }
    let widths = t.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard widths.count <= InterfaceSpec.maxMLPLayers,
          widths.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= InterfaceSpec.maxMLPWidth }) else { throw bad() }
    return widths.map { $0! }
}

/// The interfaces of a run: a rule (preset) and overrides of its parts.
/// Every field is resolved and written out by `--print-config`.
public struct InterfaceSpec: Codable, Equatable, Sendable {
    public var rule: Rule
    public var at: Placement
    public var kind: InterfaceKind
    public var target: InterfaceTarget
    public var loss: InterfaceLoss
    public var signal: InterfaceSignal
    /// pred+prop: weight of ∂L_S/∂h
    public var alpha: Double
    /// mlp interfaces: hidden widths and batch norm
    public var hidden: [Int]
    public var batchnorm: Bool
    /// steps during which the target is delivered instead of the prediction
    public var warmup: Int
    /// centring of trained predictions over the batch
    public var centre: InterfaceCentre
    /// cosine between delivered signal and true gradient, logged per evaluation
    public var trackAlignment: Bool
    /// the interfaces' optimizer; nil = the network's
    public var optimizer: OptimizerSpec?
    /// The interfaces' learning-rate schedule (LearningRate.swift), over
    /// each interface's own update count: `follow` takes the network's.
    public var lrSchedule: InterfaceLRScheduleKind = .follow
    public var lrWarmup: Int = 0
    public var lrSteps: [Int] = []
    public var lrGamma: Double = 0.1
    public var lrMin: Double = 0

    /// The preset of a rule: one row of the paper's Table 1.
    public init(rule: Rule) {
        self.rule = rule
        alpha = 0
        hidden = []
        batchnorm = false
        warmup = 0
        centre = .auto
        trackAlignment = false
        optimizer = nil
        switch rule {
        case .backprop:
            (at, kind, target, loss, signal) = (.none, .identity, .bootstrap, .inner, .prop)
        case .sg:
            (at, kind, target, loss, signal) = (.mid, .linear, .bootstrap, .l2, .pred)
        case .sgprop:
            (at, kind, target, loss, signal) = (.mid, .linear, .bootstrap, .l2, .predProp)
            alpha = 0.1
        case .fa:
            (at, kind, target, loss, signal) = (.every, .random, .nextError, .inner, .prop)
        case .dfa:
            (at, kind, target, loss, signal) = (.every, .random, .outputError, .inner, .prop)
        case .kickback:
            (at, kind, target, loss, signal) = (.every, .ones, .outputError, .inner, .prop)
        }
    }

    public var placesEveryHiddenLayer: Bool { [.fa, .dfa, .kickback].contains(rule) }

    /// The layers below each interface learn from its trained prediction
    /// (sg, sgprop), not from a fixed projection or the true gradient.
    public var passesPredictions: Bool { rule != .backprop && kind.trainable && signal != .prop }

    public init(from decoder: Decoder) throws { try self.init(decodingSettings: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeSettings(to: encoder) }

    /// Boundaries (hidden-layer numbers, 1-based) for a stack of `hidden`
    /// hidden layers, or a `SettingError` naming `interfaces.at`.
    public func boundaries(hidden h: Int) throws -> [Int] {
        func bad(_ problem: String) -> SettingError { SettingError("interfaces.at", at.text, problem) }
        if placesEveryHiddenLayer {
            if at != .every {
                throw bad("{interfaces.rule} \(rule.rawValue) puts an interface at every hidden layer; no other placement is allowed")
            }
            if h < 1 { throw SettingError("interfaces.rule", rule.rawValue, "needs at least one hidden layer") }
            return Array(1...h)
        }
        switch at {
        case .none: return []
        case .output: return [h + 1]
        case .balanced(let k):
            if let problem = PlacementPlanner.blocksProblem(k, hidden: h) { throw bad(problem) }
            throw bad("only dnic train and dnic plan measure and plan it; here give the boundaries dnic plan prints, such as 1")
        case .mid:
            guard h >= 2 else { throw bad("needs at least 2 hidden layers (there are \(h))") }
            return [(h + 1) / 2]
        case .every:
            guard h >= 2 else { throw bad("needs at least 2 hidden layers (there are \(h))") }
            return Array(1..<h)
        case .list(let list):
            for k in list where k < 1 || k >= h {
                throw SettingError("interfaces.at", k, h >= 2
                    ? "a boundary must lie after hidden layer 1 … \(h - 1), below the last hidden layer (\(h))"
                    : "a boundary needs at least 2 hidden layers (there are \(h))")
            }
            guard Set(list).count == list.count else { throw bad("a boundary is listed twice") }
            return list.sorted()
        }
    }

    /// How many boundaries `boundaries(hidden:)` gives, or will give once
    /// a balanced placement is planned.
    public func boundaryCount(hidden h: Int) throws -> Int {
        if case .balanced(let k) = at, !placesEveryHiddenLayer {
            if let problem = PlacementPlanner.blocksProblem(k, hidden: h) { throw SettingError("interfaces.at", at.text, problem) }
            return k - 1
        }
        return try boundaries(hidden: h).count
    }

    /// Most hidden layers of an mlp interface, and their widest.
    public static let maxMLPLayers = 64
    public static let maxMLPWidth = 1 << 20

    /// Impossible combinations, as a `SettingError`.
    /// Why these interfaces cannot run under an unlocked schedule, or nil: a
    /// block's learning signal must not need the same batch's result from
    /// the block above, except an oracle under the pipeline, whose block
    /// waits for that result (a delayed gradient).
    public func unlockedRefusal(_ schedule: ScheduleKind) -> String? {
        if at == .output {
            return "cannot unlock an interface on the output ({interfaces.at} output): no block above it to wait for"
        }
        if rule != .sg {
            return "needs {interfaces.rule} sg: \(rule.rawValue)'s learning signal needs the same batch's result from above"
        }
        if kind == .oracle, schedule == .async {
            return "cannot run an oracle interface: its block waits for the true gradient, which needs {training.schedule} pipeline"
        }
        if !kind.trainable, kind != .oracle {
            return "needs a trainable {interfaces.kind} (linear, nolabel, sigmoid, mlp) or, under the pipeline, oracle; not \(kind.rawValue)"
        }
        if target != .bootstrap {
            return "needs {interfaces.target} bootstrap: a \(target.rawValue) target needs the same batch's gradient from above"
        }
        if signal != .pred { return "needs {interfaces.signal} pred: \(signal.rawValue) needs the target an unlocked schedule delivers later" }
        if warmup > 0 { return "cannot warm up ({interfaces.warmup} \(warmup)): warm-up passes the target through" }
        if trackAlignment { return "cannot {interfaces.track-alignment}: alignment needs the true gradient of the same batch" }
        return nil
    }

    /// Each setting's bounds (the table's, the optimizer's too), then the
    /// rules between them, for a stack of `h` hidden layers.
    public func validate(hidden h: Int) throws {
        try checkSettings(at: "interfaces")
        try validateLearningRateSchedule()
        _ = try boundaryCount(hidden: h)
        let fixedProjection = kind == .random || kind == .ones
        if !fixedProjection, target == .outputError || target == .nextError {
            throw SettingError("interfaces.target", target.rawValue, "needs a fixed projection ({interfaces.kind} random or ones); \(kind.rawValue) predicts the gradient at h itself")
        }
        if fixedProjection, signal != .prop {
            throw SettingError("interfaces.signal", signal.rawValue, "{interfaces.kind} \(kind.rawValue) is a fixed projection: its signal must be prop")
        }
        if !kind.trainable, centre == .on {
            throw SettingError("interfaces.centre", centre.rawValue, "centres a trained prediction; {interfaces.kind} \(kind.rawValue) is not trained")
        }
        if fixedProjection, warmup > 0, target == .outputError || target == .nextError {
            throw SettingError("interfaces.warmup", warmup, "needs a target shaped like h ({interfaces.target} true or bootstrap)")
        }
    }
}
