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
}
