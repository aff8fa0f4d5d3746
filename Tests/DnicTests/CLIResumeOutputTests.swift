import Foundation
import XCTest
@testable import Dnic

/// `--resume X` continues the run's outputs: it saves back to X and appends
/// to the original log (with its checkpoint interval) unless flags say
/// otherwise; the command a stopped run prints really continues it; a
/// finished run says so and writes nothing. And labels only the test set
/// has are named in a warning; `--classes` sets the output width.
extension CLITests {
    func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func testResumeSavesBackAndAppendsToTheOriginalLog() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("c.st").path, log = dir.appendingPathComponent("run.jsonl").path
        XCTAssertEqual(try dnic(Self.tiny + ["--steps", "40", "--eval-every", "10", "--save", ckpt, "--log", log, "--quiet"]).status, 0)
        XCTAssertEqual(try lines(log).count, 5) // 4 evaluations + final
        let r = try dnic(["train", "--resume", ckpt, "--steps", "60", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Checkpoint.load(path: ckpt).step, 60, "saved back to the resumed file")
        let all = try lines(log)
        XCTAssertEqual(all.count, 5 + 3, "appended to the original log: \(all)")
        let steps = try all.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.map { $0["step"] as! Int }
        XCTAssertEqual(Array(steps.suffix(3)), [50, 60, 60])
        // told otherwise: another checkpoint and log
        let other = dir.appendingPathComponent("d.st").path, otherLog = dir.appendingPathComponent("more.jsonl").path
        XCTAssertEqual(try dnic(["train", "--resume", ckpt, "--steps", "70", "--save", other, "--log", otherLog, "--quiet"]).status, 0)
        XCTAssertEqual(try Checkpoint.load(path: ckpt).step, 60)
        XCTAssertEqual(try Checkpoint.load(path: other).step, 70)
        XCTAssertEqual(try lines(log).count, 8)
        XCTAssertEqual(try lines(otherLog).count, 2)
    }

    func testResumingAFinishedRunWritesNothing() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("c.st").path, log = dir.appendingPathComponent("run.jsonl").path
        XCTAssertEqual(try dnic(Self.tiny + ["--steps", "20", "--save", ckpt, "--log", log, "--quiet"]).status, 0)
        let before = [snapshot(ckpt), snapshot(log), snapshot(dir.path)]
        let r = try dnic(["train", "--resume", ckpt])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertTrue(r.stdout.contains("run \(ckpt) already finished: step 20 of 20; nothing to do"), r.stdout)
        XCTAssertTrue(r.stdout.contains("--steps"), r.stdout)
        XCTAssertEqual([snapshot(ckpt), snapshot(log), snapshot(dir.path)], before, "nothing written")
    }

    /// SIGINT prints "continue with: dnic train --resume X"; running exactly
    /// that (through a shell, as a user would paste it) continues to save and
    /// log, so a second Ctrl-C loses nothing.
    func testTheStopHintReallyContinues() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("run one.st").path // a space: the hint must quote it
        let log = dir.appendingPathComponent("run.jsonl").path
        /// Starts `arguments` (through /bin/sh when `shellCommand`), waits until
        /// the checkpoint holds a step past `after`, and sends SIGINT.
        func interrupt(_ arguments: [String], shellCommand: String? = nil, after: Int) throws -> (stderr: String, status: Int32) {
            let process = Process()
            if let shellCommand {
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", "exec " + shellCommand]
                var env = ProcessInfo.processInfo.environment
                env["PATH"] = Self.executable.deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
                process.environment = env
            } else {
                process.executableURL = Self.executable
                process.arguments = arguments
            }
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, ((try? Checkpoint.load(path: ckpt))?.step ?? 0) <= after { usleep(20_000) }
            kill(process.processIdentifier, SIGINT)
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            StderrCaptures.record(shellCommand.map { [$0] } ?? arguments, stderr)
            return (stderr, process.terminationStatus)
        }
        let first = try interrupt(Self.run + ["--steps", "1000000", "--eval-every", "20", "--save", ckpt,
                                               "--checkpoint-every", "3", "--log", log], after: 40)
        XCTAssertEqual(first.status, 130, first.stderr)
        guard let range = first.stderr.range(of: "continue with: ") else { return XCTFail(first.stderr) }
        let command = String(first.stderr[range.upperBound...].prefix { $0 != ")" })
        XCTAssertEqual(command, "dnic train --resume '\(ckpt)'")
        let firstStep = try Checkpoint.load(path: ckpt).step
        XCTAssertTrue(first.stderr.contains("SIGINT at step \(firstStep);"), first.stderr)
        let logged = try lines(log).count
        XCTAssertGreaterThan(logged, 0)

        let second = try interrupt([], shellCommand: command, after: firstStep + 40)
        XCTAssertEqual(second.status, 130, second.stderr)
        let secondStep = try Checkpoint.load(path: ckpt).step
        XCTAssertGreaterThan(secondStep, firstStep + 40, "the resumed run saved its progress")
        XCTAssertTrue(second.stderr.contains("SIGINT at step \(secondStep); checkpoint saved to \(ckpt)"), second.stderr)
        XCTAssertGreaterThan(try lines(log).count, logged, "the resumed run appended to the original log")
    }

    func testLabelsOnlyInTheTestSetAreNamedAndClassesSetTheWidth() throws {
        let dir = try tempDir()
        let train = dir.appendingPathComponent("train.csv").path, test = dir.appendingPathComponent("test.csv").path
        try (0..<40).map { "\($0 % 2),\(Double($0 % 2)),0.5" }.joined(separator: "\n").write(toFile: train, atomically: true, encoding: .utf8)
        try ["0,0,0.5", "1,1,0.5", "9,1,0.5"].joined(separator: "\n").write(toFile: test, atomically: true, encoding: .utf8)
        let data = "csv:\(train),\(test)"
        let r = try dnic(["train", "--data", data, "--hidden", "1", "--width", "4", "--steps", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: the test set has label(s) 9 that no training example has (training labels: 0–1); "
                                        + "the output layer has 10 classes (set --classes to choose)"), r.stderr)
        XCTAssertTrue(r.stdout.contains("network 2-4-10 "), r.stdout)
        let wide = try dnic(["train", "--data", data, "--hidden", "1", "--width", "4", "--steps", "2", "--classes", "12"])
        XCTAssertEqual(wide.status, 0, wide.stderr)
        XCTAssertTrue(wide.stdout.contains("network 2-4-12 "), wide.stdout)
        XCTAssertFalse(wide.stderr.contains("set --classes"), wide.stderr)
        try assertFails(["train", "--data", data, "--steps", "2", "--classes", "5"], status: 1, mentions: ["label 9", test])
        try assertFails(["train", "--data", data, "--steps", "2", "--classes", "1"], status: 2, mentions: ["--classes 1: one output needs --loss logistic"])
        // no warning when every label is trained
        let clean = try dnic(["train", "--data", "csv:\(train)", "--hidden", "1", "--width", "4", "--steps", "2", "--quiet"])
        XCTAssertEqual(clean.stderr, "", clean.stderr)
    }
}
