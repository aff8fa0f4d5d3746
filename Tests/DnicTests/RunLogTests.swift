import Foundation
import XCTest
@testable import Dnic

/// A run's log is its own: a resumed run appends only to a log whose last
/// record is its run's, at or before its checkpoint's step; records past the
/// checkpoint are cut back only when the invocation that saved the
/// checkpoint wrote them and did not save again (it was killed). Forks,
/// other runs' logs and files that are not dnic logs are refused with one
/// line and left as they were. A full disk leaves the log ending at a whole
/// line; a log another process writes is refused.
extension CLITests {
    /// Records of a JSON Lines file, as objects.
    func records(_ path: String) throws -> [[String: Any]] {
        try lines(path).map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    /// The last whole records of the log (its last 16 KiB): cheap enough to
    /// poll while a fast run writes thousands of records a second, where
    /// parsing the whole log each time fell behind it (a CI machine missed
    /// every window for 60 s).
    func lastRecords(_ path: String) throws -> [[String: Any]] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size > 16384 ? size - 16384 : 0)
        let text = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if size > 16384 { lines.removeFirst() } // begins mid-line
        if lines.last.map({ !$0.isEmpty }) == true { lines.removeLast() } // being written
        return lines.filter { !$0.isEmpty }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// The log as a straight run would write it: evaluations and the final
    /// record, without timing, ids or checkpoint notes.
    func loggedValues(_ path: String) throws -> [String] {
        try records(path).filter { $0["event"] as? String != "checkpoint" }.map { record in
            var object = record
            for key in ["samples_per_sec", "seconds", "run", "segment"] { object[key] = nil }
            return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
    }

    /// Rewrites a checkpoint's metadata in place.
    func editMetadata(_ path: String, _ edit: (inout [String: String]) -> Void) throws {
        var file = try SafeTensors.read(path: path)
        edit(&file.metadata)
        try file.write(to: path)
    }

    /// Makes a checkpoint and its log look written by a dnic before run ids.
    func dropIDs(checkpoint: String, log: String) throws {
        try editMetadata(checkpoint) { $0["run_id"] = nil; $0["run_segment"] = nil }
        let text = try records(log).map { record in
            var object = record
            object["run"] = nil
            object["segment"] = nil
            return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        try (text.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
    }

    /// Issue 22 case 7: `cp run.st branch.st`, continue the branch, then the
    /// original. The branch appends to the run's log; the original would
    /// write a second history into it and is refused.
    func testAForkedCheckpointDoesNotAppendToTheRunsLog() throws {
        let dir = try tempDir()
        let run = dir.appendingPathComponent("run.st").path, branch = dir.appendingPathComponent("branch.st").path
        let log = dir.appendingPathComponent("run.jsonl").path
        XCTAssertEqual(try dnic(Self.tiny + ["--steps", "40", "--eval-every", "10", "--save", run, "--log", log, "--quiet"]).status, 0)
        try FileManager.default.copyItem(atPath: run, toPath: branch)
        let continued = try dnic(["train", "--resume", branch, "--steps", "60", "--quiet"])
        XCTAssertEqual(continued.status, 0, continued.stderr)
        XCTAssertEqual(try records(log).map { $0["step"] as! Int }, [10, 20, 30, 40, 40, 50, 60, 60], "the branch continues the log")
        try assertRefused(["train", "--resume", run, "--steps", "80", "--lr", "0.1"],
                                mentions: ["the run's log \(log): holds this run's records up to step 60, past this checkpoint's step 40",
                                           "pass --log FILE"],
                                watching: [run, log, dir.path])
        // told where to log, the original continues there
        let other = dir.appendingPathComponent("original.jsonl").path
        let elsewhere = try dnic(["train", "--resume", run, "--steps", "80", "--log", other, "--quiet"])
        XCTAssertEqual(elsewhere.status, 0, elsewhere.stderr)
        XCTAssertEqual(try records(other).map { $0["step"] as! Int }, [50, 60, 70, 80, 80])
        let ids = Set(try records(log).map { $0["run"] as? String ?? "(none)" } + records(other).map { $0["run"] as? String ?? "(none)" })
        XCTAssertEqual(ids.count, 1, "one run, three segments: \(ids)")
        XCTAssertEqual(Set(try records(log).map { $0["segment"] as? String ?? "(none)" }).count, 2)
    }

    /// A checkpoint whose stored log path names a file that is not this
    /// run's log (a text file, another run's log) never appends to it;
    /// `--log FILE --overwrite` replaces a file the user names.
    func testALogThatIsNotTheRunsOwnIsNeverAppendedTo() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("a.st").path, log = dir.appendingPathComponent("a.jsonl").path
        XCTAssertEqual(try dnic(Self.tiny + ["--steps", "20", "--eval-every", "10", "--save", ckpt, "--log", log, "--quiet"]).status, 0)
        let notes = dir.appendingPathComponent("notes.txt").path
        try "my notes\nsecond line\n".write(toFile: notes, atomically: true, encoding: .utf8)
        let unterminated = dir.appendingPathComponent("partial.txt").path
        try "no newline at all".write(toFile: unterminated, atomically: true, encoding: .utf8)
        let otherCkpt = dir.appendingPathComponent("b.st").path, otherLog = dir.appendingPathComponent("b.jsonl").path
        XCTAssertEqual(try dnic(Self.tiny + ["--steps", "20", "--save", otherCkpt, "--log", otherLog, "--quiet"]).status, 0)
        let watched = [ckpt, log, notes, unterminated, otherLog, dir.path]

        try editMetadata(ckpt) { $0["run_log"] = notes }
        try assertRefused(["train", "--resume", ckpt, "--steps", "30"],
                                mentions: ["the run's log \(notes): is not a dnic log", "pass --log FILE"], watching: watched)
        try editMetadata(ckpt) { $0["run_log"] = unterminated }
        try assertRefused(["train", "--resume", ckpt, "--steps", "30"],
                                mentions: ["the run's log \(unterminated): is not a dnic log"], watching: watched)
        try editMetadata(ckpt) { $0["run_log"] = otherLog }
        try assertRefused(["train", "--resume", ckpt, "--steps", "30"],
                                mentions: ["the run's log \(otherLog): holds another run's records"], watching: watched)
        // named by --log: refused the same way, with the way out
        try assertRefused(["train", "--resume", ckpt, "--steps", "30", "--log", notes],
                                mentions: ["--log \(notes): is not a dnic log", "pass --overwrite to replace it, or another --log"],
                                watching: watched)
        let replaced = try dnic(["train", "--resume", ckpt, "--steps", "30", "--log", otherLog, "--overwrite", "--quiet"])
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        XCTAssertEqual(try records(otherLog).map { $0["step"] as! Int }, [30, 30], "replaced, as --overwrite asked")
        XCTAssertEqual(try String(contentsOfFile: notes, encoding: .utf8), "my notes\nsecond line\n")
    }

    struct NeverReached: Error {}

    /// kill(SIGSTOP) returns before the process has stopped: wait (at most
    /// 2 s) until the kernel shows it stopped ('T' in /proc/PID/stat), so
    /// that what is read next is what it left.
    func waitUntilStopped(_ pid: Int32) {
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            // "PID (comm) STATE …": the state follows the last ')'
            if let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].dropFirst().first == "T" { return }
            usleep(1_000)
        }
    }

    /// Waits (bounded) until `condition` holds for the log of a running
    /// dnic, checked again with the process stopped (SIGSTOP), so that what
    /// was seen is what the process left; the process stays stopped.
    func stop(_ process: Process, when condition: () throws -> Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning {
            if (try? condition()) == true {
                kill(process.processIdentifier, SIGSTOP)
                waitUntilStopped(process.processIdentifier)
                if (try? condition()) == true { return }
                kill(process.processIdentifier, SIGCONT)
            }
            usleep(2_000)
        }
        XCTFail("the run never reached the awaited state", file: file, line: line)
        throw NeverReached()
    }

    /// A run killed after its last checkpoint has logged past it: `--resume`
    /// cuts those records back and writes them again (the log then equals a
    /// straight run's); a copy of an older checkpoint of the same run, which
    /// the run saved again after, is refused.
    func testAResumeAfterAKillRewritesTheRecordsPastTheCheckpoint() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("c.st").path, log = dir.appendingPathComponent("run.jsonl").path
        let older = dir.appendingPathComponent("older.st").path
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = Self.tiny + ["--steps", "1000000", "--eval-every", "7", "--save", ckpt, "--checkpoint-every", "50",
                                         "--log", log, "--quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        /// The last records and the step of the last checkpoint note among them.
        func tail() throws -> (records: [[String: Any]], saved: Int?) {
            let recent = try lastRecords(log)
            return (recent, recent.last { $0["event"] as? String == "checkpoint" }?["step"] as? Int)
        }
        // a copy of a checkpoint, taken while the run goes on
        try stop(process) { try tail().saved.map { try Checkpoint.load(path: ckpt).step == $0 } ?? false }
        try FileManager.default.copyItem(atPath: ckpt, toPath: older)
        let olderStep = try Checkpoint.load(path: older).step
        kill(process.processIdentifier, SIGCONT)
        // killed after a later checkpoint, with evaluations logged past it
        try stop(process) {
            let (recent, saved) = try tail()
            guard let saved, saved > olderStep, let last = recent.last, last["event"] as? String == "eval" else { return false }
            return try Checkpoint.load(path: ckpt).step == saved && (last["step"] as! Int) > saved
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let savedStep = try Checkpoint.load(path: ckpt).step
        let lastLogged = try records(log).last!["step"] as! Int
        XCTAssertGreaterThan(lastLogged, savedStep)

        try assertRefused(["train", "--resume", older, "--steps", "\(lastLogged + 100)"],
                                mentions: ["the run's log \(log): holds this run's records up to step \(lastLogged), past this checkpoint's step \(olderStep)"],
                                watching: [ckpt, older, log, dir.path])

        let steps = lastLogged + 100
        let resumed = try dnic(["train", "--resume", ckpt, "--steps", "\(steps)"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(resumed.stderr, "")
        XCTAssertTrue(resumed.stdout.contains("the run's log \(log): its records of step"), resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("are written again"), resumed.stdout)
        let straightLog = dir.appendingPathComponent("straight.jsonl").path
        XCTAssertEqual(try dnic(Self.tiny + ["--steps", "\(steps)", "--eval-every", "7", "--log", straightLog, "--quiet"]).status, 0)
        XCTAssertEqual(try loggedValues(log), try loggedValues(straightLog), "the same records as a straight run, each once")
    }

    /// Checkpoints and logs of a dnic before run ids: continued when the
    /// log's last record is at or before the checkpoint's step (the run then
    /// gets an id), refused when it is past it or carries an id.
    func testCheckpointsWithoutARunIDContinueOnlyALogThatEndsAtTheirStep() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("c.st").path, log = dir.appendingPathComponent("run.jsonl").path
        XCTAssertEqual(try dnic(Self.tiny + ["--steps", "20", "--eval-every", "10", "--save", ckpt, "--log", log, "--quiet"]).status, 0)
        try dropIDs(checkpoint: ckpt, log: log)
        let older = dir.appendingPathComponent("older.st").path
        try FileManager.default.copyItem(atPath: ckpt, toPath: older)
        let resumed = try dnic(["train", "--resume", ckpt, "--steps", "40", "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let all = try records(log)
        XCTAssertEqual(all.map { $0["step"] as! Int }, [10, 20, 20, 30, 40, 40])
        let id = try XCTUnwrap(try SafeTensors.read(path: ckpt).metadata["run_id"])
        XCTAssertEqual(all.suffix(3).map { $0["run"] as? String }, [id, id, id], "the resumed run has an id from now on")
        // the older copy: the log now goes on with a run id it cannot claim
        try assertRefused(["train", "--resume", older, "--steps", "40"],
                                mentions: ["the run's log \(log): holds the records of run \(id)", "written by an earlier dnic, has no run id"],
                                watching: [older, log, dir.path])
        // and with no ids anywhere, records past its step cannot be attributed
        try dropIDs(checkpoint: ckpt, log: log)
        try assertRefused(["train", "--resume", older, "--steps", "40"],
                                mentions: ["holds records up to step 40, past this checkpoint's step 20", "kept no run ids"],
                                watching: [older, log, dir.path])
    }

    /// Two dnic processes never write one log: a resume whose log another
    /// process holds is refused (here the test holds its lock).
    func testALogAnotherProcessWritesIsRefused() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("c.st").path, log = dir.appendingPathComponent("run.jsonl").path
        XCTAssertEqual(try dnic(Self.tiny + ["--steps", "20", "--save", ckpt, "--log", log, "--quiet"]).status, 0)
        let fd = open(log, O_RDONLY)
        XCTAssertEqual(flock(fd, LOCK_EX), 0)
        try assertRefused(["train", "--resume", ckpt, "--steps", "30"],
                                mentions: ["the run's log \(log): is being written by another dnic process"], watching: [ckpt, log])
        close(fd)
        XCTAssertEqual(try dnic(["train", "--resume", ckpt, "--steps", "30", "--quiet"]).status, 0)
    }

    /// A full file system mid-line: the line written in part is taken back,
    /// so the log ends at a whole record (a 64 KiB tmpfs, or else a file-size
    /// limit). The record that did not fit goes with the checkpoint: once
    /// there is room, `--resume` writes it first, and the log holds every
    /// evaluation once, as a straight run's does.
    func testAFullDiskLeavesTheLogEndingAtAWholeLine() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("c.st").path
        let mountPoint = dir.appendingPathComponent("small").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let run = Self.tiny + ["--steps", "400", "--eval-every", "1", "--checkpoint-every", "50", "--save", ckpt, "--quiet"]
        guard shell("mount -t tmpfs -o size=64k tmpfs '\(mountPoint)'") == 0 else {
            let logPath = dir.appendingPathComponent("log.jsonl").path
            let r = try dnicLimited(fileKB: 16, run + ["--log", logPath])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("File too large"), r.stderr)
            return try checkWholeLines(logPath)
        }
        defer { _ = shell("umount '\(mountPoint)'") }
        let logPath = mountPoint + "/log.jsonl"
        let r = try dnic(run + ["--log", logPath])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("No space left on device"), r.stderr)
        try checkWholeLines(logPath)
        let stopped = try Checkpoint.load(path: ckpt).step
        XCTAssertLessThan(stopped, 400)
        XCTAssertEqual(shell("mount -o remount,size=1m '\(mountPoint)'"), 0)
        let resumed = try dnic(["train", "--resume", ckpt, "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let straight = dir.appendingPathComponent("straight.jsonl").path
        XCTAssertEqual(try dnic(Self.tiny + ["--steps", "400", "--eval-every", "1", "--log", straight, "--quiet"]).status, 0)
        XCTAssertEqual(try loggedValues(logPath), try loggedValues(straight), "every evaluation once, step \(stopped)'s too")
    }

    private func checkWholeLines(_ path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertGreaterThan(data.count, 10_000, "the disk filled up")
        XCTAssertEqual(data.last, UInt8(ascii: "\n"), "the log ends at a whole line")
        XCTAssertNoThrow(try records(path), "every line a record")
    }
}
