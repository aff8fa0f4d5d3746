import Foundation
import XCTest
@testable import DnicCLI

/// Every error path ends in one line without Swift type names: the errors
/// of Foundation and the standard library that no part of dnic words
/// itself are said in plain words, anything else generically.
final class HabitErrorWordsTests: XCTestCase {
    struct Sample: Encodable { let loss: Double }
    struct Other: Error {}

    /// Words a user must never see.
    static let swiftWords = ["Error.", "EncodingError", "DecodingError", "CocoaError", "NSCocoaErrorDomain", "Domain=",
                             "Context(", "Optional(", "Swift.", "Dnic.", "Other", "Sample"]

    func assertPlain(_ text: String, mentions needles: [String], file: StaticString = #filePath, line number: UInt = #line) {
        XCTAssertEqual(Habit.lines(text).count, 1, text, file: file, line: number)
        for word in Self.swiftWords { XCTAssertFalse(text.contains(word), "'\(word)' in: \(text)", file: file, line: number) }
        for needle in needles { XCTAssertTrue(text.contains(needle), "lacks '\(needle)': \(text)", file: file, line: number) }
    }

    func testEncodingANonFiniteNumberIsSaidInWords() throws {
        XCTAssertThrowsError(try JSONEncoder().encode([Sample(loss: .infinity)])) { error in
            assertPlain(ErrorWords.line(for: error), mentions: ["cannot write the result in JSON", "(inf)", "[0].loss", "not a finite number"])
        }
    }

    func testDecodingErrorsAreSaidInWords() throws {
        struct Wanted: Decodable { let step: Int }
        for (json, words) in [("{}", "step is missing"), ("{\"step\": \"x\"}", "step has a value of the wrong kind"),
                              ("{", "not valid JSON")] {
            XCTAssertThrowsError(try JSONDecoder().decode(Wanted.self, from: Data(json.utf8))) { error in
                assertPlain(ErrorWords.line(for: error), mentions: ["cannot read the file", words])
            }
        }
    }

    func testFileSystemErrorsNameThePathAndTheOSReason() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-words-\(UUID().uuidString)").path
        try Data().write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        XCTAssertThrowsError(try FileManager.default.createDirectory(atPath: file + "/sub", withIntermediateDirectories: true)) { error in
            assertPlain(ErrorWords.line(for: error), mentions: [file + "/sub: ", "Not a directory"])
        }
        assertPlain(ErrorWords.line(for: CocoaError(.fileWriteOutOfSpace)), mentions: ["No space left on device"])
        assertPlain(ErrorWords.line(for: POSIXError(.EIO)), mentions: ["Input/output error"])
    }

    /// A real trigger: `reproduce` cannot make DIR/thm1 because a file has
    /// that name. Foundation's error used to reach the user as
    /// `Error Domain=NSCocoaErrorDomain Code=516 "A file with the same name
    /// already exists." UserInfo={…}`.
    func testAFoundationErrorFromACommandIsOnePlainLine() throws {
        let dir = try Habit.directory(self)
        try FileManager.default.createDirectory(atPath: dir + "/q", withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: dir + "/q/thm1"))
        let before = Habit.contents(dir + "/q")
        let r = try Habit.run(["reproduce", "thm1", "--quick", "--out", "q", "--threads", "1"], in: dir)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(Habit.lines(r.stderr), ["dnic: error: q/thm1: File exists"])
        assertPlain(r.stderr, mentions: [])
        XCTAssertEqual(Habit.contents(dir + "/q"), before)
    }

    func testAnyOtherErrorGetsAGenericLine() {
        assertPlain(ErrorWords.line(for: Other()), mentions: ["an unexpected internal error", "please report it"])
    }
}
