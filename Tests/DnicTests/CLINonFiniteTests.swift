import Foundation
import XCTest
@testable import Dnic

/// A NaN or an infinity anywhere in a step (the training loss, an
/// interface's loss, a gradient, a parameter after its update) stops the
/// run at that step with one line naming what and where and a remedy; the
/// last good checkpoint stays as it was and the line says which step it
/// holds. Under every schedule.
extension CLITests {
    /// Three interfaces with a learning rate that overflows them within a few
    /// steps: the interface losses pass float's range (1e38) while every
    /// parameter is still finite, which used to run on with `sg1 loss inf`
    /// and then fail the checkpoint with an EncodingError.
    static let overflowingInterfaces = ["train", "--data", "synth:grid", "--hidden", "4", "--width", "64",
                                        "--rule", "sg", "--sg-at", "1,2,3", "--steps", "600", "--threads", "1"]

    /// The step a checkpoint holds (its metadata), or nil when there is none.
    func checkpointStep(_ path: String) throws -> Int? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try Checkpoint.load(path: path).step
    }

    /// Runs `args` (which overflow), expects exit 1 and one line naming
    /// `what` with a step and a remedy, and checks that the checkpoint the
    /// line names holds the step it says and loads with finite values.
    func assertStopsAtFault(_ args: [String], what: String, remedy: String,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try tempDir()
        let save = dir.appendingPathComponent("run.st").path
        let r = try dnic(args + ["--save", save, "--checkpoint-every", "5"])
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one line: \(r.stderr)", file: file, line: line)
        let text = String(lines.first ?? "")
        XCTAssertTrue(text.hasPrefix("dnic: error: step "), text, file: file, line: line)
        XCTAssertTrue(text.contains(what) && text.contains(remedy), text, file: file, line: line)
        XCTAssertFalse(text.contains("Error") || text.contains("inf (Double)"), text, file: file, line: line)
        XCTAssertFalse(r.stdout.contains(" inf ") || r.stdout.contains("nan"), "no non-finite figure is reported: \(r.stdout)",
                       file: file, line: line)
        let faultStep = Int(text.dropFirst("dnic: error: step ".count).prefix { $0.isNumber }) ?? -1
        // whatever is on disk loads: no NaN or infinity was ever saved
        if let held = try checkpointStep(save) {
            XCTAssertTrue(text.hasSuffix("\(save) still holds step \(held)"), text, file: file, line: line)
            XCTAssertLessThan(held, faultStep, file: file, line: line)
            XCTAssertEqual(held % 5, 0, "only interval checkpoints were written", file: file, line: line)
        } else {
            XCTAssertTrue(text.hasSuffix("no checkpoint was saved"), text, file: file, line: line)
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "run.st" }
        XCTAssertEqual(leftovers, [], "no temporary file is left", file: file, line: line)
    }

    func testOverflowingInterfaceLossStopsTheLockedRun() throws {
        try assertStopsAtFault(Self.overflowingInterfaces + ["--sg-optimizer", "sgd", "--sg-lr", "10"],
                               what: "the loss of the interface after hidden layer", remedy: "try a smaller --sg-lr or --clip-grad")
    }

    func testOverflowingInterfaceLossStopsThePipeline() throws {
        try assertStopsAtFault(Self.overflowingInterfaces + ["--sg-optimizer", "sgd", "--sg-lr", "10", "--schedule", "pipeline"],
                               what: "the loss of the interface after hidden layer", remedy: "try a smaller --sg-lr or --clip-grad")
    }

    func testOverflowingInterfaceLossStopsAsyncBlocks() throws {
        try assertStopsAtFault(Self.overflowingInterfaces + ["--sg-optimizer", "sgd", "--sg-lr", "10", "--schedule", "async"],
                               what: "the loss of the interface after hidden layer", remedy: "try a smaller --sg-lr or --clip-grad")
    }

    /// Adam's second moment (the square of a gradient) overflows while the
    /// parameters stay finite: the checkpoint written then could never be
    /// loaded again, so the update counts it as a fault.
    func testOverflowingOptimizerStateStopsTheRun() throws {
        for schedule in ["locked", "pipeline", "async"] {
            try assertStopsAtFault(Self.overflowingInterfaces + ["--lr", "100", "--schedule", schedule],
                                   what: "or its optimizer state became NaN or infinite in its update",
                                   remedy: "--clip-grad")
        }
    }

    func testOverflowingTrainingLossStopsBackprop() throws {
        try assertStopsAtFault(["train", "--data", "synth:grid", "--hidden", "2", "--width", "32", "--optimizer", "sgd",
                                "--lr", "1e20", "--steps", "50", "--threads", "1"],
                               what: "the training loss is NaN or infinite", remedy: "try a smaller --lr or --clip-grad")
    }

    /// A checkpoint's trainer state with an infinite sum is refused by
    /// name, never passed to JSONEncoder (whose error names Swift types).
    func testAnInfiniteTrainerStateIsNotEncoded() throws {
        let config = try ConfigFile.parse(Data("data: synth:xor-2d\nmodel:\n  layers:\n    - width: 8\n".utf8), name: "t")
        let network = try Network(config.model, inputDim: 2, outputDim: 2, maxBatch: 4, seed: 1)
        let dni = try DNI(network: network, spec: config.interfaces, labelWidth: 2, seed: 1)
        var state = TrainerState()
        state.lossSum = .infinity
        XCTAssertThrowsError(try Checkpoint.encoded(RunSnapshot(config: config, network: network, interfaces: dni, state: state,
                                                                classes: 2, stepsPerEpoch: 1))) { error in
            XCTAssertTrue(error is DnicError, "\(type(of: error))")
            XCTAssertTrue("\(error)".contains("loss_sum"), "\(error)")
        }
    }
}
