import Foundation
import XCTest
@testable import Dnic

/// The pipeline schedule through the trainer and the command: the same
/// numbers at 1 and 2 threads, learning on real data, the rules it cannot
/// run refused in one line, the per-block summary, and a checkpoint (taken
/// after draining) that loses no sample.
final class PipelineTests: XCTestCase {
    func config(hidden: Int = 4, at: String = "2", steps: Int = 60, batchnorm: Bool = true) throws -> RunConfig {
        var c = RunConfig()
        c.model.layers = (0..<hidden).map { _ in LayerSpec(width: 24, activation: .relu, batchnorm: batchnorm) }
        c.interfaces = InterfaceSpec(rule: .sg)
        c.interfaces.at = try Placement(parsing: at)
        c.training.schedule = .pipeline
        c.training.batch = 32
        c.training.steps = steps
        return c
    }

    func data() throws -> DataSplit {
        var options = DataOptions()
        options.seed = 3
        return try loadData(.synthetic(name: "linear-100d"), options: options)
    }

    func trainedParameters(_ c: RunConfig, threads: Int) throws -> ([Float], [[Float]], EvaluationRecord) {
        try CoreSystem.setThreads(threads)
        defer { try? CoreSystem.setThreads(2) }
        let trainer = try Trainer(config: c, data: try data())
        let final = try trainer.run()
        let ifaces = trainer.dni.boundaries.indices.map { Array(trainer.dni.block($0)) }
        return (trainer.network.parameters(), ifaces, final)
    }

    /// --threads 2 equals --threads 1 bit for bit: 2, 3 and 5 blocks, with batch norm.
    func testTwoThreadsEqualOneThread() throws {
        for (hidden, at) in [(4, "2"), (4, "1,3"), (6, "1,2,4,5")] {
            let c = try config(hidden: hidden, at: at)
            let (p1, i1, f1) = try trainedParameters(c, threads: 1)
            let (p2, i2, f2) = try trainedParameters(c, threads: 2)
            XCTAssertEqual(p1, p2, "network, \(at)")
            XCTAssertEqual(i1, i2, "interfaces, \(at)")
            XCTAssertEqual(f1.testLoss, f2.testLoss, "\(at)")
            XCTAssertEqual(f1.step, 60)
        }
    }

    /// Learns: the pipeline beats chance clearly on the separable task, and
    /// every batch fed was trained on (the last ones by draining).
    func testLearnsAndDrains() throws {
        let c = try config(steps: 600, batchnorm: false)
        let trainer = try Trainer(config: c, data: try data())
        let final = try trainer.run()
        XCTAssertFalse(trainer.pipeline!.pending, "the pipeline was drained at the end")
        XCTAssertGreaterThan(final.testAccuracy, 0.85) // locked sg: 0.93, the pipeline 0.90 (chance 0.5)
        XCTAssertEqual(trainer.network.optimizerStep, 600, "every batch updated the top block")
    }

    /// The pipeline's default learning rate is the locked one over the
    /// number of blocks; an explicit one is kept, and locked is unchanged.
    func testDefaultLearningRateScalesWithDepth() throws {
        var c = RunConfig()
        c.interfaces = InterfaceSpec(rule: .sg)
        XCTAssertEqual(c.networkOptimizer.learningRate, c.optimizer.learningRate)
        c.training.schedule = .pipeline
        XCTAssertEqual(c.networkOptimizer.learningRate, c.optimizer.kind.defaultLearningRate / 2)
        c.model.layers = Array(repeating: LayerSpec(width: 8), count: 6)
        c.interfaces.at = try Placement(parsing: "2,4")
        XCTAssertEqual(c.networkOptimizer.learningRate, c.optimizer.kind.defaultLearningRate / 3)
        XCTAssertEqual(c.interfaceOptimizer.learningRate, c.optimizer.kind.defaultLearningRate / 3)
        c.optimizer.lr = 0.01
        XCTAssertEqual(c.networkOptimizer.learningRate, 0.01)
    }

    /// What needs the same batch's result from above is refused, naming the setting.
    func testRefusesLockedRules() throws {
        for rule in [Rule.backprop, .fa, .dfa, .sgprop] {
            var c = try config()
            c.interfaces = InterfaceSpec(rule: rule)
            XCTAssertThrowsError(try c.validate(), "\(rule)") { error in
                let e = error as? SettingError
                XCTAssertEqual(e?.key, "training.schedule", "\(rule)")
            }
        }
        var c = try config()
        c.interfaces.target = .true
        XCTAssertThrowsError(try c.validate())
        c = try config()
        c.interfaces.trackAlignment = true
        XCTAssertThrowsError(try c.validate())
        XCTAssertNoThrow(try config().validate())
    }
}

extension CLITests {
    func testPipelineScheduleEndToEnd() throws {
        let r = try dnic(["train", "--data", "synth:xor-2d", "--hidden", "4", "--width", "16", "--rule", "sg",
                          "--sg-at", "1,3", "--schedule", "pipeline", "--steps", "40"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("schedule pipeline (3 blocks)"), r.stdout)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertTrue(lines.dropLast().last?.hasPrefix("pipeline: 3 blocks (bottom first) busy ") == true, r.stdout)
        XCTAssertTrue(lines.last?.hasPrefix("test accuracy") == true, r.stdout)
        try assertFails(["train", "--data", "synth:xor-2d", "--schedule", "pipeline", "--steps", "2"], status: 2,
                        mentions: ["--schedule", "--rule sg", "backprop"])
        try assertFails(["train", "--data", "synth:xor-2d", "--rule", "sg", "--sg-signal", "pred+prop",
                         "--schedule", "pipeline", "--steps", "2"], status: 2, mentions: ["--schedule", "--sg-signal pred"])
    }

    /// A checkpoint under the pipeline is taken after draining: resuming
    /// from it loses no sample and ends where an uninterrupted run with the
    /// same checkpoint interval ends.
    /// With update decoupling too: the draws depend on the batch's number
    /// and each block's step is saved, so the resumed run still matches.
    func testPipelineCheckpointResume() throws {
        for extra in [[], ["--update-prob", "0.6"]] {
            let dir = try tempDir()
            let a = dir.appendingPathComponent("a.safetensors").path, b = dir.appendingPathComponent("b.safetensors").path
            let base = ["train", "--data", "synth:xor-2d", "--hidden", "4", "--width", "16", "--rule", "sg", "--sg-at", "1,3",
                        "--schedule", "pipeline", "--quiet", "--checkpoint-every", "10"] + extra
            let whole = try dnic(base + ["--steps", "30", "--save", a])
            XCTAssertEqual(whole.status, 0, whole.stderr)
            let first = try dnic(base + ["--steps", "10", "--save", b])
            XCTAssertEqual(first.status, 0, first.stderr)
            let rest = try dnic(["train", "--resume", b, "--steps", "30", "--quiet"])
            XCTAssertEqual(rest.status, 0, rest.stderr)
            XCTAssertFalse(whole.stdout.isEmpty)
            XCTAssertEqual(whole.stdout.split(separator: ",").first, rest.stdout.split(separator: ",").first,
                           "\(extra) resumed: \(rest.stdout) straight: \(whole.stdout)")
            // every tensor (parameters, optimizer state) equal; the metadata holds timings
            let ta = try SafeTensors.read(path: a), tb = try SafeTensors.read(path: b)
            XCTAssertEqual(ta.tensors.map(\.name), tb.tensors.map(\.name))
            for t in ta.tensors { XCTAssertEqual(t.values, tb.tensor(t.name)?.values, "\(extra): \(t.name)") }
        }
    }

    func testUpdateProbabilityNeedsThePipeline() throws {
        let r = try dnic(["train", "--data", "synth:xor-2d", "--rule", "sg", "--schedule", "pipeline", "--update-prob", "0.5",
                          "--steps", "20", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        try assertFails(["train", "--data", "synth:xor-2d", "--rule", "sg", "--update-prob", "0.5", "--steps", "2"],
                        status: 2, mentions: ["--update-prob", "--schedule pipeline"])
        try assertFails(["train", "--data", "synth:xor-2d", "--rule", "sg", "--schedule", "pipeline", "--update-prob", "0",
                         "--steps", "2"], status: 2, mentions: ["--update-prob", "(0, 1]"])
    }
}

extension CLITests {
    /// Bad input on the pipeline's paths: one line, exit 2, the setting named
    /// as the user wrote it (a config key from a file, a flag on the command line).
    func testPipelineBadInput() throws {
        let dir = try tempDir()
        let typo = dir.appendingPathComponent("typo.yaml").path
        try "data: synth:xor-2d\ntraining:\n  schedule: pipelin\n".write(toFile: typo, atomically: true, encoding: .utf8)
        try assertFails(["train", "--config", typo], status: 2, mentions: ["training.schedule", "pipelin", "locked, pipeline"])
        let locked = dir.appendingPathComponent("locked.yaml").path
        try "data: synth:xor-2d\ninterfaces:\n  rule: sg\ntraining:\n  update-prob: 0.5\n"
            .write(toFile: locked, atomically: true, encoding: .utf8)
        try assertFails(["train", "--config", locked], status: 2, mentions: ["training.update-prob", "training.schedule"])
        try assertFails(["train", "--data", "synth:xor-2d", "--schedule", "async"], status: 2, mentions: ["--schedule", "async"])
        try assertFails(["train", "--data", "synth:xor-2d", "--rule", "sg", "--schedule", "pipeline", "--update-prob", "nan"],
                        status: 2, mentions: ["--update-prob"])
        try assertFails(["bench", "train", "--schedule", "pipeline"], status: 2, mentions: ["--schedule", "--rule sg"])
        try assertFails(["bench", "train", "--rule", "sg", "--schedule", "pipeline", "--rounds", "0"], status: 2,
                        mentions: ["--rounds 0"])
        try assertFails(["bench", "train", "--rule", "sg", "--sg-at", "x"], status: 2, mentions: ["x"])
        try assertFails(["bench", "train", "--sg-at", "1"], status: 2, mentions: ["--sg-at", "--rule sg"])
    }
}
