import Foundation
import XCTest
import Dnic

/// A checkpoint records its data files (absolute path, size, CRC-32), so
/// that a relative `--data csv:t.csv` means the same file from any
/// directory: `eval` and `analyze` read the recorded file and say so (and
/// warn when told to read another), `--resume` continues on it and refuses
/// it changed; a file given to `eval` is test data, scored whole. (Issue 22,
/// case 6.)
extension CLITests {
    /// 200 rows "label,x0,x1,x2,x3" with label = x0 + x1 > 0, or its opposite
    /// (`flipped`): a model of one scores high on it and low on the other.
    func writeSeparableCSV(_ path: String, rows: Int = 200, seed: UInt64, flipped: Bool = false) throws {
        var generator = SeededGenerator(state: seed)
        var text = ""
        for _ in 0 ..< rows {
            let x = (0 ..< 4).map { _ in Double.random(in: -1 ..< 1, using: &generator) }
            let label = (x[0] + x[1] > 0) != flipped ? 1 : 0
            text += "\(label)," + x.map { String(format: "%.4f", $0) }.joined(separator: ",") + "\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// `dnic args` run in `directory` (coreutils env -C).
    func dnic(in directory: URL, _ args: [String]) throws -> Run {
        try launch(URL(fileURLWithPath: "/usr/bin/env"), ["-C", directory.path, Self.executable.path] + args)
    }

    /// Two directories, each with its own t.csv (b's labels flipped), and a
    /// model trained in a with --data csv:t.csv (relative) saved as a/m.st.
    func twoDirectories(trainArgs: [String] = ["--epochs", "20"]) throws -> (a: URL, b: URL) {
        let root = try tempDir()
        let a = root.appendingPathComponent("a"), b = root.appendingPathComponent("b")
        for d in [a, b] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        try writeSeparableCSV(a.appendingPathComponent("t.csv").path, seed: 1)
        try writeSeparableCSV(b.appendingPathComponent("t.csv").path, seed: 2, flipped: true)
        let train = try dnic(in: a, ["train", "--data", "csv:t.csv", "--hidden", "1", "--width", "16", "--lr", "0.01",
                                     "--threads", "1", "--save", "m.st", "--quiet"] + trainArgs)
        XCTAssertEqual(train.status, 0, train.stderr)
        return (a, b)
    }

    func testEvalFromAnotherDirectoryScoresTheFileTheModelWasTestedOn() throws {
        let (a, b) = try twoDirectories()
        let trainedFile = a.appendingPathComponent("t.csv").path
        let home = try dnic(in: a, ["eval", "--checkpoint", "m.st"])
        XCTAssertEqual(home.status, 0, home.stderr)
        XCTAssertEqual(home.stderr, "")
        XCTAssertTrue(home.stdout.contains("on 40 examples of csv:t.csv (\(trainedFile))"), home.stdout)
        // from b: the same file, the same score, although b has a t.csv too
        let away = try dnic(in: b, ["eval", "--checkpoint", "../a/m.st"])
        XCTAssertEqual(away.status, 0, away.stderr)
        XCTAssertEqual(away.stderr, "")
        XCTAssertEqual(away.stdout, home.stdout)
        // told to read b's t.csv: it does, names it, and warns in one line
        let other = try dnic(in: b, ["eval", "--checkpoint", "../a/m.st", "--data", "csv:t.csv"])
        XCTAssertEqual(other.status, 0, other.stderr)
        XCTAssertTrue(other.stdout.contains("on 200 examples of csv:t.csv (\(b.appendingPathComponent("t.csv").path))"), other.stdout)
        XCTAssertEqual(other.stderr.split(separator: "\n").count, 1, other.stderr)
        XCTAssertTrue(other.stderr.hasPrefix("dnic: warning: \(b.appendingPathComponent("t.csv").path) is not the data ../a/m.st was trained or tested on (csv:t.csv: \(trainedFile))"), other.stderr)
    }

    func testResumeFromAnotherDirectoryContinuesOnTheRecordedFile() throws {
        let (a, b) = try twoDirectories(trainArgs: ["--steps", "10"])
        let resumed = try dnic(in: b, ["train", "--resume", "../a/m.st", "--steps", "20", "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(resumed.stderr, "")
        // resume is exact: the same parameters as 20 steps straight on a's file
        let straight = try dnic(in: a, ["train", "--data", "csv:t.csv", "--hidden", "1", "--width", "16", "--lr", "0.01",
                                        "--threads", "1", "--steps", "20", "--save", "straight.st", "--quiet"])
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let r = try Checkpoint.load(path: a.appendingPathComponent("m.st").path)
        let s = try Checkpoint.load(path: a.appendingPathComponent("straight.st").path)
        XCTAssertEqual(r.step, 20)
        XCTAssertEqual(r.network.parameters(), s.network.parameters(), "the resumed run trained on another file")
        let recorded = try SafeTensors.read(path: a.appendingPathComponent("m.st").path).metadata["data_files"] ?? ""
        XCTAssertTrue(recorded.contains(#""path":"\#(a.appendingPathComponent("t.csv").path)""#), recorded)
    }

    /// A recorded file changed (same size, other bytes; or another size) is
    /// refused in one line naming it and how, before any training: the
    /// checkpoint, its log and both directories stay as they were.
    func testResumeRefusesAChangedDataFileInOneLine() throws {
        let (a, b) = try twoDirectories(trainArgs: ["--steps", "10", "--log", "run.jsonl"])
        let file = a.appendingPathComponent("t.csv").path
        let original = try String(contentsOfFile: file, encoding: .utf8)
        let flippedFirst = (original.hasPrefix("0") ? "1" : "0") + original.dropFirst()
        for (content, words) in [(flippedFirst, ["the same", "other content", "CRC-32"]),
                                 (original + "1,0.1,0.2,0.3,0.4\n", ["bytes then", "now"])] {
            try content.write(toFile: file, atomically: true, encoding: .utf8)
            let watched = ["m.st", "run.jsonl"].map { a.appendingPathComponent($0).path } + [a.path, b.path]
            let before = watched.map(snapshot)
            let r = try dnic(in: b, ["train", "--resume", "../a/m.st", "--steps", "20"])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertEqual(r.stdout, "", "nothing trained")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("dnic: error: --resume ../a/m.st: \(file), the run's train file, has changed since the run was saved"), r.stderr)
            for w in words { XCTAssertTrue(r.stderr.contains(w), "\(w) in \(r.stderr)") }
            XCTAssertEqual(watched.map(snapshot), before, "nothing on disk changed")
        }
        // --data naming other bytes is refused too (a usage error); a copy of the original continues
        try original.write(toFile: file, atomically: true, encoding: .utf8)
        let other = try dnic(in: b, ["train", "--resume", "../a/m.st", "--steps", "20", "--data", "csv:t.csv"])
        XCTAssertEqual(other.status, 2, other.stderr)
        XCTAssertEqual(other.stderr.split(separator: "\n").count, 1, other.stderr)
        XCTAssertTrue(other.stderr.contains("is not the run's train file \(file)"), other.stderr)
        try original.write(toFile: b.appendingPathComponent("copy.csv").path, atomically: true, encoding: .utf8)
        let copy = try dnic(in: b, ["train", "--resume", "../a/m.st", "--steps", "20", "--data", "csv:copy.csv", "--quiet"])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        XCTAssertEqual(copy.stderr, "")
    }

    /// A checkpoint saved before data_files existed loads as before (the
    /// config's data, resolved where dnic runs) with a one-line note.
    func testCheckpointWithoutDataRecordLoadsWithANote() throws {
        let (a, _) = try twoDirectories(trainArgs: ["--steps", "10"])
        let path = a.appendingPathComponent("m.st").path
        var file = try SafeTensors.read(path: path)
        XCTAssertNotNil(file.metadata.removeValue(forKey: "data_files"))
        try file.encoded().write(to: a.appendingPathComponent("old.st"))
        let note = "records no data files (saved by an older dnic): cannot check that csv:t.csv (\(a.appendingPathComponent("t.csv").path)) is the data it was trained on"
        let eval = try dnic(in: a, ["eval", "--checkpoint", "old.st"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.hasPrefix("test accuracy "), eval.stdout)
        XCTAssertEqual(eval.stderr, "dnic: warning: old.st \(note)\n")
        let resumed = try dnic(in: a, ["train", "--resume", "old.st", "--steps", "20", "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(resumed.stderr, "dnic: warning: old.st \(note)\n")
        XCTAssertNotNil(try SafeTensors.read(path: a.appendingPathComponent("old.st").path).metadata["data_files"],
                        "saved again, it records them")
    }

    /// A data_files entry that is not what dnic writes is refused in one line.
    func testGarbledDataRecordIsRefused() throws {
        let (a, _) = try twoDirectories(trainArgs: ["--steps", "10"])
        var file = try SafeTensors.read(path: a.appendingPathComponent("m.st").path)
        for (value, words) in [("{", ["data_files is not valid"]),
                               (#"{"data":"csv:t.csv","files":[]}"#, ["data_files lists files"]),
                               (#"{"data":"csv:u.csv","files":[{"role":"train","path":"/u.csv"}]}"#, ["data_files describes csv:u.csv"])] {
            file.metadata["data_files"] = value
            try file.encoded().write(to: a.appendingPathComponent("bad.st"))
            let r = try dnic(in: a, ["eval", "--checkpoint", "bad.st"])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            for w in words { XCTAssertTrue(r.stderr.contains(w), "\(w) in \(r.stderr)") }
        }
    }

    /// A file given to eval is test data and is scored whole: csv:FILE all
    /// its rows (not a 20% hold-out), csv:TRAIN,TEST all of TEST. The file
    /// the model was trained on is scored too, with a warning saying so.
    func testEvalScoresAGivenCSVWhole() throws {
        let (a, _) = try twoDirectories(trainArgs: ["--steps", "10"])
        try writeSeparableCSV(a.appendingPathComponent("new.csv").path, rows: 37, seed: 3)
        let whole = try dnic(in: a, ["eval", "--checkpoint", "m.st", "--data", "csv:new.csv"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        XCTAssertTrue(whole.stdout.contains(" on 37 examples of csv:new.csv "), whole.stdout)
        let pair = try dnic(in: a, ["eval", "--checkpoint", "m.st", "--data", "csv:missing.csv,new.csv"])
        XCTAssertEqual(pair.status, 0, pair.stderr)
        XCTAssertTrue(pair.stdout.contains(" on 37 examples of csv:missing.csv,new.csv (\(a.appendingPathComponent("new.csv").path))"), pair.stdout)
        let trained = try dnic(in: a, ["eval", "--checkpoint", "m.st", "--data", "csv:t.csv"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stdout.contains(" on 200 examples of csv:t.csv "), trained.stdout)
        XCTAssertEqual(trained.stderr, "dnic: warning: \(a.appendingPathComponent("t.csv").path) is the file m.st was trained on: its score includes the training examples\n")
    }

    /// analyze reads the recorded file from any directory and says which.
    func testAnalyzeFromAnotherDirectoryReadsTheRecordedFile() throws {
        let (a, b) = try twoDirectories(trainArgs: ["--steps", "10"])
        let r = try dnic(in: b, ["analyze", "probes", "--checkpoint", "../a/m.st", "--out", "probes"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertTrue(r.stdout.contains("data csv:t.csv for ../a/m.st: \(a.appendingPathComponent("t.csv").path)\n"), r.stdout)
    }
}

/// splitmix64: the same rows on every run of the tests.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
