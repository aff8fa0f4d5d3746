import Foundation
import XCTest
@testable import Dnic

final class DataCSVTests: XCTestCase {
    var scratch: DataScratch!

    override func setUpWithError() throws { scratch = try DataScratch() }
    override func tearDown() { scratch.remove() }

    private func load(_ train: String, _ test: String? = nil, options: DataOptions = DataOptions()) throws -> DataSplit {
        try loadData(.csv(train: train, test: test), options: options)
    }

    func testGoodTrainAndTestFiles() throws {
        let train = try scratch.write("train.csv", text: "1,0.5,2\n0,-1.25,3e2\n3, 4 ,5\n")
        let test = try scratch.write("test.csv", text: "4,1,1\n")
        let split = try load(train, test)
        XCTAssertEqual(split.train.count, 3)
        XCTAssertEqual(split.train.dim, 2)
        XCTAssertEqual(split.train.labels, [1, 0, 3])
        XCTAssertEqual(split.train.features, [0.5, 2, -1.25, 300, 4, 5])
        XCTAssertEqual(split.test.features, [1, 1])
        XCTAssertEqual(split.train.classes, 5, "max label over train and test, plus one")
        XCTAssertEqual(split.test.classes, 5)
        XCTAssertEqual(split.train.name, "csv:\(train),\(test)/train")
    }

    func testFeaturesAreTheNearestFloatToTheText() throws {
        let fields = ["0.003921569", "1e-3", "123456789", "-0.5", "16777217", "0.1", "3.4028234e38",
                      "1.00000005960464477539", "-0", "+2.5", ".25", "7.", "0x1p-3", "1.17549435e-38"]
        let train = try scratch.write("t.csv", text: "0," + fields.joined(separator: ",") + "\n1" + String(repeating: ",0", count: fields.count) + "\n")
        let split = try load(train, train)
        for (value, text) in zip(split.train.features, fields) {
            XCTAssertEqual(value.bitPattern, Float(text.hasPrefix(".") ? "0" + text : text == "7." ? "7" : text)!.bitPattern,
                           "field '\(text)' parsed as \(value)")
        }
    }

    func testHeaderRowIsSkippedOnlyWhenItsFirstFieldIsNotNumeric() throws {
        let header = try scratch.write("h.csv", text: "label,a,b\n1,2,3\n0,4,5\n")
        XCTAssertEqual(try load(header, header).train.count, 2)
        let quoted = try scratch.write("q.csv", text: "\"label\",\"a b\",\"c, d\"\n1,2,3\n")
        XCTAssertEqual(try load(quoted, quoted).train.labels, [1])
        let numeric = try scratch.write("n.csv", text: "0,a,b\n1,2,3\n")
        assertDataError(try load(numeric, numeric), contains: ["\(numeric):1:3: not a number: 'a'"])
        let headerOnly = try scratch.write("empty.csv", text: "label,x\n\n")
        assertDataError(try load(headerOnly), contains: [headerOnly, "no data rows"])
    }

    func testRaggedRowsNameFileAndLine() throws {
        let file = try scratch.write("ragged.csv", text: "1,2,3\n0,4,5\n1,6\n")
        assertDataError(try load(file, file), contains: ["\(file):3: expected 3 fields, found 2"])
        let long = try scratch.write("long.csv", text: "label,x,y\n1,2,3\n\n0,4,5,6\n")
        assertDataError(try load(long, long), contains: ["\(long):4: expected 3 fields, found 4"])
    }

    func testNonNumericFieldsNameFileLineAndColumn() throws {
        let file = try scratch.write("bad.csv", text: "1,2,3\n0,abc,5\n")
        assertDataError(try load(file, file), contains: ["\(file):2:3: not a number: 'abc'"])
        let empty = try scratch.write("empty-field.csv", text: "1,2,3\n0,,5\n")
        assertDataError(try load(empty, empty), contains: ["\(empty):2:3: not a number: ''"])
        let trailing = try scratch.write("trail.csv", text: "1,2,3x\n")
        assertDataError(try load(trailing, trailing), contains: ["\(trailing):1:5: not a number: '3x'"])
    }

    func testNaNAndInfiniteFeaturesAreRejected() throws {
        for (i, bad) in ["nan", "NaN", "inf", "-Infinity", "1e39"].enumerated() {
            let file = try scratch.write("nan\(i).csv", text: "1,2,3\n0,4,\(bad)\n")
            assertDataError(try load(file, file), contains: ["\(file):2:5: feature is NaN or infinite: '\(bad)'"])
        }
    }

    func testLabelsMustBeNonNegativeIntegers() throws {
        for (i, bad) in ["-1", "1.5", "nan", "1e20"].enumerated() {
            let file = try scratch.write("label\(i).csv", text: "1,2\n\(bad),4\n")
            assertDataError(try load(file, file), contains: ["\(file):2:1: label must be a non-negative integer, found '\(bad)'"])
        }
        let word = try scratch.write("word.csv", text: "1,2\ncat,4\n")
        assertDataError(try load(word, word), contains: ["\(word):2:1: not a number: 'cat'"])
        let integral = try scratch.write("integral.csv", text: "2.0,1\n")
        XCTAssertEqual(try load(integral, integral).train.labels, [2])
    }

    func testClassesAreAtLeastTwoAndCanBeFixed() throws {
        let zeros = try scratch.write("zeros.csv", text: "0,1\n0,2\n")
        XCTAssertEqual(try load(zeros, zeros).train.classes, 2)
        var options = DataOptions()
        options.classes = 3
        let file = try scratch.write("three.csv", text: "0,1\n2,2\n")
        XCTAssertEqual(try load(file, file, options: options).train.classes, 3)
        options.classes = 2
        assertDataError(try load(file, file, options: options), contains: ["\(file):2:1: label 2 is outside 0…1 (classes is 2)"])
    }

    func testTestFileOfAnotherWidthIsAnError() throws {
        let train = try scratch.write("train.csv", text: "1,2,3\n")
        let test = try scratch.write("test.csv", text: "label,a\n1,2\n")
        assertDataError(try load(train, test), contains: ["\(test):2: expected 3 fields (as in train.csv), found 2"])
    }

    func testLabelColumnOption() throws {
        let file = try scratch.write("last.csv", text: "1,2,7\n3,4,8\n")
        var options = DataOptions()
        options.labelColumn = -1
        let last = try load(file, file, options: options).train
        XCTAssertEqual(last.labels, [7, 8])
        XCTAssertEqual(last.features, [1, 2, 3, 4])
        options.labelColumn = 1
        XCTAssertEqual(try load(file, file, options: options).train.features, [1, 7, 3, 8])
        options.labelColumn = 3
        assertDataError(try load(file, file, options: options), contains: [file, "label column 3", "3 fields"])
    }

    func testLineEndingsBlankLinesBOMAndGzip() throws {
        let text = "\u{FEFF}label,x\r\n1,2\r\n\r\n0,3\r\n   \n"
        let file = try scratch.write("crlf.csv", text: text)
        let split = try load(file, file)
        XCTAssertEqual(split.train.labels, [1, 0])
        XCTAssertEqual(split.train.features, [2, 3])
        let gz = try scratch.writeGzip("data.csv.gz", Array(text.utf8))
        XCTAssertEqual(try load(gz, gz).train.features, [2, 3])
        let noFinalNewline = try scratch.write("nofinal.csv", text: "1,2\n0,3")
        XCTAssertEqual(try load(noFinalNewline, noFinalNewline).train.count, 2)
    }

    func testSingleColumnAndMissingFiles() throws {
        let one = try scratch.write("one.csv", text: "1\n2\n")
        assertDataError(try load(one), contains: ["\(one):1:", "at least one feature"])
        let missing = scratch.path + "/missing.csv"
        assertDataError(try load(missing), contains: [missing, "not found"])
        let train = try scratch.write("train.csv", text: "1,2\n")
        assertDataError(try load(train, missing), contains: [missing, "not found"])
    }

    func testStreamingGivesTheRowsOfTheWholeText() throws {
        // 3 MB of rows of varying length, so lines straddle the 1 MiB reads
        // at many offsets; raw and gzip'd, compared with a parse of the whole text.
        var state: UInt64 = 11
        var text = "\u{FEFF}label,a,b,c\n"
        for i in 0 ..< 60000 {
            let v = (0 ..< 3).map { _ in String(Double(dnicTestNext(&state) % 100_000) / 7) }
            text += "\(i % 4),\(v.joined(separator: ","))\r\n" + (i % 1000 == 0 ? "\n" : "")
        }
        let bytes = Array(text.utf8)
        XCTAssertGreaterThan(bytes.count, 3 << 20)
        let whole = try bytes.withUnsafeBufferPointer {
            try parseCSV($0, path: "whole", labelColumn: 0, width: nil, classes: nil)
        }
        XCTAssertEqual(whole.rows, 60000)
        for file in [try scratch.write("big.csv", bytes), try scratch.writeGzip("big.csv.gz", bytes)] {
            let streamed = try parseCSVFile(file, labelColumn: 0, width: nil, classes: nil)
            XCTAssertEqual(streamed.rows, whole.rows, file)
            XCTAssertEqual(streamed.fields, 4, file)
            XCTAssertEqual(streamed.labels, whole.labels, file)
            XCTAssertEqual(streamed.features, whole.features, file)
        }
    }

    func testALineLongerThanTheReadBufferAndErrorsDeepInTheFile() throws {
        let wide = 700_000  // a 1.4 MB line
        let row = "1" + String(repeating: ",2", count: wide) + "\n"
        let file = try scratch.write("wide.csv", text: row + row.replacingOccurrences(of: "1,", with: "0,"))
        let split = try load(file, file)
        XCTAssertEqual(split.train.dim, wide)
        XCTAssertEqual(split.train.labels, [1, 0])
        XCTAssertTrue(split.train.features.allSatisfy { $0 == 2 })
        let deep = try scratch.write("deep.csv", text: String(repeating: "1,0.5\n", count: 300_000) + "0,z\n")
        assertDataError(try load(deep), contains: ["\(deep):300001:3: not a number: 'z'"])
    }

    func testWithoutATestFileASeededFractionIsHeldOut() throws {
        let rows = (0 ..< 100).map { "\($0 % 3),\($0)" }.joined(separator: "\n")
        let file = try scratch.write("all.csv", text: rows)
        var options = DataOptions()
        let a = try load(file, options: options)
        XCTAssertEqual(a.train.count, 80)
        XCTAssertEqual(a.test.count, 20)
        XCTAssertEqual(a.train.classes, 3)
        XCTAssertEqual(Set(a.train.features + a.test.features), Set((0 ..< 100).map(Float.init)), "a partition")
        XCTAssertEqual(a.test.features, a.test.features.sorted(), "file order kept")
        XCTAssertEqual(try load(file, options: options).test.features, a.test.features, "same seed, same split")
        options.seed = 2
        XCTAssertNotEqual(try load(file, options: options).test.features, a.test.features)
        options.testFraction = 0.5
        XCTAssertEqual(try load(file, options: options).test.count, 50)
        for bad in [0, 1, -0.1, .nan] {
            options.testFraction = bad
            assertDataError(try load(file, options: options), contains: ["test fraction", "(0, 1)"])
        }
    }
}
