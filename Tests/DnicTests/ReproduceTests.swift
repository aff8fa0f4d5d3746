import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Dnic

/// `dnic reproduce`: every result's quick form end to end with the claims
/// that must hold even at small scale, resuming after SIGINT, and refusals.
extension CLITests {
    func json(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func testReproduceAllQuick() throws {
        let out = try tempDir().appendingPathComponent("results").path
        let r = try dnic(["reproduce", "all", "--quick", "--out", out, "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // a line per finished run on a non-terminal stderr, one verdict line per result on stdout
        XCTAssertTrue(r.stderr.contains("[1/8] thm1 run 1/6 backprop-lr0.05: done"), r.stderr)
        for id in ReportPage.order {
            XCTAssertTrue(r.stdout.contains("\n\(id): ") || r.stdout.hasPrefix("\(id): "), "\(id) in: \(r.stdout)")
            let report = try json("\(out)/\(id)/result.json") as? [String: Any] ?? [:]
            let verdict = report["verdict"] as? String ?? "?"
            let summary = try String(contentsOfFile: "\(out)/\(id)/summary.md", encoding: .utf8)
            XCTAssertTrue(summary.hasPrefix("# ") && summary.components(separatedBy: "\n")[0].hasSuffix("— \(verdict)"), summary)
            XCTAssertTrue(summary.contains("*Paper:*") && summary.contains("*Ours:*") && summary.contains("quick sizes"), id)
            for figure in report["figures"] as? [[String: Any]] ?? [] {
                let file = "\(out)/\(id)/\(figure["file"] as? String ?? "")"
                XCTAssertTrue(FileManager.default.fileExists(atPath: file), file)
                if file.hasSuffix(".svg") { XCTAssertTrue(XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: file))).parse(), file) }
                if file.hasSuffix(".png") { XCTAssertGreaterThan(try PNG.decode(Data(contentsOf: URL(fileURLWithPath: file))).width, 0, file) }
            }
        }
        // every result on the page, with its command
        let page = try String(contentsOfFile: "\(out)/index.html", encoding: .utf8)
        for id in ReportPage.order { XCTAssertTrue(page.contains("<section id=\"\(id)\">") && page.contains("dnic reproduce \(id) --out"), id) }
        XCTAssertFalse(page.contains("<script"), "no script on the page")
        // every table's and figure's labels agree with its data
        XCTAssertEqual(labelProblems(in: out), [])
        XCTAssertTrue(page.contains("Fashion-MNIST (standing in for the paper's MNIST)"), "the data that ran is named")

        // Theorem 1: the SG runs reach the least-squares fit
        for c in try json("\(out)/thm1/thm1.json") as? [[String: Any]] ?? [] where c["method"] as? String == "sg" {
            let d = c["distances"] as? [Double] ?? []
            XCTAssertGreaterThan(d.first ?? 0, 0.1, "starts far from the optimum")
            XCTAssertLessThan(d.last ?? 1, 1e-4, "ends at it")
        }
        // Table 2: MSE rows match backprop's optimum within 1e-4; the log-loss gap of a linear SG on separable data
        let cases = try json("\(out)/table2/table2.json") as? [[String: Any]] ?? []
        func loss(_ d: String, _ model: String, _ l: String, _ m: String) -> Double {
            cases.first { $0["dataset"] as? String == d && $0["model"] as? String == model && $0["loss"] as? String == l && $0["method"] as? String == m }?["finalLoss"] as? Double ?? .nan
        }
        var mseRows = 0
        for c in cases where c["loss"] as? String == "MSE" && c["method"] as? String != "backprop" {
            let d = c["dataset"] as! String, model = c["model"] as! String
            XCTAssertEqual(c["finalLoss"] as? Double ?? .nan, loss(d, model, "MSE", "backprop"), accuracy: 1e-4, "\(d) \(model) \(c["method"]!)")
            mseRows += 1
        }
        XCTAssertEqual(mseRows, 6, "output SGs of the linear model on 4 sets, output and middle SGs of the deep one")
        XCTAssertGreaterThan(loss("linear-100d", "linear", "log loss", "sg-output"), 1.5 * loss("linear-100d", "linear", "log loss", "backprop"))
        XCTAssertLessThan(loss("random-100d", "linear", "log loss", "sg-output"), 1.01 * loss("random-100d", "linear", "log loss", "backprop"),
                          "no gap on random labels")
        // the log loss is the paper's logistic regression: one sigmoid output (--classes 1 --loss logistic), not a 2-class softmax
        let logRun = try String(contentsOfFile: "\(out)/table2/runs/linear-2d-linear-log-sg-output.jsonl", encoding: .utf8)
        let logModel = ((try JSONSerialization.jsonObject(with: Data(logRun.prefix { $0 != "\n" }.utf8)) as? [String: Any])?["config"]
                        as? [String: Any])?["model"] as? [String: Any] ?? [:]
        XCTAssertEqual(logModel["loss"] as? String, "logistic", "\(logModel)")
        XCTAssertEqual(logModel["classes"] as? Int, 1, "\(logModel)")
        // with it, SG misses backprop's optimum on separable 2-D data: the deep linear model's output SG diverges, which the rule
        // counts as a gap. The 2-D linear model shows no gap at this scale (measured: 0.0348 vs backprop's 0.0343 after 4,000
        // steps; its SG tracks backprop until it diverges near step 19,000)
        let deep2d = cases.first { $0["dataset"] as? String == "linear-2d" && $0["model"] as? String == "deep linear"
                                   && $0["loss"] as? String == "log loss" && $0["method"] as? String == "sg-output" }?["finalLoss"]
        XCTAssertEqual(deep2d as? String, "inf", "diverged: \(String(describing: deep2d))")
        let table2Findings = (try json("\(out)/table2/result.json") as? [String: Any])?["findings"] as? [[String: Any]] ?? []
        let gapFinding = table2Findings.first { ($0["paper"] as? String ?? "").contains("separable data a linear SG does not reach") }
        XCTAssertTrue((gapFinding?["rule"] as? String ?? "").contains("diverged"), "a diverged SG counts as a gap: \(String(describing: gapFinding))")
        XCTAssertTrue((gapFinding?["ours"] as? String ?? "").contains("linear-2d deep linear diverged"), "\(String(describing: gapFinding))")
        // Figure 2: early on, the implied loss correlates positively with the true loss at the top interface
        let surfaces = try json("\(out)/fig2/fig2.json") as? [[String: Any]] ?? []
        XCTAssertEqual(surfaces.count, 8)
        let early = surfaces.compactMap { ($0["spearman"] as? [[Double]])?.first?.last }
        XCTAssertEqual(early.count, 8)
        XCTAssertGreaterThan(early.filter { $0 > 0 }.count, 6, "ρ > 0 early in (nearly) every run: \(early)")
        XCTAssertGreaterThan(early.reduce(0, +) / Double(early.count), 0.2, "\(early)")
        // snapshots by training-loss level: each taken when the loss over the training set first fell to its fraction of the initial
        for s in surfaces {
            let initial = s["initialLoss"] as? Double ?? .nan
            let levels = s["levels"] as? [[String: Any]] ?? []
            for l in levels {
                XCTAssertLessThanOrEqual(l["trainLoss"] as? Double ?? .nan, (l["fraction"] as? Double ?? .nan) * initial, "\(s["run"]!) \(l)")
            }
            let steps = levels.compactMap { $0["step"] as? Int }
            XCTAssertEqual(steps, steps.sorted(), "deeper levels later: \(s["run"]!)")
        }
        // the MSE runs on the nearly separable grid get to 1/10 of their initial loss within the quick run
        let gridMSE = surfaces.filter { ($0["run"] as? String ?? "").hasPrefix("grid-mse-") }
        XCTAssertEqual(gridMSE.count, 2)
        for s in gridMSE {
            XCTAssertTrue((s["levels"] as? [[String: Any]] ?? []).contains { $0["fraction"] as? Double == 0.1 }, "\(s["run"]!): \(s["levels"] ?? [])")
        }
        // Table 1: every rule beats chance (0.1) by a margin
        let rows = try json("\(out)/table1/table1.json") as? [[String: Any]] ?? []
        XCTAssertEqual(Set(rows.compactMap { $0["rule"] as? String }), ["backprop", "sg", "sgprop", "fa", "dfa", "kickback"])
        for row in rows { XCTAssertGreaterThan(row["testAccuracy"] as? Double ?? 0, 0.5, "\(row)") }
        // Figure 8: the probe on hidden layer 2 of the SG model classifies its training points as well as backprop's
        let probes = try json("\(out)/fig8/fig8.json") as? [[String: Any]] ?? []
        let layer2 = probes.map { (($0["layers"] as? [[String: Any]] ?? [])[2]["trainAccuracy"] as? Double) ?? 0 }
        XCTAssertEqual(layer2.count, 3)
        XCTAssertGreaterThan(layer2[1], 0.85, "SG model, layer 2")
        XCTAssertGreaterThan(layer2[1], layer2[0] - 0.03, "as with backprop")
        // Figures 4 and 5 wrote their numbers
        XCTAssertEqual((try json("\(out)/fig4/fig4.json") as? [Any])?.count, 8)
        XCTAssertEqual((try json("\(out)/fig5/fig5.json") as? [Any])?.count, 5)
        // fig5 and fig8 found fig3's runs complete
        XCTAssertTrue(r.stderr.contains("fig5 run 1/5 nobn-backprop: complete in DIR, skipped"), r.stderr)
        XCTAssertTrue(r.stderr.contains("fig8 run 1/3 backprop: complete in DIR, skipped"), r.stderr)
    }

    /// SIGINT in the middle of a run, the same command again: the complete
    /// runs are not redone (their files unchanged), the interrupted one
    /// continues from its checkpoint, and the result equals an
    /// uninterrupted run's.
    func testReproduceResumesAfterSIGINT() throws {
        let dir = try tempDir()
        let straight = dir.appendingPathComponent("straight").path, broken = dir.appendingPathComponent("broken").path
        let command = ["reproduce", "table1", "--quick", "--threads", "1", "--out"]
        XCTAssertEqual(try dnic(command + [straight]).status, 0)

        let process = Process()
        process.executableURL = Self.executable
        process.arguments = command + [broken]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // wait until the second run has logged its first evaluation (and checkpointed)
        let second = "\(broken)/table1/runs/sg-seed1.jsonl"
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !((try? String(contentsOfFile: second, encoding: .utf8))?.contains("\"event\":\"eval\"") ?? false) { usleep(10_000) }
        kill(process.processIdentifier, SIGINT)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        StderrCaptures.record(command + [broken], stderr)
        XCTAssertEqual(process.terminationStatus, 130, stderr)
        XCTAssertTrue(stderr.contains("SIGINT: stopped in table1 run sg-seed1 at step"), stderr)
        XCTAssertTrue(stderr.contains("run the same command again to continue"), stderr)
        XCTAssertFalse((try String(contentsOfFile: second, encoding: .utf8)).contains("\"event\":\"final\""), "interrupted mid-run")
        let firstLog = "\(broken)/table1/runs/backprop-seed1.jsonl", firstCheckpoint = "\(broken)/table1/runs/backprop-seed1.safetensors"
        let before = try [Data(contentsOf: URL(fileURLWithPath: firstLog)), Data(contentsOf: URL(fileURLWithPath: firstCheckpoint))]
        let modified = try FileManager.default.attributesOfItem(atPath: firstLog)[.modificationDate] as? Date

        let again = try dnic(command + [broken])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("table1 run 1/6 backprop-seed1: complete in DIR, skipped"), again.stderr)
        XCTAssertTrue(again.stdout.contains("(6 runs, 1 found complete"), again.stdout)
        XCTAssertEqual(try [Data(contentsOf: URL(fileURLWithPath: firstLog)), Data(contentsOf: URL(fileURLWithPath: firstCheckpoint))], before)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: firstLog)[.modificationDate] as? Date, modified)
        // the same numbers as the uninterrupted run, evaluation by evaluation
        func numbers(_ root: String) throws -> [String] {
            let rows = try json("\(root)/table1/table1.json") as? [[String: Any]] ?? []
            var out = rows.map { "\($0["rule"]!) \($0["testAccuracy"]!)" }
            for rule in ["backprop", "sg", "sgprop", "fa", "dfa", "kickback"] {
                let lines = try String(contentsOfFile: "\(root)/table1/runs/\(rule)-seed1.jsonl", encoding: .utf8).split(separator: "\n")
                for line in lines.dropFirst() {
                    let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
                    let record = o["record"] as? [String: Any] ?? o
                    out.append("\(rule) \(o["event"]!) \(record["step"]!) \(record["train_loss"]!) \(record["test_loss"]!) \(record["test_accuracy"]!)")
                }
            }
            return out
        }
        XCTAssertEqual(try numbers(broken), try numbers(straight))
    }

    func testReproduceRefusals() throws {
        let dir = try tempDir()
        let file = dir.appendingPathComponent("plain").path
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        try assertFails(["reproduce", "thm1", "--quick", "--out", file], status: 2, mentions: [file, "not a directory"])
        try assertFails(["reproduce", "thm1", "--out", dir.appendingPathComponent("a/b").path], status: 2, mentions: ["does not exist"])
        try assertFails(["reproduce", "table1", "--out", dir.path, "--data", "ftp:x"], status: 2, mentions: ["ftp:x"])
        try assertFails(["reproduce", "fig9", "--out", dir.path], status: 2, mentions: ["fig9", "table1"])
        try assertFails(["reproduce", "table1", "--out", dir.path, "--seeds", "0"], status: 2, mentions: ["--seeds 0"])
        try assertFails(["reproduce", "fig4", "--out", dir.path, "--depths", "3,x"], status: 2, mentions: ["--depths '3,x'"])
        try assertFails(["reproduce", "fig4", "--out", dir.path, "--depths", "1"], status: 2, mentions: ["--depths '1'"])

        // runs made with other settings are refused, not silently mixed in; --overwrite runs them again
        let out = dir.appendingPathComponent("r").path
        XCTAssertEqual(try dnic(["reproduce", "thm1", "--quick", "--out", out, "--threads", "1"]).status, 0)
        let log = "\(out)/thm1/runs/sg-lr0.2.jsonl"
        var lines = try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: "\n")
        lines[0] = lines[0].replacingOccurrences(of: "\"steps\":1500", with: "\"steps\":20000")
        try lines.joined(separator: "\n").write(toFile: log, atomically: true, encoding: .utf8)
        let kept = try Data(contentsOf: URL(fileURLWithPath: log))
        let refused = try dnic(["reproduce", "thm1", "--quick", "--out", out, "--threads", "1"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("\(log): was run with other settings; pass --overwrite"), refused.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: log)), kept, "nothing overwritten")
        let redone = try dnic(["reproduce", "thm1", "--quick", "--out", out, "--threads", "1", "--overwrite"])
        XCTAssertEqual(redone.status, 0, redone.stderr)
        XCTAssertTrue(redone.stdout.contains("(6 runs, 5 found complete"), redone.stdout)
        // a torn log (killed mid-write) is run again, not misread
        try Data("{\"event\":\"conf".utf8).write(to: URL(fileURLWithPath: log))
        XCTAssertEqual(try dnic(["reproduce", "thm1", "--quick", "--out", out, "--threads", "1"]).status, 0)
    }

    /// The page and the summary render a report's parts; verdicts combine as stated.
    func testReportRendering() throws {
        XCTAssertEqual(Verdict.combined([.reproduced, .reproduced]), .reproduced)
        XCTAssertEqual(Verdict.combined([.reproduced, .not]), .partly)
        XCTAssertEqual(Verdict.combined([.not, .not]), .not)
        XCTAssertEqual(Verdict.counting(0, of: 3), .not)
        XCTAssertEqual(Verdict.counting(3, of: 3), .reproduced)
        XCTAssertEqual(Verdict.counting(1, of: 3), .partly)
        var report = ResultReport(id: "fig5", title: "A <title>", data: "some data", command: "dnic reproduce fig5 --out x", quick: false, setup: "setup `code`")
        report.findings = [.init(paper: "claim", ours: "ours & more", verdict: .partly, rule: "a rule")]
        report.tables = [.init(caption: "numbers", header: ["a", "b"], rows: [["1.5", "x"]])]
        report.figures = [.init(file: "p.svg", caption: "a picture")]
        let dir = try tempDir().path
        try FileManager.default.createDirectory(atPath: dir + "/fig5", withIntermediateDirectories: true)
        try jsonData(report).write(to: URL(fileURLWithPath: dir + "/fig5/result.json"))
        try ReportPage.write(directory: dir)
        let page = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
        XCTAssertTrue(page.contains("<section id=\"fig5\">") && page.contains("A &lt;title&gt;") && page.contains("ours &amp; more"), page)
        XCTAssertTrue(page.contains("<img src=\"fig5/p.svg\"") && page.contains("<td class=\"num\">1.5</td>") && page.contains("<code>code</code>"), page)
        XCTAssertTrue(page.contains("<span class=\"verdict partly\">partly</span>"))
        let md = report.markdown()
        XCTAssertTrue(md.hasPrefix("# A <title> — partly\n") && md.contains("| 1.5 | x |") && md.contains("![a picture](p.svg)"), md)
    }
}
