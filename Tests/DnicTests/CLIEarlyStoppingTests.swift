import Dnic
import Foundation
import XCTest

/// `dnic train --early-stop/--monitor/--save-best`, through the CLI, on a
/// small synthetic run whose validation loss stops improving after a few
/// evaluations (synth:xor-2d at a large rate, evaluated every 20 steps).
final class CLIEarlyStoppingTests: XCTestCase {
    static let run = ["train", "--data", "synth:xor-2d", "--validation", "0.2", "--steps", "400", "--eval-every", "20",
                      "--lr", "0.05", "--threads", "1"]

    /// The evaluations a log holds: (step, validation_loss), in order.
    func evaluations(_ log: String) throws -> [(step: Int, loss: Double)] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            guard object["event"] as? String == "eval" else { return nil }
            return ((object["step"] as! NSNumber).intValue, (object["validation_loss"] as! NSNumber).doubleValue)
        }
    }

    /// The step early stopping with `patience` should stop at, and the best
    /// step, from a log's validation losses: the first evaluation that is
    /// the `patience`-th in a row not below the best so far.
    func expectedStop(_ losses: [(step: Int, loss: Double)], patience: Int) -> (stop: Int, best: Int, value: Double)? {
        var best = losses[0], since = 0
        for e in losses.dropFirst() {
            if e.loss < best.loss { best = e; since = 0 } else { since += 1 }
            if since == patience { return (e.step, best.step, best.loss) }
        }
        return nil
    }

    func testStopsAtTheFirstEvaluationAfterPatienceWithoutImprovement() throws {
        let dir = try Habit.directory(self)
        // the whole run, logged: where its validation loss stops improving
        let straight = try Habit.run(Self.run + ["--log", "straight.jsonl", "--quiet"], in: dir)
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let losses = try evaluations(dir + "/straight.jsonl")
        XCTAssertEqual(losses.last?.step, 400)
        let expected = try XCTUnwrap(expectedStop(losses, patience: 3), "the crafted run's validation loss must stop improving")
        XCTAssertLessThan(expected.stop, 400)

        let stopped = try Habit.run(Self.run + ["--early-stop", "3", "--log", "early.jsonl", "--save", "last.st"], in: dir)
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        XCTAssertEqual(stopped.stderr, "")
        XCTAssertEqual(Habit.lines(stopped.stdout).last.map(String.init),
                       String(format: "stopped early at step %d: validation_loss has not improved for 3 evaluations; best at step %d (%.4f)",
                              expected.stop, expected.best, expected.value))
        // the early run logged the straight run's evaluations up to the stop, and the last checkpoint is that step
        let early = try evaluations(dir + "/early.jsonl")
        XCTAssertEqual(early.map(\.step), losses.prefix { $0.step <= expected.stop }.map(\.step))
        XCTAssertEqual(early.map(\.loss), losses.prefix { $0.step <= expected.stop }.map(\.loss))
        XCTAssertEqual(try Checkpoint.load(path: dir + "/last.st").step, expected.stop)
    }

    func testMonitorAccuracyImprovesUpwards() throws {
        let dir = try Habit.directory(self)
        let run = try Habit.run(Self.run + ["--early-stop", "1", "--monitor", "validation_accuracy", "--log", "run.jsonl"], in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        let text = try String(contentsOfFile: dir + "/run.jsonl", encoding: .utf8)
        let accuracies: [(Int, Double)] = try text.split(separator: "\n").compactMap { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            guard o["event"] as? String == "eval" else { return nil }
            return ((o["step"] as! NSNumber).intValue, (o["validation_accuracy"] as! NSNumber).doubleValue)
        }
        // patience 1: each evaluation but the last rose above every one before it
        // (higher is better), and the last, the first that did not, stopped the run
        XCTAssertGreaterThan(accuracies.count, 1)
        for i in 1 ..< accuracies.count - 1 { XCTAssertGreaterThan(accuracies[i].1, accuracies[i - 1].1) }
        let best = accuracies[accuracies.count - 2]
        XCTAssertLessThanOrEqual(accuracies.last!.1, best.1)
        XCTAssertLessThan(accuracies.last!.0, 400)
        XCTAssertEqual(Habit.lines(run.stdout).last.map(String.init),
                       String(format: "stopped early at step %d: validation_accuracy has not improved for 1 evaluation; best at step %d (%.4f)",
                              accuracies.last!.0, best.0, best.1))
    }

    func testSaveBestHoldsTheBestStepsParameters() throws {
        let dir = try Habit.directory(self)
        let stopped = try Habit.run(Self.run + ["--early-stop", "3", "--save-best", "best.st", "--save", "last.st", "--log", "run.jsonl"],
                                    in: dir)
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        let expected = try XCTUnwrap(expectedStop(try evaluations(dir + "/run.jsonl"), patience: 3))
        XCTAssertTrue(stopped.stdout.hasSuffix(String(format: "best at step %d (%.4f), saved to best.st\n", expected.best, expected.value)),
                      stopped.stdout)
        XCTAssertEqual(try Checkpoint.load(path: dir + "/best.st").step, expected.best)
        XCTAssertEqual(try Checkpoint.load(path: dir + "/last.st").step, expected.stop)
        // the same run stopped at the best step by --steps holds the same parameters: eval says the same of both
        var reference = Self.run
        reference[reference.firstIndex(of: "400")!] = "\(expected.best)"
        let ref = try Habit.run(reference + ["--save", "ref.st", "--quiet"], in: dir)
        XCTAssertEqual(ref.status, 0, ref.stderr)
        let evalBest = try Habit.run(["eval", "--checkpoint", "best.st", "--threads", "1"], in: dir)
        let evalRef = try Habit.run(["eval", "--checkpoint", "ref.st", "--threads", "1"], in: dir)
        XCTAssertEqual(evalBest.status, 0, evalBest.stderr)
        XCTAssertEqual(evalBest.stdout, evalRef.stdout)
        XCTAssertNotEqual(evalBest.stdout, "")
        // no temporary file left behind
        XCTAssertEqual(Set(Habit.contents(dir).keys), ["run.jsonl", "best.st", "last.st", "ref.st"])
    }

    /// A refused command: exit 2, one line on stderr with `words`, nothing on disk changed.
    func assertRefused(_ args: [String], _ words: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try Habit.directory(self)
        try "keep".write(toFile: dir + "/existing", atomically: true, encoding: .utf8)
        let before = Habit.contents(dir)
        let run = try Habit.run(args, in: dir)
        XCTAssertEqual(run.status, 2, run.stderr, file: file, line: line)
        XCTAssertEqual(Habit.lines(run.stderr).count, 1, run.stderr, file: file, line: line)
        XCTAssertTrue(run.stderr.hasPrefix("dnic: error: "), run.stderr, file: file, line: line)
        for word in words { XCTAssertTrue(run.stderr.contains(word), "\(word) not in \(run.stderr)", file: file, line: line) }
        XCTAssertEqual(Habit.contents(dir), before, file: file, line: line)
    }

    func testEarlyStopWithoutAValidationSplitIsRefused() throws {
        try assertRefused(["train", "--data", "synth:xor-2d", "--steps", "40", "--early-stop", "3", "--log", "run.jsonl", "--save", "s.st"],
                          ["--early-stop", "--validation"])
        try assertRefused(["train", "--data", "synth:xor-2d", "--steps", "40", "--early-stop", "3", "--validation", "0"],
                          ["--early-stop", "--validation"])
    }

    func testUnknownMonitorIsRefused() throws {
        try assertRefused(Self.run + ["--early-stop", "3", "--monitor", "test_loss", "--log", "run.jsonl"],
                          ["--monitor", "test_loss", "validation_loss", "validation_accuracy"])
    }

    func testPatienceBelowOneIsRefused() throws {
        for patience in ["0", "-1"] {
            try assertRefused(Self.run + ["--early-stop", patience, "--log", "run.jsonl"], ["--early-stop", patience])
        }
    }

    func testSaveBestWithoutEarlyStopOrOnAnExistingFileIsRefused() throws {
        try assertRefused(Self.run + ["--save-best", "best.st"], ["--save-best", "--early-stop"])
        try assertRefused(Self.run + ["--early-stop", "2", "--save-best", "existing"], ["--save-best", "existing", "--overwrite"])
        try assertRefused(Self.run + ["--early-stop", "2", "--save-best", "s.st", "--save", "s.st"], ["--save-best", "--save"])
    }

    /// The straight run with patience 3: its last line, stop and best steps, and its --save-best file (best.st).
    func straightRun(in dir: String) throws -> (line: String, stop: Int, best: Int) {
        let run = try Habit.run(Self.run + ["--early-stop", "3", "--save-best", "straight-best.st", "--log", "straight.jsonl"], in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        let expected = try XCTUnwrap(expectedStop(try evaluations(dir + "/straight.jsonl"), patience: 3))
        XCTAssertGreaterThanOrEqual(expected.best, 40, "the crafted run must improve for a while")
        return (String(Habit.lines(run.stdout).last ?? ""), expected.stop, expected.best)
    }

    /// Every parameter and optimizer moment of a checkpoint, bit for bit.
    func parameterBits(_ path: String) throws -> [UInt32] {
        let c = try Checkpoint.load(path: path)
        return (c.network.parameters() + c.network.optimizerState()).map(\.bitPattern)
    }

    func testResumedRunStopsWhereTheStraightRunStopsAndKeepsTheSameBest() throws {
        let dir = try Habit.directory(self)
        let straight = try straightRun(in: dir)
        // stopped by --steps before the best evaluation (the resumed run improves on the stored best)
        // and after it (it never does: the best file must not be touched), on the evaluation grid
        // and off it (the end-of-run evaluation there does not count)
        for split in [straight.best - 20, straight.best + 10, straight.best + 20] {
            let first = try Habit.run(Self.run.map { $0 == "400" ? "\(split)" : $0 }
                                      + ["--early-stop", "3", "--save-best", "best.st", "--save", "run.st", "--quiet"], in: dir)
            XCTAssertEqual(first.status, 0, first.stderr)
            let storedBest = Habit.contents(dir)["best.st"]
            let resumed = try Habit.run(["train", "--resume", "run.st", "--steps", "400", "--threads", "1"], in: dir)
            XCTAssertEqual(resumed.status, 0, resumed.stderr)
            XCTAssertEqual(resumed.stderr, "")
            XCTAssertTrue(resumed.stdout.contains("early stopping continues: best validation_loss"), resumed.stdout)
            // the same stop, best step and value; the best file is the run's own (the checkpoint's absolute path)
            XCTAssertEqual(Habit.lines(resumed.stdout).last.map(String.init),
                           straight.line.replacingOccurrences(of: "saved to straight-best.st", with: "saved to \(dir)/best.st"), "split \(split)")
            XCTAssertEqual(try Checkpoint.load(path: dir + "/run.st").step, straight.stop)
            XCTAssertEqual(try parameterBits(dir + "/best.st"), try parameterBits(dir + "/straight-best.st"), "split \(split)")
            if split > straight.best { XCTAssertEqual(Habit.contents(dir)["best.st"], storedBest, "the best so far was rewritten") }
            try FileManager.default.removeItem(atPath: dir + "/best.st")
            try FileManager.default.removeItem(atPath: dir + "/run.st")
        }
    }

    func testResumeWithAnotherMonitorIsRefused() throws {
        let dir = try Habit.directory(self)
        let first = try Habit.run(Self.run + ["--early-stop", "3", "--steps", "40", "--save", "run.st", "--quiet"], in: dir)
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = Habit.contents(dir)
        let resumed = try Habit.run(["train", "--resume", "run.st", "--steps", "80", "--monitor", "validation_accuracy", "--threads", "1"], in: dir)
        XCTAssertEqual(resumed.status, 2, resumed.stderr)
        XCTAssertEqual(Habit.lines(resumed.stderr).count, 1, resumed.stderr)
        for word in ["dnic: error: --monitor validation_accuracy", "run.st", "validation_loss"] {
            XCTAssertTrue(resumed.stderr.contains(word), "\(word) not in \(resumed.stderr)")
        }
        XCTAssertEqual(Habit.contents(dir), before)
    }

    /// Resuming `checkpoint` (stopped by --steps at `split`) with patience 3
    /// starts counting at the first evaluation after it, and says so.
    func assertStartsAfresh(_ checkpoint: String, split: Int, in dir: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let full = try Habit.run(Self.run + ["--log", "full.jsonl", "--quiet"], in: dir)
        XCTAssertEqual(full.status, 0, full.stderr, file: file, line: line)
        let losses = try evaluations(dir + "/full.jsonl")
        let afresh = try XCTUnwrap(expectedStop(losses.filter { $0.step > split }, patience: 3), file: file, line: line)
        let resumed = try Habit.run(["train", "--resume", checkpoint, "--steps", "400", "--early-stop", "3", "--threads", "1"], in: dir)
        XCTAssertEqual(resumed.status, 0, resumed.stderr, file: file, line: line)
        XCTAssertEqual(resumed.stderr, "", file: file, line: line)
        XCTAssertTrue(resumed.stdout.contains("early stopping starts counting afresh: \(checkpoint) holds no early-stopping state"),
                      resumed.stdout, file: file, line: line)
        XCTAssertEqual(Habit.lines(resumed.stdout).last.map(String.init),
                       String(format: "stopped early at step %d: validation_loss has not improved for 3 evaluations; best at step %d (%.4f)",
                              afresh.stop, afresh.best, afresh.value), file: file, line: line)
    }

    func testCheckpointWithoutEarlyStoppingResumedWithItStartsAfresh() throws {
        let dir = try Habit.directory(self)
        let straight = try straightRun(in: dir)
        let split = straight.best + 20
        let first = try Habit.run(Self.run.map { $0 == "400" ? "\(split)" : $0 } + ["--save", "plain.st", "--quiet"], in: dir)
        XCTAssertEqual(first.status, 0, first.stderr)
        try assertStartsAfresh("plain.st", split: split, in: dir)
    }

    /// A checkpoint of an earlier dnic: early stopping in its settings, no state in its metadata.
    func testOldCheckpointWithEarlyStopInItsSettingsStillLoadsAndStartsAfresh() throws {
        let dir = try Habit.directory(self)
        let straight = try straightRun(in: dir)
        let split = straight.best + 20
        let first = try Habit.run(Self.run.map { $0 == "400" ? "\(split)" : $0 } + ["--early-stop", "3", "--save", "old.st", "--quiet"], in: dir)
        XCTAssertEqual(first.status, 0, first.stderr)
        try removeMetadata(["early_stopping"], from: dir + "/old.st")
        XCTAssertNil(try Checkpoint.load(path: dir + "/old.st").earlyStopping)
        try assertStartsAfresh("old.st", split: split, in: dir)
    }

    /// Rewrites a safetensors file without some of its metadata keys.
    func removeMetadata(_ keys: [String], from path: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8 ..< 8 + length)) as! [String: Any]
        var metadata = header["__metadata__"] as! [String: String]
        for key in keys { XCTAssertNotNil(metadata.removeValue(forKey: key), key) }
        header["__metadata__"] = metadata
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data((0 ..< 8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64($0))) })
        out.append(json)
        out.append(bytes.subdata(in: 8 + length ..< bytes.count))
        try out.write(to: URL(fileURLWithPath: path))
    }

    func testAStoppedRunResumedDoesNotTrainUnlessPatienceIsRaised() throws {
        let dir = try Habit.directory(self)
        let straight = try straightRun(in: dir)
        let first = try Habit.run(Self.run + ["--early-stop", "3", "--save", "run.st", "--log", "run.jsonl", "--quiet"], in: dir)
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = Habit.contents(dir)
        for more in [[], ["--steps", "800"], ["--early-stop", "2"], ["--early-stop", "3"]] {
            let resumed = try Habit.run(["train", "--resume", "run.st", "--threads", "1"] + more, in: dir)
            XCTAssertEqual(resumed.status, 0, resumed.stderr)
            XCTAssertEqual(resumed.stderr, "")
            XCTAssertEqual(Habit.lines(resumed.stdout).count, 1, resumed.stdout)
            XCTAssertTrue(resumed.stdout.hasPrefix("run run.st already stopped early at step \(straight.stop): validation_loss has not improved "
                                                   + "for 3 evaluations; best at step \(straight.best) ("), resumed.stdout)
            XCTAssertTrue(resumed.stdout.hasSuffix("nothing to do (pass a larger --early-stop to train it longer)\n"), resumed.stdout)
            XCTAssertEqual(Habit.contents(dir), before, "\(more)")
        }
        // more patience: it trains on from the stop, counting on
        let raised = try Habit.run(["train", "--resume", "run.st", "--early-stop", "4", "--threads", "1", "--quiet"], in: dir)
        XCTAssertEqual(raised.status, 0, raised.stderr)
        XCTAssertEqual(try Checkpoint.load(path: dir + "/run.st").step, straight.stop + 20)
    }

    func testResumeRefusesAnotherExistingSaveBestFileButTakesItsOwn() throws {
        let dir = try Habit.directory(self)
        let first = try Habit.run(Self.run + ["--early-stop", "3", "--steps", "40", "--save", "run.st", "--save-best", "best.st", "--quiet"],
                                  in: dir)
        XCTAssertEqual(first.status, 0, first.stderr)
        try "keep".write(toFile: dir + "/other.st", atomically: true, encoding: .utf8)
        let before = Habit.contents(dir)
        let refused = try Habit.run(["train", "--resume", "run.st", "--steps", "60", "--save-best", "other.st", "--threads", "1"], in: dir)
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertEqual(Habit.lines(refused.stderr).count, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.hasPrefix("dnic: error: --save-best other.st") && refused.stderr.contains("--overwrite"), refused.stderr)
        XCTAssertEqual(Habit.contents(dir), before)
        // its own best file, named again, is expected there
        let own = try Habit.run(["train", "--resume", "run.st", "--steps", "60", "--save-best", "best.st", "--threads", "1", "--quiet"], in: dir)
        XCTAssertEqual(own.status, 0, own.stderr)
    }

    func testPrintConfigShowsTheSettings() throws {
        let run = try Habit.run(Self.run + ["--early-stop", "4", "--monitor", "validation_accuracy", "--print-config"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("early-stop: 4"), run.stdout)
        XCTAssertTrue(run.stdout.contains("monitor: validation_accuracy"), run.stdout)
    }
}
