import XCTest
@testable import Dnic

final class DataSyntheticTests: XCTestCase {
    private func make(_ d: SyntheticDataset, seed: UInt64 = 1) throws -> (split: DataSplit, rule: [Float]) {
        var options = DataOptions()
        options.seed = seed
        return try generateSynthetic(d, options: options)
    }

    private func rows(_ d: Dataset) -> [ArraySlice<Float>] {
        (0 ..< d.count).map { d.features[$0 * d.dim ..< ($0 + 1) * d.dim] }
    }

    private func score(_ x: ArraySlice<Float>, _ w: [Float]) -> Float {
        zip(x, w).reduce(0) { $0 + $1.0 * $1.1 }
    }

    func testEveryDatasetHasItsShapeAndBalancedBinaryLabels() throws {
        for d in SyntheticDataset.allCases {
            let split = try make(d).split
            let isGrid = d == .grid || d == .gridRandom
            XCTAssertEqual(split.train.count, isGrid ? 400 : 2000, d.rawValue)
            XCTAssertEqual(split.test.count, isGrid ? 1681 : 500, d.rawValue)
            XCTAssertEqual(split.train.dim, d.rawValue.hasSuffix("100d") ? 100 : 2, d.rawValue)
            XCTAssertEqual(split.train.dim, d.dim)
            XCTAssertEqual(split.test.dim, d.dim)
            for part in [split.train, split.test] {
                XCTAssertEqual(part.classes, 2)
                XCTAssertEqual(part.features.count, part.count * part.dim)
                XCTAssertTrue(part.features.allSatisfy(\.isFinite))
                let counts = part.classCounts
                XCTAssertEqual(counts.reduce(0, +), part.count, "labels are 0 or 1 in \(part.name)")
                // Exact (up to one) where the definition allows; the grid's
                // relabelled 10% and its rule leave a little imbalance.
                let slack = isGrid ? part.count / 20 : 1
                XCTAssertLessThanOrEqual(abs(counts[0] - counts[1]), slack, "\(part.name): \(counts)")
            }
            XCTAssertEqual(split.train.name, "synth:\(d.rawValue)/train")
        }
    }

    func testSameSeedSameDataOtherSeedOtherData() throws {
        for d in SyntheticDataset.allCases {
            let a = try make(d, seed: 7).split
            let b = try make(d, seed: 7).split
            let c = try make(d, seed: 8).split
            XCTAssertEqual(a.train.features, b.train.features, d.rawValue)
            XCTAssertEqual(a.train.labels, b.train.labels, d.rawValue)
            XCTAssertEqual(a.test.labels, b.test.labels, d.rawValue)
            XCTAssertNotEqual(a.train.labels, c.train.labels, d.rawValue)
            if d != .grid, d != .gridRandom {  // grid points are fixed; only labels move
                XCTAssertNotEqual(a.train.features, c.train.features, d.rawValue)
            }
        }
    }

    func testLinearSetsAreSeparableWithTheMargin() throws {
        for d in [SyntheticDataset.linear2D, .linear100D] {
            let (split, w) = try make(d)
            XCTAssertEqual(w.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
            for part in [split.train, split.test] {
                for (x, y) in zip(rows(part), part.labels) {
                    let s = score(x, w)
                    XCTAssertGreaterThanOrEqual(abs(s), SyntheticDataset.margin)
                    XCTAssertEqual(s > 0, y == 1)
                }
            }
        }
    }

    func testNoisySetsFlipTenPercentOfTrainLabelsAndKeepTestClean() throws {
        for (noisy, clean) in [(SyntheticDataset.noisy2D, SyntheticDataset.linear2D), (.noisy100D, .linear100D)] {
            let (split, w) = try make(noisy)
            let wrong = zip(rows(split.train), split.train.labels).filter { (score($0, w) > 0) != ($1 == 1) }.count
            XCTAssertEqual(wrong, 200, "10% of 2000")
            XCTAssertTrue(zip(rows(split.test), split.test.labels).allSatisfy { (score($0, w) > 0) == ($1 == 1) })
            // Same points as the clean set of the same seed; only labels differ.
            let base = try make(clean).split
            XCTAssertEqual(split.train.features, base.train.features)
            XCTAssertEqual(zip(split.train.labels, base.train.labels).filter { $0 != $1 }.count, 200)
        }
    }

    func testXorLabelIsTheSignOfTheProductOfTheFirstTwoCoordinates() throws {
        for d in [SyntheticDataset.xor2D, .xor100D] {
            let split = try make(d).split
            for part in [split.train, split.test] {
                for (x, y) in zip(rows(part), part.labels) {
                    XCTAssertEqual(x[x.startIndex] * x[x.startIndex + 1] > 0, y == 1)
                }
            }
        }
    }

    func testRandomLabelsSayNothingAboutTheInputs() throws {
        for d in [SyntheticDataset.random2D, .random100D] {
            let (split, w) = try make(d)
            // Agreement with any fixed rule stays near chance.
            let rules: [(ArraySlice<Float>) -> Bool] = [{ $0[$0.startIndex] > 0 }, { self.score($0, w) > 0 }]
            for rule in rules {
                let agree = zip(rows(split.train), split.train.labels).filter { rule($0) == ($1 == 1) }.count
                XCTAssertEqual(Double(agree) / 2000, 0.5, accuracy: 0.05, d.rawValue)
            }
        }
    }

    func testGridsAreRegularAndLabelledAsDocumented() throws {
        let (split, w) = try make(.grid)
        let train = rows(split.train)
        XCTAssertEqual(Array(train[0]), [-1, -1])
        XCTAssertEqual(Array(train[1]), [-1 + 2 / Float(19), -1])
        XCTAssertEqual(Array(train[20]), [-1, -1 + 2 / Float(19)])
        XCTAssertEqual(Array(train[399]), [1, 1])
        XCTAssertEqual(Array(rows(split.test)[1680]), [1, 1])
        XCTAssertEqual(Array(rows(split.test)[840]), [0, 0])
        let wrong = zip(train, split.train.labels).filter { (score($0, w) > 0) != ($1 == 1) }.count
        XCTAssertGreaterThan(wrong, 5, "some of the 40 relabelled points disagree with the rule")
        XCTAssertLessThanOrEqual(wrong, 40)
        XCTAssertTrue(zip(rows(split.test), split.test.labels).allSatisfy { (score($0, w) > 0) == ($1 == 1) },
                      "the test grid carries the clean rule")

        let random = try make(.gridRandom)
        XCTAssertEqual(random.split.train.features, split.train.features)
        let agree = zip(train, random.split.train.labels).filter { (score($0, random.rule) > 0) == ($1 == 1) }.count
        XCTAssertEqual(Double(agree) / 400, 0.5, accuracy: 0.1)
    }

    func testTestFractionSizesTheBasicSets() throws {
        var options = DataOptions()
        options.testFraction = 0.5
        let split = try makeSynthetic(.linear2D, options: options)
        XCTAssertEqual(split.train.count, 1250)
        XCTAssertEqual(split.test.count, 1250)
        options.testFraction = 0.0001
        assertDataError(try makeSynthetic(.xor2D, options: options), contains: ["synth:xor-2d", "test fraction"])
    }
}
