import Foundation
import XCTest
@testable import Dnic

/// `dnic bench tta` end to end on tiny synthetic tasks: the report's
/// structure, targets out of range and out of reach, the sweep's choice,
/// bad input. No timing is asserted.
final class TimeToAccuracyTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-tta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A small network on a 2-D task, one thread, two seeds.
    let small = ["--hidden", "2", "--width", "16", "--seeds", "2", "--threads", "1"]

    func tta(_ args: [String]) throws -> ProcessRun {
        try ProcessRun.launch(CLITests.executable.path, ["bench", "tta"] + args)
    }

    func report(_ path: URL) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
    }

    func rows(_ report: [String: Any]) throws -> [[String: Any]] {
        try XCTUnwrap(report["rows"] as? [[String: Any]])
    }

    func assertOneLine(_ run: ProcessRun, status: Int32, _ words: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, status, run.stderr, file: file, line: line)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr, file: file, line: line)
        XCTAssertTrue(run.stderr.hasPrefix("dnic: error: "), run.stderr, file: file, line: line)
        XCTAssertTrue(run.stderr.contains(words), run.stderr, file: file, line: line)
    }

    func testEveryRuleReachesAnEasyTarget() throws {
        let json = directory.appendingPathComponent("tta.json")
        let run = try tta(["--target", "0.9", "--data", "synth:linear-2d", "--max-epochs", "10", "--json", json.path] + small)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "")
        let r = try report(json)
        XCTAssertEqual(r["seeds"] as? Int, 2)
        XCTAssertEqual(r["target"] as? Double, 0.9)
        let rows = try rows(r)
        XCTAssertEqual(rows.map { $0["name"] as? String }, ["backprop", "sg locked", "sg pipeline", "sg async"])
        XCTAssertEqual(rows.map { $0["schedule"] as? String }, ["locked", "locked", "pipeline", "async"])
        for row in rows {
            let attempts = try XCTUnwrap(row["attempts"] as? [[String: Any]])
            XCTAssertEqual(attempts.count, 2)
            XCTAssertEqual(Set(attempts.compactMap { $0["seed"] as? Int }).count, 2, "each seed its own")
            for a in attempts {
                XCTAssertEqual(a["reached"] as? Bool, true, "\(row)")
                XCTAssertGreaterThan(a["samples"] as? Int ?? 0, 0)
                XCTAssertGreaterThanOrEqual(a["test_accuracy"] as? Double ?? 0, 0.9)
            }
            XCTAssertEqual(row["reached"] as? Bool, true)
            XCTAssertGreaterThan(row["median_samples"] as? Double ?? 0, 0)
            XCTAssertNotNil(row["ratio_to_backprop"] as? Double)
            XCTAssertEqual(row["lr_chosen_by"] as? String, "default")
            // the unlocked schedules raced on a planned cut: hidden-layer numbers, not "balanced"
            if row["schedule"] as? String != "locked" { XCTAssertEqual(row["sg_at"] as? String, "1", "\(row)") }
            XCTAssertTrue(run.stdout.contains("  \(row["name"] as! String) "), run.stdout)
        }
        XCTAssertEqual(rows[0]["ratio_to_backprop"] as? Double, 1)
    }

    /// The pipeline and async race on the planner's cut, locked sg on the
    /// middle; a placement the user gives holds for every sg rule.
    func testUnlockedSchedulesCutWhereTheirBlocksBalanceUnlessTold() throws {
        let contenders = TimeToAccuracy.Contender.standard
        let placed = try contenders.map { try TimeToAccuracy.config(SettingOverrides(), $0).interfaces.at }
        XCTAssertEqual(contenders.map(\.schedule), [.locked, .locked, .pipeline, .async])
        XCTAssertEqual(placed[1], .mid)
        XCTAssertEqual(placed[2], .balanced(2))
        XCTAssertEqual(placed[3], .balanced(2))
        let given = SettingOverrides(["interfaces.at": "1"])
        for contender in contenders.dropFirst() {
            XCTAssertEqual(try TimeToAccuracy.config(given, contender).interfaces.at, .list([1]), contender.name)
        }
    }

    func testTargetOutOfRangeIsRefusedAtParse() throws {
        let json = directory.appendingPathComponent("tta.json")
        for target in ["1.01", "0", "-0.5"] {
            let run = try tta(["--target", target, "--data", "synth:linear-2d", "--json", json.path] + small)
            assertOneLine(run, status: 2, "--target \(target): must be in (0, 1]")
            XCTAssertEqual(run.stdout, "")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: json.path))
    }

    func testUnreachableTargetIsNotReachedAndExitsOne() throws {
        let json = directory.appendingPathComponent("tta.json")
        // labels independent of the inputs: test accuracy stays near chance
        let run = try tta(["--target", "0.99", "--data", "synth:random-2d", "--max-epochs", "2", "--json", json.path] + small)
        assertOneLine(run, status: 1, "no rule reached test accuracy 0.99 within 2 epochs")
        let table = run.stdout.split(separator: "\n").filter { $0.contains("not reached") && !$0.contains("seed") }
        XCTAssertEqual(table.count, 4, run.stdout)
        let rows = try rows(report(json))
        XCTAssertEqual(rows.count, 4)
        for row in rows {
            XCTAssertEqual(row["reached"] as? Bool, false)
            XCTAssertEqual(row["reached_seeds"] as? Int, 0)
            XCTAssertNil(row["ratio_to_backprop"])
            XCTAssertNil(row["median_training_seconds"])
        }
    }

    func testADivergingRuleIsNotReachedNotAFailureOfTheBench() throws {
        let json = directory.appendingPathComponent("tta.json")
        let run = try tta(["--target", "0.9", "--data", "synth:linear-2d", "--optimizer", "sgd", "--lr", "1e30",
                           "--json", json.path] + small)
        assertOneLine(run, status: 1, "no rule reached test accuracy 0.9 within 20 epochs")
        XCTAssertTrue(run.stdout.contains("diverged (NaN or infinity), not reached"), run.stdout)
        for row in try rows(report(json)) {
            XCTAssertEqual(row["reached"] as? Bool, false)
            let attempts = try XCTUnwrap(row["attempts"] as? [[String: Any]])
            XCTAssertEqual(attempts.map { $0["diverged"] as? Bool }, [true, true])
        }
    }

    func testSweepChoosesAmongExactlyTheListedRates() throws {
        let json = directory.appendingPathComponent("tta.json")
        let run = try tta(["--target", "0.9", "--data", "synth:linear-2d", "--max-epochs", "10", "--sweep",
                           "--sweep-factors", "0.5,4", "--json", json.path] + small)
        XCTAssertEqual(run.status, 0, run.stderr)
        for row in try rows(report(json)) {
            let sweep = try XCTUnwrap(row["sweep"] as? [[String: Any]])
            XCTAssertEqual(sweep.compactMap { $0["factor"] as? Double }, [0.5, 4])
            let rates = sweep.compactMap { $0["lr"] as? Double }
            let chosen = try XCTUnwrap(row["lr"] as? Double)
            XCTAssertTrue(rates.contains(chosen), "\(chosen) not among \(rates)")
            XCTAssertTrue((row["lr_chosen_by"] as? String ?? "").hasPrefix("sweep"))
            XCTAssertTrue(run.stdout.contains("\(row["name"] as! String): lr \(String(format: "%g", chosen)), sweep"), run.stdout)
        }
    }

    func testBadInputIsOneLineExitTwo() throws {
        let existing = directory.appendingPathComponent("kept.json")
        try Data("keep me".utf8).write(to: existing)
        let cases: [([String], String)] = [
            (["--target", "0.9", "--seeds", "0"], "--seeds 0: must be between 1 and 100"),
            (["--target", "0.9", "--max-epochs", "0"], "--max-epochs 0: must be between 1 and 100000"),
            (["--target", "0.9", "--eval-every-epochs", "0"], "--eval-every-epochs 0: must be greater than 0"),
            (["--target", "0.9", "--rule", "sg"], "--rule: dnic bench tta sets it for each rule"),
            (["--target", "0.9", "--epochs", "3"], "--epochs: dnic bench tta sets it for each rule"),
            (["--target", "0.9", "--sweep-factors", "1,2"], "--sweep-factors needs --sweep"),
            (["--target", "0.9", "--sweep", "--sweep-factors", "1,x"], "--sweep-factors '1,x': expected up to 20 positive numbers"),
            (["--target", "0.9", "--json", existing.path], "pass --overwrite to replace it"),
            (["--target", "0.9", "--data", "synth:nothing"], "synth:nothing"),
            (["--target", "0.9", "--width", "0"], "--width"),
        ]
        for (args, words) in cases {
            let run = try tta(args + ["--threads", "1"])
            assertOneLine(run, status: 2, words)
            XCTAssertEqual(run.stdout, "", "\(args)")
        }
        XCTAssertEqual(try String(contentsOf: existing, encoding: .utf8), "keep me")
    }
}
