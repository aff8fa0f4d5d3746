import Foundation
import XCTest
@testable import Dnic

/// Checkpoints that make long runs safe: bit-identical resume, determinism,
/// numerical faults that keep the last good checkpoint, SIGKILL and SIGINT
/// during a run, and files Python reads with numpy alone.
extension CLITests {
    /// A small run that still exercises every kind of state: batch norm
    /// running statistics, Adam moments, a trainable interface, data order
    /// across epochs (100 steps of batch 50 over 2000 rows = 2.5 epochs).
    static let run = ["train", "--data", "synth:xor-2d", "--hidden", "3", "--width", "16", "--batchnorm", "--rule", "sg",
                      "--batch", "50", "--eval-every", "20", "--threads", "1", "--quiet"]

    func tensors(_ path: String) throws -> [String: [Float]] {
        let file = try SafeTensors.read(path: path)
        return Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0.values) })
    }

    /// The log without its timing fields, which legitimately differ.
    func logValues(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            var object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            object["samples_per_sec"] = nil
            object["seconds"] = nil
            object["run"] = nil // who wrote a record: each run and resume has its own ids
            object["segment"] = nil
            return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
    }

    func testResumeIsBitIdentical() throws {
        let dir = try tempDir()
        let straight = dir.appendingPathComponent("straight.st").path, split = dir.appendingPathComponent("split.st").path
        let logA = dir.appendingPathComponent("a.jsonl").path, logB = dir.appendingPathComponent("b.jsonl").path
        XCTAssertEqual(try dnic(Self.run + ["--steps", "100", "--save", straight, "--log", logA]).status, 0)
        XCTAssertEqual(try dnic(Self.run + ["--steps", "50", "--save", split, "--log", logB]).status, 0)
        let resumed = try dnic(["train", "--resume", split, "--steps", "100", "--save", split, "--log", logB, "--quiet",
                                "--threads", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let a = try tensors(straight), b = try tensors(split)
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        XCTAssertTrue(a.keys.contains("optimizer.v.layer0.weight") && a.keys.contains("interface2.A")
                      && a.keys.contains("layer0.bn.running_var") && a.keys.contains("optimizer.m.interface2.A"))
        for (name, values) in a {
            XCTAssertEqual(values, b[name], "\(name) differs after resume")
        }
        // the straight log's evaluations equal the split log's, whose
        // "final" at step 50 marks the end of the first part
        // the split log also holds the end-of-run evaluation of the first part (step 50)
        let straightLog = try logValues(logA), splitLog = try logValues(logB).filter { !$0.contains("\"step\":50,") }
        XCTAssertEqual(straightLog, splitLog)
    }

    func testSameSeedSameNumbers() throws {
        let dir = try tempDir()
        let a = dir.appendingPathComponent("a.st").path, b = dir.appendingPathComponent("b.st").path
        XCTAssertEqual(try dnic(Self.run + ["--steps", "30", "--save", a]).status, 0)
        XCTAssertEqual(try dnic(Self.run + ["--steps", "30", "--save", b]).status, 0)
        XCTAssertEqual(try tensors(a), try tensors(b))
        let c = dir.appendingPathComponent("c.st").path
        XCTAssertEqual(try dnic(Self.run + ["--steps", "30", "--save", c, "--seed", "2"]).status, 0)
        XCTAssertNotEqual(try tensors(a)["layer0.weight"], try tensors(c)["layer0.weight"])
    }

    func testNonFiniteStopsAndKeepsTheLastCheckpoint() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("good.st").path
        XCTAssertEqual(try dnic(Self.run + ["--steps", "10", "--save", ckpt]).status, 0)
        // an absurd learning rate on resume, checkpointing every step
        let r = try dnic(["train", "--resume", ckpt, "--steps", "30", "--lr", "1e30", "--save", ckpt,
                          "--checkpoint-every", "1", "--threads", "1"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("NaN or infinit"), r.stderr)
        let faultStep = Int(r.stderr.components(separatedBy: "step ").dropFirst().first?.prefix { $0.isNumber } ?? "")
        XCTAssertNotNil(faultStep, "the message names the step: \(r.stderr)")
        // the checkpoint on disk is the last good one: loadable, finite, the step before the fault
        let kept = try Checkpoint.load(path: ckpt)
        XCTAssertEqual(kept.step, (faultStep ?? 0) - 1)
        XCTAssertTrue(kept.network.parameters().allSatisfy(\.isFinite))
        // a huge SGD step: the fault is named as a tensor's update or the loss
        let sgd = try dnic(Self.run + ["--steps", "50", "--optimizer", "sgd", "--lr", "1e38"])
        XCTAssertEqual(sgd.status, 1, sgd.stderr)
        XCTAssertTrue(sgd.stderr.contains("step ") && sgd.stderr.contains("NaN or infinit"), sgd.stderr)
    }

    func testResumingAnotherModelSaysWhatDiffers() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("m.st").path
        XCTAssertEqual(try dnic(Self.run + ["--steps", "5", "--save", ckpt]).status, 0)
        try assertFails(["train", "--resume", ckpt, "--width", "32"], status: 2, mentions: ["hidden layer 1", "16", "32"])
        try assertFails(["train", "--resume", ckpt, "--batch", "10"], status: 2, mentions: ["batch"])
        try assertFails(["train", "--resume", ckpt, "--rule", "dfa"], status: 2, mentions: ["interfaces"])
        try assertFails(["train", "--resume", dir.appendingPathComponent("none.st").path], status: 1, mentions: ["none.st"])
    }

    /// Starts a long run that checkpoints every few steps, waits for a
    /// checkpoint, and stops it with `signal`.
    func interruptedRun(_ signal: Int32, dir: URL) throws -> (status: Int32, stderr: String, checkpoint: String) {
        let ckpt = dir.appendingPathComponent("run.st").path
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = Self.run + ["--steps", "100000", "--save", ckpt, "--checkpoint-every", "3"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: ckpt) && Date() < deadline { usleep(20_000) }
        usleep(200_000) // let it write a few more checkpoints
        kill(process.processIdentifier, signal)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        StderrCaptures.record(process.arguments ?? [], stderr)
        return (process.terminationStatus, stderr, ckpt)
    }

    /// Resumes `ckpt` to `steps` and compares with a straight run.
    func assertResumesToTheStraightRun(_ ckpt: String, dir: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let saved = try Checkpoint.load(path: ckpt)
        XCTAssertGreaterThan(saved.step, 0, file: file, line: line)
        let target = saved.step + 7
        let resumed = try dnic(["train", "--resume", ckpt, "--steps", "\(target)", "--save", ckpt, "--quiet", "--threads", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr, file: file, line: line)
        let straight = dir.appendingPathComponent("straight.st").path
        XCTAssertEqual(try dnic(Self.run + ["--steps", "\(target)", "--save", straight, "--overwrite"]).status, 0)
        let a = try tensors(straight), b = try tensors(ckpt)
        for (name, values) in a { XCTAssertEqual(values, b[name], "\(name)", file: file, line: line) }
    }

    func testSIGKILLDuringCheckpointingCanBeResumed() throws {
        let dir = try tempDir()
        let r = try interruptedRun(SIGKILL, dir: dir)
        XCTAssertEqual(r.status, SIGKILL) // killed: no chance to clean up
        // no temporary file is mistaken for a checkpoint, and the last one loads
        try assertResumesToTheStraightRun(r.checkpoint, dir: dir)
    }

    func testSIGINTFinishesTheStepAndSaves() throws {
        let dir = try tempDir()
        let r = try interruptedRun(SIGINT, dir: dir)
        XCTAssertEqual(r.status, 130, r.stderr)
        XCTAssertTrue(r.stderr.contains("SIGINT at step"), r.stderr)
        XCTAssertTrue(r.stderr.contains("checkpoint saved"), r.stderr)
        let stopped = try Checkpoint.load(path: r.checkpoint)
        XCTAssertTrue(r.stderr.contains("step \(stopped.step);"), "the checkpoint holds the step the message names: \(r.stderr)")
        try assertResumesToTheStraightRun(r.checkpoint, dir: dir)
        let term = try interruptedRun(SIGTERM, dir: try tempDir())
        XCTAssertEqual(term.status, 143, term.stderr)
    }

    func testPythonReadsCheckpointsWithNumpyAlone() throws {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import numpy"]
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { throw XCTSkip("python3 is not installed") }
        check.waitUntilExit()
        guard check.terminationStatus == 0 else { throw XCTSkip("python3 has no numpy") }
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("py.st").path
        XCTAssertEqual(try dnic(Self.run + ["--steps", "5", "--save", ckpt]).status, 0)
        let script = """
        import json, struct, sys, numpy as np
        raw = open(sys.argv[1], "rb").read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        meta = header.pop("__metadata__")
        t = header["layer0.weight"]; b, e = t["data_offsets"]
        w = np.frombuffer(raw[8 + n + b:8 + n + e], dtype="<f4").reshape(t["shape"])
        print(meta["step"], w.shape[0], w.shape[1], float(w[0, 0]))
        """
        let py = Process()
        py.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        py.arguments = ["python3", "-c", script, ckpt]
        let out = Pipe()
        py.standardOutput = out
        try py.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        py.waitUntilExit()
        XCTAssertEqual(py.terminationStatus, 0)
        let fields = text.split(separator: " ")
        XCTAssertEqual(fields.prefix(3).map(String.init), ["5", "2", "16"], text)
        XCTAssertEqual(Float(fields[3].trimmingCharacters(in: .whitespacesAndNewlines)), try tensors(ckpt)["layer0.weight"]![0])
    }

    func testClipGradFlag() throws {
        let r = try dnic(Self.run + ["--steps", "5", "--clip-grad", "0.5"])
        XCTAssertEqual(r.status, 0, r.stderr)
        try assertFails(Self.run + ["--clip-grad=-1"], status: 2, mentions: ["clip-grad -1"])
        try assertFails(Self.run + ["--checkpoint-every", "5"], status: 2, mentions: ["--checkpoint-every needs --save"])
    }
}
