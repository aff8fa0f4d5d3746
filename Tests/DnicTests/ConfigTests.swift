import XCTest
@testable import Dnic

/// Run configurations: YAML/JSON round trips, strict keys, one-line errors.
final class ConfigTests: XCTestCase {
    private func temp(_ name: String, _ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func assertLoadFails(_ name: String, _ text: String, contains needle: String,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try temp(name, text)
        XCTAssertThrowsError(try ConfigFile.load(path: path), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(needle), "message: \(message)", file: file, line: line)
            XCTAssertTrue(message.contains(path), "message should name the file: \(message)", file: file, line: line)
            XCTAssertFalse(message.contains("\n"), "one line: \(message)", file: file, line: line)
        }
    }

    func testPrintedYAMLReadsBackIdentically() throws {
        var c = RunConfig()
        c.data = "synth:xor-2d"
        c.model.layers = [LayerSpec(width: 17, activation: .tanh, batchnorm: true), LayerSpec(width: 5)]
        c.model.loss = .logistic
        c.optimizer = OptimizerSpec(kind: .momentum, lr: 0.02, l2: 1e-4, momentum: 0.8)
        c.training = TrainingSpec(batch: 32, epochs: 3, steps: 100, evalEvery: 10, seed: 9, threads: 2, validation: 0.1)
        let yaml = try ConfigFile.yaml(c)
        let back = try ConfigFile.load(path: try temp("run.yaml", yaml))
        XCTAssertEqual(back, c, yaml)
        let json = try ConfigFile.json(c)
        XCTAssertEqual(try ConfigFile.load(path: try temp("run.json", json)), c, json)
    }

    func testDefaultLearningRateIsWrittenOut() throws {
        let yaml = try ConfigFile.yaml(RunConfig())
        XCTAssertTrue(yaml.contains("lr: 0.001"), yaml)
        XCTAssertEqual(try ConfigFile.load(path: try temp("d.yaml", yaml)).optimizer.learningRate, 0.001)
    }

    func testPartialFileKeepsDefaults() throws {
        let c = try ConfigFile.load(path: try temp("p.yaml", "training:\n  batch: 128\n"))
        XCTAssertEqual(c.training.batch, 128)
        XCTAssertEqual(c.model, ModelDescription())
        XCTAssertEqual(c.data, "fashion-mnist")
        XCTAssertEqual(try ConfigFile.load(path: try temp("empty.yaml", "")), RunConfig())
    }

    func testUnknownKeysAreErrors() throws {
        try assertLoadFails("a.yaml", "training:\n  eval_every: 5\n", contains: "unknown key 'training.eval_every'")
        try assertLoadFails("b.yaml", "modle:\n  loss: ce\n", contains: "unknown key 'modle'")
        try assertLoadFails("c.yaml", "model:\n  layers:\n    - width: 3\n      act: relu\n", contains: "unknown key")
    }

    func testBadValuesNameTheKey() throws {
        try assertLoadFails("d.yaml", "model:\n  loss: hinge\n", contains: "'hinge' is not one of ce, mse, logistic")
        try assertLoadFails("e.yaml", "training:\n  batch: many\n", contains: "'training.batch'")
        try assertLoadFails("f.yaml", "model:\n  layers:\n    - activation: relu\n", contains: "width")
        try assertLoadFails("g.yaml", "training: [1, 2\n", contains: "g.yaml:2:1: did not find expected ',' or ']'")
        try assertLoadFails("h.json", "{\"training\": {\"batch\": }", contains: "h.json:1:24: expected a value, found '}'")
    }

    func testMissingFile() {
        XCTAssertThrowsError(try ConfigFile.load(path: "/nonexistent/dnic.yaml")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/dnic.yaml"))
        }
    }

    func testImpossibleSettingsAreRefused() {
        func refused(_ change: (inout RunConfig) -> Void, _ needle: String, line: UInt = #line) {
            var c = RunConfig()
            change(&c)
            XCTAssertThrowsError(try c.validate(), line: line) { error in
                XCTAssertTrue("\(error)".contains(needle), "\(error)", line: line)
            }
        }
        refused({ $0.model.layers[1].width = 0 }, "model.layers[1].width 0")
        refused({ $0.training.batch = 0 }, "batch 0")
        refused({ $0.training.epochs = 0 }, "epochs 0")
        refused({ $0.training.steps = -1 }, "steps -1")
        refused({ $0.optimizer.lr = -1 }, "lr -1")
        refused({ $0.optimizer.lr = .nan }, "lr nan")
        refused({ $0.optimizer.l2 = -0.1 }, "l2")
        refused({ $0.training.validation = 1 }, "validation 1")
        refused({ $0.training.threads = 0 }, "threads 0")
        refused({ $0.training.evalEvery = 0 }, "eval-every 0")
        XCTAssertNoThrow(try RunConfig().validate())
    }
}
