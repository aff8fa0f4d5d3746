import Foundation
import XCTest
@testable import Dnic

/// safetensors checkpoints: round trip, Python-compatible layout, and every
/// kind of damaged or lying file refused with a message saying what is wrong.
final class CheckpointTests: XCTestCase {
    func tempPath(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.appendingPathComponent(name).path
    }

    func smallNetwork(seed: UInt64 = 3, width: Int = 6) throws -> (Network, RunConfig) {
        var config = RunConfig()
        config.model.layers = [LayerSpec(width: width, activation: .tanh, batchnorm: true), LayerSpec(width: 4)]
        config.training.seed = seed
        return (try Network(config.model, inputDim: 5, outputDim: 3, maxBatch: 8, seed: seed), config)
    }

    func save(_ net: Network, _ config: RunConfig, step: Int, to path: String) throws {
        var state = TrainerState()
        state.step = step
        let none = try DNI(network: net, spec: config.interfaces, labelWidth: 3, seed: 0)
        try Checkpoint.save(RunSnapshot(config: config, network: net, interfaces: none, state: state, classes: 3, stepsPerEpoch: 10), to: path)
    }

    /// The pipeline's per-block steps round-trip; a lying list is refused in one line.
    func testBlockStepsRoundTripAndLiesAreRefused() throws {
        let (net, config) = try smallNetwork()
        let none = try DNI(network: net, spec: config.interfaces, labelWidth: 3, seed: 0)
        for (steps, ok) in [([Int64(3), 5], true), ([-1], false), (Array(repeating: Int64(1), count: 5000), false),
                            ([Int64(1) << 60], false)] {
            var state = TrainerState()
            state.step = 5
            state.blockSteps = steps
            let path = try tempPath("b\(steps.count).safetensors")
            try Checkpoint.save(RunSnapshot(config: config, network: net, interfaces: none, state: state, classes: 3, stepsPerEpoch: 10), to: path)
            if ok {
                XCTAssertEqual(try Checkpoint.load(path: path).state.blockSteps, steps)
            } else {
                XCTAssertThrowsError(try Checkpoint.load(path: path), "\(steps.prefix(3))") { error in
                    XCTAssertTrue("\(error)".contains("block_steps"), "\(error)")
                }
            }
        }
    }

    /// The optimizer's step counter beyond 2^53 (the C core's DNIC_MAX_STEP,
    /// which it refuses to set) is refused as a lie, not silently dropped.
    func testOptimizerStepBeyond2To53IsRefused() throws {
        let (net, config) = try smallNetwork()
        let path = try tempPath("s.safetensors")
        try save(net, config, step: 1, to: path)
        var file = try SafeTensors.read(path: path)
        for (step, ok) in [(Int64(1) << 53, true), ((Int64(1) << 53) + 1, false), (Int64.max, false)] {
            file.metadata["optimizer_step"] = String(step)
            try file.write(to: path)
            if ok {
                XCTAssertEqual(try Checkpoint.load(path: path).network.optimizerStep, step)
            } else {
                XCTAssertThrowsError(try Checkpoint.load(path: path), "\(step)") { error in
                    XCTAssertTrue("\(error)".contains("optimizer_step"), "\(error)")
                }
            }
        }
    }

    /// Classes that disagree with the network's outputs are refused by name
    /// (the C core would refuse the interfaces' label width without it).
    func testClassesThatDisagreeWithTheOutputsAreRefused() throws {
        let (net, config) = try smallNetwork()
        let path = try tempPath("k.safetensors")
        try save(net, config, step: 1, to: path)
        var file = try SafeTensors.read(path: path)
        file.metadata["classes"] = "5"
        try file.write(to: path)
        XCTAssertThrowsError(try Checkpoint.load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("metadata classes 5 does not fit output_dim 3"), "\(error)")
        }
    }

    func testRoundTripRestoresEveryParameter() throws {
        let (net, config) = try smallNetwork()
        let path = try tempPath("a.safetensors")
        try save(net, config, step: 42, to: path)
        let loaded = try Checkpoint.load(path: path)
        XCTAssertEqual(loaded.network.parameters(), net.parameters())
        var expected = config
        expected.optimizer.lr = config.optimizer.learningRate // written out resolved, as --print-config does
        XCTAssertEqual(loaded.config, expected)
        XCTAssertEqual(loaded.step, 42)
        XCTAssertEqual(loaded.network.tensors.map(\.name), net.tensors.map(\.name))
        XCTAssertTrue(net.tensors.map(\.name).contains("layer0.bn.running_var"))
    }

    func testSaveReplacesAtomicallyAndLeavesNoTemporaryFile() throws {
        let (net, config) = try smallNetwork()
        let path = try tempPath("b.safetensors")
        try save(net, config, step: 1, to: path)
        try save(net, config, step: 2, to: path)
        XCTAssertEqual(try Checkpoint.load(path: path).step, 2)
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["b.safetensors"])
    }

    func testLayoutIsPlainSafetensors() throws {
        let file = SafeTensors(tensors: [.init(name: "x", shape: [2, 2], values: [1, 2, 3, 4])], metadata: ["k": "v"])
        let data = try file.encoded()
        let headerLength = Int(data[0]) | Int(data[1]) << 8
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let x = header["x"] as! [String: Any]
        XCTAssertEqual(x["dtype"] as? String, "F32")
        XCTAssertEqual(x["data_offsets"] as? [Int], [0, 16])
        XCTAssertEqual((8 + headerLength) % 8, 0, "data should start 8-byte aligned")
        XCTAssertEqual(data.count, 8 + headerLength + 16)
        XCTAssertEqual(try SafeTensors.decode(data, name: "mem"), file)
    }

    /// Builds a file from a header given as JSON text and `payload` bytes.
    func raw(_ json: String, payload: Int, lengthOverride: UInt64? = nil) -> Data {
        var d = Data()
        withUnsafeBytes(of: (lengthOverride ?? UInt64(json.utf8.count)).littleEndian) { d.append(contentsOf: $0) }
        d.append(Data(json.utf8))
        d.append(Data(repeating: 0, count: payload))
        return d
    }

    func assertRefused(_ data: Data, _ needle: String, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors.decode(data, name: "f.st"), line: line) { error in
            XCTAssertTrue("\(error)".contains(needle), "\(error)", line: line)
            XCTAssertTrue("\(error)".hasPrefix("f.st: "), "\(error)", line: line)
        }
    }

    func testHostileFilesAreRefused() {
        let good = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        XCTAssertNoThrow(try SafeTensors.decode(raw(good, payload: 8), name: "f.st"))
        assertRefused(Data(), "shorter than the 8-byte header")
        assertRefused(Data([1, 2, 3]), "shorter than the 8-byte header")
        assertRefused(raw(good, payload: 8, lengthOverride: 1 << 40), "header length")
        assertRefused(raw(good, payload: 8, lengthOverride: 500), "header length")
        assertRefused(raw("[1,2]", payload: 0), "not a JSON object")
        assertRefused(raw("{not json", payload: 0), "not a JSON object")
        assertRefused(raw(#"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, payload: 4), "dtype F16")
        assertRefused(raw(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, payload: 8), "needs 12 bytes")
        assertRefused(raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, payload: 4), "outside")
        assertRefused(raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, payload: 8), "outside")
        assertRefused(raw(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, payload: 8), "shape")
        assertRefused(raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                          payload: 8), "overlaps")
        assertRefused(raw(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, payload: 8), "gap")
        assertRefused(raw(good, payload: 12), "4 bytes after the last tensor")
        assertRefused(raw(#"{"__metadata__":{"k":1}}"#, payload: 0), "__metadata__")
    }

    func testCheckpointOfAnotherModelSaysWhatDiffers() throws {
        let (net, config) = try smallNetwork()
        let path = try tempPath("c.safetensors")
        try save(net, config, step: 1, to: path)
        // rewrite the stored description to claim a wider first layer
        var file = try SafeTensors.read(path: path)
        var other = config
        other.model.layers[0].width = 7
        file.metadata["config"] = try ConfigFile.yaml(other)
        try file.write(to: path)
        XCTAssertThrowsError(try Checkpoint.load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("'layer0.weight' has shape [5, 6], the model description needs [5, 7]"), "\(error)")
        }
        // a NaN parameter
        file.metadata["config"] = try ConfigFile.yaml(config)
        file.tensors[0].values[0] = .nan
        try file.write(to: path)
        XCTAssertThrowsError(try Checkpoint.load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("NaN"), "\(error)")
        }
        // not ours
        file.metadata = [:]
        try file.write(to: path)
        XCTAssertThrowsError(try Checkpoint.load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("not a dnic checkpoint"), "\(error)")
        }
    }
}
