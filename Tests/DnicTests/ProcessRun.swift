import Foundation

/// A program the tests run to its end, both pipes drained at once (a child
/// writing much to either cannot block), with OMP_NUM_THREADS=1 (tests run
/// side by side) and everything else as inherited.
struct ProcessRun {
    let status: Int32
    let stdout: String
    let stderr: String
    let seconds: Double

    /// `whileRunning` runs on another thread once the program has started
    /// (to signal it, or one of its children, mid-run).
    static func launch(_ executable: String, _ args: [String],
                       whileRunning: (@Sendable (Process) -> Void)? = nil) throws -> ProcessRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["OMP_NUM_THREADS"] = "1"
        process.environment = env
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
        return ProcessRun(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                          stderr: String(decoding: e, as: UTF8.self), seconds: Date().timeIntervalSince(t0))
    }
}
