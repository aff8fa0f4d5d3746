import Foundation

/// A program the tests run to its end, both pipes drained at once (a child
/// writing much to either cannot block), with OMP_NUM_THREADS=1 (tests run
/// side by side) and everything else as inherited.
struct ProcessRun {
    let status: Int32
    let stdout: String
    let stderr: String
    let seconds: Double
    /// Ended by a signal (`status` is then the signal's number), not by exit.
    let signaled: Bool

    /// `whileRunning` runs on another thread once the program has started
    /// (to signal it, or one of its children, mid-run). `environment`
    /// sets (a value) or removes (nil) variables after OMP_NUM_THREADS=1;
    /// `directory` is the working directory (default: the tests').
    static func launch(_ executable: String, _ args: [String], environment: [String: String?] = [:],
                       directory: String? = nil,
                       whileRunning: (@Sendable (Process) -> Void)? = nil) throws -> ProcessRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["OMP_NUM_THREADS"] = "1"
        for (name, value) in environment { env[name] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let t0 = Date()
        try process.run()
        nonisolated(unsafe) var e = Data()
        let read = DispatchSemaphore(value: 0)
        let errHandle = err.fileHandleForReading
        DispatchQueue.global().async {
            e = errHandle.readDataToEndOfFile()
            read.signal()
        }
        if let whileRunning { DispatchQueue.global().async { whileRunning(process) } }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        read.wait()
        process.waitUntilExit()
        let stderr = String(decoding: e, as: UTF8.self)
        StderrCaptures.record([executable] + args, stderr)
        return ProcessRun(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                          stderr: stderr, seconds: Date().timeIntervalSince(t0),
                          signaled: process.terminationReason == .uncaughtSignal)
    }
}

/// Every standard error a test captures from a program it ran is also
/// written to a file of its own in build/test-logs/stderr/ (or
/// $DNIC_TEST_STDERR_DIR), so scripts/scan-test-stderr.py can check the
/// whole suite's output for what must never reach a user: a Swift error
/// type, a fatal error, a backtrace or a register dump.
enum StderrCaptures {
    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["DNIC_TEST_STDERR_DIR"], !dir.isEmpty { return dir }
        // Tests/DnicTests/ProcessRun.swift → the package root
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent("build/test-logs/stderr").path
    }()

    /// Writes `stderr` (when not empty) under a fresh name, the command first.
    static func record(_ command: [String], _ stderr: String) {
        guard !stderr.isEmpty else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let text = "$ " + command.joined(separator: " ") + "\n" + stderr
        FileManager.default.createFile(atPath: directory + "/\(UUID().uuidString).txt", contents: Data(text.utf8))
    }
}
