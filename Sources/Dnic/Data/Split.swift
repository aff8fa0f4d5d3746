// Seeded randomness for the data layer and the seeded hold-out splits
// (validation from train; test from a CSV without a test file).
//
// Every random choice here goes through the C core's splitmix64
// (dnic_rng_next / dnic_shuffle), so a C or Python program with the same
// seed can regenerate the same data. Each use draws from its own stream,
// derived from (seed, stream), so for example changing validationFraction
// does not change the synthetic points.

import CDnic

/// An explicit random state (no global generator: Swift 6 forbids shared
/// mutable state, and reproducibility needs the seed to be the only input).
struct DataRandom {
    /// Independent uses of one seed.
    enum Stream: UInt64 {
        case synthetic = 0x5EED_DA7A_0000_0001
        case testSplit = 0x5EED_DA7A_0000_0002
        case validation = 0x5EED_DA7A_0000_0003
    }

    var state: UInt64

    init(seed: UInt64, stream: Stream) {
        // Hash (seed, stream) once so nearby seeds start far apart.
        var s = seed ^ stream.rawValue
        state = dnic_rng_next(&s)
    }

    mutating func next() -> UInt64 { dnic_rng_next(&state) }
    /// Uniform in [0, 1).
    mutating func uniform() -> Float { dnic_rng_uniform(&state) }
    /// Standard normal.
    mutating func normal() -> Float { dnic_rng_normal(&state) }

    /// A uniformly random permutation of 0..<n (Fisher-Yates in the core).
    mutating func permutation(_ n: Int) -> [Int] {
        shuffledIndices(n, rng: &state).map(Int.init)
    }
}

/// Moves `round(fraction * count)` examples (at least 1), chosen by a seeded
/// shuffle, out of `data` into the returned part; `data` keeps the rest,
/// renamed `train`. Both keep the original order of their examples, so a
/// grid stays a grid. Only the held-out part is copied: the rest is
/// compacted in place, so holding out 20% of a loaded set costs 1.2x its
/// size, not 2x (when `data`'s arrays are not shared, as loaders ensure).
func holdOut(_ data: inout Dataset, fraction: Double, seed: UInt64, stream: DataRandom.Stream,
             train: String, part: String) throws -> Dataset {
    let n = data.count
    let k = max(1, Int((fraction * Double(n)).rounded()))
    guard k < n else {
        throw DataError("\(pathText(data.name)): cannot hold out \(k) of \(n) examples (fraction \(fraction)) and keep any to train on")
    }
    var rng = DataRandom(seed: seed, stream: stream)
    let order = rng.permutation(n)
    let held = order[0 ..< k].sorted()
    let heldPart = data.subset(held, name: part)
    var isHeld = [Bool](repeating: false, count: n)
    for i in held { isHeld[i] = true }
    let dim = data.dim
    // Kept rows move down to the next free row, in order; the write row never
    // passes the read row, so no row is overwritten before it moves.
    data.features.withUnsafeMutableBufferPointer { x in
        guard let base = x.baseAddress else { return }
        var to = 0
        for from in 0 ..< n where !isHeld[from] {
            if to != from { (base + to * dim).update(from: base + from * dim, count: dim) }
            to += 1
        }
    }
    var to = 0
    for from in 0 ..< n where !isHeld[from] {
        data.labels[to] = data.labels[from]
        to += 1
    }
    data.features.removeLast(k * dim)
    data.labels.removeLast(k)
    data.count = n - k
    data.name = train
    return heldPart
}
