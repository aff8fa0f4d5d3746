import Dnic
import Foundation
import XCTest

/// `dnic predict` and `dnic eval --per-class/--json`, through the CLI, on a
/// small model trained here and a CSV written here.
final class CLIPredictEvalTests: XCTestCase {
    /// A trained 2-feature model and a CSV of `rows` labelled rows (label, x, y) beside it.
    func fixture(rows: Int = 57, features: Int = 2) throws -> (dir: String, checkpoint: String, csv: String) {
        let dir = try Habit.directory(self)
        let checkpoint = dir + "/model.safetensors"
        let train = try Habit.run(["train", "--data", "synth:linear-2d", "--hidden", "1", "--width", "8", "--epochs", "2",
                                   "--save", checkpoint, "--quiet"], in: dir)
        XCTAssertEqual(train.status, 0, train.stderr)
        var state: UInt64 = 12345
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) * 4 - 2
        }
        var text = ""
        for _ in 0 ..< rows {
            let x = (0 ..< features).map { _ in next() }
            text += "\(x[0] > x[1] ? 1 : 0)," + x.map { String(format: "%.4f", $0) }.joined(separator: ",") + "\n"
        }
        let csv = dir + "/rows.csv"
        try text.write(toFile: csv, atomically: true, encoding: .utf8)
        return (dir, checkpoint, csv)
    }

    /// The classes of a predict CSV (its first column, header dropped).
    func classes(_ text: String) -> [Int] { Habit.lines(text).dropFirst().map { Int($0.split(separator: ",")[0])! } }

    func testPredictIsTheModelsArgmaxForEveryRowInInputOrder() throws {
        let f = try fixture()
        let run = try Habit.run(["predict", "--checkpoint", f.checkpoint, "--data", "csv:" + f.csv, "--proba"], in: f.dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "")
        XCTAssertEqual(Habit.lines(run.stdout).first, "class,p0,p1")
        // the model run through the library: the argmax of its outputs, row by row
        let loaded = try Checkpoint.load(path: f.checkpoint)
        let data = try loadTestData(.csv(train: f.csv, test: nil), options: loaded.config.dataOptions, wholeFiles: true).test
        XCTAssertEqual(data.count, 57, "the file whole")
        let logits = try loaded.network.activations(of: data, layer: loaded.network.layerCount - 1)
        let argmax = (0 ..< data.count).map { r in logits[r * 2 + 1] > logits[r * 2] ? 1 : 0 }
        XCTAssertEqual(classes(run.stdout), argmax)
        // and what eval counts correct: the same guesses score the library's accuracy
        let correct = zip(classes(run.stdout), data.labels).filter { $0 == Int($1) }.count
        XCTAssertEqual(Double(correct) / Double(data.count), try loaded.network.evaluate(data).accuracy)
        // probabilities sum to 1 and the class is the likelier one
        for line in Habit.lines(run.stdout).dropFirst() {
            let fields = line.split(separator: ",")
            let p = fields.dropFirst().map { Double($0)! }
            XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-6)
            XCTAssertEqual(Int(fields[0])!, p[1] > p[0] ? 1 : 0)
        }
        // --out holds what standard output showed, and nothing else is left in the directory
        let out = f.dir + "/predictions.csv"
        let written = try Habit.run(["predict", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv", "--proba", "--out", out], in: f.dir)
        XCTAssertEqual(written.status, 0, written.stderr)
        XCTAssertEqual(written.stdout, "57 predictions for csv:rows.csv written to \(out)\n")
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), run.stdout)
        XCTAssertEqual(Set(Habit.contents(f.dir).keys), ["model.safetensors", "rows.csv", "predictions.csv"])
    }

    func testPredictKeepsTheInputsOrder() throws {
        let f = try fixture()
        let forward = try Habit.run(["predict", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv"], in: f.dir)
        XCTAssertEqual(forward.status, 0, forward.stderr)
        let lines = try String(contentsOfFile: f.csv, encoding: .utf8).split(separator: "\n")
        try (lines.reversed().joined(separator: "\n") + "\n").write(toFile: f.dir + "/reversed.csv", atomically: true, encoding: .utf8)
        let backward = try Habit.run(["predict", "--checkpoint", f.checkpoint, "--data", "csv:reversed.csv"], in: f.dir)
        XCTAssertEqual(backward.status, 0, backward.stderr)
        XCTAssertEqual(classes(backward.stdout), classes(forward.stdout).reversed())
        XCTAssertEqual(Set(classes(forward.stdout)), [0, 1], "a fixture whose rows get both classes")
    }

    func testPredictRefusesRowsOfNeitherWidthInOneLineAndWritesNothing() throws {
        let f = try fixture(features: 3)  // rows of 4 fields: neither 2 features nor 2 and a label
        let before = Habit.contents(f.dir)
        let run = try Habit.run(["predict", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv", "--out", "p.csv"], in: f.dir)
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.stdout, "")
        XCTAssertEqual(run.stderr, "dnic: error: rows.csv: rows of 4 fields; the model takes 2 features: give rows of 2 fields, or 3 with a label\n")
        XCTAssertEqual(Habit.contents(f.dir), before)
    }

    func testPredictRefusesNpzOutputInOneLineAndWritesNothing() throws {
        let f = try fixture()
        let before = Habit.contents(f.dir)
        let run = try Habit.run(["predict", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv", "--out", "p.npz"], in: f.dir)
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.stderr, "dnic: error: --out p.npz: .npz output is not supported; give a .npy or .csv file\n")
        XCTAssertEqual(Habit.contents(f.dir), before)
    }

    /// Runs `script` under python3 with numpy in `dir` and returns its
    /// standard output; skips where python3 lacks numpy.
    func numpy(_ script: String, in dir: String) throws -> String {
        let check = try? ProcessRun.launch("/usr/bin/env", ["python3", "-c", "import numpy"])
        guard let check, check.status == 0 else { throw XCTSkip("python3 with numpy is not installed (apt-get install python3-numpy)") }
        let run = try ProcessRun.launch("/usr/bin/env", ["python3", "-c", "import numpy as np, csv\n" + script], directory: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        return run.stdout
    }

    func testPredictNpyOutIsWhatTheCSVSaysAsNumpyLoadsIt() throws {
        let f = try fixture()
        for (flags, name) in [([String](), "c"), (["--proba"], "p")] {
            let csv = try Habit.run(["predict", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv", "--out", name + ".csv"] + flags,
                                    in: f.dir)
            XCTAssertEqual(csv.status, 0, csv.stderr)
            let npy = try Habit.run(["predict", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv", "--out", name + ".npy"] + flags,
                                    in: f.dir)
            XCTAssertEqual(npy.status, 0, npy.stderr)
            XCTAssertEqual(npy.stdout, "57 predictions for csv:rows.csv written to \(name).npy\n")
        }
        // version 1.0, C order; classes: int32 (n,) equal to the CSV's;
        // probabilities: float32 (n, 2), each the float the CSV writes, whose argmax is the CSV's class
        let said = try numpy("""
            f = open('c.npy', 'rb'); print(np.lib.format.read_magic(f), np.lib.format.read_array_header_1_0(f)[1])
            c = np.load('c.npy'); rows = list(csv.reader(open('c.csv')))
            assert rows[0] == ['class'], rows[0]
            print(c.dtype, c.shape, (c == np.array([int(r[0]) for r in rows[1:]], dtype=np.int32)).all())
            p = np.load('p.npy'); rows = list(csv.reader(open('p.csv')))
            assert rows[0] == ['class', 'p0', 'p1'], rows[0]
            want = np.array([[np.float32(x) for x in r[1:]] for r in rows[1:]], dtype=np.float32)
            print(p.dtype, p.shape, (p == want).all(), (p.argmax(axis=1) == c).all())
            """, in: f.dir)
        XCTAssertEqual(said, "(1, 0) False\nint32 (57,) True\nfloat32 (57, 2) True True\n")
        XCTAssertEqual(Set(Habit.contents(f.dir).keys), ["model.safetensors", "rows.csv", "c.csv", "c.npy", "p.csv", "p.npy"],
                       "nothing but the outputs (no temporary file) left beside them")
    }

    func testPredictClassifiesRowsWithoutALabelColumnWithOrWithoutAHeader() throws {
        let f = try fixture()
        let labelled = try Habit.run(["predict", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv", "--proba"], in: f.dir)
        XCTAssertEqual(labelled.status, 0, labelled.stderr)
        let features = try String(contentsOfFile: f.csv, encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",").dropFirst().joined(separator: ",") }
        try (features.joined(separator: "\n") + "\n").write(toFile: f.dir + "/new.csv", atomically: true, encoding: .utf8)
        try ("x,y\n" + features.joined(separator: "\n") + "\n").write(toFile: f.dir + "/header.csv", atomically: true, encoding: .utf8)
        for file in ["new.csv", "header.csv"] {
            let run = try Habit.run(["predict", "--checkpoint", f.checkpoint, "--data", "csv:" + file, "--proba"], in: f.dir)
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(run.stderr, "")
            XCTAssertEqual(run.stdout, labelled.stdout, "\(file): the same rows, the same predictions")
        }
    }

    func testPredictClassifiesNpyFeaturesAloneWhichEvalAndTrainRefuse() throws {
        let f = try fixture()
        _ = try numpy("""
            rows = np.loadtxt('rows.csv', delimiter=',', dtype=np.float32)
            np.save('x.npy', rows[:, 1:]); np.save('y.npy', rows[:, 0].astype(np.int64))
            """, in: f.dir)
        let csv = try Habit.run(["predict", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv", "--proba"], in: f.dir)
        XCTAssertEqual(csv.status, 0, csv.stderr)
        for data in ["npy:x.npy", "npy:x.npy,y.npy"] {
            let run = try Habit.run(["predict", "--checkpoint", f.checkpoint, "--data", data, "--proba"], in: f.dir)
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(run.stdout, csv.stdout, "\(data): the same rows, the same predictions")
        }
        let before = Habit.contents(f.dir)
        let eval = try Habit.run(["eval", "--checkpoint", f.checkpoint, "--data", "npy:x.npy", "--csv", "c.csv"], in: f.dir)
        XCTAssertEqual(eval.status, 2)
        XCTAssertEqual(eval.stderr, "dnic: error: npy:x.npy holds features without labels: eval needs each row's label; "
                       + "`dnic predict` classifies unlabelled rows\n")
        let train = try Habit.run(["train", "--data", "npy:x.npy", "--steps", "2", "--save", "t.st"], in: f.dir)
        XCTAssertEqual(train.status, 1)
        XCTAssertEqual(train.stderr, "dnic: error: --data npy:x.npy: features without labels; give the labels too (npy:X.npy,y.npy); "
                       + "`dnic predict` classifies unlabelled rows\n")
        XCTAssertEqual(Habit.contents(f.dir), before)
    }

    func testEvalRefusesRowsWithoutALabelColumnOrOfAnotherWidthInOneLine() throws {
        let f = try fixture()
        let features = try String(contentsOfFile: f.csv, encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",").dropFirst().joined(separator: ",") }
        try (features.joined(separator: "\n") + "\n").write(toFile: f.dir + "/new.csv", atomically: true, encoding: .utf8)
        let before = Habit.contents(f.dir)
        let run = try Habit.run(["eval", "--checkpoint", f.checkpoint, "--data", "csv:new.csv", "--json", "e.json"], in: f.dir)
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.stdout, "")
        XCTAssertEqual(run.stderr, "dnic: error: csv:new.csv holds features without labels: eval needs each row's label; "
                       + "`dnic predict` classifies unlabelled rows\n")
        XCTAssertEqual(Habit.contents(f.dir), before)
        // rows of neither width: the line asks for the label
        try "1,0.5,0.25,2\n".write(toFile: f.dir + "/wide.csv", atomically: true, encoding: .utf8)
        let wideBefore = Habit.contents(f.dir)
        let wide = try Habit.run(["eval", "--checkpoint", f.checkpoint, "--data", "csv:wide.csv", "--json", "e.json"], in: f.dir)
        XCTAssertEqual(wide.status, 2)
        XCTAssertEqual(wide.stderr, "dnic: error: wide.csv: rows of 4 fields; the model takes 2 features: give rows of 3 fields, the label first\n")
        XCTAssertEqual(Habit.contents(f.dir), wideBefore)
    }

    func testPredictRefusesProbabilitiesOfAnMSEModelInOneLine() throws {
        let dir = try Habit.directory(self)
        let train = try Habit.run(["train", "--data", "synth:xor-2d", "--hidden", "1", "--width", "8", "--steps", "10",
                                   "--loss", "mse", "--save", "mse.st", "--quiet"], in: dir)
        XCTAssertEqual(train.status, 0, train.stderr)
        let before = Habit.contents(dir)
        let run = try Habit.run(["predict", "--checkpoint", "mse.st", "--data", "synth:xor-2d", "--proba", "--out", "p.csv"], in: dir)
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.stderr, "dnic: error: --proba: mse.st was trained with --loss mse, whose outputs are not probabilities\n")
        XCTAssertEqual(Habit.contents(dir), before)
        let classes = try Habit.run(["predict", "--checkpoint", "mse.st", "--data", "synth:xor-2d"], in: dir)
        XCTAssertEqual(classes.status, 0, classes.stderr)
        XCTAssertEqual(Habit.lines(classes.stdout).count, 501, "a header and the 500 test rows")
    }

    func testEvalPerClassAndJSONAddUpToTheWholeFile() throws {
        let f = try fixture()
        let run = try Habit.run(["eval", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv", "--per-class", "--json", "e.json"],
                                in: f.dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: f.dir + "/e.json"))) as? [String: Any])
        let confusion = try XCTUnwrap(json["confusion_matrix"] as? [[Int]])
        let perClass = try XCTUnwrap(json["per_class"] as? [[String: Any]])
        // every row of the file is scored, once
        XCTAssertEqual(json["examples"] as? Int, 57)
        XCTAssertEqual(perClass.map { $0["examples"] as! Int }.reduce(0, +), 57)
        XCTAssertEqual(confusion.flatMap { $0 }.reduce(0, +), 57)
        // the diagonal is what was right, and gives the C core's accuracy
        let diagonal = confusion.indices.map { confusion[$0][$0] }
        XCTAssertEqual(diagonal.reduce(0, +), json["correct"] as? Int)
        let loaded = try Checkpoint.load(path: f.checkpoint)
        let data = try loadTestData(.csv(train: f.csv, test: nil), options: loaded.config.dataOptions, wholeFiles: true).test
        let scored = try loaded.network.evaluate(data)
        XCTAssertEqual(json["accuracy"] as? Double, scored.accuracy)
        XCTAssertEqual(Double(diagonal.reduce(0, +)) / 57, scored.accuracy)
        XCTAssertTrue(run.stdout.hasPrefix(String(format: "test accuracy %.4f (test loss %.4f, macro-F1 ", scored.accuracy, scored.loss)),
                      run.stdout)
        // macro-F1 by hand: 2TP / (2TP + FP + FN) per class, averaged
        let f1 = confusion.indices.map { k -> Double in
            let tp = Double(confusion[k][k])
            let fn = Double(confusion[k].reduce(0, +)) - tp
            let fp = Double(confusion.map { $0[k] }.reduce(0, +)) - tp
            return 2 * tp / (2 * tp + fp + fn)
        }
        let macro = f1.reduce(0, +) / Double(f1.count)
        XCTAssertEqual(json["macro_f1"] as! Double, macro, accuracy: 1e-12)
        XCTAssertTrue(run.stdout.contains(String(format: "macro-F1 %.4f)", macro)), run.stdout)
        // the table: a line per class, and the confusion matrix with aligned columns
        let lines = Habit.lines(run.stdout)
        let matrixAt = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("confusion matrix") })
        let matrix = lines[(matrixAt + 1)...]
        XCTAssertEqual(matrix.count, 3, run.stdout)
        XCTAssertEqual(Set(matrix.map(\.count)).count, 1, "aligned: \(run.stdout)")
        XCTAssertEqual(matrix.dropFirst().map { $0.split(separator: " ").dropFirst().map { Int($0)! } }, confusion)
        XCTAssertEqual(Set(Habit.contents(f.dir).keys), ["model.safetensors", "rows.csv", "e.json"])
    }

    func testEvalSaysAClassWithoutExamplesHasNoAccuracy() throws {
        let dir = try Habit.directory(self)
        let rows = (0 ..< 60).map { i in "\(i % 3),\(Double(i % 3) + 0.01 * Double(i)),\(Double(i % 5))" }
        try (rows.joined(separator: "\n") + "\n").write(toFile: dir + "/train.csv", atomically: true, encoding: .utf8)
        try (rows.filter { !$0.hasPrefix("2,") }.joined(separator: "\n") + "\n")
            .write(toFile: dir + "/two.csv", atomically: true, encoding: .utf8)
        let train = try Habit.run(["train", "--data", "csv:train.csv", "--hidden", "1", "--width", "8", "--steps", "5",
                                   "--save", "m.st", "--quiet"], in: dir)
        XCTAssertEqual(train.status, 0, train.stderr)
        let run = try Habit.run(["eval", "--checkpoint", "m.st", "--data", "csv:two.csv", "--per-class", "--json", "e.json"], in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/e.json"))) as? [String: Any])
        let perClass = try XCTUnwrap(json["per_class"] as? [[String: Any]])
        XCTAssertEqual(perClass.count, 3, "every class the model has")
        XCTAssertEqual(perClass.map { $0["examples"] as! Int }, [20, 20, 0])
        XCTAssertTrue(perClass[2]["accuracy"] is NSNull, "null, not left out: \(perClass[2])")
        let classRow = try XCTUnwrap(Habit.lines(run.stdout).first { $0.hasPrefix("    2 ") || $0.hasPrefix("2 ") })
        XCTAssertTrue(classRow.contains(" - "), String(classRow))
    }

    func testEvalJSONRefusesAnExistingFileAndLeavesIt() throws {
        let f = try fixture()
        try "keep\n".write(toFile: f.dir + "/e.json", atomically: true, encoding: .utf8)
        let before = Habit.contents(f.dir)
        let run = try Habit.run(["eval", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv", "--json", "e.json"], in: f.dir)
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(Habit.lines(run.stderr).count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("--json e.json"), run.stderr)
        XCTAssertEqual(Habit.contents(f.dir), before)
    }

    func testEvalCSVConfusionMatrixAddsUpToTheWholeFile() throws {
        let f = try fixture()
        let run = try Habit.run(["eval", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv", "--per-class", "--csv", "confusion.csv"],
                                in: f.dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        let rows = Habit.lines(try String(contentsOfFile: f.dir + "/confusion.csv", encoding: .utf8)).map { $0.split(separator: ",") }
        XCTAssertEqual(rows.first, ["true\\predicted", "0", "1"])
        XCTAssertEqual(rows.dropFirst().map { $0[0] }, ["0", "1"], "one row per true class, its label first")
        let counts = rows.dropFirst().map { $0.dropFirst().map { Int($0)! } }
        XCTAssertEqual(counts.flatMap { $0 }.reduce(0, +), 57, "every row of the file, once")
        // the diagonal is the per-class table's correct column, and its sum the accuracy eval prints
        let lines = Habit.lines(run.stdout)
        let tableAt = try XCTUnwrap(lines.firstIndex { $0.split(separator: " ").first == "class" })
        let correct = lines[(tableAt + 1) ... (tableAt + 2)].map { Int($0.split(separator: " ")[2])! }
        XCTAssertEqual(counts.indices.map { counts[$0][$0] }, correct)
        XCTAssertTrue(run.stdout.hasPrefix(String(format: "test accuracy %.4f ", Double(correct.reduce(0, +)) / 57)), run.stdout)
        XCTAssertEqual(Set(Habit.contents(f.dir).keys), ["model.safetensors", "rows.csv", "confusion.csv"])
    }

    func testEvalCSVRefusesAnExistingFileAndTheJSONPathAndLeavesThem() throws {
        let f = try fixture()
        try "keep\n".write(toFile: f.dir + "/c.csv", atomically: true, encoding: .utf8)
        let before = Habit.contents(f.dir)
        let existing = try Habit.run(["eval", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv", "--csv", "c.csv"], in: f.dir)
        XCTAssertEqual(existing.status, 2)
        XCTAssertEqual(existing.stderr, "dnic: error: --csv c.csv: file exists (pass --overwrite to replace it)\n")
        XCTAssertEqual(Habit.contents(f.dir), before)
        let same = try Habit.run(["eval", "--checkpoint", f.checkpoint, "--data", "csv:rows.csv", "--csv", "out.csv", "--json", "./out.csv"],
                                 in: f.dir)
        XCTAssertEqual(same.status, 2)
        XCTAssertEqual(same.stderr, "dnic: error: --csv out.csv: is also the --json path; give each its own file\n")
        XCTAssertEqual(Habit.contents(f.dir), before)
    }
}
