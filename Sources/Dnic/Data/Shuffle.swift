import CDnic

/// The one shuffle every part of dnic uses (epochs, held-out splits, RDM
/// points, analysis batches, benchmarks): the core's Fisher–Yates over its
/// splitmix64 (dnic_shuffle), so the same RNG state gives the same order
/// here, in C and in any other front end. Advances `rng`; allocates nothing,
/// so the training loop may call it every epoch.
public func shuffle(_ order: inout [Int32], rng: inout UInt64) {
    // dnic_shuffle fails only on a null pointer, which no array passes
    let status = order.withUnsafeMutableBufferPointer { dnic_shuffle($0.baseAddress, $0.count, &rng) }
    precondition(status == DNIC_OK, "dnic_shuffle failed")
}

/// 0..<n in the order `shuffle` gives them.
public func shuffledIndices(_ n: Int, rng: inout UInt64) -> [Int32] {
    var order = (0 ..< n).map { Int32($0) }
    shuffle(&order, rng: &rng)
    return order
}
