import Foundation
import XCTest
@testable import Dnic

/// Every output path a user can type works, or is refused with one line
/// before anything is loaded or trained: one-character names (which used
/// to trap inside Foundation with SIGILL), `./x`, a trailing slash, `.`,
/// `..`, `/`, names of 255 bytes (which used to train to the end and then
/// fail on the temporary file's longer name) and of 256.
final class HabitPathTests: XCTestCase {
    static let tiny = ["train", "--data", "synth:xor-2d", "--hidden", "1", "--width", "8", "--threads", "1", "--steps", "40"]

    func testOneCharacterNamesWorkForEveryOutput() throws {
        let dir = try Habit.directory(self)
        let train = try Habit.run(Self.tiny + ["--save", "m", "--log", "x", "--checkpoint-every", "10"], in: dir)
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertEqual(train.stderr, "")
        XCTAssertEqual(try Checkpoint.load(path: dir + "/m").step, 40)
        XCTAssertTrue(try String(contentsOfFile: dir + "/x", encoding: .utf8).contains("\"final\""))
        let norms = try Habit.run(["analyze", "norms", "--checkpoint", "m", "--out", "r", "--threads", "1"], in: dir)
        XCTAssertEqual(norms.status, 0, norms.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/r/norms.json"))
        let thm1 = try Habit.run(["reproduce", "thm1", "--quick", "--out", "q", "--threads", "1"], in: dir)
        XCTAssertEqual(thm1.status, 0, thm1.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/q/index.html"))
        let bench = try Habit.run(["bench", "train", "--rounds", "1", "--steps", "5", "--json", "b", "--threads", "1"], in: dir)
        XCTAssertEqual(bench.status, 0, bench.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/b"))
        XCTAssertEqual(Set(Habit.contents(dir).keys), ["m", "x", "r", "q", "b"], "no temporary file left behind")
    }

    func testDotSlashRelativeAndAbsolutePathsWork() throws {
        let dir = try Habit.directory(self)
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: false)
        for (save, file) in [("./a", "a"), ("sub/../b", "b"), (dir + "/c", "c"), (dir + "//sub/./d", "sub/d")] {
            let r = try Habit.run(Self.tiny + ["--save", save], in: dir)
            XCTAssertEqual(r.status, 0, "\(save): \(r.stderr)")
            XCTAssertEqual(try Checkpoint.load(path: dir + "/" + file).step, 40, save)
        }
        XCTAssertEqual(Set(Habit.contents(dir).keys), ["a", "b", "c", "sub"])
    }

    /// A 255-byte name is legal and is saved, at every checkpoint; the
    /// temporary file never lengthens it.
    func testLongestLegalNameIsSaved() throws {
        let dir = try Habit.directory(self)
        let name = String(repeating: "n", count: 255)
        let r = try Habit.run(Self.tiny + ["--save", name, "--checkpoint-every", "10", "--log", String(repeating: "l", count: 255)], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(try Checkpoint.load(path: dir + "/" + name).step, 40)
        XCTAssertEqual(Habit.contents(dir).count, 2, "no temporary file left behind: \(Habit.contents(dir).keys)")
    }

    /// A name one byte too long is refused up front, not after training.
    func testTooLongNameIsRefusedBeforeTraining() throws {
        let dir = try Habit.directory(self)
        let long = String(repeating: "n", count: 256)
        for args in [["--save", long], ["--log", long], ["--save", "m", "--log", "sub/" + long]] {
            let r = try Habit.run(Self.tiny + args, in: dir)
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertEqual(Habit.lines(r.stderr).count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("its name is 256 bytes; its file system allows at most 255")
                          || r.stderr.contains("does not exist"), r.stderr)
            XCTAssertEqual(r.stdout, "", "refused before loading or training")
        }
        let norms = try Habit.run(["analyze", "norms", "--checkpoint", "none", "--out", long], in: dir)
        XCTAssertEqual(norms.status, 2, norms.stderr)
        XCTAssertTrue(norms.stderr.contains("--out") && norms.stderr.contains("its name is 256 bytes"), norms.stderr)
        XCTAssertEqual(Habit.contents(dir), [:], "a refused run creates nothing")
    }

    /// A file output that can only name a directory (a trailing slash, `.`,
    /// `..`, `/`) is refused before training; a directory output (`--out`)
    /// takes the trailing slash.
    func testDirectoryLikeNamesAreRefusedForFilesAndAcceptedForDirectories() throws {
        let dir = try Habit.directory(self)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/plain"))
        let before = Habit.contents(dir)
        for (flag, path, words) in [("--save", "x/", "ends in a slash, so it names a directory"),
                                    ("--log", "y/", "ends in a slash, so it names a directory"),
                                    ("--save", "plain/", "ends in a slash, so it names a directory"),
                                    ("--save", ".", "is a directory"), ("--save", "..", "is a directory"),
                                    ("--log", "/", "is a directory")] {
            let r = try Habit.run(Self.tiny + [flag, path, "--overwrite"], in: dir)
            XCTAssertEqual(r.status, 2, "\(path): \(r.stderr)")
            XCTAssertEqual(Habit.lines(r.stderr), ["dnic: error: \(flag) \(path): \(words)" + (words == "is a directory" ? ", not a regular file" : "; give a file name")])
            XCTAssertEqual(r.stdout, "")
        }
        XCTAssertEqual(Habit.contents(dir), before, "refusals touched nothing")
        XCTAssertEqual(try Habit.run(Self.tiny + ["--save", "m"], in: dir).status, 0)
        let norms = try Habit.run(["analyze", "norms", "--checkpoint", "m", "--out", "r/", "--threads", "1"], in: dir)
        XCTAssertEqual(norms.status, 0, norms.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/r/norms.json"))
    }

    /// The path arithmetic itself: POSIX dirname/basename on any text,
    /// never trapping.
    func testPathNamesSplitLikePOSIX() {
        let cases: [(String, String, String)] = [
            ("m", ".", "m"), ("./x", ".", "x"), ("x/", ".", "x"), ("a/b", "a", "b"), ("a/b//", "a", "b"),
            ("/", "/", "/"), ("//", "/", "/"), ("/x", "/", "x"), ("//x", "/", "x"), (".", ".", "."), ("..", ".", ".."),
            ("", ".", ""), ("a//b", "a", "b"), ("é/ü", "é", "ü"),
        ]
        for (path, dir, name) in cases {
            XCTAssertEqual(PathName.directory(of: path), dir, "directory of \(path)")
            XCTAssertEqual(PathName.lastComponent(of: path), name, "last component of \(path)")
        }
        XCTAssertEqual(PathName.joining("a/", "b"), "a/b")
        XCTAssertEqual(PathName.joining("/", "b"), "/b")
        XCTAssertEqual(PathName.joining("a", "b"), "a/b")
        XCTAssertEqual(PathName.absolute("/a/./b//c"), "/a/b/c")
        XCTAssertTrue(PathName.namesDirectory("x/") && PathName.namesDirectory("a/..") && !PathName.namesDirectory("a/b"))
        XCTAssertLessThan(AtomicFile.temporaryName().utf8.count, 32)
    }
}
