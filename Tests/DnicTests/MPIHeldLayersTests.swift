import Foundation
import XCTest
@testable import Dnic

/// What a rank other than 0 builds on a fresh `dnic train --mpi` run:
/// only its block's layers (MPIRun.heldLayers), so its network holds a
/// fraction of the whole's bytes. The ranks training the same as in one
/// process is MPITests' (every rank > 0 builds this way there).
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
}
