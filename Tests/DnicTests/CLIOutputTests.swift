import Foundation
import XCTest
@testable import Dnic

/// Nothing a run produces is lost: every output path is checked before any
/// training (missing or unwritable directory, a directory, device, FIFO or
/// socket in its place, the log and the checkpoint the same file) and
/// refused with one line and exit 2, touching nothing; a write that fails
/// during the run (full file system, file-size limit, read-only mount)
/// stops it with one line naming the file and the OS's reason, exit 1, and
/// the checkpoint is still written — or, if the checkpoint is what failed,
/// the previous one is left intact with no temporary file behind.
extension CLITests {
    /// A tiny run: a checkpoint of ~2.5 KB, a few hundred bytes of log per step.
    static let tiny = ["train", "--data", "synth:xor-2d", "--hidden", "1", "--width", "8", "--threads", "1"]

    /// What a path is now, to show that a refused run did not touch it:
    /// kind, size, modification time, device number and content hash.
    func snapshot(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "absent" }
        var text = "mode \(info.st_mode) size \(info.st_size) mtime \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) rdev \(info.st_rdev)"
        if info.st_mode & S_IFMT == S_IFREG, let data = FileManager.default.contents(atPath: path) {
            text += " hash \(data.hashValue)"
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            text += " entries \((try? FileManager.default.contentsOfDirectory(atPath: path).sorted()) ?? [])"
        }
        return text
    }

    /// Runs `dnic args` under `ulimit -f KB` with SIGXFSZ ignored, so writes
    /// past the limit fail with EFBIG (a full disk without a disk to fill).
    func dnicLimited(fileKB: Int, _ args: [String]) throws -> Run {
        try launch(URL(fileURLWithPath: "/bin/sh"),
                   ["-c", "ulimit -f \(fileKB); trap '' XFSZ; exec \"$0\" \"$@\"", Self.executable.path] + args)
    }

    /// A refused output: exit 2, one line with `needles`, nothing printed on
    /// stdout (no data loaded, no training), `watched` paths unchanged.
    func assertRefused(_ args: [String], mentions needles: [String], watching watched: [String],
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let before = watched.map(snapshot)
        let r = try dnic(args)
        XCTAssertEqual(r.status, 2, r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)", file: file, line: line)
        for needle in needles {
            XCTAssertTrue(r.stderr.contains(needle), "stderr lacks '\(needle)': \(r.stderr)", file: file, line: line)
        }
        XCTAssertEqual(r.stdout, "", "refused before loading or training", file: file, line: line)
        XCTAssertEqual(watched.map(snapshot), before, "a refused run touched \(watched)", file: file, line: line)
    }

    func testMissingOrUnwritableDirectoriesAreRefusedBeforeTraining() throws {
        let dir = try tempDir()
        let run = Self.tiny + ["--steps", "3000"]
        try assertRefused(run + ["--save", "/nonexistent-dnic/x.safetensors"], mentions: ["--save", "directory /nonexistent-dnic does not exist"],
                          watching: [])
        try assertRefused(run + ["--log", dir.path + "/no/such/log.jsonl"], mentions: ["--log", "does not exist"], watching: [dir.path])
        try assertRefused(run + ["--save", "/proc/x.safetensors"], mentions: ["--save /proc/x.safetensors", "cannot create a file in /proc"],
                          watching: [])
        try assertRefused(run + ["--save", dir.path], mentions: ["is a directory"], watching: [dir.path])
        try assertRefused(run + ["--save", dir.path, "--overwrite"], mentions: ["is a directory"], watching: [dir.path])
        let file = dir.appendingPathComponent("plain").path
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        try assertRefused(run + ["--save", file + "/x.st"], mentions: ["is not a directory"], watching: [file])
        try assertRefused(run + ["--checkpoint-every", "5"], mentions: ["--checkpoint-every needs --save"], watching: [])
    }

    func testDevicesFIFOsAndSocketsAreNeverReplaced() throws {
        let dir = try tempDir()
        let run = Self.tiny + ["--steps", "3000", "--overwrite"]
        let fifo = dir.appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        try assertRefused(run + ["--save", fifo], mentions: ["--save", "is a FIFO"], watching: [fifo, dir.path])
        try assertRefused(run + ["--log", fifo], mentions: ["--log", "is a FIFO"], watching: [fifo, dir.path])
        let socketPath = dir.appendingPathComponent("sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in socketPath.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        defer { close(fd) }
        XCTAssertEqual(bound, 0, "bind \(socketPath)")
        try assertRefused(run + ["--log", socketPath], mentions: ["is a socket"], watching: [socketPath])
        // a device node made here, never one of the machine's own
        let device = dir.appendingPathComponent("null-device").path
        // dev_t(0x103) is makedev(1, 3), /dev/null's numbers (makedev is a macro Swift cannot call)
        guard mknod(device, S_IFCHR | 0o666, dev_t(0x103)) == 0 else {
            throw XCTSkip("mknod needs root (\(String(cString: strerror(errno)))); device-node cases not run")
        }
        try assertRefused(run + ["--save", device], mentions: ["--save", "is a device"], watching: [device, dir.path])
        try assertRefused(run + ["--log", device], mentions: ["--log", "is a device"], watching: [device, dir.path])
    }

    func testLogAndCheckpointMustBeDifferentFiles() throws {
        let dir = try tempDir()
        let same = dir.appendingPathComponent("run.out").path
        try assertRefused(Self.tiny + ["--steps", "3", "--save", same, "--log", same], mentions: ["same file"], watching: [dir.path])
        // through another spelling of the same path
        try assertRefused(Self.tiny + ["--steps", "3", "--save", same, "--log", dir.path + "/./run.out"], mentions: ["same file"],
                          watching: [dir.path])
        let ckpt = dir.appendingPathComponent("c.st").path
        XCTAssertEqual(try dnic(Self.tiny + ["--steps", "3", "--save", ckpt, "--quiet"]).status, 0)
        try assertRefused(["train", "--resume", ckpt, "--steps", "6", "--log", ckpt], mentions: ["is the checkpoint being resumed"],
                          watching: [ckpt])
    }

    /// A read-only file system (EROFS): a 64 KiB tmpfs mounted read-only.
    func testReadOnlyFileSystemIsRefusedBeforeTraining() throws {
        let dir = try tempDir()
        let mountPoint = dir.appendingPathComponent("ro").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard shell("mount -t tmpfs -o size=64k,ro tmpfs '\(mountPoint)'") == 0 else {
            throw XCTSkip("mounting a tmpfs is not allowed here; read-only case not run")
        }
        defer { _ = shell("umount '\(mountPoint)'") }
        try assertRefused(Self.tiny + ["--steps", "3", "--save", mountPoint + "/x.st"], mentions: ["Read-only file system"],
                          watching: [mountPoint])
        try assertRefused(Self.tiny + ["--steps", "3", "--log", mountPoint + "/x.jsonl"], mentions: ["Read-only file system"],
                          watching: [mountPoint])
    }

    /// A full file system: a 64 KiB tmpfs, or else a file-size limit.
    func testLogWriteFailureStopsAndStillWritesTheCheckpoint() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("c.st").path
        let r: Run
        let logPath: String
        let mountPoint = dir.appendingPathComponent("small").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        if shell("mount -t tmpfs -o size=64k tmpfs '\(mountPoint)'") == 0 {
            defer { _ = shell("umount '\(mountPoint)'") }
            logPath = mountPoint + "/log.jsonl"
            r = try dnic(Self.tiny + ["--steps", "3000", "--eval-every", "1", "--log", logPath, "--save", ckpt, "--quiet"])
            XCTAssertTrue(r.stderr.contains("No space left on device"), r.stderr)
        } else {
            logPath = dir.appendingPathComponent("log.jsonl").path
            r = try dnicLimited(fileKB: 16, Self.tiny + ["--steps", "3000", "--eval-every", "1", "--log", logPath, "--save", ckpt, "--quiet"])
            XCTAssertTrue(r.stderr.contains("File too large"), r.stderr)
        }
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("--log \(logPath): cannot write"), r.stderr)
        let saved = try Checkpoint.load(path: ckpt)
        XCTAssertGreaterThan(saved.step, 0)
        XCTAssertLessThan(saved.step, 3000, "stopped at the write that failed")
        XCTAssertTrue(r.stderr.contains("(step \(saved.step)); checkpoint saved to \(ckpt)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("continue with: dnic train --resume \(ckpt) --log"), r.stderr)
        // the hint's command, with a log that has room, finishes the run
        let other = dir.appendingPathComponent("rest.jsonl").path
        let rest = try dnic(["train", "--resume", ckpt, "--log", other, "--quiet"])
        XCTAssertEqual(rest.status, 0, rest.stderr)
        XCTAssertEqual(try Checkpoint.load(path: ckpt).step, 3000)
    }

    func testFailedCheckpointWriteKeepsThePreviousOneAndNoTemporaryFile() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("c.st").path
        let wide = ["train", "--data", "synth:xor-2d", "--hidden", "2", "--width", "64", "--threads", "1", "--quiet"]
        XCTAssertEqual(try dnic(wide + ["--steps", "10", "--save", ckpt]).status, 0)
        let before = snapshot(ckpt)
        XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: ckpt)).count, 40 << 10)
        // a 20 KiB file-size limit: the ~55 KiB checkpoint cannot be written
        let r = try dnicLimited(fileKB: 20, ["train", "--resume", ckpt, "--steps", "100", "--checkpoint-every", "20"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("cannot write the checkpoint: File too large (step 20); \(ckpt) still holds step 10"), r.stderr)
        XCTAssertEqual(snapshot(ckpt), before, "the previous checkpoint is intact")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["c.st"], "no temporary file left")
    }

    func testFullStandardOutputStopsTheRunAfterSavingIt() throws {
        let dir = try tempDir()
        let ckpt = dir.appendingPathComponent("c.st").path
        guard let full = FileHandle(forWritingAtPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
        // the header is the first line: nothing is trained
        var r = try dnic(Self.tiny + ["--steps", "50", "--save", ckpt], stdout: full)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("standard output: cannot write: No space left on device"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ckpt))
        // quiet: the summary line is the first, after the checkpoint
        r = try dnic(Self.tiny + ["--steps", "50", "--save", ckpt, "--quiet"], stdout: full)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("the run finished; its checkpoint is \(ckpt)"), r.stderr)
        XCTAssertEqual(try Checkpoint.load(path: ckpt).step, 50)
    }

    func testBenchJSONIsCheckedBeforeTheBenchmark() throws {
        let dir = try tempDir()
        try assertRefused(["bench", "train", "--json", dir.path], mentions: ["--json", "is a directory"], watching: [dir.path])
        try assertRefused(["bench", "train", "--json", "/nonexistent-dnic/b.json"], mentions: ["does not exist"], watching: [])
    }

    /// Runs a shell command quietly; its exit status.
    func shell(_ command: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}
