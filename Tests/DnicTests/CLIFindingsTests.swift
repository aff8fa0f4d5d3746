import Foundation
import XCTest
@testable import Dnic

/// Smaller habits that used to blame the wrong thing or fail late with a
/// generic message: each now ends with one line naming what the user can
/// change (or simply works).
extension CLITests {
    func assertOneLine(_ r: Run, status: Int32, has needles: [String], lacks absent: [String] = [],
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, status, r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)", file: file, line: line)
        for n in needles { XCTAssertTrue(r.stderr.contains(n), "lacks '\(n)': \(r.stderr)", file: file, line: line) }
        for n in absent { XCTAssertFalse(r.stderr.contains(n), "has '\(n)': \(r.stderr)", file: file, line: line) }
    }

    /// A setting stored in the checkpoint is named as the checkpoint's, not
    /// as a flag the user never typed; the default (1) is not refused.
    func testResumeNamesSettingsTheCheckpointSupplied() throws {
        let dir = try tempDir()
        let save = dir.appendingPathComponent("async.st").path
        let first = try dnic(Self.tiny + ["--hidden", "2", "--rule", "sg", "--schedule", "async", "--update-prob", "0.5", "--steps", "20",
                                          "--save", save, "--quiet"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = snapshot(save)
        let locked = try dnic(["train", "--resume", save, "--schedule", "locked", "--steps", "40", "--threads", "1"])
        assertOneLine(locked, status: 2, has: ["checkpoint \(save): training.update-prob 0.5", "--schedule"],
                      lacks: ["--update-prob 0.5"])
        XCTAssertEqual(snapshot(save), before)
        let again = try dnic(["train", "--resume", save, "--schedule", "locked", "--update-prob", "1", "--steps", "40",
                              "--threads", "1", "--quiet"])
        XCTAssertEqual(again.status, 0, again.stderr)
    }

    /// `--rule dfa` on a pipeline checkpoint is another run (other
    /// interfaces), not a schedule dfa cannot take.
    func testResumeWithAnotherRuleSaysTheInterfacesDiffer() throws {
        let dir = try tempDir()
        let save = dir.appendingPathComponent("pipe.st").path
        let first = try dnic(Self.tiny + ["--hidden", "2", "--rule", "sg", "--schedule", "pipeline", "--steps", "10", "--save", save, "--quiet"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let r = try dnic(["train", "--resume", save, "--rule", "dfa", "--steps", "20", "--threads", "1"])
        assertOneLine(r, status: 2, has: ["--resume \(save)", "interfaces", "dfa"], lacks: ["--schedule"])
    }

    /// Below 2^-24 the core's float draw never falls under the probability,
    /// and a denormal one reads as 0: refused by the flag, not by the core.
    func testUpdateProbabilityBelowFloatResolutionIsRefused() throws {
        for p in ["1e-45", "1e-10"] {
            let r = try dnic(Self.tiny + ["--hidden", "2", "--rule", "sg", "--schedule", "pipeline", "--update-prob", p,
                                          "--steps", "5"])
            assertOneLine(r, status: 2, has: ["--update-prob \(p)", "2^-24"], lacks: ["out of range"])
        }
    }

    /// A layer of dead relu units makes least squares without a penalty
    /// singular: the line names the layer and the remedy; no empty output
    /// directory is left.
    func testProbesWithoutPenaltyNameTheSingularLayer() throws {
        let dir = try tempDir()
        let save = dir.appendingPathComponent("g.st").path
        let first = try dnic(["train", "--data", "synth:grid", "--steps", "100", "--save", save, "--quiet", "--threads", "1"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let out = dir.appendingPathComponent("probes").path
        let r = try dnic(["analyze", "probes", "--checkpoint", save, "--kind", "ridge", "--ridge", "0", "--out", out, "--threads", "1"])
        assertOneLine(r, status: 1, has: ["hidden layer", "linearly dependent", "positive ridge penalty"],
                      lacks: ["out of range"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a failed analysis leaves no empty --out")
    }

    func testNegativeLinkBandwidthIsAValue() throws {
        let r = try dnic(["bench", "pipeline", "--simulate", "2", "--link", "-1"])
        assertOneLine(r, status: 2, has: ["--link -1:", "positive"], lacks: ["needs a value"])
    }

    /// A network larger than the machine is refused before anything is
    /// allocated, naming the setting that makes it large.
    func testAHugeNetworkNamesItsSetting() throws {
        assertOneLine(try dnic(["train", "--data", "synth:grid", "--width", "1000000", "--steps", "1"]), status: 2,
                      has: ["--width 1000000", "the network would need", "memory"], lacks: ["a size or count"])
        // activations of 60000-row batches of 200000 units: 336 GB, past any machine and dnic's own bound
        assertOneLine(try dnic(["train", "--data", "fashion-mnist", "--width", "200000", "--hidden", "1", "--batch", "60000",
                                "--steps", "1", "--threads", "1"]), status: 2,
                      has: ["--batch 60000", "the network would need"], lacks: ["a size or count"])
    }

    /// Every option's help says its default once.
    func testHelpSaysEachDefaultOnce() throws {
        for command in [["train"], ["plan"], ["eval"], ["predict"], ["export"], ["info"], ["bench", "train"], ["bench", "pipeline"], ["analyze", "norms"],
                        ["analyze", "probes"], ["analyze", "rdm"], ["analyze", "loss-surface"], ["analyze", "alignment"],
                        ["reproduce"], ["plot"]] {
            let r = try dnic(command + ["--help"])
            XCTAssertEqual(r.status, 0, "\(command): \(r.stderr)")
            // an option starts on a line "  -…"; its help continues on deeper-indented lines
            var options = [String]()
            for line in r.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("  -") { options.append(String(line)) } else if line.hasPrefix("   "), !options.isEmpty {
                    options[options.count - 1] += " " + line.trimmingCharacters(in: .whitespaces)
                }
            }
            XCTAssertGreaterThan(options.count, 1, "\(command): no options parsed from \(r.stdout)")
            for option in options {
                XCTAssertLessThanOrEqual(option.components(separatedBy: "default:").count - 1, 1, "\(command): \(option)")
            }
        }
    }

    /// A YAML config saved with a byte order mark (as Windows editors do)
    /// is read like one without, `---` document start included.
    func testYAMLConfigWithByteOrderMarkIsRead() throws {
        let dir = try tempDir()
        for (i, body) in ["---\ntraining:\n  steps: 7\n", "# a run\ntraining:\n  steps: 7\n", "training: {steps: 7}\n"].enumerated() {
            let path = dir.appendingPathComponent("bom\(i).yaml").path
            try Data([0xEF, 0xBB, 0xBF] + Array(body.utf8)).write(to: URL(fileURLWithPath: path))
            let r = try dnic(["train", "--config", path, "--print-config"])
            XCTAssertEqual(r.status, 0, "\(body): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("steps: 7"), r.stdout)
        }
    }

    /// A run that fails before its first log record (here: standard output
    /// on a full disk at the header) removes the empty log it made, so the
    /// same command can simply be run again.
    func testAFailedRunLeavesNoEmptyLog() throws {
        let dir = try tempDir()
        let log = dir.appendingPathComponent("l.jsonl").path
        let full = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full"))
        let r = try dnic(Self.tiny + ["--steps", "5", "--log", log], stdout: full)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("standard output"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: log), "an empty log was left behind")
        let again = try dnic(Self.tiny + ["--steps", "5", "--log", log, "--quiet"])
        XCTAssertEqual(again.status, 0, again.stderr)
    }

    /// ^C twice (two SIGINTs back to back): the run ends at once with one
    /// line and 130, or, if the first already stopped it, with the usual
    /// stop line; either way the checkpoint on disk loads and no temporary
    /// file is left.
    func testInterruptedTwiceEndsWithOneLineAndAWholeCheckpoint() throws {
        let dir = try tempDir()
        let save = dir.appendingPathComponent("s.st").path
        let r = try ProcessRun.launch(Self.executable.path, Self.tiny + ["--steps", "100000000", "--save", save,
                                                                         "--checkpoint-every", "500", "--quiet"]) { process in
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: save), Date() < deadline, process.isRunning { usleep(10_000) }
            kill(process.processIdentifier, SIGINT)
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(r.status, 130, r.stderr)
        XCTAssertFalse(r.signaled, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("dnic: SIGINT: a second stop signal; ended at once") || r.stderr.hasPrefix("dnic: SIGINT at step"),
                      r.stderr)
        XCTAssertGreaterThan(try Checkpoint.load(path: save).step, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["s.st"], "no temporary file is left")
    }
}
