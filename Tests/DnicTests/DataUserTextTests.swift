import Foundation
import XCTest
@testable import Dnic

/// Paths and --data values come from users (a config value can be 100 MB
/// long), so every data-layer message quotes at most about 80 characters of
/// each: the message stays one short line whatever was typed.
final class DataUserTextTests: XCTestCase {
    var scratch: DataScratch!

    override func setUpWithError() throws { scratch = try DataScratch() }
    override func tearDown() { scratch.remove() }

    let huge = String(repeating: "a", count: 1 << 20)

    /// `body` throws a DataError of one line, under 300 characters, that
    /// contains each of `mentions`.
    func assertShort<T>(_ body: @autoclosure () throws -> T, mentions: [String] = [],
                        file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("accepted", file: file, line: line)
        } catch let error as DataError {
            let message = error.description  // setting keys written plainly, as a library user reads it
            XCTAssertLessThan(message.count, 300, "too long: \(message.prefix(400))", file: file, line: line)
            XCTAssertTrue(HostileInputTests.isOneLine(message), message, file: file, line: line)
            for m in mentions where !message.contains(m) {
                XCTFail("'\(message)' lacks '\(m)'", file: file, line: line)
            }
        } catch {
            XCTFail("expected a DataError, got \(error)", file: file, line: line)
        }
    }

    func testAMegabyteDataValueGivesAShortMessage() {
        for text in [huge, "csv:" + huge + ",b,c", huge + ":x", "csv:,", "idx:"] {
            assertShort(try DataSpec.parse(text), mentions: ["expected one of fashion-mnist"])
        }
        assertShort(try DataSpec.parse("synth:" + huge), mentions: ["data 'synth:aaa", "…", "unknown synthetic dataset"])
        assertShort(try loadData(.synthetic(name: huge), options: DataOptions()), mentions: ["unknown synthetic dataset"])
        assertShort(try locateIDX(.csv(train: huge, test: nil)), mentions: ["not an IDX dataset"])
    }

    func testAMegabytePathGivesAShortMessage() throws {
        let good = try scratch.write("good.csv", text: "0,1\n1,2\n")
        let path = "/" + huge + "/train.csv"
        assertShort(try loadData(.idx(directory: "/" + huge), options: DataOptions()), mentions: ["not found"])
        assertShort(try loadData(.csv(train: path, test: nil), options: DataOptions()), mentions: ["train.csv: file not found"])
        assertShort(try loadData(.csv(train: good, test: path), options: DataOptions()), mentions: ["not found"])
        assertShort(try loadData(.fashionMNIST, options: DataOptions(), environment: ["DNIC_FASHION_MNIST_DIR": "/" + huge]),
                    mentions: ["apt-get install dataset-fashion-mnist"])
        var tiny = Dataset(name: "csv:" + huge, features: [1], labels: [0], count: 1, dim: 1, classes: 2)
        assertShort(try holdOut(&tiny, fraction: 0.5, seed: 1, stream: .validation, train: "t", part: "v"),
                    mentions: ["cannot hold out"])
    }

    /// A real path of some 400 characters: messages elide its middle and keep
    /// the file name, also where zlib would quote the path itself.
    func testALongRealPathIsElidedAndKeepsTheFileName() throws {
        var dir = scratch.path
        for i in 0 ..< 6 { dir += "/" + String(repeating: Character(String(i)), count: 60) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let images = dataIDXImages(count: 3, rows: 2, cols: 3, pixels: [UInt8](repeating: 1, count: 18))
        let gz = try scratch.gzipped(images)
        try scratch.write(dir + "/" + IDXFileNames.trainImages + ".gz", Array(gz.prefix(gz.count / 2)))
        try scratch.write(dir + "/" + IDXFileNames.trainLabels, dataIDXLabels([1, 2]))
        try scratch.write(dir + "/" + IDXFileNames.testImages, images)
        try scratch.write(dir + "/" + IDXFileNames.testLabels, dataIDXLabels([1, 2, 3]))
        assertShort(try loadData(.idx(directory: dir), options: DataOptions()),
                    mentions: ["/" + IDXFileNames.trainImages + ".gz: truncated or corrupt gzip", "…"])
        assertShort(try loadIDX(images: dir + "/" + IDXFileNames.testImages, labels: dir + "/" + IDXFileNames.trainLabels,
                                name: "t"),
                    mentions: ["2 labels but t10k-images-idx3-ubyte holds 3 images"])
        let train = try scratch.write(dir + "/train.csv", text: "0,1,2\n")
        let test = try scratch.write(dir + "/test.csv", text: "0,1\n")
        assertShort(try loadData(.csv(train: train, test: test), options: DataOptions()),
                    mentions: ["test.csv:1: expected 3 fields (as in train.csv), found 2"])
    }
}
