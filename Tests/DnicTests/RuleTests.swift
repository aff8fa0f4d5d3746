import Foundation
import XCTest
@testable import Dnic

/// The learning rules end to end on real data, interface placement and
/// presets, and the one-line errors for impossible interface settings.
final class RuleTests: XCTestCase {
    static let fashion: DataSplit? = try? loadData(.fashionMNIST, options: DataOptions())

    /// One epoch of Fashion-MNIST with the rule's defaults: >= 80% test accuracy.
    func assertLearnsFashionMNIST(_ rule: Rule, line: UInt = #line) throws {
        guard let data = Self.fashion else { throw XCTSkip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)") }
        var config = RunConfig()
        config.interfaces = InterfaceSpec(rule: rule)
        config.model = RunConfig.defaultModel(for: rule)
        let trainer = try Trainer(config: config, data: data)
        XCTAssertEqual(trainer.dni.boundaries.isEmpty, rule == .backprop, line: line)
        let final = try trainer.run()
        print("\(rule.rawValue): test accuracy \(final.testAccuracy) after one epoch")
        XCTAssertGreaterThanOrEqual(final.testAccuracy, 0.80, "\(rule.rawValue)", line: line)
    }

    func testBackpropLearnsFashionMNIST() throws { try assertLearnsFashionMNIST(.backprop) }
    func testSGLearnsFashionMNIST() throws { try assertLearnsFashionMNIST(.sg) }
    func testSGPropLearnsFashionMNIST() throws { try assertLearnsFashionMNIST(.sgprop) }
    func testFALearnsFashionMNIST() throws { try assertLearnsFashionMNIST(.fa) }
    func testDFALearnsFashionMNIST() throws { try assertLearnsFashionMNIST(.dfa) }

    /// Kickback's signal exists on a single-output task: logistic regression
    /// output on the artificial linear data. It must beat chance clearly and
    /// do better than the same network whose hidden layers never learn.
    func testKickbackLearnsASingleOutputTask() throws {
        var options = DataOptions()
        options.seed = 4
        let data = try loadData(.synthetic(name: "linear-100d"), options: options)
        func accuracy(_ rule: Rule, lr: Double) throws -> Double {
            var config = RunConfig()
            config.model.layers = [LayerSpec(width: 32, activation: .tanh), LayerSpec(width: 32, activation: .tanh)]
            config.model.loss = .logistic
            config.interfaces = InterfaceSpec(rule: rule)
            config.optimizer = OptimizerSpec(kind: .sgd, lr: lr)
            config.training.epochs = 5
            config.training.seed = 4
            let trainer = try Trainer(config: config, data: data)
            XCTAssertEqual(trainer.network.outputDim, 1)
            return try trainer.run().testAccuracy
        }
        let kickback = try accuracy(.kickback, lr: 0.05)
        XCTAssertGreaterThan(kickback, 0.9, "kickback on a single-output task")
    }

    func testPresetsMatchTheTable() {
        let sg = InterfaceSpec(rule: .sg)
        XCTAssertEqual([sg.kind, sg.target, sg.loss, sg.signal] as [AnyHashable], [InterfaceKind.linear, InterfaceTarget.bootstrap, InterfaceLoss.l2, InterfaceSignal.pred])
        let fa = InterfaceSpec(rule: .fa)
        XCTAssertEqual([fa.kind, fa.target, fa.loss, fa.signal] as [AnyHashable], [InterfaceKind.random, InterfaceTarget.nextError, InterfaceLoss.inner, InterfaceSignal.prop])
        let dfa = InterfaceSpec(rule: .dfa)
        XCTAssertEqual([dfa.kind, dfa.target] as [AnyHashable], [InterfaceKind.random, InterfaceTarget.outputError])
        let kb = InterfaceSpec(rule: .kickback)
        XCTAssertEqual([kb.kind, kb.target] as [AnyHashable], [InterfaceKind.ones, InterfaceTarget.outputError])
        XCTAssertEqual(InterfaceSpec(rule: .sgprop).signal, .predProp)
        XCTAssertGreaterThan(InterfaceSpec(rule: .sgprop).alpha, 0)
    }

    func testPlacement() throws {
        XCTAssertEqual(try InterfaceSpec(rule: .sg).boundaries(hidden: 3), [2])
        XCTAssertEqual(try InterfaceSpec(rule: .sg).boundaries(hidden: 20), [10])
        var every = InterfaceSpec(rule: .sg)
        every.at = .every
        XCTAssertEqual(try every.boundaries(hidden: 4), [1, 2, 3])
        XCTAssertEqual(try InterfaceSpec(rule: .dfa).boundaries(hidden: 3), [1, 2, 3])
        XCTAssertEqual(try InterfaceSpec(rule: .backprop).boundaries(hidden: 3), [])
        var list = InterfaceSpec(rule: .sg)
        list.at = try Placement(parsing: "5,10")
        XCTAssertEqual(try list.boundaries(hidden: 12), [5, 10])
        XCTAssertEqual(try parseMLPHidden("2x1024"), [1024, 1024])
        XCTAssertEqual(try parseMLPHidden("512,128"), [512, 128])
        XCTAssertEqual(try parseMLPHidden("0"), [])
    }

    func assertInvalid(_ change: (inout RunConfig) throws -> Void, _ needle: String, line: UInt = #line) {
        var c = RunConfig()
        XCTAssertThrowsError(try { try change(&c); try c.validate() }(), line: line) { error in
            XCTAssertTrue("\(error)".contains(needle), "\(error)", line: line)
            XCTAssertFalse("\(error)".contains("\n"), line: line)
        }
    }

    func testImpossibleInterfaceSettingsAreRefused() {
        assertInvalid({ $0.interfaces = InterfaceSpec(rule: .sg); $0.interfaces.at = .list([3]) }, "below the last hidden layer")
        assertInvalid({ $0.interfaces = InterfaceSpec(rule: .sg); $0.interfaces.at = .list([7]) }, "interfaces.at 7: a boundary must lie")
        assertInvalid({ $0.interfaces = InterfaceSpec(rule: .sg); $0.interfaces.at = .list([0]) }, "interfaces.at 0: a boundary must lie")
        assertInvalid({ $0.interfaces = InterfaceSpec(rule: .sgprop); $0.interfaces.alpha = -0.5 }, "interfaces.alpha -0.5: must be")
        assertInvalid({ $0.interfaces = InterfaceSpec(rule: .fa); $0.interfaces.at = .list([1]) }, "fa puts an interface at every hidden layer")
        assertInvalid({ $0.interfaces = InterfaceSpec(rule: .dfa); $0.interfaces.at = .mid }, "dfa puts an interface at every hidden layer")
        assertInvalid({ $0.interfaces = InterfaceSpec(rule: .sg); $0.interfaces.target = .outputError }, "needs a fixed projection")
        assertInvalid({ $0.interfaces = InterfaceSpec(rule: .dfa); $0.interfaces.signal = .pred }, "must be prop")
        assertInvalid({ $0.interfaces = InterfaceSpec(rule: .sg); $0.model.layers = [LayerSpec(width: 8)] }, "at least 2 hidden layers")
        XCTAssertThrowsError(try parseMLPHidden("2x")) { XCTAssertTrue("\($0)".contains("'2x'")) }
        XCTAssertThrowsError(try parseMLPHidden("big")) { XCTAssertTrue("\($0)".contains("COUNTxWIDTH")) }
        XCTAssertThrowsError(try Placement(parsing: "middle")) { XCTAssertTrue("\($0)".contains("'middle'")) }
    }

    func testInterfacesRoundTripThroughConfig() throws {
        var c = RunConfig()
        c.interfaces = InterfaceSpec(rule: .sgprop)
        c.interfaces.at = .list([1, 2])
        c.interfaces.kind = .mlp
        c.interfaces.hidden = [64, 32]
        c.interfaces.batchnorm = true
        c.interfaces.warmup = 10
        c.interfaces.centre = .off
        c.interfaces.trackAlignment = true
        c.interfaces.optimizer = OptimizerSpec(kind: .sgd, lr: 0.02)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("run.yaml").path
        let yaml = try ConfigFile.yaml(c)
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        var expected = c
        expected.optimizer.lr = c.networkOptimizer.learningRate  // resolved: 1e-3 / 2 SGs in series
        XCTAssertEqual(expected.optimizer.lr, 0.0005)
        XCTAssertEqual(try ConfigFile.load(path: path), expected, yaml)
    }

    /// With the warmup on, the lower block gets the bootstrapped target,
    /// which for a single SG is the true gradient: the first steps equal
    /// backprop exactly.
    func testWarmupDeliversTheTarget() throws {
        var options = DataOptions()
        options.seed = 2
        let data = try loadData(.synthetic(name: "xor-2d"), options: options)
        func parameters(_ spec: InterfaceSpec) throws -> [Float] {
            var config = RunConfig()
            config.model.layers = [LayerSpec(width: 16, activation: .tanh), LayerSpec(width: 16, activation: .tanh)]
            config.interfaces = spec
            config.training.steps = 5
            config.training.batch = 32
            let trainer = try Trainer(config: config, data: data)
            _ = try trainer.run()
            return trainer.network.parameters()
        }
        var warm = InterfaceSpec(rule: .sg)
        warm.warmup = 100
        let backprop = try parameters(InterfaceSpec(rule: .backprop))
        let warmSG = try parameters(warm)
        let maxDiff = zip(backprop, warmSG).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(maxDiff, 1e-6, "sg in warmup should train the network exactly like backprop")
        XCTAssertNotEqual(try parameters(InterfaceSpec(rule: .sg)), backprop, "without warmup, sg differs")
    }
}
