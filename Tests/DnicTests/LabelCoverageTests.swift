import XCTest
@testable import Dnic

/// Labels only the test or validation set has are found and listed.
final class LabelCoverageTests: XCTestCase {
    func set(_ labels: [Int32], classes: Int = 10) -> Dataset {
        Dataset(name: "t", features: [Float](repeating: 0, count: labels.count), labels: labels, count: labels.count,
                dim: 1, classes: classes)
    }

    func testLabelsOnlyTheTestAndValidationSetsHaveAreNamed() {
        let split = DataSplit(train: set([0, 1, 1, 0]), validation: set([4, 0, 7, 4]), test: set([0, 9, 1, 3, 9]))
        XCTAssertEqual(split.labelsMissingFromTraining(),
                       [UnseenLabels(part: "test", labels: [3, 9]), UnseenLabels(part: "validation", labels: [4, 7])])
        XCTAssertEqual(split.trainingLabels, [0, 1])
        XCTAssertEqual(DataSplit(train: set([0, 1, 2]), test: set([2, 1])).labelsMissingFromTraining(), [])
    }

    func testLabelRangesAreShort() {
        XCTAssertEqual(labelRanges([0, 1]), "0–1")
        XCTAssertEqual(labelRanges([0, 3, 7, 8, 9]), "0, 3, 7–9")
        XCTAssertEqual(labelRanges([]), "")
        let sparse = labelRanges(Array(stride(from: 0, to: 100, by: 2)))
        XCTAssertTrue(sparse.hasSuffix("… (38 more)"), sparse)
    }
}
