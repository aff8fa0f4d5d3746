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
        // the pipeline's blocks (their interfaces predict as the batch passes), unless told otherwise
        XCTAssertNotNil(r.stdout.firstMatch(of: #/\(of which predicting as the batch passes, which the locked step does not: [0-9.]+ ms, [0-9.]+ ms\)/#),
                        r.stdout)
        let locked = try dnic(["plan", "--hidden", "3", "--width", "32", "--data", "synth:xor-2d", "--schedule", "locked"])
        XCTAssertEqual(locked.status, 0, locked.stderr)
        XCTAssertFalse(locked.stdout.contains("predicting"), locked.stdout)
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
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    /// `dnic bench train --sg-at balanced` plans once and times every row on
    /// that cut (W1's 784-wide first layer makes it 1 or 2, never 3).
    func testBenchTrainPlansABalancedCutOnce() throws {
        let r = try dnic(["bench", "train", "--rule", "sg", "--sg-at", "balanced", "--schedule", "pipeline", "--batch", "16",
                          "--steps", "5", "--rounds", "1", "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        let plans = r.stdout.matches(of: #/(?m)^plan: boundaries after hidden layer\(s\) ([12]); blocks /#)
        XCTAssertEqual(plans.count, 1, r.stdout)
        XCTAssertTrue(r.stdout.contains("pipeline sg, 1 thread(s)"), r.stdout)
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
    /// `dnic plan --link G --latency US`: each boundary's messages, each
    /// block's compute and messages, the prediction over the link; a slow
    /// link puts the cut at the narrow boundary.
    func testPlanOverALink() throws {
        let r = try dnic(["plan", "--hidden", "3", "--width", "32", "--data", "synth:xor-2d", "--link", "1", "--latency", "50"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, r.stdout)
        XCTAssertTrue(lines.first?.hasPrefix("measured per batch of 64, 1 thread: ") == true, r.stdout)
        XCTAssertNotNil(lines[1].wholeMatch(of: /messages per batch over a 1 Gbit\/s link with 50 µs latency, paid by the blocks on both sides: after 1 [0-9.]+ ms, after 2 [0-9.]+ ms/), lines[1])
        let block = #"[0-9.]+ ms compute \+ [0-9.]+ ms messages"#
        let plan = try Regex("^plan: boundaries after hidden layer\\(s\\) [12]; blocks \(block) / \(block); predicted [0-9,]+ samples/s, "
                             + "one machine per block, messages over a 1 Gbit/s link with 50 µs latency \\(locked sg 1 thread: [0-9,]+\\)$")
        XCTAssertNotNil(lines[2].wholeMatch(of: plan), lines[2])

        // in one process the blocks balance higher up; over a slow link the cut moves to the narrow boundary
        let dir = try tempDir()
        let config = try writeNarrowFirstBoundaryConfig(dir)
        let local = try dnic(["plan", "--config", config])
        XCTAssertEqual(local.status, 0, local.stderr)
        XCTAssertNotNil(local.stdout.firstMatch(of: #/plan: boundaries after hidden layer\(s\) [234]; blocks /#), local.stdout)
        let slow = try dnic(["plan", "--config", config, "--link", "0.01", "--latency", "50"])
        XCTAssertEqual(slow.status, 0, slow.stderr)
        XCTAssertTrue(slow.stdout.contains("plan: boundaries after hidden layer(s) 1; blocks "), slow.stdout)
        // a fixed cut is priced over the link too, for comparison
        let fixed = try dnic(["plan", "--config", config, "--sg-at", "2", "--link", "0.01"])
        XCTAssertEqual(fixed.status, 0, fixed.stderr)
        XCTAssertNotNil(fixed.stdout.firstMatch(of: /plan: boundaries after hidden layer\(s\) 2; blocks [0-9.]+ ms compute \+ 52\.[0-9]+ ms messages/), fixed.stdout)
        XCTAssertTrue(fixed.stdout.contains("0.01 Gbit/s link with 50 µs latency"), fixed.stdout) // the default latency
    }

    /// Bad link values, --latency alone, and --link where nothing plans over
    /// one: one line, exit 2, nothing written.
    func testLinkRefusals() throws {
        let dir = try tempDir()
        let save = dir.appendingPathComponent("run.safetensors").path
        for command in ["plan", "train"] {
            let base = [command, "--data", "synth:xor-2d", "--hidden", "3", "--rule", "sg", "--sg-at", "balanced"]
                + (command == "train" ? ["--mpi", "--schedule", "pipeline", "--save", save] : [])
            try assertFails(base + ["--link", "0"], status: 2, mentions: ["--link 0: must be between 0.001 and 1000000 Gbit/s"])
            try assertFails(base + ["--link", "-1"], status: 2, mentions: ["--link -1: must be between 0.001 and 1000000 Gbit/s"])
            try assertFails(base + ["--link", "inf"], status: 2, mentions: ["--link inf: must be between 0.001 and 1000000 Gbit/s"])
            try assertFails(base + ["--link", "1e-300"], status: 2, mentions: ["--link 1e-300: must be between 0.001 and 1000000 Gbit/s"])
            try assertFails(base + ["--link", "fast"], status: 2, mentions: ["--link", "fast", "not a number"])
            try assertFails(base + ["--link", "1", "--latency", "-5"], status: 2,
                            mentions: ["--latency -5: must be between 0 and 1000000 microseconds"])
            try assertFails(base + ["--link", "1", "--latency", "nan"], status: 2,
                            mentions: ["--latency nan: must be between 0 and 1000000 microseconds"])
            try assertFails(base + ["--link", "1", "--latency", "1e300"], status: 2,
                            mentions: ["--latency 1e+300: must be between 0 and 1000000 microseconds"])
            try assertFails(base + ["--latency", "50"], status: 2, mentions: ["--latency needs --link"])
        }
        // in one process there are no messages to price
        try assertFails(["train", "--data", "synth:xor-2d", "--hidden", "3", "--rule", "sg", "--sg-at", "balanced", "--schedule", "pipeline",
                         "--link", "1", "--save", save], status: 2, mentions: ["--link", "needs --mpi", "dnic plan --link"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }
}

/// An sg run on synth:xor-2d whose boundary after hidden layer 1 is narrow
/// (8 wide) and the others wide (256): in one process the blocks balance
/// after layer 3 (measured here 0.28 / 0.30 ms; cut after 1: 0.01 / 0.44
/// ms); over a 10 Mbit/s link a 256-wide boundary costs 53 ms per batch and
/// the narrow one 1.9 ms, against a fraction of a millisecond of compute.
func writeNarrowFirstBoundaryConfig(_ dir: URL) throws -> String {
    let path = dir.appendingPathComponent("narrow.yaml").path
    try """
    data: synth:xor-2d
    model:
      layers:
      - width: 8
      - width: 256
      - width: 256
      - width: 256
      - width: 256
    interfaces:
      rule: sg
      at: balanced
    """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// `mpirun -np 2 dnic train --mpi --link …`: rank 0 plans over the link and
/// every rank trains the blocks it found; a fixed placement is refused.
extension MPITests {
    func testLinkFeedsThePlanUnderMpirun() throws {
        let dir = try tempDir()
        let config = try writeNarrowFirstBoundaryConfig(dir)
        let run = ["train", "--mpi", "--config", config, "--schedule", "pipeline", "--steps", "10", "--threads", "1", "--link", "0.01"]
        let r = try mpi(2, run)
        XCTAssertEqual(r.status, 0, r.stderr)
        let plan = try XCTUnwrap(r.stdout.firstMatch(of: #/(?m)^plan: boundaries after hidden layer\(s\) 1; blocks .* messages; predicted .*, one machine per block, messages over a 0.01 Gbit\/s link with 50 µs latency/#), r.stdout)
        XCTAssertFalse(plan.0.isEmpty)
        XCTAssertTrue(r.stdout.contains("linear interfaces after hidden layer(s) 1,"), r.stdout)
        let fixed = try mpi(2, run + ["--sg-at", "2"])
        assertOneLine(fixed, mentions: ["--link prices the plan of --sg-at balanced[:K]", "--sg-at 2 is fixed"])
        XCTAssertEqual(fixed.status, 2, fixed.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["narrow.yaml"])
        // a resumed run keeps its boundaries: nothing to plan, the checkpoint untouched
        let save = dir.appendingPathComponent("run.safetensors")
        let first = try dnic(["train", "--config", config, "--schedule", "pipeline", "--steps", "5", "--threads", "1", "--quiet", "--save", save.path])
        XCTAssertEqual(first.status, 0, first.stderr)
        let saved = try Data(contentsOf: save)
        let resumed = try mpi(2, ["train", "--mpi", "--resume", save.path, "--steps", "10", "--threads", "1", "--link", "1"])
        assertOneLine(resumed, mentions: ["--link prices a new plan", "keeps its boundaries", "drop --link"])
        XCTAssertEqual(resumed.status, 2, resumed.stderr)
        XCTAssertEqual(try Data(contentsOf: save), saved)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["narrow.yaml", "run.safetensors"])
    }
}
