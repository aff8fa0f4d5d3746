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
        var idx = (0 ..< n).map { Int32($0) }
        let status = idx.withUnsafeMutableBufferPointer { dnic_shuffle($0.baseAddress, n, &state) }
        precondition(status == DNIC_OK, "dnic_shuffle failed")
        return idx.map(Int.init)
    }
}

/// Splits `data` into (rest, part) with `round(fraction * count)` examples
/// (at least 1) in `part`, chosen by a seeded shuffle. Both parts keep the
/// original order of their examples, so a grid stays a grid.
func holdOut(_ data: Dataset, fraction: Double, seed: UInt64, stream: DataRandom.Stream,
             train: String, part: String) throws -> (rest: Dataset, part: Dataset) {
    let n = data.count
    let k = max(1, Int((fraction * Double(n)).rounded()))
    guard k < n else {
        throw DataError("\(data.name): cannot hold out \(k) of \(n) examples (fraction \(fraction)) and keep any to train on")
    }
    var rng = DataRandom(seed: seed, stream: stream)
    let order = rng.permutation(n)
    let held = order[0 ..< k].sorted()
    let kept = order[k...].sorted()
    return (data.subset(kept, name: train), data.subset(held, name: part))
}
