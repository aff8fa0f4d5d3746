import Foundation
import XCTest
@testable import Dnic

/// The defaults that make an SG between every pair of layers train
/// (docs/rules-and-interfaces.md): under the locked schedule the default
/// learning rate is divided by the number of SGs in series (one SG keeps
/// it), and a prediction whose boundary has batch norm above is centred
/// over the batch, which keeps the interface's bias C at 0.
extension CLITests {
    static let inSeries = ["train", "--data", "synth:xor-2d", "--width", "8", "--rule", "sg", "--threads", "1"]

    func testTheDefaultRateIsDividedByTheSGsInSeries() throws {
        let every = try dnic(Self.inSeries + ["--hidden", "5", "--sg-at", "every", "--steps", "2"])
        XCTAssertEqual(every.status, 0, every.stderr)
        XCTAssertTrue(every.stdout.contains("adam lr 0.00025 (the default 0.001 / 4 synthetic gradients in series), batch 64"),
                      every.stdout)
        XCTAssertTrue(every.stdout.contains("signal pred, adam lr 0.00025"), "the interfaces follow the network: \(every.stdout)")
        let printed = try dnic(Self.inSeries + ["--hidden", "5", "--sg-at", "every", "--print-config"])
        XCTAssertTrue(printed.stdout.contains("lr: 0.00025"), printed.stdout)
        // one SG, a rate given, fixed projections and sgprop's signal: each as before or by its own rule
        for (extra, expected) in [(["--hidden", "5", "--sg-at", "3"], "adam lr 0.001, batch"),
                                  (["--hidden", "5", "--sg-at", "every", "--lr", "0.002"], "adam lr 0.002, batch"),
                                  (["--hidden", "5", "--rule", "dfa"], "adam lr 0.001, batch"),
                                  (["--hidden", "3", "--sg-at", "every", "--rule", "sgprop"],
                                   "adam lr 0.0005 (the default 0.001 / 2 synthetic gradients in series)")] {
            let r = try dnic(Self.inSeries + extra + ["--steps", "2"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains(expected), "\(extra): \(r.stdout)")
        }
    }

    /// C stays exactly 0 where the layer above has batch norm (auto), and
    /// trains with `--sg-centre off` or without batch norm; the header says
    /// which predictions are centred.
    func testPredictionsUnderBatchNormAreCentredSoTheBiasStaysZero() throws {
        let dir = try tempDir().path
        func biases(_ extra: [String]) throws -> (header: String, c: [Float]) {
            let path = dir + "/m\(extra.joined()).st"
            let r = try dnic(Self.inSeries + ["--hidden", "3", "--sg-at", "every", "--steps", "30", "--save", path] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            let t = try SafeTensors.read(path: path)
            let c = t.tensors.filter { $0.name.hasPrefix("interface") && $0.name.hasSuffix(".C") }.flatMap(\.values)
            XCTAssertEqual(c.count, 16, "two interfaces of 8 units: \(t.tensors.map(\.name))")
            return (r.stdout.split(separator: "\n").first { $0.hasPrefix("rule sg") }.map(String.init) ?? "", c)
        }
        let auto = try biases(["--batchnorm"])
        XCTAssertEqual(auto.c.filter { $0 != 0 }, [], "C moved under batch norm: \(auto.c)")
        XCTAssertTrue(auto.header.hasSuffix(", predictions centred over the batch (batch norm above)"), auto.header)
        for extra in [["--batchnorm", "--sg-centre", "off"], []] {
            let trained = try biases(extra)
            XCTAssertFalse(trained.c.allSatisfy { $0 == 0 }, "\(extra): C never moved")
            XCTAssertFalse(trained.header.contains("centred"), trained.header)
        }
        let asked = try biases(["--sg-centre", "on"])
        XCTAssertEqual(asked.c.filter { $0 != 0 }, [], "C moved with --sg-centre on: \(asked.c)")
        XCTAssertTrue(asked.header.hasSuffix(", predictions centred over the batch"), asked.header)
    }

    func testCentringIsRefusedWhereNothingIsTrained() throws {
        try assertFails(Self.inSeries + ["--hidden", "3", "--sg-centre", "sometimes", "--steps", "2"],
                        status: 2, mentions: ["--sg-centre sometimes", "auto, on, off"])
        try assertFails(Self.inSeries + ["--hidden", "3", "--rule", "dfa", "--sg-centre", "on", "--steps", "2"],
                        status: 2, mentions: ["--sg-centre on", "not trained"])
    }
}
