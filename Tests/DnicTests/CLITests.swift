import Foundation
import XCTest
import Dnic

/// The `dnic` executable end to end: exit codes, one-line errors on stderr,
/// --print-config round trip, JSON Lines logs, and that nothing already on
/// disk is overwritten unless asked.
final class CLITests: XCTestCase {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var executable: URL {
        // the test bundle sits beside the products in .build/<config>/
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 where !FileManager.default.fileExists(atPath: dir.appendingPathComponent("dnic").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("dnic")
    }

    /// Runs `dnic args`; `stdout` replaces the captured standard output
    /// (e.g. /dev/full); `stopAfter` sends SIGTERM after that many seconds
    /// (a run that would train for hours then stops cleanly, status 143).
    func dnic(_ args: [String], stdout: FileHandle? = nil, stopAfter: Double? = nil) throws -> Run {
        try launch(Self.executable, args, stdout: stdout, stopAfter: stopAfter)
    }

    /// Runs a program to its end and collects its output.
    func launch(_ executable: URL, _ args: [String], stdout: FileHandle? = nil, stopAfter: Double? = nil) throws -> Run {
        let process = Process()
        process.executableURL = executable
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["OMP_NUM_THREADS"] = "1" // tests run side by side; keep each run on one core
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = stdout ?? out
        process.standardError = err
        try process.run()
        if let stopAfter {
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + stopAfter) { kill(pid, SIGTERM) }
        }
        if stdout != nil { try out.fileHandleForWriting.close() }
        // both pipes are drained at once (stderr on another thread), so a
        // child writing much to either cannot block on a full pipe
        nonisolated(unsafe) var e = Data()
        let stderrRead = DispatchSemaphore(value: 0)
        let errHandle = err.fileHandleForReading
        DispatchQueue.global().async {
            e = errHandle.readDataToEndOfFile()
            stderrRead.signal()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        stderrRead.wait()
        process.waitUntilExit()
        let stderr = String(decoding: e, as: UTF8.self)
        StderrCaptures.record([executable.path] + args, stderr)
        return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: stderr)
    }

    func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// One line on stderr naming the problem, and the expected exit status.
    func assertFails(_ args: [String], status: Int32, mentions needles: [String],
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try dnic(args)
        XCTAssertEqual(r.status, status, "stderr: \(r.stderr)", file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected one line on stderr, got: \(r.stderr)", file: file, line: line)
        for needle in needles {
            XCTAssertTrue(r.stderr.contains(needle), "stderr lacks '\(needle)': \(r.stderr)", file: file, line: line)
        }
    }

    func testUsageErrorsExitTwo() throws {
        try assertFails(["train", "--frobnicate"], status: 2, mentions: ["--frobnicate"])
        try assertFails(["train", "--activation", "swish"], status: 2, mentions: ["swish"])
        try assertFails(["train", "--loss", "hinge"], status: 2, mentions: ["hinge"])
        try assertFails(["train", "--optimizer", "lbfgs"], status: 2, mentions: ["lbfgs"])
        try assertFails(["train", "--width", "0"], status: 2, mentions: ["width 0"])
        try assertFails(["train", "--batch", "0"], status: 2, mentions: ["batch 0"])
        try assertFails(["train", "--lr=-1"], status: 2, mentions: ["lr -1"])
        try assertFails(["train", "--hidden=-2"], status: 2, mentions: ["--hidden -2"])
        try assertFails(["train", "--validation", "1.5"], status: 2, mentions: ["validation 1.5"])
        try assertFails(["train", "--data", "ftp:thing"], status: 2, mentions: ["ftp:thing"])
        try assertFails(["train", "--batch", "many"], status: 2, mentions: ["many"])
        try assertFails(["train", "--config", "/nonexistent/run.yaml"], status: 2, mentions: ["/nonexistent/run.yaml"])
    }

    func testBadConfigFileExitsTwo() throws {
        let dir = try tempDir()
        let path = dir.appendingPathComponent("bad.yaml").path
        try "training:\n  eval_every: 3\n".write(toFile: path, atomically: true, encoding: .utf8)
        try assertFails(["train", "--config", path], status: 2, mentions: [path, "eval_every"])
    }

    func testMissingDatasetNamesPathAndInstall() throws {
        try assertFails(["train", "--data", "idx:/nonexistent/mnist-dir"], status: 1, mentions: ["/nonexistent/mnist-dir"])
    }

    func testWrongIDXMagicIsOneLine() throws {
        let dir = try tempDir()
        for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            try Data([0, 0, 9, 9, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0])
                .write(to: dir.appendingPathComponent(name))
        }
        try assertFails(["train", "--data", "idx:\(dir.path)"], status: 1, mentions: [dir.path])
    }

    func testPrintConfigIsAcceptedBack() throws {
        let dir = try tempDir()
        let first = try dnic(["train", "--print-config", "--hidden", "2", "--width", "32", "--activation", "tanh",
                              "--batchnorm", "--optimizer", "momentum", "--batch", "16", "--data", "synth:xor-2d"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let path = dir.appendingPathComponent("run.yaml").path
        try first.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        let second = try dnic(["train", "--config", path, "--print-config"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(second.stdout, first.stdout)
        XCTAssertTrue(first.stdout.contains("lr: 0.01"), first.stdout) // momentum's default, written out
        // flags override the file
        let third = try dnic(["train", "--config", path, "--print-config", "--width", "8"])
        XCTAssertTrue(third.stdout.contains("width: 8") && !third.stdout.contains("width: 32"), third.stdout)
    }

    func testTrainingWritesJSONLinesAndSummary() throws {
        let dir = try tempDir()
        let log = dir.appendingPathComponent("metrics.jsonl").path
        let r = try dnic(["train", "--data", "synth:xor-2d", "--hidden", "2", "--width", "32", "--activation", "tanh",
                          "--epochs", "3", "--batch", "32", "--eval-every", "20", "--log", log, "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let last = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasPrefix("test accuracy "), last)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThanOrEqual(lines.count, 2)
        var steps = [Int]()
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            for key in ["step", "epoch", "train_loss", "test_loss", "test_accuracy", "samples_per_sec", "seconds", "event"] {
                XCTAssertNotNil(object[key], "missing \(key) in \(line)")
            }
            steps.append(object["step"] as! Int)
        }
        let final = try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as! [String: Any]
        XCTAssertEqual(final["event"] as? String, "final")
        XCTAssertEqual(steps.dropLast(), steps.dropLast().sorted())
        let accuracy = final["test_accuracy"] as! Double
        XCTAssertGreaterThan(accuracy, 0.8, "xor-2d should be learnt by a 2x32 tanh net")
        XCTAssertTrue(last.contains(String(format: "%.4f", accuracy)), "summary and log disagree: \(last)")
    }

    func testExistingLogIsNotOverwritten() throws {
        let dir = try tempDir()
        let log = dir.appendingPathComponent("keep.jsonl").path
        try "precious\n".write(toFile: log, atomically: true, encoding: .utf8)
        try assertFails(["train", "--data", "synth:xor-2d", "--steps", "2", "--log", log], status: 2,
                        mentions: [log, "exists"])
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8), "precious\n")
        let ok = try dnic(["train", "--data", "synth:xor-2d", "--steps", "2", "--log", log, "--overwrite", "--quiet"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout.split(separator: "\n").count, 1, "--quiet prints only the summary: \(ok.stdout)")
    }

    func testInfoReportsBlasKernel() throws {
        let r = try dnic(["info"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("kernel "), r.stdout)
        XCTAssertTrue(r.stdout.contains("openmp: yes"), r.stdout)
    }

    /// `dnic info` names the level of dnic's own kernels and the cap
    /// $DNIC_ISA puts on it; a value naming no level is reported, not obeyed.
    func testInfoReportsKernelISAAndItsCap() throws {
        let cpu = CoreSystem.kernelISAInfo().cpu
        let env = URL(fileURLWithPath: "/usr/bin/env")
        let plain = try launch(env, ["-u", "DNIC_ISA", Self.executable.path, "info"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stdout.contains("kernels: \(cpu) (cpu \(cpu); cap: none)"), plain.stdout)
        let capped = try launch(env, ["DNIC_ISA=baseline", Self.executable.path, "info"])
        XCTAssertTrue(capped.stdout.contains("kernels: baseline (cpu \(cpu); cap: DNIC_ISA=baseline)"), capped.stdout)
    }

    /// A kernel-choosing variable that names nothing is refused in one line
    /// before any work (the core alone would ignore it).
    func testMisspelledKernelVariablesAreRefused() throws {
        let env = URL(fileURLWithPath: "/usr/bin/env")
        for (variable, words) in [("DNIC_ISA=sse9", ["DNIC_ISA=sse9", "baseline, avx2, avx512"]),
                                  ("DNIC_GEMM=mkl", ["DNIC_GEMM=mkl", "onednn, openblas, builtin"])] {
            for args in [["info"], ["train", "--data", "synth:xor-2d", "--steps", "2", "--quiet"]] {
                let r = try launch(env, [variable, Self.executable.path] + args)
                XCTAssertEqual(r.status, 2, "\(variable) \(args): \(r.stderr)")
                XCTAssertEqual(r.stdout, "", "nothing runs")
                let lines = r.stderr.split(separator: "\n")
                XCTAssertEqual(lines.count, 1, r.stderr)
                for word in words { XCTAssertTrue(r.stderr.contains(word), "\(word) in \(r.stderr)") }
            }
        }
        let empty = try launch(env, ["DNIC_ISA=", "DNIC_GEMM=", Self.executable.path, "info"])
        XCTAssertEqual(empty.status, 0, "an empty value counts as unset: \(empty.stderr)")
    }
}

extension CLITests {
    func testSavedCheckpointEvaluatesToTheFinalAccuracy() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("model.safetensors").path
        let train = try dnic(["train", "--data", "synth:linear-2d", "--hidden", "1", "--width", "8", "--epochs", "2",
                              "--save", ckpt, "--quiet"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let eval = try dnic(["eval", "--checkpoint", ckpt])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let accuracy = { (text: String) in text.split(separator: " ").dropFirst(2).first.map(String.init) }
        XCTAssertEqual(accuracy(eval.stdout), accuracy(train.stdout), "train: \(train.stdout) eval: \(eval.stdout)")
        // an existing checkpoint is not overwritten without --overwrite
        let before = try Data(contentsOf: URL(fileURLWithPath: ckpt))
        try assertFails(["train", "--data", "synth:linear-2d", "--steps", "1", "--save", ckpt], status: 2,
                        mentions: [ckpt, "exists"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: ckpt)), before)
        // a dataset of another width
        try assertFails(["eval", "--checkpoint", ckpt, "--data", "synth:linear-100d"], status: 1, mentions: ["100 features"])
        try assertFails(["eval", "--checkpoint", dir.appendingPathComponent("none").path], status: 1, mentions: ["none"])
    }

    func testTruncatedGzipIsOneLine() throws {
        let dir = try tempDir()
        // a valid IDX image header, gzip'd, then cut in half
        let images = Data([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28] + [UInt8](repeating: 7, count: 2 * 784))
        let gz = try gzip(images, in: dir)
        try gz.prefix(gz.count / 2).write(to: dir.appendingPathComponent("train-images-idx3-ubyte.gz"))
        for name in ["train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            try Data([0, 0, 8, 1, 0, 0, 0, 2, 0, 1]).write(to: dir.appendingPathComponent(name))
        }
        try assertFails(["train", "--data", "idx:\(dir.path)"], status: 1, mentions: ["train-images-idx3-ubyte.gz"])
    }

    /// gzip through the system's gzip tool (the library side uses zlib).
    func gzip(_ data: Data, in dir: URL) throws -> Data {
        let plain = dir.appendingPathComponent("plain.bin")
        try data.write(to: plain)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-kf", plain.path]
        try p.run()
        p.waitUntilExit()
        defer { try? FileManager.default.removeItem(at: plain) }
        return try Data(contentsOf: URL(fileURLWithPath: plain.path + ".gz"))
    }
}

extension CLITests {
    func testBadInterfaceConfigurationsExitTwo() throws {
        try assertFails(["train", "--rule", "sg", "--sg-at", "3"], status: 2, mentions: ["--sg-at 3", "last hidden layer"])
        try assertFails(["train", "--rule", "sg", "--sg-at", "9"], status: 2, mentions: ["--sg-at 9"])
        try assertFails(["train", "--rule", "sgprop", "--sg-alpha=-0.1"], status: 2, mentions: ["--sg-alpha -0.1"])
        try assertFails(["train", "--rule", "sg", "--sg-kind", "mlp", "--sg-hidden", "2by1024"], status: 2,
                        mentions: ["--sg-hidden '2by1024'"])
        try assertFails(["train", "--rule", "fa", "--sg-at", "2"], status: 2, mentions: ["fa puts an interface at every hidden layer"])
        try assertFails(["train", "--rule", "magic"], status: 2, mentions: ["magic"])
        try assertFails(["train", "--rule", "sg", "--sg-at", "two"], status: 2, mentions: ["'two'"])
    }

    func testKickbackWithSoftmaxWarns() throws {
        let r = try dnic(["train", "--rule", "kickback", "--data", "synth:linear-2d", "--steps", "3", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: kickback"), r.stderr)
        let quiet = try dnic(["train", "--rule", "kickback", "--loss", "logistic", "--data", "synth:linear-2d", "--steps", "3", "--quiet"])
        XCTAssertFalse(quiet.stderr.contains("warning"), quiet.stderr)
    }

    func testInterfaceMetricsInTheLog() throws {
        let dir = try tempDir()
        let log = dir.appendingPathComponent("sg.jsonl").path
        let r = try dnic(["train", "--rule", "sg", "--data", "synth:xor-2d", "--hidden", "3", "--width", "16",
                          "--sg-at", "every", "--track-alignment", "--steps", "40", "--eval-every", "20", "--log", log])
        XCTAssertEqual(r.status, 0, r.stderr)
        let last = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last!
        let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as! [String: Any]
        let interfaces = object["interfaces"] as! [[String: Any]]
        XCTAssertEqual(interfaces.map { $0["layer"] as! Int }, [2, 1])
        for i in interfaces {
            XCTAssertNotNil(i["loss"] as? Double)
            let cosine = i["alignment"] as! Double
            XCTAssertTrue(cosine >= -1 && cosine <= 1, "\(cosine)")
        }
        XCTAssertTrue(r.stdout.contains("sg2 loss"), r.stdout)
    }
}

extension CLITests {
    /// `dnic bench train` refuses bad flags before generating any data.
    func testBenchTrainBadInputExitsTwo() throws {
        try assertFails(["bench", "train", "--workload", "w9"], status: 2, mentions: ["w9"])
        try assertFails(["bench", "train", "--rule", "dfa"], status: 2, mentions: ["--rule dfa"])
        try assertFails(["bench", "train", "--steps", "2"], status: 2, mentions: ["--steps 2"])
        try assertFails(["bench", "train", "--threads", "0"], status: 2, mentions: ["--threads 0"])
    }
}
