import Foundation
import XCTest
@testable import Dnic

/// `dnic reproduce`'s run store: a run is complete when its log ends with
/// its final line and its checkpoint, if it has one, loads and holds that
/// step; an unfinished run continues from its checkpoint; one reproduction
/// at a time writes a DIR.
extension CLITests {
    /// `dnic reproduce`: a run whose log is complete but whose checkpoint is
    /// damaged is run again (its checkpoint is part of it).
    func testReproduceRunsAgainARunWhoseCheckpointIsDamaged() throws {
        let dir = try tempDir()
        let out = dir.appendingPathComponent("out").path
        let command = ["reproduce", "thm1", "--quick", "--out", out, "--threads", "1"]
        XCTAssertEqual(try dnic(command).status, 0)
        let damaged = out + "/thm1/runs/sg-lr0.2.safetensors"
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: damaged)[.size] as? Int)
        XCTAssertEqual(truncate(damaged, off_t(size / 2)), 0)
        let untouched = out + "/thm1/runs/sg-lr0.5.safetensors"
        let before = snapshot(untouched)
        let r = try dnic(command)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("(6 runs, 5 found complete"), r.stdout)
        XCTAssertTrue(r.stderr.contains("run sg-lr0.2 has its final line, but its checkpoint does not load"), r.stderr)
        XCTAssertNoThrow(try Checkpoint.load(path: damaged), "made again")
        XCTAssertEqual(snapshot(untouched), before)
        XCTAssertTrue(try dnic(command).stdout.contains("(6 runs, 6 found complete"))
    }

    /// `dnic reproduce`: a run cut off before its final line (killed after
    /// its last checkpoint) continues from its checkpoint, keeping what it
    /// logged: its stored settings, defaults filled in, are recognised as the
    /// run's own, and its last evaluation becomes its final record.
    func testReproduceContinuesAnUnfinishedRunFromItsCheckpoint() throws {
        let dir = try tempDir()
        let out = dir.appendingPathComponent("out").path
        let command = ["reproduce", "table1", "--quick", "--out", out, "--threads", "1"]
        XCTAssertEqual(try dnic(command).status, 0)
        let log = out + "/table1/runs/backprop-seed1.jsonl"
        let logged = try lines(log)
        XCTAssertEqual(logged.last?.hasPrefix("{\"event\":\"final\""), true, logged.last ?? "")
        try (logged.dropLast().joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        let r = try dnic(command)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("(6 runs, 5 found complete"), r.stdout)
        // the evaluations it logged are kept, not run again, and its final line is the one it would have written
        XCTAssertEqual(try lines(log), logged)
    }

    /// Two `dnic reproduce` into one --out: the second is refused with one
    /// line naming the process that holds it (here the test); a lock file
    /// left by a process that has died does not block.
    func testASecondReproduceIntoTheSameOutIsRefused() throws {
        let dir = try tempDir()
        let out = dir.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let lockPath = out + "/" + DirectoryLock.fileName
        let command = ["reproduce", "thm1", "--quick", "--out", out, "--threads", "1"]
        // held: the test is the other process
        var held: DirectoryLock? = try DirectoryLock(directory: out)
        try withExtendedLifetime(held) {
            let before = [snapshot(out), snapshot(lockPath)]
            let r = try dnic(command)
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("--out \(out): is being written by another dnic process (process \(getpid())); "
                                            + "wait for it to end, or use another --out"), r.stderr)
            XCTAssertEqual([snapshot(out), snapshot(lockPath)], before, "nothing run, nothing written")
        }
        // released, and naming a process that is gone: no obstacle
        held = nil
        try "999999999\n".write(toFile: lockPath, atomically: false, encoding: .utf8)
        let ok = try dnic(command)
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }
}
