/// Everything besides parameters and optimizer state that a run needs to
/// continue exactly where it stopped: position in the data order, the data
/// RNG, and the metric accumulators of the current evaluation interval.
public struct TrainerState: Codable, Equatable, Sendable {
    /// Completed training steps.
    public var step = 0
    /// The data-order RNG at the start of the current epoch, before its shuffle.
    public var epochRNG: UInt64 = 0
    /// Rows of the current epoch already used.
    public var position = 0
    /// Whether an epoch is under way (false before the first shuffle).
    public var inEpoch = false
    public var lossSum = 0.0
    public var lossCount = 0
    public var interfaceLossSums: [Double] = []
    public var interfaceAlignmentSums: [Double] = []
    public var samples = 0
    public var trainingSeconds = 0.0
    /// Under the pipeline, each block's optimizer step when last drained
    /// (they differ under update decoupling); nil otherwise.
    public var blockSteps: [Int64]?

    public init() {}

    /// The first sum or time that is NaN or infinite, by its stored name
    /// (JSON has no such numbers, so such a state cannot be saved).
    var nonFiniteField: String? {
        if !lossSum.isFinite { return "loss_sum" }
        if !trainingSeconds.isFinite { return "training_seconds" }
        if !interfaceLossSums.allSatisfy(\.isFinite) { return "interface_loss_sums" }
        if !interfaceAlignmentSums.allSatisfy(\.isFinite) { return "interface_alignment_sums" }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case step, position
        case epochRNG = "epoch_rng", inEpoch = "in_epoch", lossSum = "loss_sum", lossCount = "loss_count"
        case interfaceLossSums = "interface_loss_sums", interfaceAlignmentSums = "interface_alignment_sums"
        case samples, trainingSeconds = "training_seconds", blockSteps = "block_steps"
    }

    // UInt64 is written as a decimal string: JSON numbers lose precision above 2^53
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step)
        guard let rng = UInt64(try c.decode(String.self, forKey: .epochRNG)) else {
            throw DnicError("trainer state: epoch_rng is not an unsigned integer")
        }
        epochRNG = rng
        position = try c.decode(Int.self, forKey: .position)
        inEpoch = try c.decode(Bool.self, forKey: .inEpoch)
        lossSum = try c.decode(Double.self, forKey: .lossSum)
        lossCount = try c.decode(Int.self, forKey: .lossCount)
        interfaceLossSums = try c.decode([Double].self, forKey: .interfaceLossSums)
        interfaceAlignmentSums = try c.decode([Double].self, forKey: .interfaceAlignmentSums)
        samples = try c.decode(Int.self, forKey: .samples)
        trainingSeconds = try c.decode(Double.self, forKey: .trainingSeconds)
        blockSteps = try c.decodeIfPresent([Int64].self, forKey: .blockSteps)
        if let b = blockSteps, b.count > 4097 || !b.allSatisfy({ (0...Int64(maxTrainingSamples)).contains($0) }) {
            throw DnicError("trainer state: block_steps must be at most 4097 counters in 0...2^53")
        }
        // counters of a run stay within its 2^53 samples, so a lying file
        // cannot make the arithmetic of a resumed run overflow
        let most = maxTrainingSamples
        guard (0...most).contains(step), (0...most).contains(position), (0...most).contains(lossCount),
              (0...most).contains(samples) else {
            throw DnicError("trainer state: counters must lie in 0...2^53")
        }
        guard trainingSeconds.isFinite, trainingSeconds >= 0, lossSum.isFinite,
              (interfaceLossSums + interfaceAlignmentSums).allSatisfy(\.isFinite) else {
            throw DnicError("trainer state: sums and times must be finite")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encode(String(epochRNG), forKey: .epochRNG)
        try c.encode(position, forKey: .position)
        try c.encode(inEpoch, forKey: .inEpoch)
        try c.encode(lossSum, forKey: .lossSum)
        try c.encode(lossCount, forKey: .lossCount)
        try c.encode(interfaceLossSums, forKey: .interfaceLossSums)
        try c.encode(interfaceAlignmentSums, forKey: .interfaceAlignmentSums)
        try c.encode(samples, forKey: .samples)
        try c.encode(trainingSeconds, forKey: .trainingSeconds)
        try c.encodeIfPresent(blockSteps, forKey: .blockSteps)
    }
}
