import Foundation
import XCTest
@testable import Dnic

/// The rule that decides whether a resumed run continues a log, case by
/// case on hand-made logs (the CLI tests show it end to end).
final class LogContinuationTests: XCTestCase {
    let run = "00000000000000aa", other = "00000000000000bb"
    let saver = "000000000000000a", another = "000000000000000b"

    func record(_ event: String, _ step: Int, run: String? = nil, segment: String? = nil) -> String {
        var object: [String: Any] = ["event": event, "step": step, "test_loss": 0.5]
        object["run"] = run
        object["segment"] = segment
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    func ours(_ event: String, _ step: Int, segment: String? = nil) -> String { record(event, step, run: run, segment: segment ?? saver) }

    func log(_ lines: [String], tail: String = "") -> Data { Data((lines.map { $0 + "\n" }.joined() + tail).utf8) }

    /// The checkpoint: saved by segment `saver` of `run` at step 20 (nil identity: an earlier dnic).
    func verdict(_ data: Data, legacy: Bool = false) -> LogContinuation.Verdict {
        LogContinuation.verdict(data, resuming: .init(identity: legacy ? nil : RunIdentity(run: run, segment: saver)!, step: 20))
    }

    func kept(_ v: LogContinuation.Verdict) -> LogContinuation.Continuation? {
        if case .continue(let c) = v { return c }
        return nil
    }

    func refusal(_ v: LogContinuation.Verdict) -> String {
        if case .refuse(let why) = v { return why }
        return "(continued)"
    }

    func testEmptyOrEndingAtTheCheckpointContinues() {
        XCTAssertEqual(kept(verdict(Data())), .init(keep: 0, cutSteps: nil, tornLine: false))
        let lines = [ours("eval", 10), ours("checkpoint", 10), ours("eval", 20), ours("checkpoint", 20)]
        XCTAssertEqual(kept(verdict(log(lines))), .init(keep: log(lines).count, cutSteps: nil, tornLine: false))
        // written by another segment of the run, but not past the checkpoint
        let earlier = [ours("eval", 10, segment: another)]
        XCTAssertEqual(kept(verdict(log(earlier)))?.keep, log(earlier).count)
    }

    func testRecordsPastTheCheckpointFromItsSaverAreCutBack() {
        let before = [ours("eval", 10), ours("checkpoint", 15), ours("eval", 20)]
        let after = [ours("eval", 30), ours("eval", 40)]
        XCTAssertEqual(kept(verdict(log(before + after))), .init(keep: log(before).count, cutSteps: 30...40, tornLine: false))
        // and a line cut short at the end goes with them
        XCTAssertEqual(kept(verdict(log(before + after, tail: "{\"event\":\"ev"))),
                       .init(keep: log(before).count, cutSteps: 30...40, tornLine: true))
        XCTAssertEqual(kept(verdict(log(before, tail: "{\"ev"))), .init(keep: log(before).count, cutSteps: nil, tornLine: true))
    }

    func testRecordsPastTheCheckpointFromAnyoneElseOrAfterASaveAreRefused() {
        let before = [ours("eval", 10), ours("eval", 20)]
        // a fork: another continuation of the same checkpoint
        XCTAssertTrue(refusal(verdict(log(before + [ours("eval", 30, segment: another)])))
            .contains("holds this run's records up to step 30, past this checkpoint's step 20"))
        // the saver went on and saved again: this checkpoint is not its last
        XCTAssertTrue(refusal(verdict(log(before + [ours("eval", 30), ours("checkpoint", 30), ours("eval", 40)])))
            .contains("up to step 40, past this checkpoint's step 20"))
        // the saver finished
        XCTAssertTrue(refusal(verdict(log(before + [ours("eval", 30), ours("final", 30)]))).contains("past this checkpoint's step 20"))
    }

    func testFilesThatAreNotThisRunsLogAreRefused() {
        XCTAssertEqual(refusal(verdict(Data("plain text\n".utf8))), "is not a dnic log (its last line is not a dnic JSON record)")
        XCTAssertEqual(refusal(verdict(Data("no newline".utf8))), "is not a dnic log (it holds no complete line)")
        XCTAssertTrue(refusal(verdict(Data("{\"a\": 1}\n".utf8))).hasPrefix("is not a dnic log"))
        XCTAssertTrue(refusal(verdict(log([record("eval", 10, run: other, segment: saver)])))
            .contains("holds another run's records (run \(other); this checkpoint's run is \(run))"))
        XCTAssertTrue(refusal(verdict(log([record("eval", 10)]))).contains("holds records of another run (they carry no run id"))
        // a text line among the records past the checkpoint
        XCTAssertTrue(refusal(verdict(log([ours("eval", 10), "text", ours("eval", 30)]))).contains("a line before its last record"))
    }

    func testCheckpointsOfAnEarlierDnic() {
        let legacy = [record("eval", 10), record("eval", 20)]
        XCTAssertEqual(kept(verdict(log(legacy), legacy: true))?.keep, log(legacy).count)
        XCTAssertTrue(refusal(verdict(log(legacy + [record("eval", 30)]), legacy: true)).contains("kept no run ids"))
        XCTAssertTrue(refusal(verdict(log([ours("eval", 10)]), legacy: true)).contains("written by an earlier dnic, has no run id"))
    }

    func testRunIDsAreSixteenHexDigits() {
        let a = RunIdentity.starting(), b = RunIdentity.starting(run: a.run)
        XCTAssertEqual(a.run, b.run)
        XCTAssertNotEqual(a.segment, b.segment)
        XCTAssertNotNil(RunIdentity(run: a.run, segment: b.segment))
        XCTAssertNil(RunIdentity(run: "xyz", segment: b.segment))
        XCTAssertNil(RunIdentity(run: a.run.uppercased() + "0", segment: b.segment))
    }
}
