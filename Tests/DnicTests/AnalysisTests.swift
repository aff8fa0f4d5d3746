import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif
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
