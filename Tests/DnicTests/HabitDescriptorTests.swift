import Foundation
import XCTest
@testable import Dnic

/// Standard descriptors as wrappers leave them: closed (`>&-`, cron,
/// daemons), or redirected to a file that an output flag then names.
final class HabitDescriptorTests: XCTestCase {
    static let tiny = ["train", "--data", "synth:xor-2d", "--hidden", "1", "--width", "8", "--threads", "1", "--steps", "40"]

    /// With any of descriptors 0, 1, 2 closed, the run works and the log
    /// holds only JSON: with 1 closed, the log used to become descriptor 1
    /// and receive the human-readable lines.
    func testClosedStandardDescriptorsAreReopenedOnDevNull() throws {
        for fd in 0 ... 2 {
            let dir = try Habit.directory(self)
            let r = try Habit.run(Self.tiny + ["--log", "l.jsonl", "--save", "s.st"], in: dir, redirect: "\(fd)>&-")
            XCTAssertEqual(r.status, 0, "fd \(fd) closed: \(r.stderr)")
            XCTAssertEqual(r.stderr, "", "fd \(fd) closed")
            XCTAssertEqual(r.stdout.contains("test accuracy"), fd != 1, "fd \(fd) closed: \(r.stdout)")
            let log = try String(contentsOfFile: dir + "/l.jsonl", encoding: .utf8)
            for line in Habit.lines(log) {
                XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                                "fd \(fd) closed: not JSON in the log: \(line)")
            }
            XCTAssertTrue(log.contains("\"event\":\"final\""), "fd \(fd) closed")
            XCTAssertEqual(try Checkpoint.load(path: dir + "/s.st").step, 40)
        }
    }

    /// A refusal with standard error closed still ends with its status
    /// (the line goes to /dev/null), and standard output closed makes no
    /// write fail.
    func testClosedDescriptorsKeepTheExitStatus() throws {
        let dir = try Habit.directory(self)
        let refused = try Habit.run(Self.tiny + ["--save", "x/"], in: dir, redirect: "2>&-")
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(refused.stderr, "")
        let info = try Habit.run(["info"], in: dir, redirect: ">&-")
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertEqual(info.stderr, "")
        XCTAssertEqual(Habit.contents(dir), [:])
    }

    /// `--log /dev/stdout`, or the very file standard output is redirected
    /// to, is refused before anything is trained: the log would mix with
    /// the human-readable lines, and --overwrite would truncate the user's
    /// file. Same for standard input and standard error.
    func testOutputsNamingAStandardDescriptorAreRefused() throws {
        let dir = try Habit.directory(self)
        try Data("keep\n".utf8).write(to: URL(fileURLWithPath: dir + "/out.txt"))
        try Data("in\n".utf8).write(to: URL(fileURLWithPath: dir + "/in.txt"))
        let before = Habit.contents(dir)
        for (args, redirect, stream) in [(["--log", "/dev/stdout"], ">> out.txt", "standard output"),
                                         (["--log", "/dev/stdout", "--overwrite"], ">> out.txt", "standard output"),
                                         (["--log", "out.txt", "--overwrite"], ">> out.txt", "standard output"),
                                         (["--save", "/dev/stdin", "--overwrite"], "< in.txt", "standard input"),
                                         (["--save", "in.txt", "--overwrite"], "< in.txt", "standard input")] {
            let r = try Habit.run(Self.tiny + args, in: dir, redirect: redirect)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertEqual(Habit.lines(r.stderr), ["dnic: error: \(args[0]) \(args[1]): is where this command's \(stream) goes; give a file of its own"])
        }
        XCTAssertEqual(Habit.contents(dir), before, "the redirected files are as they were")
        // through a pipe it is the same refusal
        let piped = try Habit.run(Self.tiny + ["--log", "/dev/stdout"], in: dir)
        XCTAssertEqual(piped.status, 2)
        XCTAssertTrue(piped.stderr.contains("is where this command's standard output goes"), piped.stderr)
    }
}
