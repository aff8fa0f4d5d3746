import Foundation
import XCTest
@testable import Dnic

/// The async schedule through the trainer and the command. Its numbers
/// depend on timing, so the tests check what must hold whatever the
/// timing: it learns, every batch passes every block once (also across a
/// checkpoint and resume), staleness is reported and bounded by the queues,
/// and its settings are refused where they mean nothing.
final class AsyncTests: XCTestCase {
    func config(hidden: Int = 4, at: String = "2", steps: Int = 60, queue: Int? = nil) throws -> RunConfig {
        var c = RunConfig()
        c.model.layers = (0..<hidden).map { _ in LayerSpec(width: 24, activation: .relu) }
        c.interfaces = InterfaceSpec(rule: .sg)
        c.interfaces.at = try Placement(parsing: at)
        c.training.schedule = .async
        c.training.queue = queue
        c.training.batch = 32
        c.training.steps = steps
        return c
    }

    func data() throws -> DataSplit {
        var options = DataOptions()
        options.seed = 3
        return try loadData(.synthetic(name: "linear-100d"), options: options)
    }

    /// Learns like the pipeline on the separable task, and every batch fed
    /// updated every block and trained every interface (3 blocks, 2 threads).
    func testLearnsAndEveryBatchOnce() throws {
        for queue in [1, 4] {
            let c = try config(at: "1,3", steps: 600, queue: queue)
            let trainer = try Trainer(config: c, data: try data())
            let final = try trainer.run()
            XCTAssertFalse(trainer.pipeline!.pending, "queue \(queue): drained at the end")
            XCTAssertGreaterThan(final.testAccuracy, 0.85, "queue \(queue)") // the pipeline: 0.90, chance 0.5
            XCTAssertEqual(trainer.state.blockSteps, [600, 600, 600], "queue \(queue)")
            // epochs end with a short batch: count the rows the data order gives
            var rows = 0, position = 0
            for _ in 0..<600 {
                if position >= trainer.data.train.count { position = 0 }
                let n = min(32, trainer.data.train.count - position)
                rows += n
                position += n
            }
            XCTAssertEqual(trainer.state.samples, rows)
            let blocks = try XCTUnwrap(final.blocks)
            XCTAssertEqual(blocks.count, 3)
            for b in blocks.dropLast() {
                let mean = try XCTUnwrap(b.stalenessMean), most = try XCTUnwrap(b.stalenessMax)
                XCTAssertTrue(mean >= 0 && mean <= Double(most) && most <= 2 * queue + 1, "queue \(queue): \(b)")
                XCTAssertGreaterThan(b.busySeconds, 0)
            }
            XCTAssertNil(blocks.last?.stalenessMean, "the top block has no interface")
        }
    }

    /// The queue length is an async setting, from 1 to 1024.
    func testQueueNeedsAsync() throws {
        var c = try config(queue: 2)
        XCTAssertNoThrow(try c.validate())
        c.training.queue = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? SettingError)?.key, "training.queue") }
        c.training.queue = 1025
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? SettingError)?.key, "training.queue") }
        c.training.queue = 2
        c.training.schedule = .pipeline
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? SettingError)?.key, "training.queue") }
        // async refuses what the pipeline refuses
        c = try config()
        c.interfaces = InterfaceSpec(rule: .dfa)
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? SettingError)?.key, "training.schedule") }
        // and takes the pipeline's learning-rate default
        c = try config()
        c.optimizer.lr = nil
        XCTAssertEqual(c.networkOptimizer.learningRate, c.optimizer.kind.defaultLearningRate / 2)
    }
}

extension CLITests {
    func testAsyncScheduleEndToEnd() throws {
        let dir = try tempDir()
        let log = dir.appendingPathComponent("log.jsonl").path
        let r = try dnic(["train", "--data", "synth:xor-2d", "--hidden", "4", "--width", "16", "--rule", "sg",
                          "--sg-at", "1,3", "--schedule", "async", "--queue", "3", "--steps", "40", "--log", log])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("schedule async (3 blocks, queue 3)"), r.stdout)
        let lines = r.stdout.split(separator: "\n")
        let summary = String(lines.dropLast().last ?? "")
        XCTAssertTrue(summary.hasPrefix("async: 3 blocks (bottom first) busy "), r.stdout)
        XCTAssertTrue(summary.contains("staleness ") && summary.hasSuffix(" batches"), summary)
        XCTAssertTrue(lines.last?.hasPrefix("test accuracy") == true, r.stdout)
        let record = try XCTUnwrap(String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(record.utf8)) as? [String: Any])
        let blocks = try XCTUnwrap(json["blocks"] as? [[String: Any]])
        XCTAssertEqual(blocks.count, 3)
        XCTAssertNotNil(blocks[0]["staleness_mean"], "\(record)")
        XCTAssertNotNil(blocks[1]["staleness_max"], "\(record)")
        XCTAssertNotNil(blocks[2]["busy_seconds"], "\(record)")
        try assertFails(["train", "--data", "synth:xor-2d", "--rule", "sg", "--queue", "2", "--steps", "2"], status: 2,
                        mentions: ["--queue", "--schedule async"])
        try assertFails(["train", "--data", "synth:xor-2d", "--rule", "sg", "--schedule", "async", "--queue", "0",
                         "--steps", "2"], status: 2, mentions: ["--queue 0", "1024"])
        try assertFails(["train", "--data", "synth:xor-2d", "--rule", "sg", "--schedule", "async", "--queue", "x",
                         "--steps", "2"], status: 2, mentions: ["--queue"])
        let config = dir.appendingPathComponent("queue.yaml").path
        try "data: synth:xor-2d\ninterfaces:\n  rule: sg\ntraining:\n  schedule: async\n  queue: -3\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        try assertFails(["train", "--config", config], status: 2, mentions: ["training.queue", "-3", "1024"])
        try "data: synth:xor-2d\ninterfaces:\n  rule: sg\ntraining:\n  schedule: async\n  queue: two\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        try assertFails(["train", "--config", config], status: 2, mentions: ["training.queue"])
        try assertFails(["train", "--data", "synth:xor-2d", "--rule", "sg", "--sg-target", "true", "--schedule", "async",
                         "--steps", "2"], status: 2, mentions: ["--schedule", "bootstrap"])
    }

    /// Async resume loses no sample: a checkpoint is taken after a drain,
    /// so every batch it counts has passed every block, and the resumed run
    /// ends with every block having taken every step, once.
    func testAsyncCheckpointResume() throws {
        let dir = try tempDir()
        let b = dir.appendingPathComponent("b.safetensors").path
        let base = ["train", "--data", "synth:xor-2d", "--hidden", "4", "--width", "16", "--rule", "sg", "--sg-at", "1,3",
                    "--schedule", "async", "--quiet", "--update-prob", "0.7"]
        let first = try dnic(base + ["--steps", "13", "--save", b])
        XCTAssertEqual(first.status, 0, first.stderr)
        let saved = try Checkpoint.load(path: b)
        XCTAssertEqual(saved.state.step, 13)
        let rest = try dnic(["train", "--resume", b, "--steps", "40", "--quiet"])
        XCTAssertEqual(rest.status, 0, rest.stderr)
        let done = try Checkpoint.load(path: b)
        XCTAssertEqual(done.state.step, 40)
        // the draws depend on (block, batch number) alone: the blocks took
        // as many updates as the deterministic pipeline takes on the same batches
        let pipe = dir.appendingPathComponent("p.safetensors").path
        var pipeline = base
        pipeline[pipeline.firstIndex(of: "async")!] = "pipeline"
        let p = try dnic(pipeline + ["--steps", "40", "--save", pipe])
        XCTAssertEqual(p.status, 0, p.stderr)
        let straight = try Checkpoint.load(path: pipe).state
        XCTAssertEqual(done.state.samples, straight.samples, "every batch counted once")
        XCTAssertEqual(done.state.blockSteps, straight.blockSteps)
        XCTAssertNotEqual(done.state.blockSteps, [40, 40, 40], "update decoupling skipped no update")
    }
}
