import Foundation
import XCTest
@testable import Dnic

/// `dnic train --tensorboard DIR`: TensorBoard's own reader finds every
/// scalar of the run's JSON Lines log, at the same step, across a resume
/// (a second event file in the same directory); a DIR that cannot be one
/// is refused in one line before anything is written.
extension CLITests {
    /// A python3 that imports TensorBoard's event reader (TestPython).
    func tensorboardPython() -> String? {
        TestPython.venv("dnic-tests-tensorboard-venv", imports: "tensorboard.backend.event_processing.event_file_loader",
                        installing: ["tensorboard"])
    }

    func testTensorBoardHoldsEveryScalarOfTheLog() throws {
        guard let python = tensorboardPython() else {
            throw XCTSkip("the tensorboard PyPI package cannot be imported or installed (pip install tensorboard)")
        }
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("c.st").path, log = dir.appendingPathComponent("run.jsonl").path
        let tb = dir.appendingPathComponent("tb").path
        let first = try dnic(Self.tiny + ["--rule", "sg", "--hidden", "2", "--steps", "40", "--eval-every", "10", "--save", ckpt,
                                          "--log", log, "--tensorboard", tb, "--quiet"])
        XCTAssertEqual(first.status, 0, first.stderr)
        // resumed without the flag: the checkpoint's directory, a new file
        let resumed = try dnic(["train", "--resume", ckpt, "--steps", "60", "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)

        let script = """
        import glob, json, os, struct, sys
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
        from tensorboard.util import tensor_util
        tb, log = sys.argv[1], sys.argv[2]
        f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]
        files = sorted(glob.glob(os.path.join(tb, "*")))
        seen, versions = {}, []
        for name in files:
            for i, e in enumerate(EventFileLoader(name).Load()):
                if i == 0: versions.append(e.file_version)
                for v in e.summary.value:
                    key = "%d %s" % (e.step, v.tag)
                    assert key not in seen, key
                    seen[key] = float(tensor_util.make_ndarray(v.tensor).item())
        expected = {}
        for line in open(log):
            r = json.loads(line)
            if r["event"] != "eval": continue
            for k, v in r.items():
                if k in ("step", "event", "run", "segment"): continue
                if isinstance(v, list):
                    for i, item in enumerate(v):
                        name = "layer_%d" % item["layer"] if "layer" in item else str(i + 1)
                        for sk, sv in item.items():
                            if sk != "layer": expected["%d %s/%s/%s" % (r["step"], k, name, sk)] = f32(sv)
                else:
                    expected["%d %s" % (r["step"], k)] = f32(v)
        print(json.dumps({"files": [os.path.basename(f) for f in files], "versions": versions,
                          "seen": seen, "expected": expected}))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", script, tb, log]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let files = try XCTUnwrap(result["files"] as? [String])
        XCTAssertEqual(files.count, 2, "one event file per run and resume: \(files)")
        for name in files { XCTAssertTrue(name.hasPrefix("events.out.tfevents."), name) }
        XCTAssertEqual(result["versions"] as? [String], ["brain.Event:2", "brain.Event:2"])
        let seen = try XCTUnwrap(result["seen"] as? [String: Double])
        let expected = try XCTUnwrap(result["expected"] as? [String: Double])
        XCTAssertEqual(Set(expected.keys.compactMap { Int($0.split(separator: " ")[0]) }), [10, 20, 30, 40, 50, 60])
        XCTAssertNotNil(expected["60 interfaces/layer_1/loss"], "the interfaces' losses are in the log")
        XCTAssertNotNil(expected["60 test_accuracy"])
        let keys = Set(seen.keys).union(expected.keys).sorted()
        var differing = [String]()
        for key in keys where seen[key] != expected[key] {
            differing.append("\(key): tensorboard \(String(describing: seen[key])), log \(String(describing: expected[key]))")
        }
        XCTAssertEqual(differing, [], "every scalar of the log, at its step, and nothing else")
    }

    func testTensorBoardDirectoryThatCannotBeOneIsRefused() throws {
        let dir = try tempDir()
        let file = dir.appendingPathComponent("f").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let before = [snapshot(file), snapshot(dir.path)]
        assertOneLine(try dnic(Self.tiny + ["--steps", "4", "--tensorboard", file]), status: 2,
                      has: ["--tensorboard \(file): is not a directory"])
        // /proc takes no new entries, for root too
        assertOneLine(try dnic(Self.tiny + ["--steps", "4", "--tensorboard", "/proc/dnic-tb"]), status: 2,
                      has: ["--tensorboard /proc/dnic-tb: cannot create a file in /proc"])
        assertOneLine(try dnic(Self.tiny + ["--steps", "4", "--tensorboard", "/proc"]), status: 2,
                      has: ["--tensorboard /proc: cannot create a file in it"])
        let log = dir.appendingPathComponent("run.jsonl").path
        assertOneLine(try dnic(Self.tiny + ["--steps", "4", "--log", log, "--tensorboard", log]), status: 2,
                      has: ["--tensorboard \(log): is the same path as the log"])
        XCTAssertEqual([snapshot(file), snapshot(dir.path)], before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/proc/dnic-tb"))
    }

    /// A run that fails before its first evaluation leaves no event file,
    /// and no directory where it made one (an existing one stays).
    func testFailedTensorBoardRunLeavesNoEventFile() throws {
        let dir = try tempDir()
        let made = dir.appendingPathComponent("tb").path, existing = dir.appendingPathComponent("kept").path
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: false)
        let diverging = ["train", "--data", "synth:grid", "--hidden", "2", "--width", "32", "--optimizer", "sgd", "--lr", "1e20",
                         "--steps", "50", "--eval-every", "40", "--threads", "1", "--quiet"]
        assertOneLine(try dnic(diverging + ["--tensorboard", made]), status: 1, has: ["NaN or infinite"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: made))
        assertOneLine(try dnic(diverging + ["--tensorboard", existing]), status: 1, has: ["NaN or infinite"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: existing), [])
    }

    /// Resuming an earlier checkpoint of the run (after a kill, say) marks
    /// the restart, so TensorBoard drops what the later segment wrote past
    /// it: each step shows once, from the run that continued.
    func testTensorBoardDropsStepsPastAResumedCheckpoint() throws {
        guard let python = tensorboardPython() else {
            throw XCTSkip("the tensorboard PyPI package cannot be imported or installed (pip install tensorboard)")
        }
        let dir = try tempDir()
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let tb = path("tb")
        var r = try dnic(Self.tiny + ["--steps", "20", "--eval-every", "10", "--save", path("a.st"), "--tensorboard", tb, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        try FileManager.default.copyItem(atPath: path("a.st"), toPath: path("b.st"))
        r = try dnic(["train", "--resume", path("a.st"), "--steps", "40", "--quiet"])  // steps 30 and 40
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try dnic(["train", "--resume", path("b.st"), "--steps", "30", "--quiet"])  // back to 20, on to 30
        XCTAssertEqual(r.status, 0, r.stderr)
        let script = """
        import sys
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        acc = EventAccumulator(sys.argv[1]); acc.Reload()
        print(" ".join(str(e.step) for e in acc.Scalars("test_loss")))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", script, tb]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tb).count, 3)
        XCTAssertEqual(text.trimmingCharacters(in: .whitespacesAndNewlines), "10 20 30")
    }
}
