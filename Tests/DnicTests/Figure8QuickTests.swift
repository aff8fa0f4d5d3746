import Foundation
import XCTest

/// `dnic reproduce fig8 --quick`: the probes are softmax classifiers
/// trained to convergence (every one stopped by a convergence rule, not
/// the iteration cap), and what must hold at small scale does: 1,000
/// training points in 784 dimensions are linearly separable, and the probe
/// on the raw input (the baseline, measured in the same run and stated in
/// the summary) separates them — least squares did not (0.991 here); the SG
/// model's layer-2 probe classifies its training points about as well as
/// backprop's and generalises far above chance.
extension CLITests {
    func testFigure8QuickProbesAreConvergedSoftmaxWithAnInputBaseline() throws {
        let out = try tempDir().appendingPathComponent("results").path
        let r = try dnic(["reproduce", "fig8", "--quick", "--out", out, "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try json("\(out)/fig8/fig8.json") as? [[String: Any]] ?? []
        XCTAssertEqual(rows.count, 3)
        let layers = rows.map { $0["layers"] as? [[String: Any]] ?? [] }
        for (row, ls) in zip(rows, layers) {
            XCTAssertGreaterThan(ls.count, 2)
            for l in ls {
                XCTAssertEqual(l["converged"] as? Bool, true, "\(row["model"] ?? "?") \(l)")
                XCTAssertGreaterThan(l["iterations"] as? Int ?? 0, 0, "\(l)")
            }
        }
        func train(_ model: Int, _ layer: Int) -> Double { layers[model][layer]["trainAccuracy"] as? Double ?? .nan }
        XCTAssertEqual(train(0, 0), train(1, 0), "one input probe for all models")
        XCTAssertEqual(train(0, 0), 1, "1,000 points in 784 dimensions: the softmax probe separates them")
        XCTAssertGreaterThan(layers[1][2]["testAccuracy"] as? Double ?? 0, 0.6, "the SG model's layer 2, on the test set")
        XCTAssertGreaterThan(train(1, 2), train(0, 2) - 0.03, "as with backprop")
        let summary = try String(contentsOfFile: "\(out)/fig8/summary.md", encoding: .utf8)
        XCTAssertTrue(summary.contains("softmax-probe training accuracy on hidden layer 2"), summary)
        XCTAssertTrue(summary.contains("*Baseline:* the same probe on the raw input"), summary)
        XCTAssertTrue(summary.contains("converged"), summary)
    }
}
