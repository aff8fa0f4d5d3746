import Foundation
import XCTest
import Dnic

/// `dnic plan` and `dnic train --sg-at balanced[:K]` end to end: the plan's
/// structure (the measured numbers vary, so no timing is asserted), a run
/// that trains the planned blocks and a resume that keeps them, and bad
/// block counts refused in one line with nothing written.
extension CLITests {
    func testPlanPrintsOneBoundary() throws {
        let r = try dnic(["plan", "--hidden", "3", "--width", "64", "--rule", "sg", "--sg-at", "balanced", "--data", "synth:xor-2d"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        let plan = try XCTUnwrap(r.stdout.split(separator: "\n").last.map(String.init))
        let match = try XCTUnwrap(plan.firstMatch(of: /^plan: boundaries after hidden layer\(s\) ([0-9,]+); blocks [0-9.]+ ms \/ [0-9.]+ ms; predicted [0-9,]+ samples\/s/), plan)
        XCTAssertTrue(["1", "2"].contains(String(match.1)), plan)
    }

    /// Bare `dnic plan` plans an sg interface where two blocks balance.
    func testBarePlanIsBalancedSG() throws {
        let r = try dnic(["plan", "--hidden", "3", "--width", "32", "--data", "synth:xor-2d"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertNotNil(r.stdout.firstMatch(of: #/plan: boundaries after hidden layer\(s\) [12]; blocks /#), r.stdout)
        let backprop = try dnic(["plan", "--rule", "backprop", "--data", "synth:xor-2d"])
        XCTAssertEqual(backprop.status, 2)
        XCTAssertTrue(backprop.stderr.contains("nothing to plan"), backprop.stderr)
    }

    func testPlanOfThreeBlocksAndOfAFixedCut() throws {
        let three = try dnic(["plan", "--hidden", "4", "--width", "32", "--rule", "sg", "--sg-at", "balanced:3", "--data", "synth:xor-2d"])
        XCTAssertEqual(three.status, 0, three.stderr)
        let cuts = try XCTUnwrap(three.stdout.firstMatch(of: /boundaries after hidden layer\(s\) ([1-3]),([1-3]);/))
        XCTAssertLessThan(Int(cuts.1)!, Int(cuts.2)!)
        let fixed = try dnic(["plan", "--hidden", "3", "--width", "32", "--rule", "sg", "--sg-at", "2", "--data", "synth:xor-2d"])
        XCTAssertEqual(fixed.status, 0, fixed.stderr)
        XCTAssertTrue(fixed.stdout.contains("plan: boundaries after hidden layer(s) 2; blocks "), fixed.stdout)
    }

    func testBalancedBlockCountsRefused() throws {
        let dir = try tempDir()
        let save = dir.appendingPathComponent("run.safetensors").path
        for command in ["plan", "train"] {
            let extra = command == "train" ? ["--save", save, "--steps", "5"] : []
            try assertFails([command, "--hidden", "3", "--rule", "sg", "--sg-at", "balanced:4", "--data", "synth:xor-2d"] + extra,
                            status: 2, mentions: ["--sg-at balanced:4", "4 blocks need at least 4 hidden layers (there are 3)"])
            try assertFails([command, "--hidden", "3", "--rule", "sg", "--sg-at", "balanced:1", "--data", "synth:xor-2d"] + extra,
                            status: 2, mentions: ["--sg-at balanced:1", "at least 2 blocks"])
            try assertFails([command, "--hidden", "3", "--rule", "sg", "--sg-at", "balanced:x", "--data", "synth:xor-2d"] + extra,
                            status: 2, mentions: ["--sg-at 'balanced:x'", "balanced:K"])
            for rule in ["fa", "dfa", "kickback"] {
                try assertFails([command, "--hidden", "3", "--rule", rule, "--sg-at", "balanced", "--data", "synth:xor-2d"] + extra,
                                status: 2, mentions: ["--sg-at balanced", "--rule \(rule)", "every hidden layer"])
            }
        }
        try assertFails(["plan", "--hidden", "3", "--rule", "backprop", "--data", "synth:xor-2d"], status: 2,
                        mentions: ["--sg-at none", "nothing to plan"])
        // a command that does not plan says where the boundaries come from
        try assertFails(["bench", "train", "--rule", "sg", "--sg-at", "balanced", "--steps", "5", "--threads", "1"], status: 2,
                        mentions: ["--sg-at balanced", "dnic plan"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    /// The run trains the blocks it planned, its checkpoint keeps them as a
    /// list, and the resume trains the same blocks without planning again.
    func testBalancedPipelineTrainsAndResumesWithItsBoundaries() throws {
        let dir = try tempDir()
        let save = dir.appendingPathComponent("run.safetensors").path
        let r = try dnic(["train", "--data", "synth:xor-2d", "--hidden", "3", "--width", "32", "--rule", "sg", "--sg-at", "balanced",
                          "--schedule", "pipeline", "--steps", "20", "--save", save])
        XCTAssertEqual(r.status, 0, r.stderr)
        let planned = try XCTUnwrap(r.stdout.firstMatch(of: #/(?m)^plan: boundaries after hidden layer\(s\) ([12]); blocks /#), r.stdout)
        let cut = Int(planned.1)!
        XCTAssertTrue(r.stdout.contains("linear interfaces after hidden layer(s) \(cut),"), r.stdout)
        XCTAssertTrue(r.stdout.contains("schedule pipeline (2 blocks)"), r.stdout)
        // after training, the prediction beside what the run measured; the summary stays last
        let lines = r.stdout.split(separator: "\n")
        XCTAssertTrue(lines.dropLast().last?.hasPrefix("plan: predicted ") == true, r.stdout)
        XCTAssertTrue(lines.last?.hasPrefix("test accuracy") == true, r.stdout)
        XCTAssertEqual(try Checkpoint.load(path: save).config.interfaces.at, .list([cut]))
        let resumed = try dnic(["train", "--resume", save, "--steps", "40"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertFalse(resumed.stdout.contains("plan:"), resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("linear interfaces after hidden layer(s) \(cut),"), resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("resumed at step 20"), resumed.stdout)
        let printed = try dnic(["train", "--data", "synth:xor-2d", "--hidden", "3", "--rule", "sg", "--sg-at", "balanced:3", "--print-config"])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        XCTAssertTrue(printed.stdout.contains("at: balanced:3"), printed.stdout)
    }
}
