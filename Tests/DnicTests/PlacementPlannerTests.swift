import XCTest
@testable import Dnic

/// The placement planner on hand-written costs, where the best cut is
/// known: the slowest block as fast as possible, the lexicographically
/// smallest boundaries among equals, K bounds refused; and `balanced[:K]`
/// as a placement setting.
final class PlacementPlannerTests: XCTestCase {
    func costs(_ layers: [Double], _ interfaces: [Double]? = nil, batch: Int = 64) -> LayerCosts {
        LayerCosts(layerSeconds: layers, interfaceSeconds: interfaces ?? Array(repeating: 0, count: layers.count - 2), batch: batch)
    }

    /// Hidden layers 1, 1, 1, 4 (output free): two blocks cut before the 4.
    func testTwoBlocksCutBeforeTheHeavyLayer() throws {
        let plan = try PlacementPlanner.plan(costs([1, 1, 1, 4, 0]), blocks: 2)
        XCTAssertEqual(plan.boundaries, [3])
        XCTAssertEqual(plan.blockSeconds, [3, 4])
        XCTAssertEqual(plan.lockedSeconds, 7)
        XCTAssertEqual(plan.predictedSamplesPerSecond, 16)
        XCTAssertEqual(plan.lockedSamplesPerSecond, 64.0 / 7)
    }

    /// The output layer belongs to the top block.
    func testOutputLayerCountsInTheTopBlock() throws {
        XCTAssertEqual(try PlacementPlanner.plan(costs([1, 1, 1, 1, 4]), blocks: 2).boundaries, [3])
        XCTAssertEqual(try PlacementPlanner.plan(costs([4, 1, 1, 1, 0]), blocks: 2).boundaries, [1])
    }

    /// An interface's cost counts in the block below it, and only where it is placed.
    func testInterfaceCostsMoveTheCut() throws {
        XCTAssertEqual(try PlacementPlanner.plan(costs([2, 2, 2, 2, 0]), blocks: 2).boundaries, [2])
        // after 2 the interface makes the lower block 7; after 1 or 3 the slowest is 6: the smaller list wins
        let plan = try PlacementPlanner.plan(costs([2, 2, 2, 2, 0], [0, 3, 0]), blocks: 2)
        XCTAssertEqual(plan.boundaries, [1])
        XCTAssertEqual(plan.blockSeconds, [2, 6])
    }

    func testThreeBlocks() throws {
        XCTAssertEqual(try PlacementPlanner.plan(costs([3, 1, 1, 1, 3, 0]), blocks: 3).boundaries, [1, 4])
        XCTAssertEqual(try PlacementPlanner.plan(costs([1, 1, 1, 1, 1, 1, 0]), blocks: 3).boundaries, [2, 4])
        // as many blocks as hidden layers: one layer each
        XCTAssertEqual(try PlacementPlanner.plan(costs([5, 1, 2, 0]), blocks: 3).boundaries, [1, 2])
    }

    /// Equal plans: the lexicographically smallest boundary list, every time.
    func testTiesTakeTheSmallestBoundaries() throws {
        XCTAssertEqual(try PlacementPlanner.plan(costs([1, 1, 1, 0]), blocks: 2).boundaries, [1])
        XCTAssertEqual(try PlacementPlanner.plan(costs([0, 0, 0, 0, 0, 0]), blocks: 3).boundaries, [1, 2])
        let c = costs([0.0013, 0.0007, 0.0007, 0.0002], [0.0003, 0.0003])
        let first = try PlacementPlanner.plan(c, blocks: 2)
        for _ in 0 ..< 5 { XCTAssertEqual(try PlacementPlanner.plan(c, blocks: 2), first) }
    }

    /// On pseudo-random costs the plan is the best of every partition, and
    /// the first such in lexicographic order.
    func testMatchesExhaustiveSearch() throws {
        var state: UInt64 = 7
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 40 % 7 + 1) // small integers: many ties
        }
        for h in 2 ... 7 {
            for _ in 0 ..< 20 {
                let c = costs((0 ... h).map { _ in next() }, (1 ..< h).map { _ in next() - 1 })
                for k in 2 ... h {
                    let plan = try PlacementPlanner.plan(c, blocks: k)
                    var best: PlacementPlan?
                    for cuts in combinations(Array(1 ..< h), k - 1) {
                        let p = try PlacementPlanner.evaluate(c, boundaries: cuts)
                        if best == nil || p.slowestBlockSeconds < best!.slowestBlockSeconds { best = p }
                    }
                    XCTAssertEqual(plan, best, "costs \(c), \(k) blocks")
                }
            }
        }
    }

    func combinations(_ items: [Int], _ r: Int) -> [[Int]] {
        if r == 0 { return [[]] }
        guard let first = items.first else { return [] }
        let rest = Array(items.dropFirst())
        return combinations(rest, r - 1).map { [first] + $0 } + combinations(rest, r)
    }

    /// Hidden layers of 2, 1, 1 ms (output free) and widths 1000, 10, 1000 at batch 64:
    /// in one process the blocks balance after layer 1 (2 / 2 ms against 3 / 1 ms).
    let narrowAfterTwo = LayerCosts(layerSeconds: [0.002, 0.001, 0.001, 0], interfaceSeconds: [0, 0], batch: 64, widths: [1000, 10, 1000])

    /// Over a 1 Gbit/s link, the boundary after layer 1 sends 64 × (1000 × 4 + 4)
    /// bytes (2.05 ms each way, both blocks pay it) and after layer 2 64 × (10 × 4 + 4)
    /// (0.023 ms): the plan moves to the narrow boundary.
    func testSlowLinkMovesTheCutToTheNarrowBoundary() throws {
        XCTAssertEqual(try PlacementPlanner.plan(narrowAfterTwo, blocks: 2).boundaries, [1])
        let link = PipelineScaling.Link(gigabitsPerSecond: 1, latencyMicroseconds: 0)
        let plan = try PlacementPlanner.plan(narrowAfterTwo, blocks: 2, link: link)
        XCTAssertEqual(plan.boundaries, [2])
        XCTAssertEqual(plan.computeSeconds, [0.003, 0.001])
        XCTAssertEqual(plan.messageSeconds.count, 2)
        for m in plan.messageSeconds { XCTAssertEqual(m, 2816 * 8 / 1e9, accuracy: 1e-15) }
        XCTAssertEqual(plan.slowestBlockSeconds, 0.003 + 2816 * 8 / 1e9, accuracy: 1e-15)
        XCTAssertEqual(plan.link, link)
        // the cut in one process, priced over the link, is slower than the plan
        let wide = try PlacementPlanner.evaluate(narrowAfterTwo, boundaries: [1], link: link)
        XCTAssertEqual(wide.blockSeconds[0], 0.002 + 256_256 * 8 / 1e9, accuracy: 1e-15)
        XCTAssertGreaterThan(wide.slowestBlockSeconds, plan.slowestBlockSeconds)
        // locked training on one core sends nothing
        XCTAssertEqual(plan.lockedSeconds, 0.004, accuracy: 1e-15)
    }

    /// Latency alone (bytes free): every boundary costs the same, each block
    /// pays it once per boundary it touches, and two blocks keep their cut.
    func testLatencyAloneIsAConstantPerBlock() throws {
        let latency = PipelineScaling.Link(gigabitsPerSecond: .infinity, latencyMicroseconds: 50)
        let plan = try PlacementPlanner.plan(narrowAfterTwo, blocks: 2, link: latency)
        XCTAssertEqual(plan.boundaries, [1])
        XCTAssertEqual(plan.computeSeconds, [0.002, 0.002])
        assertClose(plan.messageSeconds, [50e-6, 50e-6])
        XCTAssertEqual(plan.predictedSamplesPerSecond, 64 / (0.002 + 50e-6), accuracy: 1e-6)
        // three blocks: the middle one has two boundaries
        let three = try PlacementPlanner.evaluate(narrowAfterTwo, boundaries: [1, 2], link: latency)
        assertClose(three.messageSeconds, [50e-6, 100e-6, 50e-6])
        // a link needs the widths to price the bytes
        XCTAssertThrowsError(try PlacementPlanner.plan(costs([1, 1, 1, 0]), blocks: 2, link: latency))
    }

    func assertClose(_ a: [Double], _ b: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "\(a) against \(b)", file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-15, "\(a) against \(b)", file: file, line: line) }
    }

    /// Over a link, on pseudo-random costs and widths, the plan is still the
    /// best of every partition, messages included.
    func testOverALinkMatchesExhaustiveSearch() throws {
        var state: UInt64 = 11
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 40 % 7) + 1
        }
        let link = PipelineScaling.Link(gigabitsPerSecond: 0.001, latencyMicroseconds: 100)
        for h in 2 ... 6 {
            for _ in 0 ..< 20 {
                var c = costs((0 ... h).map { _ in Double(next()) * 1e-3 }, (1 ..< h).map { _ in Double(next() - 1) * 1e-3 }, batch: 4)
                c.widths = (0 ..< h).map { _ in next() * 8 }
                for k in 2 ... h {
                    let plan = try PlacementPlanner.plan(c, blocks: k, link: link)
                    var best: PlacementPlan?
                    for cuts in combinations(Array(1 ..< h), k - 1) {
                        let p = try PlacementPlanner.evaluate(c, boundaries: cuts, link: link)
                        if best == nil || p.slowestBlockSeconds < best!.slowestBlockSeconds { best = p }
                    }
                    XCTAssertEqual(plan, best, "costs \(c), \(k) blocks")
                }
            }
        }
    }

    func testBlockCountsOutsideTheStackAreRefused() {
        for k in [0, 1, 4, 9] {
            XCTAssertThrowsError(try PlacementPlanner.plan(costs([1, 1, 1, 1]), blocks: k)) { error in
                XCTAssertEqual((error as? SettingError)?.key, "interfaces.at", "\(error)")
            }
        }
        XCTAssertThrowsError(try PlacementPlanner.plan(costs([1, .nan, 1, 1]), blocks: 2))
        XCTAssertThrowsError(try PlacementPlanner.plan(LayerCosts(layerSeconds: [1, 1, 1], interfaceSeconds: [], batch: 8), blocks: 2))
    }

    func testBalancedIsAPlacement() throws {
        XCTAssertEqual(try Placement(parsing: "balanced"), .balanced(2))
        XCTAssertEqual(try Placement(parsing: "balanced:3"), .balanced(3))
        XCTAssertEqual(Placement.balanced(2).text, "balanced")
        XCTAssertEqual(Placement.balanced(3).text, "balanced:3")
        XCTAssertThrowsError(try Placement(parsing: "balanced:"))
        XCTAssertThrowsError(try Placement(parsing: "balanced:two"))
        var c = RunConfig()
        c.model.layers = (0 ..< 3).map { _ in LayerSpec(width: 8) }
        c.interfaces = InterfaceSpec(rule: .sg)
        c.interfaces.at = .balanced(3)
        XCTAssertNoThrow(try c.validate())
        XCTAssertEqual(try c.interfaces.boundaryCount(hidden: 3), 2)
        // the written config holds the text, and reads back as the same run
        let text = try ConfigFile.yaml(c)
        XCTAssertTrue(text.contains("at: balanced:3"), text)
        XCTAssertEqual(try ConfigFile.parse(Data(text.utf8), name: "run.yaml").interfaces.at, .balanced(3))
        c.interfaces.at = .balanced(4)
        XCTAssertThrowsError(try c.validate())
    }

    /// A run's balanced placement becomes the list it planned.
    func testResolveReplacesBalancedByItsBoundaries() throws {
        var c = RunConfig()
        c.model.layers = (0 ..< 3).map { _ in LayerSpec(width: 16) }
        c.interfaces = InterfaceSpec(rule: .sg)
        c.interfaces.at = .balanced(2)
        c.training.batch = 8
        c.training.schedule = .pipeline
        let plan = try XCTUnwrap(PlacementPlanner.resolve(&c, inputDim: 5, classes: 3))
        XCTAssertEqual(plan.boundaries.count, 1)
        XCTAssertEqual(c.interfaces.at, .list(plan.boundaries))
        XCTAssertEqual(plan.blockSeconds.count, 2)
        XCTAssertNil(try PlacementPlanner.resolve(&c, inputDim: 5, classes: 3))
    }

    /// The blocks pay the interface's prediction on the forward; the locked
    /// reference (one batch through every part on one core) does not, as
    /// the locked step predicts once, when it trains.
    func testLockedReferenceLeavesOutThePredictionOnTheForward() throws {
        let costs = LayerCosts(layerSeconds: [0.004, 0.002, 0.002, 0.001], interfaceSeconds: [0.001, 0.0015], batch: 64,
                               interfacePredictionSeconds: [0.0004, 0.0006])
        let plan = try PlacementPlanner.plan(costs, blocks: 2)
        XCTAssertEqual(plan.boundaries, [1])
        XCTAssertEqual(plan.computeSeconds[0], 0.005, accuracy: 1e-12) // layer 1 + its interface, prediction included
        XCTAssertEqual(plan.computeSeconds[1], 0.005, accuracy: 1e-12)
        XCTAssertEqual(plan.lockedSeconds, 0.0096, accuracy: 1e-12)     // 0.010 less the prediction after layer 1
        XCTAssertEqual(plan.lockedSamplesPerSecond, 64 / 0.0096, accuracy: 1e-6)
        let three = try PlacementPlanner.evaluate(costs, boundaries: [1, 2])
        XCTAssertEqual(three.lockedSeconds, 0.0115 - 0.001, accuracy: 1e-12)
        // a prediction longer than the interface's whole work is not a measurement
        let bad = LayerCosts(layerSeconds: [1, 1, 1], interfaceSeconds: [0.1], batch: 8, interfacePredictionSeconds: [0.2])
        XCTAssertThrowsError(try PlacementPlanner.plan(bad, blocks: 2))
    }
}
