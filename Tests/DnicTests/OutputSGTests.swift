import Foundation
import XCTest
@testable import Dnic

/// A synthetic gradient on the output p, before the loss (the paper's
/// Table 2 and Theorem 1), through the CLI: `--sg-at output`, for a linear
/// model (no hidden layer) and a deep linear network.
extension CLITests {
    /// Trains, saves and returns the checkpoint with its training set.
    func trainAndLoad(_ dir: URL, _ name: String, _ args: [String], data: String = "synth:linear-2d") throws -> (Checkpoint.Loaded, Dataset) {
        let path = dir.appendingPathComponent("\(name).safetensors").path
        let r = try dnic(["train", "--data", data, "--classes", "2", "--threads", "1", "--quiet", "--save", path] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        let loaded = try Checkpoint.load(path: path)
        var options = DataOptions()
        options.seed = loaded.config.training.seed
        options.validationFraction = loaded.config.training.validation
        options.classes = loaded.config.model.classes
        return (loaded, try loadData(DataSpec.parse(data), options: options).train)
    }

    /// Theorem 1: with MSE, a linear SG on the output of a linear model
    /// (and of a deep linear network, or in its middle) leads to the
    /// least-squares solution (measured: relative error 6e-7, 5e-7, 2e-7).
    /// Full-batch gradient descent, so the comparison is with the optimum
    /// itself, not a noisy neighbourhood of it.
    func testLinearSGOnTheOutputReachesLeastSquares() throws {
        let dir = try tempDir()
        let gd = ["--loss", "mse", "--optimizer", "sgd", "--batch", "2000", "--activation", "linear"]
        for (name, model) in [("linear", ["--hidden", "0", "--lr", "0.5", "--epochs", "3000", "--sg-at", "output"]),
                              ("deep", ["--hidden", "2", "--width", "4", "--lr", "0.1", "--epochs", "6000", "--sg-at", "output"]),
                              ("deep, SG in the middle", ["--hidden", "2", "--width", "4", "--lr", "0.1", "--epochs", "6000", "--sg-at", "1"])] {
            let (c, train) = try trainAndLoad(dir, name.replacingOccurrences(of: " ", with: "-").replacingOccurrences(of: ",", with: ""),
                                              gd + model + ["--rule", "sg", "--sg-lr", "0.1"])
            XCTAssertEqual(train.count, 2000)
            // the least-squares map from [x 1] to one-hot labels (ridge 0)
            let w = try LinearProbes.fit(train.features, count: train.count, width: 2, labels: train.labels, classes: 2, lambda: 0)
            let out = try c.network.activations(of: train, layer: c.network.layerCount - 1)
            var err = 0.0, norm = 0.0
            for r in 0 ..< train.count {
                for k in 0 ..< 2 {
                    let ls = Double(w[2 * 2 + k]) + Double(train.features[2 * r]) * Double(w[k]) + Double(train.features[2 * r + 1]) * Double(w[2 + k])
                    err += (Double(out[2 * r + k]) - ls) * (Double(out[2 * r + k]) - ls)
                    norm += ls * ls
                }
            }
            XCTAssertLessThan((err / norm).squareRoot(), 1e-4, "\(name): the SG-trained outputs are not the least-squares fit")
        }
    }

    /// Table 2: with log loss the gradient at the output, softmax(p) - y,
    /// approaches a step in p on separable data; a linear SG cannot follow
    /// it, so training settles above backprop's loss (an equilibrium of SG
    /// and model); d * sigmoid(pA) + yB + C can, and closes the gap. On
    /// linear-100d (100 inputs, 2 outputs; with as many outputs as inputs
    /// the linear SG's equilibrium is the true optimum, measured on
    /// linear-2d), 10,000 full-batch steps, final training loss measured:
    /// backprop 0.0117, linear SG 0.0368, sigmoid SG 0.0037 (its signal
    /// runs ahead of backprop's at this --sg-lr).
    func testLogLossOnTheOutputNeedsANonlinearSG() throws {
        let dir = try tempDir()
        let gd = ["--hidden", "0", "--optimizer", "sgd", "--lr", "0.1", "--batch", "2000", "--epochs", "10000"]
        var loss = [String: Double]()
        for (name, rule) in [("backprop", ["--rule", "backprop"]),
                             ("linear", ["--rule", "sg", "--sg-at", "output", "--sg-lr", "0.01"]),
                             ("sigmoid", ["--rule", "sg", "--sg-at", "output", "--sg-kind", "sigmoid", "--sg-lr", "0.1"])] {
            let (c, train) = try trainAndLoad(dir, name, gd + rule, data: "synth:linear-100d")
            loss[name] = try c.network.evaluate(train).loss
        }
        let bp = loss["backprop"]!, linear = loss["linear"]!, sigmoid = loss["sigmoid"]!
        XCTAssertGreaterThan(linear, 2 * bp, "a linear SG on log loss should stall above backprop: \(loss)")
        XCTAssertLessThan(sigmoid - bp, 0.25 * (linear - bp), "a sigmoid SG should close most of the gap: \(loss)")
    }

    func testOutputPlacementRefusals() throws {
        try assertFails(["train", "--data", "synth:linear-2d", "--hidden", "2", "--rule", "sg", "--sg-at", "output", "--schedule", "pipeline"],
                        status: 2, mentions: ["--schedule pipeline", "output"])
        try assertFails(["train", "--data", "synth:linear-2d", "--hidden", "2", "--rule", "dfa", "--sg-at", "output"],
                        status: 2, mentions: ["--sg-at output", "every hidden layer"])
        try assertFails(["train", "--data", "synth:linear-2d", "--sg-at", "outputs"], status: 2, mentions: ["outputs", "output"])
    }
}
