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

    func testResumeWithEarlyStoppingIsRefused() throws {
        let dir = try Habit.directory(self)
        let first = try Habit.run(Self.run + ["--early-stop", "50", "--steps", "40", "--save", "run.st", "--quiet"], in: dir)
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = Habit.contents(dir)
        let resumed = try Habit.run(["train", "--resume", "run.st", "--steps", "80", "--threads", "1"], in: dir)
        XCTAssertEqual(resumed.status, 2, resumed.stderr)
        XCTAssertEqual(Habit.lines(resumed.stderr).count, 1, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("--resume run.st") && resumed.stderr.contains("cannot continue a resumed run"), resumed.stderr)
        XCTAssertEqual(Habit.contents(dir), before)
    }

    func testPrintConfigShowsTheSettings() throws {
        let run = try Habit.run(Self.run + ["--early-stop", "4", "--monitor", "validation_accuracy", "--print-config"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("early-stop: 4"), run.stdout)
        XCTAssertTrue(run.stdout.contains("monitor: validation_accuracy"), run.stdout)
    }
}
