import Foundation
import XCTest
@testable import Dnic

/// `--classes 1`: one sigmoid output for labels 0 and 1 (binary logistic
/// regression), with `--loss logistic` only; every other loss refused in
/// one line. One-column weights (a one-output layer, a one-unit hidden
/// layer) keep their 2-D shape in checkpoints, so such runs evaluate and
/// resume.
extension CLITests {
    static let oneOutput = ["--data", "synth:linear-2d", "--hidden", "1", "--width", "4", "--threads", "1"]

    func testClassesOneWithLogisticIsOneSigmoidOutputThatSavesAndResumes() throws {
        let dir = try tempDir().path
        let ckpt = dir + "/one.safetensors"
        let one = try dnic(["train"] + Self.oneOutput + ["--steps", "20", "--classes", "1", "--loss", "logistic", "--save", ckpt])
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stdout.contains("network 2-4-1 relu, logistic loss"), one.stdout)
        // the same network as logistic regression on the data's two classes
        let two = try dnic(["train"] + Self.oneOutput + ["--steps", "20", "--classes", "2", "--loss", "logistic"])
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertEqual(one.stdout.split(separator: "\n").last?.split(separator: ",").first,
                       two.stdout.split(separator: "\n").last?.split(separator: ",").first, "same accuracy and loss")
        let eval = try dnic(["eval", "--checkpoint", ckpt, "--data", "synth:linear-2d", "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertEqual(eval.stderr, "")
        let resumed = try dnic(["train", "--resume", ckpt, "--steps", "30", "--threads", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try Checkpoint.load(path: ckpt).step, 30)
    }

    func testClassesOneIsRefusedWithoutTheLogisticLoss() throws {
        let dir = try tempDir().path
        let ckpt = dir + "/never.safetensors"
        let words = "--classes 1: one output needs --loss logistic (one sigmoid for labels 0 and 1)"
        try assertRefused(["train"] + Self.oneOutput + ["--classes", "1", "--save", ckpt],
                          mentions: [words, "--loss ce needs 2 or more"], watching: [dir])
        try assertRefused(["train"] + Self.oneOutput + ["--classes", "1", "--loss", "mse", "--save", ckpt],
                          mentions: [words, "--loss mse needs 2 or more"], watching: [dir])
        try assertRefused(["train"] + Self.oneOutput + ["--classes", "0", "--loss", "logistic", "--save", ckpt],
                          mentions: ["--classes 0: must be between 2 and 4194304, or 1 with --loss logistic"], watching: [dir])
        // named by its config key when the value came from a file
        let config = dir + "/run.yaml"
        try "model:\n  classes: 1\n  loss: mse\n".write(toFile: config, atomically: true, encoding: .utf8)
        try assertRefused(["train", "--config", config, "--data", "synth:linear-2d", "--save", ckpt],
                          mentions: ["model.classes 1: one output needs model.loss logistic", "model.loss mse needs 2 or more"],
                          watching: [dir])
    }

    func testClassesOneRefusesLabelsOtherThanZeroAndOne() throws {
        let dir = try tempDir().path
        let csv = dir + "/three.csv"
        try (0..<30).map { "\($0 % 3),\(Double($0)),1" }.joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let before = snapshot(dir)
        try assertFails(["train", "--data", "csv:\(csv)", "--classes", "1", "--loss", "logistic", "--steps", "2", "--threads", "1"],
                        status: 1, mentions: [csv, "label 2 is outside 0…1"])
        XCTAssertEqual(snapshot(dir), before)
    }

    func testOneUnitHiddenLayerCheckpointEvaluates() throws {
        let ckpt = try tempDir().path + "/narrow.safetensors"
        let r = try dnic(["train", "--data", "synth:linear-2d", "--hidden", "1", "--width", "1", "--steps", "5", "--threads", "1",
                          "--save", ckpt])
        XCTAssertEqual(r.status, 0, r.stderr)
        let eval = try dnic(["eval", "--checkpoint", ckpt, "--data", "synth:linear-2d", "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertEqual(eval.stderr, "")
    }
}
