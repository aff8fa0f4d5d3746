import Foundation
import XCTest
@testable import Dnic

/// The labels of every table and figure `dnic reproduce` writes agree with
/// their data (as many columns as cells, distinct, numbered ones in order),
/// fig3 measures backprop's seed-to-seed baseline, and fig5's models have no
/// batch norm.
extension CLITests {
    /// The number in a column label such as "h12", "layer 3" or "5 layers".
    static func labelNumber(_ label: String) -> Int? {
        let digits = label.split(whereSeparator: { !$0.isNumber }).filter { !$0.isEmpty }
        return digits.count == 1 ? Int(digits[0]) : nil
    }

    /// What is wrong with the labels of `report`'s tables and of its SVG
    /// figures in `directory` (empty when nothing): a table's header repeats
    /// a label, numbers its columns out of order, or has a row of another
    /// length; a plot's series labels repeat; a heatmap's panel titles repeat
    /// or number one model's layers out of order.
    func labelProblems(_ report: ResultReport, directory: String) -> [String] {
        var problems = [String]()
        for t in report.tables {
            let what = "\(report.id) table '\(t.caption)'"
            if Set(t.header).count != t.header.count { problems.append("\(what): repeated column labels \(t.header)") }
            let numbers = t.header.dropFirst().map(Self.labelNumber)
            if !numbers.isEmpty, numbers.allSatisfy({ $0 != nil }), numbers.map({ $0! }) != numbers.map({ $0! }).sorted() {
                problems.append("\(what): numbered columns out of order \(t.header)")
            }
            for row in t.rows where row.count != t.header.count {
                problems.append("\(what): \(t.header.count) column labels for a row of \(row.count) cells \(row)")
            }
        }
        for f in report.figures where f.file.hasSuffix(".svg") {
            guard let svg = try? String(contentsOfFile: PathName.joining(directory, f.file), encoding: .utf8) else {
                problems.append("\(report.id) \(f.file): missing")
                continue
            }
            func captures(_ pattern: String) -> [String] {
                let re = try! NSRegularExpression(pattern: pattern)
                return re.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)).compactMap { m in
                    Range(m.range(at: 1), in: svg).map { String(svg[$0]) }
                }
            }
            let series = captures("data-label=\"([^\"]*)\"")
            if Set(series).count != series.count { problems.append("\(report.id) \(f.file): repeated series labels \(series)") }
            // heatmap panels: "<model> h<layer>", one row per model
            let panels = captures("<text [^>]*font-size=\"12\" text-anchor=\"start\">([^<]* h[0-9]+)</text>")
            if Set(panels).count != panels.count { problems.append("\(report.id) \(f.file): repeated panel titles \(panels)") }
            var layersOf = [String: [Int]]()
            for p in panels {
                let cut = p.range(of: " h", options: .backwards)!
                layersOf[String(p[..<cut.lowerBound]), default: []].append(Int(p[cut.upperBound...])!)
            }
            for (model, layers) in layersOf where layers != layers.sorted() {
                problems.append("\(report.id) \(f.file): \(model)'s panels out of order \(layers)")
            }
        }
        return problems
    }

    func labelProblems(in out: String) -> [String] {
        ReportPage.reports(in: out).flatMap { labelProblems($0, directory: PathName.joining(out, $0.id)) }
    }

    /// The check itself finds a repeated column (fig3's old `h1 h1 h3 h4 h5`), a short row and columns out of order.
    func testLabelCheckFindsBadTables() throws {
        var report = ResultReport(id: "fig3", title: "t", data: "d", command: "c", quick: true, setup: "")
        report.tables = [.init(caption: "a", header: ["model", "h1", "h1", "h3"], rows: [["x", "1", "2", "3"]]),
                         .init(caption: "b", header: ["model", "h3", "h1"], rows: [["x", "1", "2"]]),
                         .init(caption: "c", header: ["model", "h1", "h2"], rows: [["x", "1"]]),
                         .init(caption: "d", header: ["model", "3 layers", "5 layers"], rows: [["x", "1", "2"]])]
        let problems = labelProblems(report, directory: try tempDir().path)
        XCTAssertEqual(problems.count, 3, "\(problems)")
        XCTAssertTrue(problems[0].contains("repeated") && problems[1].contains("out of order") && problems[2].contains("row of 2"), "\(problems)")
    }

    /// fig3 measures backprop against backprop of other seeds, layer by
    /// layer, in both model sets, and its single-SG findings state that
    /// baseline; fig5 reads models trained without batch norm.
    func testFig3SeedBaselineAndFig5WithoutBatchNorm() throws {
        let out = try tempDir().appendingPathComponent("results").path
        for result in ["fig3", "fig5"] {
            let r = try dnic(["reproduce", result, "--quick", "--out", out, "--threads", "1"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        XCTAssertEqual(labelProblems(in: out), [])
        let fig3 = try json("\(out)/fig3/fig3.json") as? [String: Any] ?? [:]
        let baselines = fig3["seedBaseline"] as? [[String: Any]] ?? []
        XCTAssertEqual(baselines.map { $0["batchnorm"] as? Bool }, [true, false], "a baseline with and without batch norm")
        for b in baselines {
            let pairs = b["pairs"] as? [[String: Any]] ?? []
            XCTAssertEqual(pairs.count, 3, "3 backprop seeds, 3 pairs")
            for p in pairs {
                let d = p["distances"] as? [Double] ?? []
                XCTAssertEqual(d.count, 6, "a distance per hidden layer")
                XCTAssertTrue(d.allSatisfy { $0 > 0 }, "another seed's RDMs differ: \(d)")
            }
        }
        let findings = (try json("\(out)/fig3/result.json") as? [String: Any])?["findings"] as? [[String: Any]] ?? []
        let single = findings.filter { ($0["paper"] as? String ?? "").contains("layers before the SG") }
        XCTAssertEqual(single.count, 2, "with and without batch norm")
        for f in single { XCTAssertTrue((f["baseline"] as? String ?? "").contains("backprop seed-to-seed distance"), "\(f)") }
        // fig5's models: the runs it read, each trained without batch norm
        let rows = try json("\(out)/fig5/fig5.json") as? [[String: Any]] ?? []
        XCTAssertEqual(rows.count, 5)
        for row in rows {
            guard let run = row["run"] as? String else { XCTFail("fig5.json names no run: \(row)"); continue }
            let log = try String(contentsOfFile: "\(out)/fig3/runs/\(run).jsonl", encoding: .utf8)
            let config = try JSONSerialization.jsonObject(with: Data(log.split(separator: "\n")[0].utf8)) as? [String: Any] ?? [:]
            let layers = ((config["config"] as? [String: Any])?["model"] as? [String: Any])?["layers"] as? [[String: Any]] ?? []
            XCTAssertEqual(layers.count, 6, run)
            XCTAssertTrue(layers.allSatisfy { $0["batchnorm"] as? Bool == false }, "\(run): \(layers)")
        }
    }
}
