import Foundation
import XCTest
@testable import Dnic

/// Every subcommand under each habit people have: standard output closed
/// (cron, daemon wrappers) or on a full disk, standard input closed,
/// OMP_NUM_THREADS junk, empty or huge, one-character and 255-byte output
/// names, and relative paths run from another directory. Each run must end
/// by itself (bounded by `timeout`) with exit 0 and its outputs, or with
/// one `dnic: error:` line and a non-zero exit; never a signal, a hang,
/// more than one line on stderr, or a change to any file but its own
/// outputs.
final class HabitMatrixTests: XCTestCase {
    /// A subcommand as a habit runs it: `args(out, data, checkpoint)`
    /// builds its arguments from an output name (nil: writes no file), the
    /// data and the checkpoints as the habit spells them (relative to the
    /// working directory).
    struct Command: Sendable {
        let name: String
        /// Writes `out` as a file (true) or a directory (false); nil when it writes nothing.
        let writesFile: Bool?
        /// What the output's name must end with (plot: the figure's format).
        var suffix = ""
        let args: @Sendable (_ out: String, _ data: String, _ home: String) -> [String]
    }

    /// How a habit runs a command: a shell wrapper for descriptors, the
    /// environment, the working directory and how outputs are named.
    struct Habit: Sendable {
        let name: String
        var shell = "exec \"$0\" \"$@\""
        var environment: [String: String?] = [:]
        /// Run from `other/`, reaching data and checkpoints as `../home/…`.
        var elsewhere = false
        /// The output's name for a command and the suffix it needs.
        var outName: @Sendable (String, String) -> String = { "out-\($0)\($1)" }
        /// Standard output fails (ENOSPC): the run must say so and exit 1, or succeed if it printed nothing.
        var stdoutFails = false
    }

    static let commands: [Command] = [
        Command(name: "train", writesFile: true) { out, data, _ in
            ["train", "--data", "csv:\(data)", "--hidden", "2", "--width", "8", "--rule", "sg", "--steps", "12",
             "--threads", "1", "--save", out, "--checkpoint-every", "4"] },
        Command(name: "train-log", writesFile: true) { out, data, _ in
            ["train", "--data", "csv:\(data)", "--hidden", "1", "--width", "8", "--steps", "6", "--eval-every", "2",
             "--threads", "1", "--log", out] },
        Command(name: "eval", writesFile: nil) { _, _, home in ["eval", "--checkpoint", "\(home)m.st", "--threads", "1"] },
        Command(name: "eval-json", writesFile: true) { out, _, home in
            ["eval", "--checkpoint", "\(home)m.st", "--per-class", "--json", out, "--threads", "1"] },
        Command(name: "predict", writesFile: true) { out, data, home in
            ["predict", "--checkpoint", "\(home)m.st", "--data", "csv:\(data)", "--proba", "--out", out, "--threads", "1"] },
        Command(name: "plot", writesFile: true, suffix: ".svg") { out, _, home in ["plot", "\(home)m.jsonl", "--out", out] },
        Command(name: "plot-png", writesFile: true, suffix: ".png") { out, _, home in
            ["plot", "\(home)m.jsonl", "\(home)m.jsonl", "--metric", "accuracy", "--out", out] },
        Command(name: "export", writesFile: true) { out, _, home in
            ["export", "--checkpoint", "\(home)m.st", "--out", out, "--layout", "torch"] },
        Command(name: "analyze-norms", writesFile: false) { out, _, home in
            ["analyze", "norms", "--checkpoint", "\(home)m.st", "--out", out, "--threads", "1"] },
        Command(name: "analyze-probes", writesFile: false) { out, _, home in
            ["analyze", "probes", "--checkpoint", "\(home)m.st", "--out", out, "--threads", "1"] },
        Command(name: "analyze-rdm", writesFile: false) { out, _, home in
            ["analyze", "rdm", "--checkpoint", "\(home)m.st", "--out", out, "--per-class", "3", "--threads", "1"] },
        Command(name: "analyze-loss-surface", writesFile: false) { out, _, home in
            ["analyze", "loss-surface", "--checkpoint", "\(home)g.st", "--out", out, "--threads", "1"] },
        Command(name: "analyze-alignment", writesFile: false) { out, _, home in
            ["analyze", "alignment", "--checkpoint", "\(home)m.st", "--log", "\(home)m.jsonl", "--out", out, "--threads", "1"] },
        Command(name: "reproduce", writesFile: false) { out, _, _ in ["reproduce", "thm1", "--quick", "--out", out, "--threads", "1"] },
        Command(name: "bench-train", writesFile: true) { out, _, _ in
            ["bench", "train", "--steps", "5", "--rounds", "1", "--threads", "1", "--json", out] },
        Command(name: "bench-tta", writesFile: true) { out, data, _ in
            ["bench", "tta", "--target", "0.6", "--data", "csv:\(data)", "--hidden", "2", "--width", "8", "--lr", "0.05",
             "--seeds", "1", "--max-epochs", "30", "--threads", "1", "--json", out] },
        Command(name: "bench-pipeline", writesFile: nil) { _, _, _ in ["bench", "pipeline", "--simulate", "2", "--steps", "2"] },
        Command(name: "plan", writesFile: nil) { _, data, _ in
            ["plan", "--data", "csv:\(data)", "--rule", "sg", "--hidden", "3", "--width", "8", "--sg-at", "balanced",
             "--threads", "1"] },
        Command(name: "info", writesFile: nil) { _, _, _ in ["info"] },
    ]

    static let habits: [Habit] = [
        Habit(name: "stdout-closed", shell: "exec \"$0\" \"$@\" >&-"),
        Habit(name: "stdout-full", shell: "exec \"$0\" \"$@\" >/dev/full", stdoutFails: true),
        Habit(name: "stdin-closed", shell: "exec \"$0\" \"$@\" <&-"),
        Habit(name: "omp-junk", environment: ["OMP_NUM_THREADS": "abc"]),
        Habit(name: "omp-empty", environment: ["OMP_NUM_THREADS": ""]),
        // above any bound dnic accepts (4096): capped, with a warning
        Habit(name: "omp-huge", environment: ["OMP_NUM_THREADS": "5000"]),
        Habit(name: "one-character-names", outName: { _, suffix in "o" + suffix }),
        Habit(name: "255-byte-names", outName: { name, suffix in
            String(("long-" + name + "-").padding(toLength: 255 - suffix.utf8.count, withPad: "n", startingAt: 0)) + suffix }),
        Habit(name: "relative-paths-elsewhere", elsewhere: true),
    ]

    /// home/: the data, a trained checkpoint and its log; other/: an empty
    /// directory to run from. Built once for the whole matrix.
    static func fixture(in root: URL) throws {
        let home = root.appendingPathComponent("home"), fm = FileManager.default
        try fm.createDirectory(at: home.appendingPathComponent("data"), withIntermediateDirectories: true)
        try fm.createDirectory(at: root.appendingPathComponent("other"), withIntermediateDirectories: true)
        var csv = "label,x,y\n", seed: UInt64 = 7
        for _ in 0..<80 {
            let x = Double(splitMix(&seed)), y = Double(splitMix(&seed))
            csv += "\(x > y ? 1 : 0),\(x),\(y)\n"
        }
        try csv.write(to: home.appendingPathComponent("data/t.csv"), atomically: true, encoding: .utf8)
        for args in [["train", "--data", "csv:data/t.csv", "--hidden", "2", "--width", "8", "--rule", "sg", "--steps", "20",
                      "--save", "m.st", "--log", "m.jsonl", "--track-alignment", "--quiet", "--threads", "1"],
                     ["train", "--data", "synth:grid", "--hidden", "2", "--width", "16", "--rule", "sg", "--steps", "20",
                      "--save", "g.st", "--quiet", "--threads", "1"]] {
            let r = try ProcessRun.launch(CLITests.executable.path, args, directory: home.path)
            XCTAssertEqual(r.status, 0, "fixture: \(r.stderr)")
        }
    }

    /// Every file under `root` with its size, time and content hash, and every directory.
    static func tree(_ root: String) -> [String: String] {
        var out = [String: String]()
        guard let walk = FileManager.default.enumerator(atPath: root) else { return out }
        for case let rel as String in walk {
            let path = root + "/" + rel
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            // a directory changes when an output appears in it: its entries are keys of their own
            guard info.st_mode & S_IFMT != S_IFDIR else {
                out[rel] = "directory"
                continue
            }
            var text = "mode \(info.st_mode) size \(info.st_size) mtime \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            if info.st_mode & S_IFMT == S_IFREG, let data = FileManager.default.contents(atPath: path) {
                text += " hash \(data.hashValue)"
            }
            out[rel] = text
        }
        return out
    }

    func testEverySubcommandUnderEveryHabit() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-habits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        try Self.fixture(in: root)
        var ran = 0
        for habit in Self.habits {
            for command in Self.commands {
                let cwd = root.appendingPathComponent(habit.elsewhere ? "other" : "home").path
                let home = habit.elsewhere ? "../home/" : ""
                let out = habit.outName(command.name, command.suffix)
                let args = command.args(out, "\(home)data/t.csv", home)
                let before = Self.tree(root.path)
                let r = try ProcessRun.launch("/usr/bin/timeout", ["-s", "KILL", "120", "/bin/sh", "-c", habit.shell,
                                                                   CLITests.executable.path] + args,
                                              environment: habit.environment, directory: cwd)
                ran += 1
                let what = "\(habit.name) \(command.name): dnic \(args.joined(separator: " "))"
                XCTAssertFalse(r.signaled || r.status == 137 || r.status == 124 || r.status > 128,
                               "\(what): ended by a signal or the timeout (status \(r.status)): \(r.stderr.prefix(2000))")
                // reproduce reports each finished run on stderr when it is not a terminal (by design)
                let lines = r.stderr.split(separator: "\n").filter {
                    !(command.name == "reproduce" && $0.range(of: #"^\w+ run \d+/\d+ "#, options: .regularExpression) != nil)
                }
                XCTAssertLessThanOrEqual(lines.count, 1, "\(what): more than one line on stderr: \(r.stderr.prefix(3000))")
                if habit.stdoutFails {
                    // every command prints: a write that fails must be said, with exit 1
                    XCTAssertEqual(r.status, 1, "\(what): a full standard output went unnoticed: \(r.stderr)")
                    XCTAssertTrue(r.stderr.contains("standard output"), "\(what): \(r.stderr)")
                } else {
                    XCTAssertEqual(r.status, 0, "\(what): failed where it should work: \(r.stderr)")
                    if !habit.shell.contains(">&-") { XCTAssertFalse(r.stdout.isEmpty, "\(what): printed nothing") }
                }
                if r.status != 0 {
                    XCTAssertTrue(lines.first?.hasPrefix("dnic: error: ") == true, "\(what): exit \(r.status): \(r.stderr)")
                }
                // only its own outputs changed; nothing else appeared
                let after = Self.tree(root.path)
                let prefix = habit.elsewhere ? "other/" : "home/"
                let own = command.writesFile == nil ? nil : prefix + out
                let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }
                    .filter { path in !(own.map { path == $0 || path.hasPrefix($0 + "/") } ?? false) }
                XCTAssertEqual(changed.sorted(), [], "\(what): touched files that are not its outputs")
                if r.status == 0, let own, let file = command.writesFile {
                    var isDirectory: ObjCBool = false
                    XCTAssertTrue(FileManager.default.fileExists(atPath: root.path + "/" + own, isDirectory: &isDirectory)
                                  && isDirectory.boolValue == !file, "\(what): its output \(own) is missing")
                }
                if command.name == "train-log", r.status == 0 {
                    // stdout closed: the log must not have taken descriptor 1
                    let log = (try? String(contentsOfFile: root.path + "/" + own!, encoding: .utf8)) ?? ""
                    for line in log.split(separator: "\n") {
                        XCTAssertTrue(line.hasPrefix("{") && line.hasSuffix("}"), "\(what): a line of the log is not JSON: \(line)")
                    }
                }
                if let own { try? FileManager.default.removeItem(atPath: root.path + "/" + own) }
            }
        }
        XCTAssertEqual(ran, Self.habits.count * Self.commands.count)
    }
}

/// SplitMix64 for the fixture's points (no dependency on the core's RNG).
private func splitMix(_ state: inout UInt64) -> Float {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Float((z ^ (z >> 31)) >> 40) / Float(1 << 24)
}
