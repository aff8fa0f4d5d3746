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
        c.training.seed = 3
        c.data = "synth:linear-100d" // what data() loads: a checkpoint records both and they must agree
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

    /// A checkpoint taken with batches in flight (here at a stop after step
    /// 23, as a signal would) holds them: the resumed run ends bit for bit
    /// where the uninterrupted one ends, with update decoupling too, and a
    /// resume under another schedule finishes them first (none is lost).
    func testInflightCheckpointResumesBitForBit() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-inflight-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        for prob in [nil, 0.6] {
            var c = try config(hidden: 4, at: "1,3", steps: 60)
            c.training.updateProb = prob
            let straight = try Trainer(config: c, data: try data())
            _ = try straight.run()
            let cut = try Trainer(config: c, data: try data())
            let path = dir.appendingPathComponent("cut.safetensors").path
            XCTAssertThrowsError(try cut.run(checkpoint: { t in
                XCTAssertTrue(t.pipeline!.pending, "nothing in flight at the stop")
                try Checkpoint.save(t.snapshot(), to: path)
            }, shouldStop: { cut.state.step == 23 }))
            let loaded = try Checkpoint.load(path: path)
            XCTAssertNotNil(loaded.inflight, "the checkpoint holds no batch in flight")
            let resumed = try Trainer(config: c, data: try data(), restoring: loaded)
            _ = try resumed.run()
            XCTAssertEqual(resumed.network.parameters(), straight.network.parameters(), "prob \(String(describing: prob))")
            for i in straight.dni.boundaries.indices {
                XCTAssertEqual(Array(resumed.dni.block(i)), Array(straight.dni.block(i)), "interface \(i)")
            }
            XCTAssertEqual(resumed.state.blockSteps, straight.state.blockSteps)
            XCTAssertEqual(resumed.state.samples, straight.state.samples)
            // the same checkpoint resumed locked: the batches in flight finish first
            var locked = c
            locked.training.schedule = .locked
            locked.training.updateProb = nil
            let other = try Trainer(config: locked, data: try data(), restoring: try Checkpoint.load(path: path))
            if prob == nil { XCTAssertEqual(other.network.optimizerStep, 23, "every batch counted updated the top block") }
            _ = try other.run()
            XCTAssertEqual(other.state.step, 60)
        }
        // a lying in-flight state is refused when the run is built
        let path = dir.appendingPathComponent("cut.safetensors").path
        var file = try SafeTensors.read(path: path)
        file.metadata["pipeline_inflight"] = "1,2,3"
        let liar = dir.appendingPathComponent("liar.safetensors").path
        try file.encoded().write(to: URL(fileURLWithPath: liar))
        var c = try config(hidden: 4, at: "1,3", steps: 60)
        c.training.updateProb = 0.6
        XCTAssertThrowsError(try Trainer(config: c, data: try data(), restoring: try Checkpoint.load(path: liar))) {
            XCTAssertTrue("\($0)".contains("batches in flight (metadata pipeline_inflight"), "\($0)")
        }
    }

    /// An oracle interface under the pipeline: its block waits for the true
    /// gradient (delayed), learns, and a checkpoint drains it (its kept
    /// inputs are not saved) so a resume loses no sample.
    func testOraclePipelineDrainsAtCheckpoints() throws {
        var c = try config(hidden: 4, at: "2", steps: 600, batchnorm: false)
        c.interfaces.kind = .oracle
        XCTAssertNoThrow(try c.validate())
        let straight = try Trainer(config: c, data: try data())
        let final = try straight.run()
        XCTAssertGreaterThan(final.testAccuracy, 0.8) // locked oracle = backprop: 0.90; chance 0.5
        XCTAssertEqual(straight.state.blockSteps, [600, 600])
        let cut = try Trainer(config: c, data: try data())
        var saved: Data?
        XCTAssertThrowsError(try cut.run(checkpoint: { t in saved = try Checkpoint.encoded(t.snapshot()) },
                                         shouldStop: { cut.state.step == 230 }))
        XCTAssertEqual(cut.state.blockSteps, [230, 230], "the checkpoint drained every block")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-oracle-\(UUID().uuidString).st")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try XCTUnwrap(saved).write(to: dir)
        let loaded = try Checkpoint.load(path: dir.path)
        XCTAssertNil(loaded.inflight)
        let resumed = try Trainer(config: c, data: try data(), restoring: loaded)
        _ = try resumed.run()
        XCTAssertEqual(resumed.state.blockSteps, [600, 600])
        XCTAssertEqual(resumed.state.samples, straight.state.samples)
        c.training.schedule = .async
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? SettingError)?.key, "training.schedule") }
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
        let oracle = try dnic(["train", "--data", "synth:xor-2d", "--rule", "sg", "--sg-kind", "oracle",
                               "--schedule", "pipeline", "--steps", "40", "--quiet"])
        XCTAssertEqual(oracle.status, 0, oracle.stderr)
        try assertFails(["train", "--data", "synth:xor-2d", "--rule", "sg", "--sg-kind", "oracle", "--schedule", "async",
                         "--steps", "2"], status: 2, mentions: ["--schedule", "oracle", "pipeline"])
    }

    /// A checkpoint under the pipeline holds the batches in flight, so a
    /// run stopped by SIGINT wherever it was, and resumed, ends bit for bit
    /// where the uninterrupted run ends (every tensor: parameters and
    /// optimizer state); with update decoupling too (each block's step is
    /// saved and the draws depend on the batch's number).
    func testPipelineSIGINTResumesBitForBit() throws {
        for extra in [[], ["--update-prob", "0.6"]] {
            let dir = try tempDir()
            let a = dir.appendingPathComponent("a.safetensors").path, b = dir.appendingPathComponent("b.safetensors").path
            let base = ["train", "--data", "synth:xor-2d", "--hidden", "4", "--width", "16", "--rule", "sg", "--sg-at", "1,3",
                        "--schedule", "pipeline", "--quiet", "--checkpoint-every", "5", "--steps", "600"] + extra
            let whole = try dnic(base + ["--save", a])
            XCTAssertEqual(whole.status, 0, whole.stderr)
            let process = Process()
            process.executableURL = Self.executable
            process.arguments = base + ["--save", b]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, ((try? Checkpoint.load(path: b))?.step ?? 0) < 10 { usleep(5_000) }
            kill(process.processIdentifier, SIGINT)
            process.waitUntilExit()
            let stopped = try Checkpoint.load(path: b)
            XCTAssertEqual(process.terminationStatus, 130, "\(extra): the run ended before the signal")
            XCTAssertNotNil(stopped.inflight, "\(extra): stopped at step \(stopped.step) with nothing in flight")
            let rest = try dnic(["train", "--resume", b, "--quiet"])
            XCTAssertEqual(rest.status, 0, rest.stderr)
            XCTAssertEqual(whole.stdout.split(separator: ",").first, rest.stdout.split(separator: ",").first,
                           "\(extra) stopped at \(stopped.step), resumed: \(rest.stdout) straight: \(whole.stdout)")
            let ta = try SafeTensors.read(path: a), tb = try SafeTensors.read(path: b)
            XCTAssertEqual(ta.tensors.map(\.name), tb.tensors.map(\.name))
            let differing = ta.tensors.filter { $0.values != tb.tensor($0.name)?.values }.map(\.name)
            XCTAssertEqual(differing, [], "\(extra): stopped at step \(stopped.step)")
        }
    }

    /// An unlocked run's header says where its learning rate came from when
    /// the schedule chose it (the default over the blocks); a rate given, or
    /// a locked run, has no such note.
    func testTheHeaderSaysTheScheduleChoseTheLearningRate() throws {
        let run = ["train", "--data", "synth:xor-2d", "--rule", "sg", "--steps", "2", "--threads", "1"]
        let unlocked = try dnic(run + ["--schedule", "pipeline"])
        XCTAssertEqual(unlocked.status, 0, unlocked.stderr)
        XCTAssertTrue(unlocked.stdout.contains("adam lr 0.0005 (the default 0.001 / 2 blocks, unlocked), batch 64"), unlocked.stdout)
        for other in [["--schedule", "pipeline", "--lr", "0.0005"], []] {
            let r = try dnic(run + other)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("lr 0.0005, batch") || r.stdout.contains("lr 0.001, batch"), r.stdout)
        }
    }

    func testUpdateProbabilityNeedsThePipeline() throws {
        let r = try dnic(["train", "--data", "synth:xor-2d", "--rule", "sg", "--schedule", "pipeline", "--update-prob", "0.5",
                          "--steps", "20", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        try assertFails(["train", "--data", "synth:xor-2d", "--rule", "sg", "--update-prob", "0.5", "--steps", "2"],
                        status: 2, mentions: ["--update-prob", "--schedule pipeline"])
        try assertFails(["train", "--data", "synth:xor-2d", "--rule", "sg", "--schedule", "pipeline", "--update-prob", "0",
                         "--steps", "2"], status: 2, mentions: ["--update-prob 0", "between 6e-08 (2^-24) and 1"])
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
