import Foundation
import XCTest
@testable import Dnic

/// Learning-rate schedules (`--lr-schedule`, `--lr-warmup`, `--lr-steps`,
/// `--lr-gamma`, `--lr-min`): each schedule's rate equals its formula, in
/// the pure function and in the log's `lr`; a run stopped and resumed
/// mid-warm-up and mid-decay ends bit for bit where the straight run does;
/// impossible schedules are refused in one line, exit 2, nothing written.
final class LearningRateScheduleTests: XCTestCase {
    func schedule(_ kind: LRScheduleKind, warmup: Int = 0, steps: [Int] = [], gamma: Double = 0.1, min: Double = 0,
                  total: Int = 100) -> LearningRateSchedule {
        var t = TrainingSpec()
        t.lrSchedule = kind
        t.lrWarmup = warmup
        t.lrSteps = steps
        t.lrGamma = gamma
        t.lrMin = min
        return LearningRateSchedule(t, totalSteps: total)
    }

    /// The core's rate (float, computed in double and rounded once) against the formula.
    func assertRate(_ s: LearningRateSchedule, _ step: Int, _ want: Double, line: UInt = #line) {
        XCTAssertEqual(Double(s.rate(at: step, base: 0.1)), want, accuracy: 1e-8, "step \(step)", line: line)
    }

    func testEachScheduleFollowsItsFormula() {
        let base = Double(Float(0.1))
        let constant = schedule(.constant, warmup: 10)
        assertRate(constant, 1, base / 10)
        assertRate(constant, 5, base / 2)
        assertRate(constant, 10, base)
        assertRate(constant, 77, base)
        XCTAssertEqual(schedule(.constant).rate(at: 9, base: 0.1), 0.1, "a constant rate is the base rate exactly")
        let step = schedule(.step, steps: [30, 60], gamma: 0.5)
        assertRate(step, 30, base)
        assertRate(step, 31, base / 2)
        assertRate(step, 61, base / 4)
        // cosine over steps 10...100 after a warm-up of 10, down to 0.01
        let cosine = schedule(.cosine, warmup: 10, min: 0.01)
        assertRate(cosine, 4, base * 0.4)
        // step t after the warm-up: p = (t - warmup - 1) / (total - warmup), as PyTorch's schedulers
        assertRate(cosine, 11, base)
        assertRate(cosine, 56, 0.01 + (base - 0.01) * (1 + cos(Double.pi * 0.5)) / 2)
        assertRate(cosine, 41, 0.01 + (base - 0.01) * (1 + cos(Double.pi * 30 / 90)) / 2)
        assertRate(cosine, 100, 0.01 + (base - 0.01) * (1 + cos(Double.pi * 89 / 90)) / 2)
        let linear = schedule(.linear, min: 0.02)
        assertRate(linear, 26, 0.02 + (base - 0.02) * 0.75)
        assertRate(linear, 100, 0.02 + (base - 0.02) * 0.01)
        XCTAssertGreaterThan(schedule(.linear).rate(at: 100, base: 0.1), 0, "a decay to 0 sets 0 at the last step")
    }

    func dnic(_ args: [String], in dir: URL) throws -> ProcessRun {
        try ProcessRun.launch(CLITests.executable.path, args + ["--threads", "1"], directory: dir.path)
    }

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-lr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// The log's `lr` at each evaluation is the formula's rate (as the core's float).
    func testLogRecordsTheScheduledRate() throws {
        let dir = try scratch()
        let cases: [([String], LearningRateSchedule)] = [
            (["--lr-schedule", "cosine", "--lr-warmup", "4", "--lr-min", "0.01"], schedule(.cosine, warmup: 4, min: 0.01, total: 40)),
            (["--lr-schedule", "step", "--lr-steps", "12,25", "--lr-gamma", "0.3"], schedule(.step, steps: [12, 25], gamma: 0.3, total: 40)),
            (["--lr-schedule", "linear", "--lr-warmup", "8"], schedule(.linear, warmup: 8, total: 40)),
            (["--lr-warmup", "6"], schedule(.constant, warmup: 6, total: 40)),
        ]
        for (flags, expected) in cases {
            let log = dir.appendingPathComponent("run.jsonl")
            try? FileManager.default.removeItem(at: log)
            let r = try dnic(["train", "--data", "synth:xor-2d", "--optimizer", "sgd", "--lr", "0.1", "--steps", "40",
                              "--eval-every", "3", "--log", log.path, "--quiet"] + flags, in: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
            var seen = 0
            for line in try String(contentsOf: log, encoding: .utf8).split(separator: "\n") {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                guard let step = object?["step"] as? Int, object?["test_loss"] != nil else { continue }
                let lr = try XCTUnwrap(object?["lr"] as? Double, "no lr in \(line)")
                // the log writes the float rate as a decimal: equal to its last digit
                XCTAssertEqual(lr, Double(expected.rate(at: step, base: 0.1)), accuracy: 1e-12, "\(flags) step \(step)")
                seen += 1
            }
            XCTAssertGreaterThanOrEqual(seen, 14, "\(flags): evaluations in the log")
        }
    }

    func config(_ kind: LRScheduleKind, warmup: Int, total: Int) throws -> RunConfig {
        ScheduleFixture.config(hidden: 3, kind: kind, warmup: warmup, total: total)
    }

    func data() throws -> DataSplit { try ScheduleFixture.data() }

    /// Stopped at step 5 (warm-up of 10) and at step 30 (cosine decay), the
    /// resumed run's network and interfaces equal the straight run's bit for bit.
    func testResumeMidWarmupAndMidDecayIsBitForBit() throws {
        let dir = try scratch()
        let c = try config(.cosine, warmup: 10, total: 50)
        let straight = try Trainer(config: c, data: try data())
        _ = try straight.run()
        for stop in [5, 30] {
            let cut = try Trainer(config: c, data: try data())
            let path = dir.appendingPathComponent("cut\(stop).safetensors").path
            XCTAssertThrowsError(try cut.run(checkpoint: { t in try Checkpoint.save(t.snapshot(), to: path) },
                                             shouldStop: { cut.state.step == stop }))
            let resumed = try Trainer(config: c, data: try data(), restoring: try Checkpoint.load(path: path))
            _ = try resumed.run()
            XCTAssertEqual(resumed.network.parameters(), straight.network.parameters(), "stopped at \(stop)")
            for i in straight.dni.boundaries.indices {
                XCTAssertEqual(Array(resumed.dni.block(i)), Array(straight.dni.block(i)), "interface \(i), stopped at \(stop)")
            }
        }
        // and the schedule changed the run: a constant rate ends elsewhere
        let constant = try Trainer(config: try config(.constant, warmup: 0, total: 50), data: try data())
        _ = try constant.run()
        XCTAssertNotEqual(constant.network.parameters(), straight.network.parameters())
    }

    func testImpossibleSchedulesAreRefusedInOneLine() throws {
        let dir = try scratch()
        let base = ["train", "--data", "synth:xor-2d", "--steps", "20", "--save", "m.safetensors", "--log", "run.jsonl"]
        let cases: [([String], [String])] = [
            (["--lr-schedule", "step", "--lr-steps", "5,3"], ["--lr-steps", "increasing"]),
            (["--lr-schedule", "step", "--lr-steps", "5,5"], ["--lr-steps", "increasing"]),
            (["--lr-warmup", "21"], ["--lr-warmup", "longer than the run"]),
            (["--lr-schedule", "step", "--lr-steps", "5", "--lr-gamma", "0"], ["--lr-gamma"]),
            (["--lr-schedule", "step", "--lr-steps", "5", "--lr-gamma", "-1"], ["--lr-gamma"]),
            (["--lr-schedule", "cosine", "--lr", "0.01", "--lr-min", "0.1"], ["--lr-min", "above --lr"]),
            (["--lr-steps", "5"], ["--lr-steps", "needs --lr-schedule step"]),
            (["--lr-schedule", "step"], ["--lr-schedule", "--lr-steps"]),
            (["--lr-schedule", "step", "--lr-steps", "a,b"], ["--lr-steps"]),
            (["--rule", "sg", "--sg-lr-schedule", "step", "--sg-lr-steps", "5,3"], ["--sg-lr-steps", "increasing"]),
            (["--rule", "sg", "--sg-lr-steps", "5,3"], ["--sg-lr-steps", "increasing"]),
            (["--rule", "sg", "--sg-lr-steps", "3,5"], ["--sg-lr-steps", "--sg-lr-schedule"]),
            (["--lr-schedule", "step", "--lr-steps", (1...33).map(String.init).joined(separator: ",")], ["--lr-steps", "at most 32"]),
            (["--rule", "sg", "--sg-lr-schedule", "step"], ["--sg-lr-schedule", "--sg-lr-steps"]),
            (["--rule", "sg", "--sg-lr-schedule", "step", "--sg-lr-steps", "x"], ["--sg-lr-steps"]),
            (["--rule", "sg", "--sg-lr-schedule", "cosine", "--sg-lr-warmup", "21"], ["--sg-lr-warmup", "longer than the run"]),
            (["--rule", "sg", "--sg-lr-warmup", "3"], ["--sg-lr-warmup", "--sg-lr-schedule"]),
            (["--rule", "sg", "--sg-lr-schedule", "linear", "--sg-lr", "0.01", "--sg-lr-min", "0.1"], ["--sg-lr-min", "above --sg-lr"]),
            (["--rule", "sg", "--sg-lr-schedule", "fancy"], ["--sg-lr-schedule"]),
        ]
        for (flags, words) in cases {
            let r = try dnic(base + flags, in: dir)
            XCTAssertEqual(r.status, 2, "\(flags): \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(flags): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("dnic: error: "), r.stderr)
            for w in words { XCTAssertTrue(r.stderr.contains(w), "\(flags): missing '\(w)' in \(r.stderr)") }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "\(flags) wrote files")
        }
    }
}

/// The small scheduled sg run both schedule test classes train: relu
/// layers of 24 on synth:linear-100d, Adam, batch 32, seed 3, minimum rate 1e-5.
enum ScheduleFixture {
    static func config(hidden: Int, kind: LRScheduleKind, warmup: Int, total: Int) -> RunConfig {
        var c = RunConfig()
        c.model.layers = (0..<hidden).map { _ in LayerSpec(width: 24, activation: .relu, batchnorm: false) }
        c.interfaces = InterfaceSpec(rule: .sg)
        c.optimizer.kind = .adam
        c.training.batch = 32
        c.training.steps = total
        c.training.seed = 3
        c.training.lrSchedule = kind
        c.training.lrWarmup = warmup
        c.training.lrMin = 1e-5
        c.data = "synth:linear-100d"
        return c
    }

    static func data() throws -> DataSplit {
        var options = DataOptions()
        options.seed = 3
        return try loadData(.synthetic(name: "linear-100d"), options: options)
    }
}
