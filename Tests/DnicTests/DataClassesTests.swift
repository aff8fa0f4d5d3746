import Foundation
import XCTest
@testable import Dnic

/// `DataOptions.classes` is honoured by every loader: every label must lie
/// in 0..<classes, or the error names the file (and line for CSV) and the
/// label; the count itself must be in 2...maxClasses.
final class DataClassesTests: XCTestCase {
    var scratch: DataScratch!

    override func setUpWithError() throws { scratch = try DataScratch() }
    override func tearDown() { scratch.remove() }

    func options(classes: Int?) -> DataOptions {
        var options = DataOptions()
        options.classes = classes
        return options
    }

    /// An IDX directory whose train and test labels are `labels` (2x2 images).
    func idxDirectory(labels: [UInt8]) throws -> String {
        let images = dataIDXImages(count: UInt32(labels.count), rows: 2, cols: 2,
                                   pixels: [UInt8](repeating: 1, count: 4 * labels.count))
        try scratch.write(IDXFileNames.trainImages, images)
        try scratch.write(IDXFileNames.testImages, images)
        try scratch.write(IDXFileNames.trainLabels, dataIDXLabels(labels))
        try scratch.writeGzip(IDXFileNames.testLabels + ".gz", dataIDXLabels(labels))
        return scratch.path
    }

    func testIDXLabelsMustLieBelowClasses() throws {
        let dir = try idxDirectory(labels: [3, 0, 7])
        assertDataError(try loadData(.idx(directory: dir), options: options(classes: 5)),
                        contains: [dir + "/" + IDXFileNames.trainLabels, "label 7 at index 2 is outside 0…4 (classes is 5)"])
        XCTAssertEqual(try loadData(.idx(directory: dir), options: options(classes: 8)).train.classes, 8)
        XCTAssertEqual(try loadData(.idx(directory: dir), options: options(classes: nil)).test.classes, 10)
        // IDX labels are bytes: more than 256 classes only widen the output.
        let wide = try loadData(.idx(directory: dir), options: options(classes: 300))
        XCTAssertEqual(wide.train.classes, 300)
        XCTAssertEqual(wide.test.labels, [3, 0, 7])
    }

    func testCSVLabelsMustLieBelowClassesInTrainAndTest() throws {
        let train = try scratch.write("train.csv", text: "label,x\n0,1\n4,2\n")
        let test = try scratch.write("test.csv", text: "1,1\n\n9,2\n")
        XCTAssertEqual(try loadData(.csv(train: train, test: test), options: options(classes: nil)).train.classes, 10,
                       "max label over both files, plus one")
        assertDataError(try loadData(.csv(train: train, test: test), options: options(classes: 5)),
                        contains: ["\(test):3:1: label 9 is outside 0…4 (classes is 5)"])
        assertDataError(try loadData(.csv(train: train, test: nil), options: options(classes: 4)),
                        contains: ["\(train):3:1: label 4 is outside 0…3 (classes is 4)"])
        XCTAssertEqual(try loadData(.csv(train: train, test: test), options: options(classes: 12)).test.classes, 12)
    }

    func testSyntheticSetsHonourClasses() throws {
        for name in ["xor-2d", "grid"] {
            let split = try loadData(.synthetic(name: name), options: options(classes: 5))
            XCTAssertEqual(split.train.classes, 5, name)
            XCTAssertEqual(split.test.classes, 5, name)
            XCTAssertEqual(Set(split.train.labels), [0, 1], "\(name): labels stay 0 and 1")
            XCTAssertEqual(try loadData(.synthetic(name: name), options: options(classes: nil)).train.classes, 2)
        }
    }

    func testClassesOutsideTwoToTwoToThe22AreRefusedByEveryLoader() throws {
        let dir = try idxDirectory(labels: [0, 1])
        let csv = try scratch.write("a.csv", text: "0,1\n1,2\n")
        for bad in [-3, 0, 1, maxClasses + 1] {
            for spec in [DataSpec.idx(directory: dir), .csv(train: csv, test: csv), .synthetic(name: "linear-2d")] {
                assertDataError(try loadData(spec, options: options(classes: bad)),
                                contains: ["classes must be in 2…4194304, got \(bad)"])
            }
            assertDataError(try loadIDX(images: dir + "/" + IDXFileNames.trainImages,
                                        labels: dir + "/" + IDXFileNames.trainLabels, classes: bad, name: "t"),
                            contains: ["classes must be in 2…4194304"])
        }
        XCTAssertEqual(try loadData(.csv(train: csv, test: csv), options: options(classes: maxClasses)).train.classes,
                       maxClasses)
    }
}
