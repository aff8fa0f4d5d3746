import Foundation
import XCTest

/// Runs `dnic` as a user's shell would, for the habit tests: in a chosen
/// working directory, with environment variables set or removed, and with
/// the shell's own redirections (`>&-`, `>/dev/full`), bounded by
/// timeout(1) so that a hang is a failure (status 124), not a stuck suite.
enum Habit {
    static var dnic: String { CLITests.executable.path }

    /// `env`: a value sets the variable, nil removes it. ProcessRun starts
    /// from OMP_NUM_THREADS=1; a test that sets it to junk on purpose adds
    /// `--threads 1` where the command takes it.
    /// `wrapper` runs dnic (taskset -c 0, …).
    static func run(_ args: [String], in dir: String = FileManager.default.currentDirectoryPath,
                    env: [String: String?] = [:], redirect: String = "", wrapper: [String] = [],
                    seconds: Int = 120) throws -> ProcessRun {
        var assignments: [String] = []
        for (name, value) in env.sorted(by: { $0.key < $1.key }) {
            assignments += value.map { ["\(name)=\($0)"] } ?? ["-u", name]
        }
        let script = "cd \"$1\" && shift && exec \"$@\" \(redirect)"
        return try ProcessRun.launch("/bin/sh", ["-c", script, "habit", dir, "/usr/bin/timeout", "-s", "KILL", "\(seconds)",
                                                 "/usr/bin/env"] + assignments + wrapper + [dnic] + args)
    }

    /// A fresh directory, removed when the test ends.
    static func directory(_ test: XCTestCase) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-habit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// What `dir` holds: each entry's name (hidden ones too), kind, size
    /// and content hash, to show that a refused run touched nothing and a
    /// finished one left no temporary file.
    static func contents(_ dir: String) -> [String: String] {
        var result: [String: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            let path = dir + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            var text = "mode \(info.st_mode) size \(info.st_size)"
            if info.st_mode & S_IFMT == S_IFREG, let data = FileManager.default.contents(atPath: path) {
                text += " fnv \(data.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 })"
            }
            result[name] = text
        }
        return result
    }

    /// The lines of `text` (no empty last line).
    static func lines(_ text: String) -> [Substring] { text.split(separator: "\n") }
}
