import XCTest
@testable import Dnic

final class DataSourceTests: XCTestCase {
    func testSpecsRoundTripThroughDescription() throws {
        var specs: [DataSpec] = [.fashionMNIST, .mnist, .idx(directory: "/data/mnist"), .idx(directory: "rel dir"),
                                 .csv(train: "a.csv", test: nil), .csv(train: "/x/train.csv", test: "test.csv.gz"),
                                 .npy(features: "x.npy", labels: "/d/y.npy", testFeatures: nil, testLabels: nil),
                                 .npy(features: "x.npy", labels: "y.npy", testFeatures: "tx.npy", testLabels: "ty.npy"), .npz(file: "d.npz")]
        specs += SyntheticDataset.allCases.map { .synthetic(name: $0.rawValue) }
        for spec in specs {
            XCTAssertEqual(try DataSpec.parse(spec.description), spec, spec.description)
        }
        XCTAssertEqual(try DataSpec.parse("fashion-mnist"), .fashionMNIST)
        XCTAssertEqual(try DataSpec.parse("idx:/a:b"), .idx(directory: "/a:b"))
        XCTAssertEqual(try DataSpec.parse("csv:tr.csv,te.csv"), .csv(train: "tr.csv", test: "te.csv"))
        XCTAssertEqual(try DataSpec.parse("synth:grid-random"), .synthetic(name: "grid-random"))
        XCTAssertEqual("\(DataSpec.synthetic(name: "xor-100d"))", "synth:xor-100d")
        // features alone: rows for predict (training and eval refuse them when loading)
        XCTAssertEqual(try DataSpec.parse("npy:x.npy"), .npy(features: "x.npy", labels: nil, testFeatures: nil, testLabels: nil))
        XCTAssertEqual("\(DataSpec.npy(features: "x.npy", labels: nil, testFeatures: nil, testLabels: nil))", "npy:x.npy")
    }

    func testUnknownFormsListTheAcceptedOnes() {
        for bad in ["", "fashion", "MNIST", "idx:", "csv:", "csv:a,b,c", "csv:a,", "csv:,b", "hdf5:x", "npy:", "npy:a,b,c", "npy:a,,c,d", "npz:"] {
            assertDataError(try DataSpec.parse(bad),
                            contains: ["'\(bad)'", "fashion-mnist, mnist, idx:DIR, csv:TRAIN.csv[,TEST.csv], npy:X.npy,y.npy[,XTEST.npy,YTEST.npy], npz:FILE.npz, synth:NAME"])
        }
        for bad in ["synth:", "synth:spiral"] {
            assertDataError(try DataSpec.parse(bad),
                            contains: ["'\(bad)'", "unknown synthetic dataset", "linear-2d", "grid-random"])
        }
        assertDataError(try loadData(.synthetic(name: "spiral"), options: DataOptions()),
                        contains: ["synth:spiral", "linear-100d"])
        assertDataError(try locateIDX(.synthetic(name: "grid")), contains: ["synth:grid", "not an IDX dataset"])
    }

    func testValidationIsASeededPartOfTrain() throws {
        var options = DataOptions()
        options.validationFraction = 0.1
        let split = try loadData(.synthetic(name: "linear-2d"), options: options)
        let whole = try makeSynthetic(.linear2D, options: DataOptions())
        let validation = try XCTUnwrap(split.validation)
        XCTAssertEqual(split.train.count, 1800)
        XCTAssertEqual(validation.count, 200)
        XCTAssertEqual(split.test.features, whole.test.features, "the test set is untouched")
        XCTAssertEqual(validation.name, "synth:linear-2d/validation")
        // Together the parts are the whole train set, each example once.
        var seen = Set<[Float]>()
        for part in [split.train, validation] {
            for i in 0 ..< part.count {
                let x = Array(part.features[i * 2 ..< i * 2 + 2])
                XCTAssertTrue(seen.insert(x + [Float(part.labels[i])]).inserted)
            }
        }
        var all = Set<[Float]>()
        for i in 0 ..< whole.train.count {
            all.insert(Array(whole.train.features[i * 2 ..< i * 2 + 2]) + [Float(whole.train.labels[i])])
        }
        XCTAssertEqual(seen, all)
        XCTAssertEqual(try loadData(.synthetic(name: "linear-2d"), options: options).validation?.features,
                       validation.features, "same seed, same validation set")
    }

    func testHoldOutDependsOnTheSeedOnly() throws {
        let data = Dataset(name: "d", features: (0 ..< 50).map(Float.init), labels: [Int32](repeating: 0, count: 50),
                           count: 50, dim: 1, classes: 2)
        func split(seed: UInt64) throws -> (rest: Dataset, part: Dataset) {
            var rest = data
            let part = try holdOut(&rest, fraction: 0.2, seed: seed, stream: .validation, train: "t", part: "v")
            return (rest, part)
        }
        let a = try split(seed: 1), b = try split(seed: 1), c = try split(seed: 2)
        XCTAssertEqual(a.part.count, 10)
        XCTAssertEqual(a.rest.count, 40)
        XCTAssertEqual(a.part.features, b.part.features)
        XCTAssertNotEqual(a.part.features, c.part.features)
        XCTAssertEqual(Set(a.part.features + a.rest.features).count, 50)
        XCTAssertEqual(data.count, 50, "the caller's copy is untouched")
        var tiny = Dataset(name: "tiny", features: [1], labels: [0], count: 1, dim: 1, classes: 2)
        assertDataError(try holdOut(&tiny, fraction: 0.5, seed: 1, stream: .validation, train: "t", part: "v"),
                        contains: ["tiny", "cannot hold out"])
    }

    func testHoldOutMovesEachRowWithItsLabelAndKeepsTheOrder() throws {
        // Rows of 3 features that encode their index; the in-place compaction
        // must give what copying the chosen rows gives.
        let n = 100, dim = 3
        let data = Dataset(name: "d", features: (0 ..< n * dim).map { Float($0 / dim * 10 + $0 % dim) },
                           labels: (0 ..< n).map { Int32($0 % 7) }, count: n, dim: dim, classes: 7)
        var rest = data
        let part = try holdOut(&rest, fraction: 0.3, seed: 5, stream: .validation, train: "t", part: "v")
        var rng = DataRandom(seed: 5, stream: .validation)
        let order = rng.permutation(n)
        let held = data.subset(order[0 ..< 30].sorted()), kept = data.subset(order[30...].sorted())
        XCTAssertEqual(part.features, held.features)
        XCTAssertEqual(part.labels, held.labels)
        XCTAssertEqual(rest.features, kept.features)
        XCTAssertEqual(rest.labels, kept.labels)
        XCTAssertEqual(rest.count, 70)
        XCTAssertEqual(rest.name, "t")
        XCTAssertEqual(part.name, "v")
    }

    func testValidationFractionOutsideTheRangeIsAnError() {
        for bad in [-0.1, 1, 1.5, .nan] {
            var options = DataOptions()
            options.validationFraction = bad
            assertDataError(try loadData(.synthetic(name: "grid"), options: options),
                            contains: ["validation fraction", "[0, 1)"])
        }
        var options = DataOptions()
        options.classes = 1
        assertDataError(try loadData(.synthetic(name: "grid"), options: options), contains: ["classes must be in 2…4194304, got 1"])
    }
}
