import Foundation
import XCTest
@testable import Dnic

/// Checkpoints that are well formed but lie about the run: each is refused
/// at load with one line naming what is wrong, before anything trains.
extension CheckpointTests {
    /// A saved checkpoint of the small network, edited by `edit`, then loaded.
    func loadEdited(_ edit: (inout SafeTensors) -> Void) throws -> Checkpoint.Loaded {
        let (net, config) = try smallNetwork()
        let path = try tempPath("lying.safetensors")
        try save(net, config, step: 42, to: path)
        var file = try SafeTensors.read(path: path)
        edit(&file)
        try file.write(to: path)
        return try Checkpoint.load(path: path)
    }

    func assertRefused(_ words: [String], _ edit: (inout SafeTensors) -> Void, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try loadEdited(edit), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(error is DnicError, "\(type(of: error)): \(text)", file: file, line: line)
            XCTAssertFalse(text.contains("\n"), text, file: file, line: line)
            for w in words { XCTAssertTrue(text.contains(w), "lacks '\(w)': \(text)", file: file, line: line) }
        }
    }

    func testUneditedCheckpointLoads() throws {
        XCTAssertEqual(try loadEdited { _ in }.step, 42)
    }

    /// Adam's second moment is a mean of squares: a negative entry would
    /// make the first resumed step take the square root of it (NaN).
    func testNegativeSecondMomentIsRefused() {
        assertRefused(["optimizer.v.layer0.weight", "negative"]) { file in
            let i = file.tensors.firstIndex { $0.name == "optimizer.v.layer0.weight" }!
            file.tensors[i].values[3] = -0.5
        }
    }

    /// The plain `step`, `data_position` and `data_rng` a reader sees must
    /// agree with the trainer state a resumed run continues from.
    func testMetadataContradictingTheTrainerStateIsRefused() {
        assertRefused(["metadata step '7'", "trainer_state", "42"]) { $0.metadata["step"] = "7" }
        assertRefused(["metadata data_position"]) { $0.metadata["data_position"] = "99" }
        assertRefused(["metadata data_rng"]) { $0.metadata["data_rng"] = "1" }
    }
}

extension CheckpointTests {
    /// Early stopping's state a resumed run counts on: garbled or lying, it is refused; absent (an older checkpoint), the run loads.
    func testGarbledEarlyStoppingStateIsRefused() throws {
        let good = #"{"monitor":"validation_loss","patience":3,"since_best":1,"best_step":40,"best":0.25}"#
        let loaded = try loadEdited { $0.metadata["early_stopping"] = good }
        XCTAssertEqual(loaded.earlyStopping?.best, EarlyStopping.Best(step: 40, value: 0.25))
        XCTAssertEqual(loaded.earlyStopping?.sinceBest, 1)
        XCTAssertNil(try loadEdited { $0.metadata["early_stopping"] = nil }.earlyStopping)
        for (text, words) in [
            ("{", ["early_stopping", "not valid"]),
            (#"{"monitor":"test_loss","patience":3,"since_best":0}"#, ["early_stopping", "test_loss"]),
            (#"{"monitor":"validation_loss","patience":0,"since_best":0}"#, ["early_stopping", "patience"]),
            (#"{"monitor":"validation_loss","patience":3,"since_best":2}"#, ["early_stopping", "without a best"]),
            (#"{"monitor":"validation_loss","patience":3,"since_best":0,"best_step":40}"#, ["early_stopping", "go together"]),
            (#"{"monitor":"validation_loss","patience":3,"since_best":0,"best_step":43,"best":0.1}"#, ["best_step 43", "step 42"]),
        ] {
            assertRefused(words) { $0.metadata["early_stopping"] = text }
        }
    }
}
