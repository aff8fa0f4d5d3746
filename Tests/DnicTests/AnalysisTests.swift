import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif
import CDnic
@testable import Dnic

/// The analyses' kernels on known answers: weight-norm shares of hand-set
/// weights; linear probes that reach accuracy 1 on separable classes and
/// chance on random labels, through a network's activations.
final class AnalysisTests: XCTestCase {
    func network(hidden: [Int], input: Int, classes: Int, activation: Activation = .relu) throws -> Network {
        var model = ModelDescription()
        model.layers = hidden.map { LayerSpec(width: $0, activation: activation, batchnorm: false) }
        return try Network(model, inputDim: input, outputDim: classes, maxBatch: 64, seed: 1)
    }

    func testWeightNormSharesOfHandSetWeights() throws {
        let net = try network(hidden: [3, 2], input: 4, classes: 5)
        var p = net.parameters()
        for t in net.tensors {
            let value: Float = t.name == "layer0.weight" ? 1 : t.name == "layer1.weight" ? 2 : t.name == "layer2.weight" ? 100 : 7
            for i in t.offset ..< t.offset + t.size { p[i] = value }
        }
        try net.setParameters(p)
        // layer0: 4x3 ones = 12; layer1: 3x2 twos = 24; the output layer and the biases do not count
        let shares = WeightNorms.normalised(net)
        XCTAssertEqual(shares.count, 2)
        XCTAssertEqual(shares[0], 12.0 / 36.0, accuracy: 1e-12)
        XCTAssertEqual(shares[1], 24.0 / 36.0, accuracy: 1e-12)
        XCTAssertEqual(WeightNorms.layerOfWeight("layer12.weight"), 12)
        XCTAssertNil(WeightNorms.layerOfWeight("layer1.bias"))
    }

    /// Class c's points around 6 e_c; with randomLabels, labels drawn apart from the clusters.
    func clusters(count: Int, dim: Int, classes: Int, randomLabels: Bool, seed: UInt64) -> Dataset {
        var state = seed
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 11 }
        func normal() -> Float {
            let u = (Double(next() % (1 << 52)) + 0.5) / Double(1 << 52), v = (Double(next() % (1 << 52)) + 0.5) / Double(1 << 52)
            return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v))
        }
        var x = [Float](), y = [Int32]()
        for _ in 0 ..< count {
            let c = Int(next() % UInt64(classes))
            var row = (0 ..< dim).map { _ in normal() }
            row[c] += 6
            x += row
            y.append(randomLabels ? Int32(next() % UInt64(classes)) : Int32(c))
        }
        return Dataset(name: "clusters", features: x, labels: y, count: count, dim: dim, classes: classes)
    }

    func testProbesSeparateSeparableClassesAndNotRandomLabels() throws {
        let net = try network(hidden: [32, 16], input: 8, classes: 4, activation: .linear)
        let train = clusters(count: 1500, dim: 8, classes: 4, randomLabels: false, seed: 1)
        let test = clusters(count: 1500, dim: 8, classes: 4, randomLabels: false, seed: 2)
        let results = try LinearProbes.run(net, train: train, test: test)
        XCTAssertEqual(results.map(\.layer), [0, 1, 2], "the input and the hidden layers")
        XCTAssertEqual(results.map(\.width), [8, 32, 16])
        // linear layers keep linear separability: every probe is perfect
        for r in results {
            XCTAssertEqual(r.trainAccuracy, 1, "layer \(r.layer)")
            XCTAssertEqual(r.testAccuracy, 1, "layer \(r.layer)")
        }
        let noise = try LinearProbes.run(net, train: clusters(count: 1500, dim: 8, classes: 4, randomLabels: true, seed: 3),
                                         test: clusters(count: 4000, dim: 8, classes: 4, randomLabels: true, seed: 4))
        for r in noise {
            XCTAssertEqual(r.testAccuracy, 0.25, accuracy: 0.03, "layer \(r.layer): random labels must probe at chance")
        }
        XCTAssertThrowsError(try LinearProbes.run(net, train: train, test: test, ridge: -1))
    }

    /// Both kinds separate separable classes; the softmax probe converges
    /// and a fault in the core comes back with its detail.
    func testSoftmaxAndRidgeProbesAndTheCoresDetail() throws {
        let net = try network(hidden: [8], input: 8, classes: 4, activation: .linear)
        let train = clusters(count: 600, dim: 8, classes: 4, randomLabels: false, seed: 6)
        for kind in LinearProbes.Kind.allCases {
            let results = try LinearProbes.run(net, train: train, test: train, kind: kind)
            XCTAssertEqual(results.map(\.trainAccuracy), [1, 1], "\(kind)")
            XCTAssertEqual(results.map { $0.converged != nil }, [kind == .softmax, kind == .softmax], "\(kind)")
        }
        XCTAssertThrowsError(try SoftmaxProbe.fit([1, 2, 3, 4], count: 2, width: 2, labels: [0, 5], classes: 2)) { error in
            XCTAssertEqual((error as? DnicError)?.message, "fitting a softmax probe: label 5 of row 1 is outside [0, 2)")
        }
        XCTAssertThrowsError(try LinearProbes.run(net, train: train, test: train, l2: -1))
    }

    func testActivationsOfChosenRowsAreTheirForward() throws {
        let net = try network(hidden: [5], input: 3, classes: 2)
        let data = clusters(count: 10, dim: 3, classes: 2, randomLabels: false, seed: 5)
        let all = try net.activations(of: data, layer: 0)
        let picked = try net.activations(of: data, layer: 0, rows: [7, 2, 7])
        XCTAssertEqual(Array(picked[0 ..< 5]), Array(all[35 ..< 40]))
        XCTAssertEqual(Array(picked[5 ..< 10]), Array(all[10 ..< 15]))
        XCTAssertEqual(Array(picked[10 ..< 15]), Array(all[35 ..< 40]))
        XCTAssertThrowsError(try net.activations(of: data, layer: 0, rows: [10]))
        XCTAssertThrowsError(try net.activations(of: data, layer: 0, rows: [-1]))
        XCTAssertThrowsError(try net.activations(of: data, layer: 2))
    }
}

/// The loss a linear interface implies (Figure 2), on known answers.
final class LossSurfaceTests: XCTestCase {
    /// A true loss L(h, y) = ½ hᵀQh + (b_y + c)ᵀh + k_y whose gradient is
    /// hQ + yB + C: the interface with A = Q (plus any antisymmetric part),
    /// B and C set by hand implies L exactly, up to the per-label constant.
    func testImpliedLossReconstructsAKnownQuadratic() {
        let dh = 3
        let q: [Float] = [2, 0.5, -1, 0.5, 1, 0.25, -1, 0.25, 3]           // symmetric
        let skew: [Float] = [0, 0.7, -0.2, -0.7, 0, 0.4, 0.2, -0.4, 0]       // antisymmetric
        let b: [Float] = [0.1, -0.2, 0.3, -1, 0.5, 2]                        // 2 labels
        let c: [Float] = [0.4, 0, -0.6]
        var h = [Float](), labels = [Int32](), truth = [Double]()
        var z: UInt64 = 3
        for r in 0 ..< 50 {
            let x = (0 ..< dh).map { _ -> Float in z = z &* 6364136223846793005 &+ 1; return Float(Int(z >> 40) % 2001 - 1000) / 500 }
            h += x
            let y = r % 2
            labels.append(Int32(y))
            var l = 0.0
            for i in 0 ..< dh {
                for j in 0 ..< dh { l += 0.5 * Double(x[i]) * Double(q[i * dh + j]) * Double(x[j]) }
                l += Double(b[y * dh + i] + c[i]) * Double(x[i])
            }
            truth.append(l)
        }
        for a in [q, zip(q, skew).map { $0 + $1 }] {
            let sg = LossSurface.Linear(dh: dh, a: a, b: b, c: c)
            let implied = sg.implied(h: h, labels: labels)
            for (u, v) in zip(implied, truth) { XCTAssertEqual(u, v, accuracy: 1e-6 * max(1, abs(v))) } // float parameters
            XCTAssertEqual(LossSurface.spearman(implied, truth), 1, accuracy: 1e-12)
        }
    }

    func testSpearmanRanksWithTies() {
        XCTAssertEqual(LossSurface.spearman([1, 2, 3, 4], [10, 20, 30, 400]), 1, accuracy: 1e-12)
        XCTAssertEqual(LossSurface.spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1, accuracy: 1e-12)
        XCTAssertEqual(LossSurface.ranks([5, 1, 5, 2]), [3.5, 1, 3.5, 2])
        XCTAssertTrue(LossSurface.spearman([1, 1, 1], [1, 2, 3]).isNaN, "a constant side has no ranking")
        // a monotone but non-linear relation is still 1
        XCTAssertEqual(LossSurface.spearman([0.1, 0.5, 2, 9], [exp(0.1), exp(0.5), exp(2), exp(9)]), 1, accuracy: 1e-12)
    }

    func testExampleLossesAreTheCoreLossPerRow() throws {
        // two rows of logits, softmax CE: log(1 + e^(other - own))
        let losses = try LossSurface.exampleLosses(outputs: [2, 0, 0, 1], labels: [0, 0], classes: 2, loss: .ce)
        XCTAssertEqual(losses[0], log(1 + exp(-2)), accuracy: 1e-6)
        XCTAssertEqual(losses[1], log(1 + exp(1)), accuracy: 1e-6)
        let mse = try LossSurface.exampleLosses(outputs: [0.5, 0.5], labels: [1], classes: 2, loss: .mse)
        XCTAssertEqual(mse[0], 0.25, accuracy: 1e-7) // ½ (0.25 + 0.25)
    }
}

/// Representational dissimilarity matrices (Figure 3) on known answers.
final class RDMTests: XCTestCase {
    func testIdenticalRowsAreZeroAndNoiseIsOne() {
        let d = 64, n = 30
        let row = (0 ..< d).map { Float(sin(Double($0))) }
        let same = RDM.matrix(Array((0 ..< n).map { _ in row }.joined()), rows: n, width: d)
        XCTAssertLessThan(same.map { abs($0) }.max()!, 1e-5, "identical rows are not dissimilar")
        var z: UInt64 = 9
        let noise = (0 ..< n * 4096).map { _ in Float(dnic_rng_normal_swift(&z)) }
        let r = RDM.matrix(noise, rows: n, width: 4096)
        var off = [Double]()
        for i in 0 ..< n { for j in 0 ..< n where i != j { off.append(Double(r[i * n + j])) } }
        let mean = off.reduce(0, +) / Double(off.count)
        XCTAssertEqual(mean, 1, accuracy: 0.01, "independent noise is uncorrelated")
        XCTAssertLessThan(off.map { abs($0 - 1) }.max()!, 0.08, "each pair: |corr| ~ 1/sqrt(4096)")
        for i in 0 ..< n { XCTAssertEqual(r[i * n + i], 0, accuracy: 1e-5) }
        // a constant row correlates with nothing
        let flat = RDM.matrix(row + Array(repeating: 3, count: d), rows: 2, width: d)
        XCTAssertEqual(flat[1], 1)
        XCTAssertEqual(RDM.blockDistance(r, r, labels: (0 ..< n).map { Int32($0 % 3) }), 0)
        XCTAssertGreaterThan(RDM.blockDistance(r, same, labels: (0 ..< n).map { Int32($0 % 3) }), 1)
    }

    /// The GEMM path equals a plain loop over pairs of rows.
    func testMatrixEqualsPlainCorrelations() {
        var z: UInt64 = 4
        let n = 7, d = 13
        let h = (0 ..< n * d).map { _ in dnic_rng_normal_swift(&z) }
        let r = RDM.matrix(h, rows: n, width: d)
        for i in 0 ..< n {
            for j in 0 ..< n {
                let a = h[i * d ..< (i + 1) * d].map(Double.init), b = h[j * d ..< (j + 1) * d].map(Double.init)
                let ma = a.reduce(0, +) / Double(d), mb = b.reduce(0, +) / Double(d)
                var ab = 0.0, aa = 0.0, bb = 0.0
                for k in 0 ..< d { ab += (a[k] - ma) * (b[k] - mb); aa += (a[k] - ma) * (a[k] - ma); bb += (b[k] - mb) * (b[k] - mb) }
                XCTAssertEqual(Double(r[i * n + j]), 1 - ab / (aa * bb).squareRoot(), accuracy: 1e-5, "(\(i), \(j))")
            }
        }
    }

    func testPointsAreSeededAndLabelOrdered() throws {
        let labels = (0 ..< 300).map { Int32($0 % 3) }
        let data = Dataset(name: "t", features: [Float](repeating: 0, count: 300), labels: labels, count: 300, dim: 1, classes: 3)
        let a = try RDM.points(data, perClass: 40, seed: 1), b = try RDM.points(data, perClass: 40, seed: 1)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, try RDM.points(data, perClass: 40, seed: 2))
        XCTAssertEqual(a.count, 120)
        XCTAssertEqual(a.map { labels[$0] }, (0 ..< 120).map { Int32($0 / 40) })
        XCTAssertEqual(Set(a).count, 120)
        XCTAssertThrowsError(try RDM.points(data, perClass: 101, seed: 1))
    }
}

/// dnic's own normal draws, for test data.
func dnic_rng_normal_swift(_ state: inout UInt64) -> Float { dnic_rng_normal(&state) }
