import Foundation
import XCTest
@testable import Dnic

/// Reading config text: duplicate keys, syntax errors, oversized files and
/// values are refused with one line naming the file, the line:column and
/// what is wrong, quoting at most about 80 characters of the file.
final class ConfigParseTests: XCTestCase {
    /// The one-line message `text`, read as the file `name`, is refused with.
    private func refusal(_ text: String, _ name: String = "run.yaml", validate: Bool = false,
                         file: StaticString = #filePath, line: UInt = #line) -> String {
        refusal(Data(text.utf8), name, validate: validate, file: file, line: line)
    }

    private func refusal(_ data: Data, _ name: String, validate: Bool = false,
                         file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let config = try ConfigFile.parse(data, name: name)
            if validate { try config.validate() }
            XCTFail("accepted: \(String(decoding: data.prefix(120), as: UTF8.self))", file: file, line: line)
            return ""
        } catch {
            let message = "\(error)"
            XCTAssertTrue(HostileInputTests.isOneLine(message), "not one line: \(message.prefix(400))", file: file, line: line)
            return message
        }
    }

    /// `text` read as `name` is refused with exactly `expected`.
    private func assertRefused(_ text: String, _ name: String, _ expected: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(refusal(text, name, file: file, line: line), expected, file: file, line: line)
    }

    private func assertRefused(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        assertRefused(text, "run.yaml", expected, file: file, line: line)
    }

    // MARK: duplicate keys: the second place, and the key's path

    func testDuplicateKeyAtTheTopLevelNamesBothPlaces() {
        assertRefused("data: mnist\ndata: fashion-mnist\n", "config run.yaml:2:1: duplicate key 'data' (first at 1:1)")
        assertRefused("{\"data\": \"mnist\",\n \"data\": \"x\"}", "run.json", "config run.json:2:2: duplicate key 'data' (first at 1:2)")
    }

    func testNestedDuplicateKeyNamesItsPath() {
        assertRefused("training:\n  steps: 10\n  batch: 8\n  steps: 20\n",
                      "config run.yaml:4:3: duplicate key 'training.steps' (first at 2:3)")
        assertRefused("{\n  \"training\": {\n    \"steps\": 10,\n    \"batch\": 8,\n    \"steps\": 20\n  }\n}\n", "run.json",
                      "config run.json:5:5: duplicate key 'training.steps' (first at 3:5)")
    }

    func testDuplicateKeyInsideALayerNamesTheLayer() {
        assertRefused("model:\n  layers:\n  - width: 8\n  - width: 4\n    activation: tanh\n    width: 5\n",
                      "config run.yaml:6:5: duplicate key 'model.layers[1].width' (first at 4:5)")
        assertRefused("model:\n  layers:\n  - {width: 3, width: 4}\n",
                      "config run.yaml:3:16: duplicate key 'model.layers[0].width' (first at 3:6)")
        assertRefused("{\"model\": {\"layers\": [{\"width\": 8}, {\"width\": 4, \"width\": 5}]}}", "run.json",
                      "config run.json:1:50: duplicate key 'model.layers[1].width' (first at 1:38)")
    }

    func testDuplicateKeysCompareByTheirDecodedText() {
        // escapes, quotes, a tag: all spell the same key
        assertRefused("{\"training\": {\"steps\": 10, \"\\u0073teps\": 20}}", "run.json",
                      "config run.json:1:28: duplicate key 'training.steps' (first at 1:15)")
        assertRefused("training:\n  steps: 10\n  \"\\u0073teps\": 20\n",
                      "config run.yaml:3:3: duplicate key 'training.steps' (first at 2:3)")
        assertRefused("training:\n  'steps': 1\n  steps: 2\n", "config run.yaml:3:3: duplicate key 'training.steps' (first at 2:3)")
        assertRefused("training:\n  !!str steps: 1\n  steps: 2\n", "config run.yaml:3:3: duplicate key 'training.steps' (first at 2:3)")
        // distinct to Yams (an int and a string), one key to the decoder
        assertRefused("training:\n  1: a\n  \"1\": b\n", "config run.yaml:3:3: duplicate key 'training.1' (first at 2:3)")
    }

    func testTheEarliestSecondOccurrenceIsReported() {
        // Yams reports the first sorted key (a), and inner mappings first
        assertRefused("{b: 1, a: 2, b: 3, a: 4}\n", "config run.yaml:1:14: duplicate key 'b' (first at 1:2)")
        assertRefused("data: a\ndata: b\ndata: c\n", "config run.yaml:2:1: duplicate key 'data' (first at 1:1)")
        assertRefused("training: {steps: 1, batch: 2, steps: 3}\n", "config run.yaml:1:32: duplicate key 'training.steps' (first at 1:12)")
        assertRefused("a: 1\na: 2\nb: {c: 1, c: 2}\n", "config run.yaml:2:1: duplicate key 'a' (first at 1:1)")
        assertRefused("data: x\r\ndata: y\r\n", "config run.yaml:2:1: duplicate key 'data' (first at 1:1)")
        assertRefused("é: 1\n\"é\": 2\n", "config run.yaml:2:1: duplicate key 'é' (first at 1:1)")
    }

    // MARK: syntax errors: where, and the parser's reason

    func testTabIndentationSaysSo() {
        assertRefused("model:\n\tlayers: []\n",
                      "config run.yaml:2:1: a tab character: YAML indents with spaces, not tabs (libyaml: found character that cannot start any token)")
    }

    func testYAMLSyntaxErrorsGiveLineColumnAndReason() {
        assertRefused("model: [width: 3\n", "config run.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence begun at 1:8)")
        assertRefused("data: \"fashion-mnist\n", "config run.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar begun at 1:7)")
        assertRefused("data: mnist\n---\ndata: x\n",
                      "config run.yaml:2:1: a second YAML document: a run configuration is one document (no '---' or '...' between settings)")
        assertRefused("data: \"x\u{1}\"\n", "config run.yaml:1:9: control characters are not allowed (U+0001)")
        assertRefused("data: &a x\n", "config run.yaml:1:7: YAML anchors and aliases (&name, *name) are not supported in a run configuration")
        assertRefused("data: " + String(repeating: "[", count: 2000), "config run.yaml:1:8: nested more than 1000 levels deep")
        XCTAssertEqual(refusal(Data([0x64, 0x3A, 0x20, 0x0A, 0x20, 0xFF]), "run.yaml"), "config run.yaml:2:2: not UTF-8 text (byte 0xFF)")
    }

    func testJSONSyntaxErrorsGiveLineColumnAndReason() {
        let cases: [(String, String)] = [
            ("{\n  \"data\": \"mnist\",\n  \"training\": {\"batch\": 64 \"epochs\": 2},\n  \"model\": {}\n}\n",
             "3:28: expected ',' or '}' in the object that starts at 3:15, found '\"'"),
            ("{\"training\": {\"batch\": }", "1:24: expected a value, found '}'"),
            ("{\"training\": {\"batch\": 64,}}", "1:27: expected a key, found '}': JSON allows no comma before '}'"),
            ("{\"hidden\": [1, 2,]}", "1:18: expected a value, found ']': JSON allows no comma before ']'"),
            ("{\"data\": \"mnist\"} // the default", "1:19: expected the end of the file after the value, found '/' (JSON has no comments)"),
            ("{'data': 'mnist'}", "1:2: expected a key in double quotes, found \"'\" (JSON strings take double quotes)"),
            ("{\"data\" \"mnist\"}", "1:9: expected ':' after the key 'data', found '\"'"),
            ("{\"data\": mnist}", "1:10: expected a value, found 'mnist'"),
            ("{\"training\": {\"batch\": 064}}", "1:24: not a JSON number: '064' (JSON numbers have no leading zeros)"),
            ("{\"training\": {\"batch\": 1.}}", "1:24: not a JSON number: '1.'"),
            ("{\"optimizer\": {\"lr\": 1e400}}", "1:22: the number 1e400 is too large (past ±1.8e308)"),
            ("{\"data\": \"C:\\data\"}", "1:13: invalid escape '\\d' (JSON escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX)"),
            ("{\"data\": \"\\ud800x\"}", "1:11: \\uD800 is the first half of a UTF-16 surrogate pair; the second half (\\uDC00-\\uDFFF) must follow"),
            ("{\"data\": \"\\u12\"}", "1:11: \\u must be followed by 4 hexadecimal digits"),
            ("{\"data\": \"mnist}", "1:10: a string that is never closed (no closing '\"')"),
            ("{\"data\": \"mni\nst\"}", "1:14: a line break inside a string (a missing closing '\"'?)"),
            ("{\"data\": \"a\tb\"}", "1:12: control character U+0009 inside a string; write it as \\u0009"),
            ("", "1:1: expected a value, found the end of the file"),
            ("{\"data\": " + String(repeating: "[", count: 200), "1:109: nested more than 100 levels deep"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(refusal(text, "run.json"), "config run.json:" + expected, text)
        }
    }

    // MARK: size: the file, each value, and every quote of file text

    /// A sparse 100 MB file: refused from its size, after reading one byte
    /// past the cap, in one short line.
    func testA100MBFileIsRefusedInOneShortLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-parse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("huge.yaml").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("data: ".utf8)))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 100_000_000)
        try handle.close()
        XCTAssertThrowsError(try ConfigFile.load(path: path)) { error in
            let message = "\(error)"
            XCTAssertEqual(message, "config \(pathText(path)): larger than 1048576 bytes; a run configuration is a few KB "
                                    + "(the largest dnic writes, with 4096 hidden layers, is under 500 KB)")
            XCTAssertLessThan(message.count, 300)
        }
        let text = Data("data: ".utf8) + Data(repeating: UInt8(ascii: "x"), count: 100_000_000)
        XCTAssertTrue(refusal(text, "huge.json").hasPrefix("config huge.json: larger than 1048576 bytes"))
    }

    /// Every setting that takes a string, with a 1 MB value, in both formats:
    /// refused in a line under 300 characters that names the setting.
    func testA1MBValueInAnyStringSettingGivesAShortLine() {
        let big = String(repeating: "x", count: 1_000_000)
        let settings = ["data", "model.loss", "model.init", "model.layers[0].activation", "interfaces.rule", "interfaces.at",
                        "interfaces.kind", "interfaces.target", "interfaces.loss", "interfaces.signal", "interfaces.hidden",
                        "interfaces.optimizer.kind", "optimizer.kind", "training.schedule", "training.batch"]
        for setting in settings {
            for (name, text) in [("run.yaml", yaml(setting, big)), ("run.json", json(setting, big))] {
                let message = refusal(text, name, validate: true)
                XCTAssertLessThan(message.count, 300, "\(setting) in \(name): \(message.prefix(400))")
                XCTAssertTrue(message.contains("'\(setting)': a 1000000-byte value"), "\(setting) in \(name): \(message.prefix(400))")
            }
        }
        // as a key: libyaml takes at most 1024 characters for one
        for (name, text) in [("run.yaml", "training:\n  \(big): 1\n"), ("run.json", "{\"training\": {\"\(big)\": 1}}")] {
            let message = refusal(text, name, validate: true)
            XCTAssertLessThan(message.count, 300, message.prefix(400) + "")
        }
    }

    /// Values under the length cap still reach the messages quoted, elided.
    func testLongValuesAreQuotedElided() {
        let long = String(repeating: "y", count: 60_000)
        for setting in ["model.loss", "model.layers[0].activation", "interfaces.rule", "interfaces.at", "interfaces.hidden",
                        "training.schedule", "training.batch", "model.layers[0].width"] {
            for (name, text) in [("run.yaml", yaml(setting, long)), ("run.json", json(setting, long))] {
                let message = refusal(text, name, validate: true)
                XCTAssertLessThan(message.count, 300, "\(setting) in \(name): \(message.prefix(400))")
                XCTAssertTrue(message.contains("…"), "\(setting) in \(name): \(message.prefix(400))")
            }
        }
        let key = String(repeating: "k", count: 1000)
        XCTAssertEqual(refusal("training:\n  \(key): 1\n", "run.yaml"),
                       "config run.yaml:2:3: unknown key 'training.\(key.prefix(71))…' (known here: batch, epochs, steps, seed, threads, validation, early-stop, monitor, schedule, eval-every, clip-grad, update-prob, queue, lr-schedule, lr-warmup, lr-steps, lr-gamma, lr-min)")
        XCTAssertEqual(refusal("training:\n  \(key): 1\n  \(key): 2\n", "run.yaml"),
                       "config run.yaml:3:3: duplicate key 'training.\(key.prefix(71))…' (first at 2:3)")
        let path = "/" + String(repeating: "d", count: 300) + "/run.yaml"
        let message = refusal("data: [", path)
        XCTAssertTrue(message.hasPrefix("config /" + String(repeating: "d", count: 26) + "…"), message)
        XCTAssertTrue(message.contains("d/run.yaml:2:1: "), message)
        XCTAssertLessThan(message.count, 200, message)
    }

    /// The largest config `--print-config` can write fits under the cap and
    /// reads back as it was.
    func testTheLargestConfigDnicWritesIsReadBack() throws {
        var c = RunConfig(data: "csv:/" + String(repeating: "p", count: 4000))
        c.model.layers = Array(repeating: LayerSpec(width: 1 << 22, activation: .sigmoid, batchnorm: true), count: 4096)
        c.interfaces = InterfaceSpec(rule: .sg)
        c.interfaces.at = .list(Array(1 ..< 4096))
        c.interfaces.hidden = Array(repeating: 1 << 20, count: 64)
        c.interfaces.optimizer = OptimizerSpec(kind: .momentum, lr: 0.123456789)
        c.optimizer = OptimizerSpec(kind: .sgd, lr: 0.0123456789, l2: 1.5e-7)
        c.training = TrainingSpec(batch: 1 << 20, epochs: 1 << 40, steps: 1 << 30, evalEvery: 1 << 30, seed: .max,
                                  threads: 4096, validation: 0.999999)
        for (name, text) in [("big.yaml", try ConfigFile.yaml(c)), ("big.json", try ConfigFile.json(c))] {
            XCTAssertLessThan(text.utf8.count, 500_000, name)
            XCTAssertEqual(try ConfigFile.parse(Data(text.utf8), name: name), c, name)
        }
    }

    // MARK: decoding errors point at the value

    func testTypeErrorsGiveTheLineAndWhatWasFound() {
        assertRefused("training:\n  batch: many\n", "config run.yaml:2:10: 'training.batch': expected an integer, found 'many'")
        assertRefused("training: {seed: -1}\n", "config run.yaml:1:18: 'training.seed': expected an integer from 0 to 18446744073709551615, found '-1'")
        assertRefused("model:\n  layers: 3\n", "config run.yaml:2:11: 'model.layers': expected a list, found '3'")
        assertRefused("- 1\n", "config run.yaml:1:1: top level: expected key: value pairs, found a list")
        assertRefused("model:\n  layers:\n  - activation: relu\n", "config run.yaml:3:5: 'model.layers[0].width': required key missing")
        assertRefused("{\"training\": {\"batch\": \"64\"}}", "run.json",
                      "config run.json:1:24: 'training.batch': expected an integer, found '64' (in quotes, so text)")
        assertRefused("{\"model\": {\"layers\": [{\"width\": null}]}}", "run.json",
                      "config run.json:1:33: 'model.layers[0].width': expected an integer, found no value (null)")
        assertRefused("{\"model\": {\"layers\": [{\"width\": 3.5}]}}", "run.json",
                      "config run.json:1:33: 'model.layers[0].width': expected an integer, found '3.5'")
    }

    func testUnknownKeysGiveTheirLine() {
        assertRefused("training:\n  eval_every: 5\n",
                      "config run.yaml:2:3: unknown key 'training.eval_every' (known here: batch, epochs, steps, seed, threads, validation, early-stop, monitor, schedule, eval-every, clip-grad, update-prob, queue, lr-schedule, lr-warmup, lr-steps, lr-gamma, lr-min)")
        assertRefused("{\"model\": {\"layers\": [{\"width\": 3},\n  {\"widht\": 3}]}}", "run.json",
                      "config run.json:2:4: unknown key 'model.layers[1].widht' (known here: width, activation, batchnorm)")
    }

    // MARK: what parses

    func testJSONValuesReadAsJSONMeansThem() throws {
        let text = "\u{FEFF}{\"data\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\/\", \"optimizer\": {\"lr\": 1E-3, \"l2\": -0.0},"
            + " \"training\": {\"seed\": 18446744073709551615, \"threads\": null, \"batch\": 0}}"
        let c = try ConfigFile.parse(Data(text.utf8), name: "run.json")
        XCTAssertEqual(c.data, "café 😀 \"q\" /")
        XCTAssertEqual(c.optimizer.lr, 0.001)
        XCTAssertEqual(c.training.seed, .max)
        XCTAssertNil(c.training.threads)
        XCTAssertEqual(c.training.batch, 0)
        XCTAssertEqual(try ConfigFile.parse(Data("{}".utf8), name: "run.json"), RunConfig())
    }

    func testEmptyOrCommentOnlyYAMLIsEveryDefault() throws {
        XCTAssertEqual(try ConfigFile.parse(Data("# nothing set\n\n".utf8), name: "run.yaml"), RunConfig())
        XCTAssertEqual(try ConfigFile.parse(Data(" \n".utf8), name: "run.yaml"), RunConfig())
    }

    func testFilesThatCannotBeReadSayWhy() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-parse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try ConfigFile.load(path: dir.path)) { error in
            XCTAssertEqual("\(error)", "config \(pathText(dir.path)): a directory, not a config file")
        }
        let missing = dir.appendingPathComponent("none.yaml").path
        XCTAssertThrowsError(try ConfigFile.load(path: missing)) { error in
            XCTAssertEqual("\(error)", "config \(pathText(missing)): no such file")
        }
    }

    // MARK: helpers

    /// `setting: value` as YAML, the value quoted.
    private func yaml(_ setting: String, _ value: String) -> String {
        let quoted = "\"\(value)\""
        switch setting {
        case "model.layers[0].activation": return "model:\n  layers:\n  - width: 3\n    activation: \(quoted)\n"
        case "model.layers[0].width": return "model:\n  layers:\n  - width: \(value)\n"
        case "interfaces.optimizer.kind": return "interfaces:\n  optimizer:\n    kind: \(quoted)\n"
        default:
            let parts = setting.split(separator: ".")
            return parts.count == 1 ? "\(setting): \(quoted)\n" : "\(parts[0]):\n  \(parts[1]): \(quoted)\n"
        }
    }

    /// `setting: value` as JSON, the value a string.
    private func json(_ setting: String, _ value: String) -> String {
        let quoted = "\"\(value)\""
        switch setting {
        case "model.layers[0].activation": return "{\"model\": {\"layers\": [{\"width\": 3, \"activation\": \(quoted)}]}}"
        case "model.layers[0].width": return "{\"model\": {\"layers\": [{\"width\": \(quoted)}]}}"
        case "interfaces.optimizer.kind": return "{\"interfaces\": {\"optimizer\": {\"kind\": \(quoted)}}}"
        default:
            let parts = setting.split(separator: ".")
            return parts.count == 1 ? "{\"\(setting)\": \(quoted)}" : "{\"\(parts[0])\": {\"\(parts[1])\": \(quoted)}}"
        }
    }
}
