import Foundation
import XCTest
@testable import Dnic

/// What a rank other than 0 builds on a `dnic train --mpi` run, fresh or
/// resumed: only its block's layers (MPIRun.heldLayers), so its network
/// holds a fraction of the whole's bytes; resumed, it keeps only its
/// block's tensors of the checkpoint (CheckpointShare) and loads them. The
/// ranks training the same as in one process, fresh and resumed, is
/// MPITests' (every rank > 0 builds this way there).
final class MPIHeldLayersTests: XCTestCase {
    func config(hidden: Int, at: String) throws -> RunConfig {
        var c = RunConfig()
        c.model.layers = (0..<hidden).map { _ in LayerSpec(width: 24, activation: .relu) }
        c.interfaces = InterfaceSpec(rule: .sg)
        c.interfaces.at = try Placement(parsing: at)
        c.training.schedule = .pipeline
        return c
    }

    /// Block s's layers, 0-based with the output layer last; none for a rank beyond the blocks.
    func testEachRankHoldsItsBlock() throws {
        let c = try config(hidden: 20, at: "5,10,15")
        XCTAssertEqual(try (0..<4).map { try MPIRun.heldLayers(c, rank: $0) }, [0...4, 5...9, 10...14, 15...20])
        XCTAssertNil(try MPIRun.heldLayers(c, rank: 4))
        let mid = try config(hidden: 3, at: "mid")
        XCTAssertEqual(try (0..<2).map { try MPIRun.heldLayers(mid, rank: $0) }, [0...1, 2...3])
    }

    /// A trainer built for rank 1 of 2 holds its block's values only, and its pipeline builds.
    func testHeldTrainerHoldsLessThanTheWhole() throws {
        let c = try config(hidden: 4, at: "2")
        let held = try MPIRun.heldLayers(c, rank: 1)
        XCTAssertEqual(held, 2...4)
        let whole = try Trainer.build(config: c, inputDim: 100, classes: 2, maxBatch: 64, totalSteps: 10, restoring: nil,
                                      dataName: "synthetic")
        let part = try Trainer.build(config: c, inputDim: 100, classes: 2, maxBatch: 64, totalSteps: 10, restoring: nil,
                                     dataName: "synthetic", holding: held)
        XCTAssertNotNil(part.pipeline)
        // layers 2..4: 24x24+24, 24x24+24 and 24x2+2, four floats each (values, gradients, two moments)
        XCTAssertEqual(part.network.bytesHeld, 4 * 4 * (600 + 600 + 50))
        XCTAssertLessThan(part.network.bytesHeld, whole.network.bytesHeld / 2)
    }

    /// The tensors a rank keeps of a checkpoint: its layers', their moments, the interfaces on them, the batches in flight.
    func testARankKeepsItsBlocksTensors() {
        let keep = { CheckpointShare.belongs($0, to: 2...4) }
        for name in ["layer2.weight", "layer4.bias", "optimizer.m.layer3.weight", "optimizer.v.layer2.bn.gamma",
                     "layer2.bn.running_mean", "interface3.A", "optimizer.v.interface5.B", "pipeline.inflight"] {
            XCTAssertTrue(keep(name), name)
        }
        for name in ["layer1.weight", "layer5.bias", "layer12.weight", "optimizer.m.layer0.bias", "interface2.A",
                     "interface6.d", "optimizer.v.interface2.C", "layers", "other"] {
            XCTAssertFalse(keep(name), name)
        }
    }

    /// A resumed rank 1 of 3: from a checkpoint with only its block's values
    /// (the others' shapes alone, as CheckpointShare leaves them), its
    /// network holds its block's bytes and exactly the checkpoint's values
    /// (parameters and both moments; its interface too), and its pipeline builds.
    func testResumedRankLoadsOnlyItsBlock() throws {
        let c = try config(hidden: 4, at: "1,3")
        let held = try XCTUnwrap(try MPIRun.heldLayers(c, rank: 1))
        XCTAssertEqual(held, 1...2)
        let whole = try Trainer.build(config: c, inputDim: 100, classes: 2, maxBatch: 64, totalSteps: 10, restoring: nil,
                                      dataName: "synthetic")
        // values no fresh network has: a load that skipped them would show
        let n = whole.network.parameterCount
        try whole.network.setParameters(whole.network.parameters().enumerated().map { Float($0.offset % 7) * 0.25 + 1 })
        try whole.network.setOptimizerState((0..<(2 * n)).map { Float($0 % 5) * 0.125 + 0.5 })
        try whole.network.setOptimizerStep(7)
        for i in whole.dni.boundaries.indices {
            let p = whole.dni.block(i), o = whole.dni.block(i, optimizer: true)
            for k in p.indices { p[k] = Float(k % 3) + 2 }
            for k in o.indices { o[k] = Float(k % 4) + 3 }
        }
        let snapshot = RunSnapshot(config: c, network: whole.network, interfaces: whole.dni, state: whole.state, classes: 2,
                                   stepsPerEpoch: nil, outputs: Checkpoint.Outputs(), inflight: nil, data: nil)
        let file = try SafeTensors.decode(try Checkpoint.encoded(snapshot), name: "test")
        let part = SafeTensors(tensors: file.tensors.map {
            CheckpointShare.belongs($0.name, to: held) ? $0 : .init(name: $0.name, shape: $0.shape, values: [])
        }, metadata: file.metadata)
        let restored = try Checkpoint.load(file: part, path: "test", maxBatch: nil, holding: held)
        let built = try Trainer.build(config: c, inputDim: 100, classes: 2, maxBatch: 64, totalSteps: 10, restoring: restored,
                                      dataName: "synthetic", holding: held)
        XCTAssertNotNil(built.pipeline)
        let network = restored.network
        XCTAssertEqual(network.bytesHeld, 4 * 4 * (600 + 600), "layers 1..2, four floats per value")
        XCTAssertEqual(network.optimizerStep, 7)
        let values = network.heldValues(), all = whole.network.parameters(), moments = whole.network.optimizerState()
        var loaded = 0
        for t in file.tensors where t.name.hasPrefix("layer") {
            let layer = Int(t.name.dropFirst(5).prefix { $0.isNumber })!
            guard held.contains(layer), let info = whole.network.tensors.first(where: { $0.name == t.name }) else { continue }
            let at = info.offset - values.base
            XCTAssertEqual(Array(values.params[at..<(at + info.size)]), Array(all[info.offset..<(info.offset + info.size)]), t.name)
            XCTAssertEqual(Array(values.optim[at..<(at + info.size)]), Array(moments[info.offset..<(info.offset + info.size)]), t.name)
            let v = values.params.count + at
            XCTAssertEqual(Array(values.optim[v..<(v + info.size)]), Array(moments[(n + info.offset)..<(n + info.offset + info.size)]), t.name)
            loaded += 1
        }
        XCTAssertEqual(loaded, 4, "weights and biases of layers 1 and 2")
        // its interface, the one after hidden layer 3 (on layer 2), and no other
        let dni = restored.interfaces
        let mine = dni.boundaries.indices.filter { dni.holds($0) }
        XCTAssertEqual(mine.map { dni.boundaries[$0] }, [3])
        for i in mine {
            XCTAssertEqual(Array(dni.block(i)), Array(whole.dni.block(i)), "interface parameters")
            XCTAssertEqual(Array(dni.block(i, optimizer: true)), Array(whole.dni.block(i, optimizer: true)), "interface moments")
            XCTAssertEqual(dni.step(i), whole.dni.step(i))
        }
    }
}
