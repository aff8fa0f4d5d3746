import Foundation
import XCTest
@testable import Dnic

/// npy:X.npy,y.npy[,XTEST.npy,YTEST.npy] and npz:FILE.npz through the CLI:
/// files numpy writes train and load exactly; every hostile .npy (and a few
/// hostile .npz) is refused with exit status 1 and one stderr line, and
/// nothing is written.
final class DataNpyTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func dnic(_ args: [String]) throws -> ProcessRun {
        try ProcessRun.launch(CLITests.executable.path, args + ["--threads", "1"], directory: dir.path)
    }

    /// Runs a numpy script in the scratch directory; skips without numpy.
    func numpy(_ script: String) throws {
        let check = try? ProcessRun.launch("/usr/bin/env", ["python3", "-c", "import numpy"])
        guard let check, check.status == 0 else { throw XCTSkip("python3 with numpy is not installed (apt-get install python3-numpy)") }
        let run = try ProcessRun.launch("/usr/bin/env", ["python3", "-c", "import numpy as np\n" + script], directory: dir.path)
        XCTAssertEqual(run.status, 0, run.stderr)
    }

    /// Rows of 3 features (i*3+j) % 7 / 4, exact in every float type; labels i % 3.
    let rows = 50
    func expectedFeatures(uint8: Bool) -> [Float] {
        (0 ..< rows * 3).map { uint8 ? Float($0 % 256) / 255 : Float($0 % 7) / 4 }
    }
    let expectedLabels: [Int32] = (0 ..< 50).map { Int32($0 % 3) }

    func trainsWithoutComplaint(_ data: String) throws {
        let r = try dnic(["train", "--data", data, "--hidden", "1", "--width", "8", "--epochs", "1", "--save", "m.st"])
        XCTAssertEqual(r.status, 0, "\(data): \(r.stderr)")
        XCTAssertEqual(r.stderr, "", data)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("m.st")), data)
        try? FileManager.default.removeItem(atPath: path("m.st"))
    }

    func testNumpyWrittenNpyFilesTrainAndLoadExactly() throws {
        try numpy("""
        i = np.arange(50 * 3).reshape(50, 3)
        for t in ['f4', 'f8']: np.save('x_' + t + '.npy', ((i % 7) / 4).astype(t))
        np.save('x_u1.npy', (i % 256).astype('u1'))
        for t in ['i4', 'i8', 'u1']: np.save('y_' + t + '.npy', (np.arange(50) % 3).astype(t))
        """)
        for (x, y) in [("f4", "i4"), ("f8", "i8"), ("u1", "u1"), ("f4", "u1")] {
            let data = "npy:x_\(x).npy,y_\(y).npy"
            try trainsWithoutComplaint(data)
            try trainsWithoutComplaint(data + ",x_\(x).npy,y_\(y).npy")
            let split = try loadData(.npy(features: path("x_\(x).npy"), labels: path("y_\(y).npy"),
                                          testFeatures: path("x_\(x).npy"), testLabels: path("y_\(y).npy")), options: DataOptions())
            XCTAssertEqual(split.train.features, expectedFeatures(uint8: x == "u1"), data)
            XCTAssertEqual(split.train.labels, expectedLabels, data)
            XCTAssertEqual(split.train.dim, 3)
            XCTAssertEqual(split.train.classes, 3)
            XCTAssertEqual(split.test.count, 50)
        }
    }

    /// Without test files a seeded 20% is held out for testing, as for csv:.
    func testNpyWithoutTestFilesHoldsOutTheCSVShare() throws {
        try numpy("np.save('x.npy', ((np.arange(150).reshape(50, 3) % 7) / 4).astype('f4')); np.save('y.npy', np.arange(50) % 3)")
        let split = try loadData(.npy(features: path("x.npy"), labels: path("y.npy"), testFeatures: nil, testLabels: nil),
                                 options: DataOptions())
        XCTAssertEqual(split.test.count, 10)
        XCTAssertEqual(split.train.count, 40)
        let r = try dnic(["train", "--data", "npy:x.npy,y.npy", "--epochs", "1", "--width", "8", "--hidden", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// eval scores the run's held-out part by default, and a file given
    /// with --data whole (as test data), as for csv:.
    func testEvalScoresTheHoldOutOrTheGivenFilesWhole() throws {
        try numpy("""
        x = ((np.arange(150).reshape(50, 3) % 7) / 4).astype('f4'); y = np.arange(50) % 3
        np.save('x.npy', x); np.save('y.npy', y); np.savez_compressed('t.npz', x_train=x, y_train=y, x_test=x[:7], y_test=y[:7])
        """)
        for (data, held, whole) in [("npy:x.npy,y.npy", 10, 50), ("npz:t.npz", 7, 7)] {
            let train = try dnic(["train", "--data", data, "--epochs", "1", "--width", "8", "--hidden", "1", "--save", "m.st"])
            XCTAssertEqual(train.status, 0, train.stderr)
            let own = try dnic(["eval", "--checkpoint", "m.st"])
            XCTAssertEqual(own.status, 0, own.stderr)
            XCTAssertTrue(own.stdout.contains("on \(held) examples of \(data)"), own.stdout)
            let given = try dnic(["eval", "--checkpoint", "m.st", "--data", data])
            XCTAssertEqual(given.status, 0, given.stderr)
            XCTAssertTrue(given.stdout.contains("on \(whole) examples of \(data)"), given.stdout)
            try FileManager.default.removeItem(atPath: path("m.st"))
        }
    }

    func testNumpyWrittenNpzArchivesTrainAndLoadExactly() throws {
        try numpy("""
        x = ((np.arange(150).reshape(50, 3) % 7) / 4).astype('f4'); y = np.arange(50) % 3
        np.savez('plain.npz', x_train=x, y_train=y)
        np.savez_compressed('packed.npz', x_train=x, y_train=y.astype('u1'), x_test=x[:7], y_test=y[:7])
        np.savez('xy.npz', x=x.astype('f8'), y=y.astype('i4'))
        """)
        for name in ["plain.npz", "packed.npz", "xy.npz"] {
            try trainsWithoutComplaint("npz:" + name)
            let split = try loadData(.npz(file: path(name)), options: DataOptions())
            let held = name == "packed.npz" ? 0 : 10
            XCTAssertEqual(split.train.count + split.test.count, 50 + (held == 0 ? 7 : 0), name)
            XCTAssertEqual(split.test.count, held == 0 ? 7 : 10, name)
            if held == 0 {
                XCTAssertEqual(split.train.features, expectedFeatures(uint8: false), name)
                XCTAssertEqual(split.train.labels, expectedLabels, name)
                XCTAssertEqual(split.test.labels, Array(expectedLabels.prefix(7)), name)
            }
        }
    }

    // MARK: hostile files

    /// A .npy written by hand: any header text, any payload.
    func npy(_ header: String, _ payload: [UInt8], version: UInt8 = 1) -> [UInt8] {
        var text = Array(header.utf8)
        while (10 + text.count + 1) % 64 != 0 { text.append(32) }
        text.append(10)
        return [0x93] + Array("NUMPY".utf8) + [version, 0, UInt8(text.count & 255), UInt8(text.count >> 8)] + text + payload
    }

    func header(_ descr: String, _ shape: String, fortran: Bool = false) -> String {
        "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
    }

    func floats(_ values: [Float]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

    func hash(_ file: String) -> Data? { FileManager.default.contents(atPath: file) }

    /// Trains on `x`, `y`: status 1, exactly one line on stderr naming
    /// `named` with `words`, no checkpoint, the inputs unchanged.
    func assertRefused(x: [UInt8], y: [UInt8], named: String, _ words: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try Data(x).write(to: dir.appendingPathComponent("x.npy"))
        try Data(y).write(to: dir.appendingPathComponent("y.npy"))
        let before = [hash(path("x.npy")), hash(path("y.npy"))]
        let r = try dnic(["train", "--data", "npy:x.npy,y.npy", "--epochs", "1", "--save", "m.st"])
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 2, "one line and its newline: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("dnic: error: \(named): "), r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(words), "expected '\(words)' in: \(r.stderr)", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("m.st")), file: file, line: line)
        XCTAssertEqual([hash(path("x.npy")), hash(path("y.npy"))], before, file: file, line: line)
    }

    var x2x2: [UInt8] { npy(header("<f4", "(2, 2)"), floats([0, 1, 2, 3])) }
    var y2: [UInt8] { npy(header("<i8", "(2,)"), [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]) }

    func testGoodHandWrittenPairLoads() throws {
        try Data(x2x2).write(to: dir.appendingPathComponent("x.npy"))
        try Data(y2).write(to: dir.appendingPathComponent("y.npy"))
        let split = try loadData(.npy(features: path("x.npy"), labels: path("y.npy"), testFeatures: path("x.npy"), testLabels: path("y.npy")),
                                 options: DataOptions())
        XCTAssertEqual(split.train.features, [0, 1, 2, 3])
        XCTAssertEqual(split.train.labels, [0, 1])
        try trainsWithoutComplaint("npy:x.npy,y.npy,x.npy,y.npy")
    }

    func testLyingShapeIsTruncation() throws {
        try assertRefused(x: npy(header("<f4", "(1000000, 2)"), floats([0, 1, 2, 3])), y: y2, named: "x.npy",
                          "truncated: header declares shape (1000000, 2) of '<f4' (8000000 bytes) but the file holds only 16")
    }

    func testShapeOverTheLimitIsRefusedBeforeAllocating() throws {
        try assertRefused(x: npy(header("<f4", "(4294967296, 4294967296)"), floats([0])), y: y2, named: "x.npy", "over the")
    }

    func testEmptyArrayWithHugeAxesIsRefused() throws {
        try assertRefused(x: npy(header("<f4", "(1, 0, 4294967296, 4294967296)"), []), y: y2, named: "x.npy", "nothing to load")
    }

    func testTrailingBytesAreRefused() throws {
        try assertRefused(x: npy(header("<f4", "(2, 2)"), floats([0, 1, 2, 3, 4])), y: y2, named: "x.npy", "4 bytes of trailing data")
    }

    func testTruncatedDataIsRefused() throws {
        try assertRefused(x: Array(x2x2.dropLast(3)), y: y2, named: "x.npy", "truncated")
    }

    func testTruncatedHeaderIsRefused() throws {
        try assertRefused(x: Array(x2x2.prefix(30)), y: y2, named: "x.npy", "truncated")
    }

    func testNotNpyIsRefused() throws {
        try assertRefused(x: Array("0,1,2\n".utf8), y: y2, named: "x.npy", "not a .npy file")
    }

    func testGarbledHeaderIsRefused() throws {
        try assertRefused(x: npy("{'descr': '<f4', 'shape': (2, 2", floats([0, 1, 2, 3])), y: y2, named: "x.npy", "unreadable .npy header")
    }

    func testFortranOrderIsRefused() throws {
        try assertRefused(x: npy(header("<f4", "(2, 2)", fortran: true), floats([0, 1, 2, 3])), y: y2, named: "x.npy",
                          "fortran_order is True")
    }

    func testObjectArrayIsRefused() throws {
        try assertRefused(x: npy(header("|O", "(2, 2)"), [UInt8](repeating: 0, count: 32)), y: y2, named: "x.npy", "object array")
    }

    func testComplexDtypeIsRefused() throws {
        try assertRefused(x: npy(header("<c8", "(2, 2)"), [UInt8](repeating: 0, count: 32)), y: y2, named: "x.npy",
                          "dtype '<c8' is not supported")
    }

    func testBigEndianIsRefused() throws {
        try assertRefused(x: npy(header(">f4", "(2, 2)"), floats([0, 1, 2, 3])), y: y2, named: "x.npy", "big-endian dtype '>f4'")
    }

    func testIntegerFeaturesAreRefused() throws {
        try assertRefused(x: npy(header("<i4", "(2, 2)"), floats([0, 1, 2, 3])), y: y2, named: "x.npy", "features of dtype '<i4'")
    }

    func testNaNFeatureIsRefused() throws {
        try assertRefused(x: npy(header("<f4", "(2, 2)"), floats([0, 1, .nan, 3])), y: y2, named: "x.npy", "NaN or infinite")
    }

    func testOneDimensionalFeaturesAreRefused() throws {
        try assertRefused(x: npy(header("<f4", "(4,)"), floats([0, 1, 2, 3])), y: y2, named: "x.npy", "features of shape (4,)")
    }

    func testLabelCountMismatchIsRefused() throws {
        try assertRefused(x: x2x2, y: npy(header("|u1", "(3,)"), [0, 1, 0]), named: "y.npy", "3 labels but x.npy holds 2 rows")
    }

    func testNonIntegerLabelsAreRefused() throws {
        try assertRefused(x: x2x2, y: npy(header("<f4", "(2,)"), floats([0, 1])), named: "y.npy", "labels must be integers")
    }

    func testNegativeLabelIsRefused() throws {
        try assertRefused(x: x2x2, y: npy(header("|i1", "(2,)"), [0, 0xFF]), named: "y.npy", "label -1 at index 1 is negative")
    }

    func testLabelsOfTwoColumnsAreRefused() throws {
        try assertRefused(x: x2x2, y: npy(header("|u1", "(2, 2)"), [0, 1, 0, 1]), named: "y.npy", "labels of shape (2, 2)")
    }

    func testNpzHostileArchives() throws {
        try numpy("""
        x = np.zeros((4, 2), 'f4'); y = np.arange(4) % 2
        np.savez('names.npz', a=x, b=y)
        np.savez_compressed('good.npz', x_train=x, y_train=y)
        b = open('good.npz', 'rb').read(); open('cut.npz', 'wb').write(b[:len(b) // 2])
        i = b.find(b'PK\\x01\\x02'); open('crc.npz', 'wb').write(b[:i + 16] + bytes([b[i + 16] ^ 1]) + b[i + 17:])
        np.savez('half.npz', x_train=x, y_train=y, x_test=x)
        """)
        for (name, words) in [("names.npz", "no training arrays: expected members x_train and y_train (or x and y); found a, b"),
                              ("cut.npz", "not a .npz file"), ("crc.npz", "CRC-32 mismatch"),
                              ("half.npz", "has x_test but not its pair")] {
            let before = hash(path(name))
            let r = try dnic(["train", "--data", "npz:" + name, "--epochs", "1", "--save", "m.st"])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n", omittingEmptySubsequences: false).count, 2, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("dnic: error: \(name)"), r.stderr)
            XCTAssertTrue(r.stderr.contains(words), "expected '\(words)' in: \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("m.st")))
            XCTAssertEqual(hash(path(name)), before)
        }
    }

    func testBadNpySpecIsAUsageError() throws {
        let r = try dnic(["train", "--data", "npy:x.npy,y.npy,t.npy", "--epochs", "1"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n", omittingEmptySubsequences: false).count, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("npy: takes one, two or four non-empty file names"), r.stderr)
    }
}
