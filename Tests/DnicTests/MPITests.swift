import Dnic
import Foundation
import XCTest

/// `mpirun -np K dnic train --mpi`: the pipeline's blocks as MPI ranks, end
/// to end through the CLI (the transport's own checks are csrc/tests/mpi).
///   - 2 and 3 ranks give the in-process pipeline's checkpoint bit for bit;
///   - async over the ranks trains to within a point of in-process async;
///   - a run stopped under MPI resumes in-process, and the reverse, equal
///     to the straight run;
///   - mismatches (no --mpi under mpirun, ranks ≠ blocks, a schedule MPI
///     cannot run) end every rank with one line from rank 0;
///   - a killed rank ends the job non-zero within seconds, the last
///     checkpoint intact and resumable; a stopped rank is named by rank 0
///     after the timeout, in the seconds given;
///   - ^C (or SIGTERM) to mpirun: rank 0 saves and says so; ^C twice, or
///     mpirun killed: every rank ends with mpirun, and nothing is written
///     after mpirun returned; `--mpi` without mpirun is refused in one line.
/// Skipped where this dnic was built without MPI or mpirun is missing.
final class MPITests: XCTestCase {
    typealias Run = ProcessRun

    static let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

    override func setUpWithError() throws {
        guard MPIRanks.isBuilt else { throw XCTSkip("this dnic was built without MPI (no libopenmpi-dev)") }
        guard Self.mpirun != nil else { throw XCTSkip("mpirun not found (openmpi-bin)") }
    }

    /// mpirun's flags here: more ranks than cores, root in containers,
    /// shared memory without CMA (needs ptrace rights), and -q: only the
    /// program's own lines on stderr.
    static var mpirunFlags: [String] {
        ["-q", "--oversubscribe", "--mca", "btl_vader_single_copy_mechanism", "none"]
            + (getuid() == 0 ? ["--allow-run-as-root"] : [])
    }

    /// A small pipeline run: K blocks (interfaces after hidden layers 1..K-1 of 3).
    static func trainArgs(blocks: Int, steps: Int, width: Int = 32) -> [String] {
        ["train", "--schedule", "pipeline", "--rule", "sg", "--sg-at", (1..<blocks).map(String.init).joined(separator: ","),
         "--hidden", "3", "--width", String(width), "--batchnorm", "--steps", String(steps), "--eval-every", String(max(steps / 2, 1)),
         "--threads", "1", "--data", "synth:xor-100d", "--quiet"]
    }

    func launch(_ executable: String, _ args: [String], whileRunning: (@Sendable (Process) -> Void)? = nil) throws -> Run {
        try ProcessRun.launch(executable, args, whileRunning: whileRunning)
    }

    func dnic(_ args: [String], whileRunning: (@Sendable (Process) -> Void)? = nil) throws -> Run {
        try launch(CLITests.executable.path, args, whileRunning: whileRunning)
    }

    func mpi(_ ranks: Int, _ args: [String], quiet: Bool = true,
             whileRunning: (@Sendable (Process) -> Void)? = nil) throws -> Run {
        try launch(Self.mpirun!, Self.mpirunFlags.filter { quiet || $0 != "-q" } + ["-np", String(ranks), CLITests.executable.path]
                   + args, whileRunning: whileRunning)
    }

    func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-mpi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Every tensor of two checkpoints (parameters, optimizer moments, batches in flight), bit for bit.
    func assertSameTensors(_ a: URL, _ b: URL, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try SafeTensors.read(path: a.path), y = try SafeTensors.read(path: b.path)
        XCTAssertEqual(x.tensors.map(\.name).sorted(), y.tensors.map(\.name).sorted(), what, file: file, line: line)
        var differing = [String]()
        for t in x.tensors {
            let u = y.tensor(t.name)
            if u?.values.map(\.bitPattern) != t.values.map(\.bitPattern) { differing.append(t.name) }
        }
        XCTAssertEqual(differing, [], "\(what): tensors differ", file: file, line: line)
        XCTAssertEqual(x.metadata["step"], y.metadata["step"], what, file: file, line: line)
        XCTAssertEqual(x.metadata["pipeline_inflight"], y.metadata["pipeline_inflight"], what, file: file, line: line)
    }

    func testTwoAndThreeRanksEqualTheInProcessPipeline() throws {
        let dir = try tempDir()
        for blocks in [2, 3] {
            let args = Self.trainArgs(blocks: blocks, steps: 50)
            let inProcess = dir.appendingPathComponent("in-\(blocks).safetensors")
            let ranks = dir.appendingPathComponent("mpi-\(blocks).safetensors")
            let a = try dnic(args + ["--save", inProcess.path])
            XCTAssertEqual(a.status, 0, a.stderr)
            let b = try mpi(blocks, args + ["--mpi", "--save", ranks.path])
            XCTAssertEqual(b.status, 0, b.stderr)
            XCTAssertEqual(a.stdout.split(separator: " ").prefix(3), b.stdout.split(separator: " ").prefix(3),
                           "the same accuracy line: \(a.stdout) vs \(b.stdout)")
            try assertSameTensors(inProcess, ranks, "\(blocks) ranks")
        }
        // the header says how it runs
        let shown = try mpi(2, Self.trainArgs(blocks: 2, steps: 4).filter { $0 != "--quiet" } + ["--mpi"])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertTrue(shown.stdout.contains("(2 blocks as 2 MPI ranks)"), shown.stdout)
    }

    /// Async over the ranks learns as in-process async does: Fashion-MNIST,
    /// 3 epochs, within a point of accuracy (the two interleave differently,
    /// so they are not bit-identical; measured gaps 0.3 to 0.5 points).
    func testAsyncOverRanksTrainsLikeInProcessAsync() throws {
        let args = ["train", "--schedule", "async", "--rule", "sg", "--hidden", "3", "--width", "128", "--epochs", "3",
                    "--threads", "1", "--quiet"]
        let a = try dnic(args), b = try mpi(2, args + ["--mpi"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(b.status, 0, b.stderr)
        func accuracy(_ r: Run) -> Double? { r.stdout.split(separator: " ").dropFirst(2).first.flatMap { Double($0) } }
        let x = try XCTUnwrap(accuracy(a), a.stdout), y = try XCTUnwrap(accuracy(b), b.stdout)
        XCTAssertGreaterThan(y, 0.8, b.stdout)
        XCTAssertLessThan(abs(x - y), 0.01, "in-process async \(x), over 2 ranks \(y)")
        // three ranks, with checkpoints (drained) on the way
        let dir = try tempDir()
        let save = dir.appendingPathComponent("async.safetensors")
        let c = try mpi(3, ["train", "--mpi", "--schedule", "async", "--rule", "sg", "--sg-at", "1,2", "--hidden", "3",
                            "--width", "64", "--steps", "300", "--eval-every", "100", "--checkpoint-every", "100",
                            "--threads", "1", "--data", "synth:linear-100d", "--save", save.path])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertTrue(c.stdout.contains("(3 blocks as 3 MPI ranks, queue"), c.stdout)
        XCTAssertEqual(try Checkpoint.load(path: save.path).state.blockSteps, [300, 300, 300])
    }

    /// Stops `process`'s rank 0 with SIGTERM once `file` exists (a mid-run checkpoint).
    static func terminate(_ process: Process, rank0Of mpirun: Bool, after file: URL) {
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: file.path), Date() < deadline, process.isRunning { usleep(20_000) }
        usleep(100_000)
        let pid = mpirun ? rank(0, of: process.processIdentifier) ?? process.processIdentifier : process.processIdentifier
        kill(pid, SIGTERM)
    }

    /// The pid of MPI rank `r` among mpirun's children (from their environment).
    static func rank(_ r: Int, of mpirun: Int32) -> Int32? {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let children = (try? String(contentsOfFile: "/proc/\(mpirun)/task/\(mpirun)/children", encoding: .utf8)) ?? ""
            for pid in children.split(separator: " ").compactMap({ Int32($0) }) {
                guard let env = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
                if env.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self) == "OMPI_COMM_WORLD_RANK=\(r)" }) {
                    return pid
                }
            }
            usleep(20_000)
        }
        return nil
    }

    func testStoppedUnderMPIResumesInProcessAndTheReverse() throws {
        let dir = try tempDir()
        let steps = 4000
        let args = Self.trainArgs(blocks: 3, steps: steps, width: 128) + ["--checkpoint-every", "200"]
        let straight = dir.appendingPathComponent("straight.safetensors")
        XCTAssertEqual(try dnic(args + ["--save", straight.path]).status, 0)

        // MPI, stopped (SIGTERM to rank 0) mid-run with batches in flight, then in-process
        let cut = dir.appendingPathComponent("cut-mpi.safetensors")
        let stopped = try mpi(3, args + ["--mpi", "--save", cut.path]) { Self.terminate($0, rank0Of: true, after: cut) }
        XCTAssertEqual(stopped.status, 143, "stopped by SIGTERM: \(stopped.stderr)")
        XCTAssertTrue(stopped.stderr.contains("checkpoint saved"), stopped.stderr)
        let cutStep = try Checkpoint.load(path: cut.path).step
        XCTAssertLessThan(cutStep, steps, "the run was not cut")
        XCTAssertNotNil(try SafeTensors.read(path: cut.path).metadata["pipeline_inflight"], "nothing in flight at the cut")
        let resumed = try dnic(["train", "--resume", cut.path, "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertSameTensors(straight, cut, "MPI (cut at \(cutStep)) then in-process")

        // in-process, stopped, then MPI
        let cut2 = dir.appendingPathComponent("cut-in.safetensors")
        let stopped2 = try dnic(args + ["--save", cut2.path]) { Self.terminate($0, rank0Of: false, after: cut2) }
        XCTAssertEqual(stopped2.status, 143, stopped2.stderr)
        let cutStep2 = try Checkpoint.load(path: cut2.path).step
        let resumed2 = try mpi(3, ["train", "--mpi", "--resume", cut2.path, "--quiet"])
        XCTAssertEqual(resumed2.status, 0, resumed2.stderr)
        try assertSameTensors(straight, cut2, "in-process (cut at \(cutStep2)) then MPI")
    }

    /// One line on stderr (mpirun -q adds none), from rank 0.
    func assertOneLine(_ r: Run, mentions needles: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected one line, got: \(r.stderr)", file: file, line: line)
        for needle in needles {
            XCTAssertTrue(r.stderr.contains(needle), "stderr lacks '\(needle)': \(r.stderr)", file: file, line: line)
        }
    }

    func testMismatchesEndEveryRankWithOneLine() throws {
        let args = Self.trainArgs(blocks: 2, steps: 20)
        assertOneLine(try mpi(2, args), mentions: ["without --mpi"])
        assertOneLine(try mpi(3, args + ["--mpi"]), mentions: ["3 ranks for 2 blocks", "-np 2"])
        // the other ranks leave rank 0 the word under a timeout below a second too
        assertOneLine(try mpi(3, args + ["--mpi", "--mpi-timeout", "0.2"]), mentions: ["3 ranks for 2 blocks", "-np 2"])
        assertOneLine(try mpi(2, args.map { $0 == "pipeline" ? "locked" : $0 } + ["--mpi"]), mentions: ["--schedule pipeline or --schedule async"])
        assertOneLine(try mpi(2, args + ["--mpi", "--data", "synth:nothing"]), mentions: ["synth:nothing"])
        let usage = try dnic(args + ["--mpi-timeout", "5"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.stderr.contains("--mpi-timeout needs --mpi"), usage.stderr)
        for bad in ["0", "-3", "1e9", "nan", "soon"] {
            let r = try dnic(args + ["--mpi", "--mpi-timeout", bad])
            XCTAssertEqual(r.status, 2, "--mpi-timeout \(bad): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("--mpi-timeout"), r.stderr)
        }
    }

    func testKilledRankEndsTheJobAndTheCheckpointResumes() throws {
        let dir = try tempDir()
        let save = dir.appendingPathComponent("run.safetensors")
        let args = Self.trainArgs(blocks: 3, steps: 1_000_000, width: 128) + ["--checkpoint-every", "200", "--save", save.path]
        nonisolated(unsafe) var killedAt = Date.distantFuture
        let r = try mpi(3, args + ["--mpi"], quiet: false) { process in
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: save.path), Date() < deadline { usleep(20_000) }
            if let victim = Self.rank(1, of: process.processIdentifier) {
                killedAt = Date()
                kill(victim, SIGKILL)
            }
        }
        assertEndedWithMpirun(dir: dir, marker: save.path, atReturn: Self.files(in: dir))
        XCTAssertNotEqual(r.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(killedAt), 30, "mpirun took too long to end the job")
        // a killed rank cannot speak: Open MPI's runtime sees it die and says so
        XCTAssertTrue(r.stderr.contains("rank 1") && r.stderr.contains("signal 9"), r.stderr)
        // the last checkpoint is whole and continues in-process
        let saved = try Checkpoint.load(path: save.path)
        XCTAssertGreaterThanOrEqual(saved.step, 200)
        let resumed = try dnic(["train", "--resume", save.path, "--steps", String(saved.step + 50), "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
    }

    /// Rank 1 gives up on the stopped rank 2 after --mpi-timeout and rank 0
    /// says so, in the seconds the user gave (1.5, not "2").
    func testStoppedRankIsNamedByRankZero() throws {
        let dir = try tempDir()
        let save = dir.appendingPathComponent("run.safetensors")
        let args = Self.trainArgs(blocks: 3, steps: 1_000_000, width: 128)
            + ["--mpi", "--mpi-timeout", "1.5", "--checkpoint-every", "200", "--save", save.path]
        let r = try mpi(3, args) { process in
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: save.path), Date() < deadline { usleep(20_000) }
            if let victim = Self.rank(2, of: process.processIdentifier) { kill(victim, SIGSTOP) }
        }
        assertEndedWithMpirun(dir: dir, marker: save.path, atReturn: Self.files(in: dir))
        XCTAssertEqual(r.status, 1, r.stderr)
        // rank 1 gives up after 1.5 s (waiting for rank 2's gradients, or, when rank 2 stopped before
        // taking rank 1's last activations, for that send to finish), or rank 0 (1.5 x 1.5 + 2 s) when
        // rank 2 stopped between its messages and its status
        assertOneLine(r, mentions: ["dnic: error: ", "rank 2 sent nothing for "])
        XCTAssertTrue(r.stderr.contains("rank 1: rank 2 sent nothing for 1.5 s while waiting for gradients from it")
                      || r.stderr.contains("rank 1: rank 2 sent nothing for 1.5 s while sending activations to it")
                      || r.stderr.contains("rank 2 sent nothing for 4.25 s while waiting for the tick's status from it"), r.stderr)
        XCTAssertLessThan(r.seconds, 60)
    }

    // MARK: - mpirun or a rank going away

    /// A run long enough to be cut (2 blocks, a checkpoint every 200 steps
    /// into a fresh directory; the --save path marks its processes).
    func longRun() throws -> (args: [String], dir: URL, save: URL) {
        let dir = try tempDir()
        let save = dir.appendingPathComponent("run.safetensors")
        let args = Self.trainArgs(blocks: 2, steps: 1_000_000, width: 128)
            + ["--mpi", "--checkpoint-every", "200", "--save", save.path]
        return (args, dir, save)
    }

    /// Waits (at most 60 s) for the run's first checkpoint.
    static func waitForCheckpoint(_ save: URL, of process: Process) {
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: save.path), Date() < deadline, process.isRunning { usleep(20_000) }
    }

    /// The processes whose command line names `marker` (the run's unique
    /// --save path): mpirun and its ranks while they live (a zombie has none).
    static func processes(naming marker: String) -> [Int32] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        return pids.filter { pid in
            guard let line = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: line, as: UTF8.self).contains(marker)
        }
    }

    /// Every file in `dir`: its size, modification time and bytes.
    static func files(in dir: URL) -> [String: String] {
        var seen = [String: String]()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] {
            let path = dir.appendingPathComponent(name).path
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let bytes = FileManager.default.contents(atPath: path) ?? Data()
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
            seen[name] = "\(bytes.count) bytes, modified \(modified), fnv \(h)"
        }
        return seen
    }

    /// After mpirun returned: every rank ends within a few seconds (no
    /// orphan), and nothing in `dir` changed since mpirun returned.
    func assertEndedWithMpirun(dir: URL, marker: String, atReturn: [String: String],
                               file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(5)
        var left = Self.processes(naming: marker)
        while !left.isEmpty, Date() < deadline {
            usleep(20_000)
            left = Self.processes(naming: marker)
        }
        XCTAssertEqual(left, [], "ranks outlived mpirun by 5 s", file: file, line: line)
        for pid in left { kill(pid, SIGKILL) } // this test's own orphans
        XCTAssertEqual(Self.files(in: dir), atReturn, "a file changed after mpirun returned", file: file, line: line)
    }

    /// ^C (SIGINT to mpirun's process group, as a terminal sends it) or
    /// SIGTERM to mpirun: mpirun ends the job by sending every rank SIGTERM
    /// (then SIGKILL after odls_base_sigkill_timeout, here 3 s so that a
    /// loaded machine cannot make the test fail); rank 0 stops after the
    /// step, saves and says so. mpirun exits 1 whatever its ranks do (Open
    /// MPI sets that status first and keeps the first one).
    func testInterruptedMpirunSavesOnRankZeroAndEnds() throws {
        for (signal, group) in [(SIGINT, true), (SIGTERM, false)] {
            let (args, dir, save) = try longRun()
            let r = try launch(Self.mpirun!, Self.mpirunFlags + ["--mca", "odls_base_sigkill_timeout", "3", "-np", "2",
                                                                 CLITests.executable.path] + args) { process in
                Self.waitForCheckpoint(save, of: process)
                let pid = process.processIdentifier
                kill(group ? -pid : pid, signal)
            }
            let atReturn = Self.files(in: dir)
            assertEndedWithMpirun(dir: dir, marker: save.path, atReturn: atReturn)
            XCTAssertEqual(r.status, 1, r.stderr)
            assertOneLine(r, mentions: ["dnic: SIGTERM from mpirun at step ", "checkpoint saved to \(save.path)"])
            let said = r.stderr.components(separatedBy: "at step ").last.flatMap { Int($0.prefix { $0.isNumber }) }
            XCTAssertEqual(try Checkpoint.load(path: save.path).step, said, "the checkpoint holds the step the line names")
        }
    }

    /// ^C twice (within 5 s): mpirun exits 1 at once without ending its
    /// ranks; they end with it, before anything more is written.
    func testInterruptedTwiceEveryRankEndsWithMpirun() throws {
        let (args, dir, save) = try longRun()
        let r = try mpi(2, args) { process in
            Self.waitForCheckpoint(save, of: process)
            let group = -process.processIdentifier
            kill(group, SIGINT)
            usleep(200_000) // a second keystroke
            kill(group, SIGINT)
        }
        let atReturn = Self.files(in: dir)
        assertEndedWithMpirun(dir: dir, marker: save.path, atReturn: atReturn)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr, "", "mpirun -q exits at once, and no rank is left to speak")
        XCTAssertGreaterThanOrEqual(try Checkpoint.load(path: save.path).step, 200)
    }

    /// mpirun killed: every rank ends with it at once.
    func testKilledMpirunTakesEveryRankWithIt() throws {
        let (args, dir, save) = try longRun()
        let r = try mpi(2, args) { process in
            Self.waitForCheckpoint(save, of: process)
            kill(process.processIdentifier, SIGKILL)
        }
        let atReturn = Self.files(in: dir)
        assertEndedWithMpirun(dir: dir, marker: save.path, atReturn: atReturn)
        XCTAssertEqual(r.status, SIGKILL, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertGreaterThanOrEqual(try Checkpoint.load(path: save.path).step, 200)
    }

    /// A rank killed (rank 0 or another) under mpirun -q: mpirun ends the
    /// job within seconds and exits 128 + the signal (137), and nothing is
    /// printed: the dead rank cannot speak, rank 0 (if alive) is stuck
    /// waiting for it until mpirun kills it, and -q silences mpirun's own
    /// "exited on signal 9" (as docs/mpi.md says).
    func testKilledRankUnderQuietEndsTheJobWithoutALine() throws {
        for victim in [0, 1] {
            let (args, dir, save) = try longRun()
            let r = try mpi(2, args) { process in
                Self.waitForCheckpoint(save, of: process)
                if let pid = Self.rank(victim, of: process.processIdentifier) { kill(pid, SIGKILL) }
            }
            let atReturn = Self.files(in: dir)
            assertEndedWithMpirun(dir: dir, marker: save.path, atReturn: atReturn)
            XCTAssertEqual(r.status, 128 + SIGKILL, "rank \(victim) killed: \(r.stderr)")
            XCTAssertEqual(r.stderr, "", "rank \(victim) killed")
            XCTAssertGreaterThanOrEqual(try Checkpoint.load(path: save.path).step, 200)
        }
    }

    /// A timeout below a second still gives rank 0 time to load real data
    /// (Fashion-MNIST) before the others give up on its settings.
    func testShortTimeoutWaitsForRankZeroToLoadTheData() throws {
        let r = try mpi(2, ["train", "--mpi", "--schedule", "pipeline", "--rule", "sg", "--steps", "10", "--threads", "1",
                            "--quiet", "--mpi-timeout", "0.5"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
    }

    /// `dnic train --mpi` that no mpirun started: one line naming the
    /// command to use, exit 2, before MPI starts (no ORTE_ERROR_LOG).
    func testMPIWithoutMpirunIsRefusedWithOneLine() throws {
        let dir = try tempDir()
        let save = dir.appendingPathComponent("run.safetensors")
        let r = try dnic(Self.trainArgs(blocks: 2, steps: 20) + ["--mpi", "--save", save.path])
        XCTAssertEqual(r.status, 2, r.stderr)
        assertOneLine(r, mentions: ["dnic: error: --mpi", "no mpirun started this dnic", "mpirun -np BLOCKS dnic train --mpi"])
        XCTAssertFalse(r.stderr.contains("ORTE"), r.stderr)
        XCTAssertEqual(Self.files(in: dir), [:], "nothing written")
    }
}
