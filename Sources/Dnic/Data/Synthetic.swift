// The paper's artificial data (Section 4, "Artificial Data", and Figure 2),
// generated in process from options.seed.
//
// The paper uses "2 and 100 dimensional versions of four basic datasets"
// defined in its Supplementary Section D, which is not available; these are
// our definitions. All sets are binary (labels 0/1; classes = 2 unless
// DataOptions.classes widens the output layer), inputs are
// Float, and every random choice comes from DataRandom's synthetic stream:
// the same seed gives identical data, another seed other data.
//
// Basic sets, D = 2 or 100; 2500 points, of which round(testFraction * 2500)
// are the test set (default 0.2: 2000 train + 500 test). Inputs x ~ N(0, I_D).
// Labels are exactly balanced in each part (counts differ by at most one):
// the label is drawn first, then the input is reflected into its class,
// which keeps the Gaussian's shape because every rule below is odd in x or x1.
//   linear-D  label = [x . w > 0] for a random unit normal w through the
//             origin, with margin: points with |x . w| < 0.1 are redrawn,
//             so the set is linearly separable with a gap of 0.2.
//   noisy-D   linear-D with 10% of the train labels flipped (5% of the points
//             of each class, so the balance stays exact). The test set keeps
//             the clean rule, so test accuracy says how well the rule was
//             learnt through the noise.
//   random-D  labels independent of the inputs (train and test alike).
//   xor-D     label = [x1 * x2 > 0]: in 2-D the sign of x1*x2, in 100-D the
//             parity of the signs of the first two coordinates, the other 98
//             being distractors. Not linearly separable; no margin.
// Grid sets (Figure 2, drawn as loss surfaces over the plane):
//   grid         train: the 20x20 regular grid on [-1, 1]^2 (step 2/19),
//                labelled by a random line through the origin,
//                label = [x . w > 0], except a random 10% (40 points) that get
//                random labels (balanced among them; about half therefore
//                keep their rule label). Test: the finer 41x41 grid (step
//                0.05) with the clean rule.
//   grid-random  the same grids with every label random (balanced).
// Grid points are in row-major order, y outer and x inner, both from -1 up,
// so per-point values reshape to a side x side image; testFraction does not
// apply to them.

import Foundation

/// The names accepted by `synth:NAME`.
public enum SyntheticDataset: String, CaseIterable, Sendable {
    case linear2D = "linear-2d"
    case linear100D = "linear-100d"
    case noisy2D = "noisy-2d"
    case noisy100D = "noisy-100d"
    case random2D = "random-2d"
    case random100D = "random-100d"
    case xor2D = "xor-2d"
    case xor100D = "xor-100d"
    case grid = "grid"
    case gridRandom = "grid-random"

    /// Points in a basic set, train and test together.
    public static let basicCount = 2500
    /// Margin of linear-D and noisy-D around the hidden hyperplane.
    public static let margin: Float = 0.1
    /// Fraction of train labels flipped in noisy-D, and relabelled in grid.
    public static let noiseFraction = 0.1
    /// Points per side of the train grid and of the (finer) test grid.
    public static let gridTrainSide = 20
    public static let gridTestSide = 41

    /// Input dimension.
    public var dim: Int {
        switch self {
        case .linear100D, .noisy100D, .random100D, .xor100D: return 100
        default: return 2
        }
    }

    /// One line for --help listings.
    public var summary: String {
        switch self {
        case .linear2D, .linear100D: return "Gaussian inputs, labels by a random hyperplane, margin 0.1"
        case .noisy2D, .noisy100D: return "as linear, 10% of train labels flipped"
        case .random2D, .random100D: return "Gaussian inputs, labels independent of inputs"
        case .xor2D, .xor100D: return "Gaussian inputs, label = [x1 * x2 > 0]"
        case .grid: return "20x20 grid on [-1,1]^2, linear labels with 10% random; test 41x41"
        case .gridRandom: return "20x20 grid on [-1,1]^2, all labels random; test 41x41"
        }
    }

    /// "linear-2d, linear-100d, ..." for messages.
    public static var allNames: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Generates `dataset` (train and test) from `options.seed`; the basic sets
/// size their test part by `options.testFraction`. The labels are 0 and 1;
/// `options.classes` (default 2, at most maxClasses) sets `classes`.
public func makeSynthetic(_ dataset: SyntheticDataset, options: DataOptions) throws -> DataSplit {
    try generateSynthetic(dataset, options: options).split
}

/// The split and the hidden unit normal `w` of its rule [x . w > 0] (drawn
/// for every set, so all share one stream layout; unused by random and xor).
func generateSynthetic(_ dataset: SyntheticDataset, options: DataOptions) throws -> (split: DataSplit, rule: [Float]) {
    let classes = options.classes ?? 2
    try checkClasses(classes)
    var rng = DataRandom(seed: options.seed, stream: .synthetic)
    let name = DataSpec.synthetic(name: dataset.rawValue).description
    func pack(_ part: String, _ x: [Float], _ y: [Int32], _ dim: Int) -> Dataset {
        Dataset(name: name + "/" + part, features: x, labels: y, count: y.count, dim: dim, classes: classes)
    }
    switch dataset {
    case .grid, .gridRandom:
        let random = dataset == .gridRandom
        let theta = 2 * Float.pi * rng.uniform()
        let w = [cos(theta), sin(theta)]
        let train = gridSet(side: SyntheticDataset.gridTrainSide, w: w,
                            relabel: random ? 1 : SyntheticDataset.noiseFraction, rng: &rng)
        let test = gridSet(side: SyntheticDataset.gridTestSide, w: w, relabel: random ? 1 : 0, rng: &rng)
        return (DataSplit(train: pack("train", train.x, train.y, 2), test: pack("test", test.x, test.y, 2)), w)
    default:
        let total = SyntheticDataset.basicCount
        let testCount = Int((options.testFraction * Double(total)).rounded())
        guard options.testFraction > 0, options.testFraction < 1, testCount >= 1, testCount < total else {
            throw DataError("\(name): test fraction \(options.testFraction) leaves no train or no test points of \(total)")
        }
        let dim = dataset.dim
        var w = (0 ..< dim).map { _ in rng.normal() }
        let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
        w = w.map { $0 / norm }
        let train = basicSet(dataset, count: total - testCount, w: w, isTrain: true, rng: &rng)
        let test = basicSet(dataset, count: testCount, w: w, isTrain: false, rng: &rng)
        return (DataSplit(train: pack("train", train.x, train.y, dim), test: pack("test", test.x, test.y, dim)), w)
    }
}

/// `count` labels, half 0 and half 1 (the extra one is 1), in random order.
private func balancedLabels(_ count: Int, rng: inout DataRandom) -> [Int32] {
    let order = rng.permutation(count)
    var y = [Int32](repeating: 0, count: count)
    for (rank, i) in order.enumerated() where rank >= count / 2 { y[i] = 1 }
    return y
}

@inline(__always) private func dot(_ x: ArraySlice<Float>, _ w: [Float]) -> Float {
    var s: Float = 0
    for (a, b) in zip(x, w) { s += a * b }
    return s
}

private func basicSet(_ kind: SyntheticDataset, count: Int, w: [Float], isTrain: Bool,
                      rng: inout DataRandom) -> (x: [Float], y: [Int32]) {
    let dim = kind.dim
    var y = balancedLabels(count, rng: &rng)
    var x = [Float](repeating: 0, count: count * dim)
    for i in 0 ..< count {
        let row = i * dim ..< (i + 1) * dim
        let positive = y[i] == 1
        while true {
            for j in row { x[j] = rng.normal() }
            switch kind {
            case .linear2D, .linear100D, .noisy2D, .noisy100D:
                let s = dot(x[row], w)
                if abs(s) < SyntheticDataset.margin { continue }
                if (s > 0) != positive { for j in row { x[j] = -x[j] } }
            case .xor2D, .xor100D:
                let s = x[row.lowerBound] * x[row.lowerBound + 1]
                if s == 0 { continue }
                if (s > 0) != positive { x[row.lowerBound] = -x[row.lowerBound] }
            default:
                break  // random-D: the label says nothing about x
            }
            break
        }
    }
    if isTrain, kind == .noisy2D || kind == .noisy100D {
        // Flip the same number in each class so the balance stays exact.
        let perClass = Int((SyntheticDataset.noiseFraction * Double(count) / 2).rounded())
        var flipped = [0, 0]
        var flips = [Int]()
        for i in rng.permutation(count) where flipped[Int(y[i])] < perClass {
            flipped[Int(y[i])] += 1
            flips.append(i)
        }
        for i in flips { y[i] = 1 - y[i] }
    }
    return (x, y)
}

/// A side x side grid on [-1, 1]^2 labelled by [x . w > 0], with a random
/// `relabel` fraction of the points given balanced random labels instead.
private func gridSet(side: Int, w: [Float], relabel: Double,
                     rng: inout DataRandom) -> (x: [Float], y: [Int32]) {
    let count = side * side
    var x = [Float](repeating: 0, count: 2 * count)
    var y = [Int32](repeating: 0, count: count)
    for r in 0 ..< side {
        for c in 0 ..< side {
            let i = r * side + c
            let px = -1 + 2 * Float(c) / Float(side - 1)
            let py = -1 + 2 * Float(r) / Float(side - 1)
            x[2 * i] = px
            x[2 * i + 1] = py
            y[i] = px * w[0] + py * w[1] > 0 ? 1 : 0
        }
    }
    let k = Int((relabel * Double(count)).rounded())
    if k > 0 {
        let chosen = rng.permutation(count).prefix(k)
        let labels = balancedLabels(k, rng: &rng)
        for (i, label) in zip(chosen, labels) { y[i] = label }
    }
    return (x, y)
}
