import Foundation
import XCTest

/// Every error speaks the user's language: flags for a command-line user,
/// config keys for a config-file user; unknown choices list the accepted
/// ones; negative numbers are values; no flag or config value, however
/// large, reaches a Swift trap; no message echoes more than ~80 characters
/// of what the user typed.
extension CLITests {
    func testUnknownChoicesListTheAcceptedOnes() throws {
        try assertFails(["train", "--rule", "magic"], status: 2,
                        mentions: ["--rule magic: not one of backprop, sg, sgprop, fa, dfa, kickback"])
        try assertFails(["train", "--sg-kind", "foo"], status: 2,
                        mentions: ["--sg-kind foo: not one of linear, nolabel, sigmoid, mlp, identity, random, ones, oracle"])
        try assertFails(["train", "--activation", "swish"], status: 2, mentions: ["--activation swish: not one of relu, sigmoid, tanh, linear"])
        try assertFails(["train", "--sg-signal", "both"], status: 2, mentions: ["not one of pred, prop, pred+prop"])
        try assertFails(["bench", "train", "--workload", "w9"], status: 2, mentions: ["--workload w9: not one of w1, w2"])
    }

    func testNegativeNumbersAreReadAsValues() throws {
        try assertFails(["train", "--lr", "-1"], status: 2, mentions: ["--lr -1: must be a positive finite number"])
        try assertFails(["train", "--lr=-1"], status: 2, mentions: ["--lr -1: must be a positive finite number"])
        try assertFails(["train", "--seed", "-1"], status: 2, mentions: ["--seed -1: a seed is an integer from 0 to 18446744073709551615"])
        try assertFails(["train", "--hidden", "-2"], status: 2, mentions: ["--hidden -2: must be between 0 and 4096"])
        try assertFails(["train", "--steps", "-5"], status: 2, mentions: ["--steps -5: must be at least 1"])
        try assertFails(["train", "--sg-alpha", "-0.5", "--rule", "sgprop"], status: 2, mentions: ["--sg-alpha -0.5: must be a finite number >= 0"])
        try assertFails(["train", "--lr", "abc"], status: 2, mentions: ["--lr abc: not a number"])
        try assertFails(["train", "--steps", "1.5"], status: 2, mentions: ["--steps 1.5: not an integer"])
        try assertFails(["train", "--steps"], status: 2, mentions: ["--steps needs a value"])
    }

    /// Int.max, past Int.max, 2^53 + 1 and other huge values in every integer
    /// setting, from flags: one line and exit 2, or a run that starts (and is
    /// stopped by SIGTERM if it would be long: 143), never a crash.
    func testHugeIntegerFlagsNeverTrap() throws {
        let flags = ["--hidden", "--width", "--batch", "--epochs", "--steps", "--eval-every", "--threads", "--checkpoint-every",
                     "--sg-warmup", "--classes", "--seed"]
        let values = ["\(Int.max)", "9223372036854775808", "\(Int.min)", "9007199254740993", "4294967296", "2147483648"]
        let dir = try tempDir()
        for flag in flags {
            for value in values {
                let args = ["train", "--data", "synth:xor-2d", "--rule", "sg", "--hidden", "3", "--width", "4", "--steps", "2",
                            "--save", dir.appendingPathComponent("c.st").path, "--overwrite", "--quiet", flag, value]
                let r = try dnic(args, stopAfter: 3)
                // 143: stopped by the test's SIGTERM after its handler was set; 15: the
                // SIGTERM came first (a loaded machine) — neither is a trap
                XCTAssertTrue([0, 2, 143, SIGTERM].contains(r.status), "\(flag) \(value): status \(r.status): \(r.stderr.prefix(300))")
                XCTAssertLessThanOrEqual(r.stderr.split(separator: "\n").count, 1, "\(flag) \(value): \(r.stderr.prefix(300))")
                if r.status == 2 { XCTAssertTrue(r.stderr.contains(flag), "\(flag) \(value): names the flag: \(r.stderr)") }
            }
        }
        for value in values {
            for flag in ["--sg-at", "--sg-hidden"] {
                let r = try dnic(["train", "--rule", "sg", "--sg-kind", "mlp", flag, value])
                XCTAssertEqual(r.status, 2, "\(flag) \(value): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains(flag), r.stderr)
            }
            let r = try dnic(["train", "--rule", "sg", "--sg-kind", "mlp", "--sg-hidden", "1x\(value)"])
            XCTAssertEqual(r.status, 2, r.stderr)
        }
    }

    /// The same through a config file: the message names the config key and
    /// the file, and never a flag.
    func testHugeIntegersInAConfigFileNeverTrapAndNameTheKey() throws {
        let dir = try tempDir()
        let settings = ["training.batch", "training.epochs", "training.steps", "training.eval-every", "training.threads",
                        "training.seed", "interfaces.warmup", "interfaces.at", "interfaces.hidden", "model.classes",
                        "model.layers[0].width"]
        for key in settings {
            for value in ["\(Int.max)", "\(Int.min)", "9007199254740993"] {
                let path = dir.appendingPathComponent("run.yaml").path
                let parts = key.split(separator: ".").map(String.init)
                var sections = ["interfaces": ["rule: sg"], "training": ["steps: 2"],
                                "model": ["layers: [{width: 4}, {width: 4}, {width: 4}]"]]
                if key == "model.layers[0].width" {
                    sections["model"] = ["layers: [{width: \(value)}, {width: 4}, {width: 4}]"]
                } else {
                    sections[parts[0]] = sections[parts[0]]!.filter { !$0.hasPrefix(parts[1] + ":") } + ["\(parts[1]): \(value)"]
                }
                let yaml = "data: synth:xor-2d\n" + sections.keys.sorted().map { name in
                    "\(name):\n" + sections[name]!.map { "  \($0)\n" }.joined()
                }.joined()
                try yaml.write(toFile: path, atomically: true, encoding: .utf8)
                let r = try dnic(["train", "--config", path, "--quiet"], stopAfter: 3)
                XCTAssertTrue([0, 2, 143].contains(r.status), "\(key) \(value): \(r.status) \(r.stderr.prefix(300))")
                XCTAssertLessThanOrEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
                if r.status == 2 {
                    XCTAssertTrue(r.stderr.contains(key), "\(key) \(value): names the key: \(r.stderr)")
                    XCTAssertFalse(r.stderr.contains(" --"), "\(key) \(value): no flag the user never typed: \(r.stderr)")
                }
            }
        }
        let path = dir.appendingPathComponent("big.yaml").path
        try "training:\n  steps: \(Int.max)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try assertFails(["train", "--config", path], status: 2,
                        mentions: ["config \(path): training.steps \(Int.max): ", "more than 2^53 samples"])
        // a flag overriding the file is named as the flag
        try assertFails(["train", "--config", path, "--steps", "0"], status: 2, mentions: ["--steps 0: must be at least 1"])
    }

    func testConfigUsersAreToldKeysAndFlagUsersFlags() throws {
        let dir = try tempDir()
        let path = dir.appendingPathComponent("run.yaml").path
        try "data: synth:xor-2d\ninterfaces: {rule: sg, at: 3}\nmodel:\n  layers: [{width: 8}, {width: 8}, {width: 8}]\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let fromFile = try dnic(["train", "--config", path])
        XCTAssertEqual(fromFile.status, 2)
        XCTAssertTrue(fromFile.stderr.contains("config \(path): interfaces.at 3: a boundary must lie after hidden layer 1 … 2"), fromFile.stderr)
        XCTAssertFalse(fromFile.stderr.contains("--"), fromFile.stderr)
        try assertFails(["train", "--rule", "sg", "--sg-at", "3"], status: 2, mentions: ["--sg-at 3: a boundary must lie after"])
        try "optimizer: {lr: -1}\n".write(toFile: path, atomically: true, encoding: .utf8)
        try assertFails(["train", "--config", path], status: 2, mentions: ["config \(path): optimizer.lr -1: must be a positive finite number"])
    }

    /// 100 KB of user text in a flag: the message quotes at most ~80 characters of it.
    func testMessagesNeverEchoMuchUserText() throws {
        let long = String(repeating: "x", count: 100_000)
        for args in [["train", "--rule", long], ["train", "--data", long], ["train", "--data", "idx:/" + long],
                     ["train", "--sg-at", long, "--rule", "sg"], ["train", "--sg-hidden", long], ["train", "--lr", long],
                     ["train", "--save", "/tmp/" + long], ["train", "--config", "/tmp/" + long], ["train", "--" + long],
                     ["eval", "--checkpoint", "/tmp/" + long]] {
            let r = try dnic(args)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(args[1]): \(r.stderr.prefix(200))")
            XCTAssertLessThan(r.stderr.count, 300, "\(args[1]) echoes too much: \(r.stderr.prefix(400))")
            XCTAssertTrue(r.stderr.contains("…"), "\(args[1]): elided: \(r.stderr.prefix(300))")
        }
    }
}
