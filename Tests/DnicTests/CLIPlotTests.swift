import Foundation
import FoundationXML
import XCTest
@testable import Dnic

/// `dnic plot`: curves of runs from their logs, labelled by run, as SVG or
/// PNG; bad input refused with one line and nothing written.
extension CLITests {
    /// A quick run logging an evaluation every 10 steps into `log`.
    func trainedLog(_ log: String, validation: Bool = false) throws {
        let r = try dnic(["train", "--data", "synth:xor-2d", "--hidden", "1", "--width", "8", "--threads", "1",
                          "--steps", "40", "--eval-every", "10", "--log", log, "--quiet"] + (validation ? ["--validation", "0.2"] : []))
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// The labels of the SVG's series groups, in order (parsed as XML: a parse error fails).
    func seriesLabels(_ svg: String) throws -> [String] {
        final class Collector: NSObject, XMLParserDelegate {
            var labels = [String]()
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                        qualifiedName: String?, attributes: [String: String] = [:]) {
                if name == "g", attributes["class"] == "series" { labels.append(attributes["data-label"] ?? "?") }
            }
        }
        let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: svg)))
        let collector = Collector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "\(svg) does not parse: \(String(describing: parser.parserError))")
        return collector.labels
    }

    func testPlotDrawsEachRunsCurvesLabelledByFileName() throws {
        let dir = try tempDir()
        let a = dir.appendingPathComponent("a.jsonl").path, b = dir.appendingPathComponent("b.jsonl").path
        try trainedLog(a, validation: true)
        try trainedLog(b)
        let out = dir.appendingPathComponent("curves.svg").path
        let r = try dnic(["plot", a, b, "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(try seriesLabels(out), ["a.jsonl train", "a.jsonl validation", "a.jsonl test", "b.jsonl train", "b.jsonl test"])
        // steps on x: four evaluations per run, four markers per curve
        let svg = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(svg.contains(">step</text>") && svg.contains(">loss</text>"), svg)
        XCTAssertTrue(r.stdout.contains("a.jsonl: 4 evaluations to step 40"), r.stdout)

        let acc = dir.appendingPathComponent("acc.svg").path
        XCTAssertEqual(try dnic(["plot", a, b, "--out", acc, "--metric", "accuracy"]).status, 0)
        XCTAssertEqual(try seriesLabels(acc), ["a.jsonl validation", "a.jsonl test", "b.jsonl test"])
    }

    func testPlotLabelsLogsOfOneNameByRunID() throws {
        let dir = try tempDir()
        let one = dir.appendingPathComponent("one"), two = dir.appendingPathComponent("two")
        for d in [one, two] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        let logs = [one, two].map { $0.appendingPathComponent("run.jsonl").path }
        for log in logs { try trainedLog(log) }
        let ids = try logs.map { log -> String in
            let first = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")[0]
            return try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])?["run"] as? String)
        }
        XCTAssertNotEqual(ids[0], ids[1])
        let out = dir.appendingPathComponent("curves.svg").path
        let r = try dnic(["plot", logs[0], logs[1], "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try seriesLabels(out), ids.flatMap { id in ["train", "test"].map { "run.jsonl (run \(id)) \($0)" } })
    }

    func testPlotWritesAPNGOfThePlotsSize() throws {
        let dir = try tempDir()
        let log = dir.appendingPathComponent("a.jsonl").path
        try trainedLog(log)
        let out = dir.appendingPathComponent("curves.png").path
        let r = try dnic(["plot", log, "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let png = try PNG.decode(try Data(contentsOf: URL(fileURLWithPath: out)))
        XCTAssertEqual(png.width, 760)
        XCTAssertEqual(png.height, 420)
        // the run's curve is drawn in its colour (the palette's first, #1f77b4)
        let rgb = png.rgb
        let blue = stride(from: 0, to: rgb.count, by: 3).filter { (i: Int) -> Bool in rgb[i] == 0x1f && rgb[i + 1] == 0x77 && rgb[i + 2] == 0xb4 }
        XCTAssertGreaterThan(blue.count, 100)
        // and labelled: the legend's words (right of the swatches, x from 554) in dark pixels
        var legendInk = 0
        for y in 40 ..< 60 {
            for x in 554 ..< 760 {
                let i = (y * 760 + x) * 3
                if max(png.rgb[i], png.rgb[i + 1], png.rgb[i + 2]) < 100 { legendInk += 1 }
            }
        }
        XCTAssertGreaterThan(legendInk, 20)
    }

    /// A log whose last line was cut short (its run killed mid-write) plots
    /// its complete evaluations; a log without run ids (`dnic reproduce`'s) plots too.
    func testPlotTakesALogCutShortAndOneWithoutRunIDs() throws {
        let dir = try tempDir()
        let log = dir.appendingPathComponent("cut.jsonl").path
        try trainedLog(log)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let evals = text.split(separator: "\n").filter { $0.contains("\"eval\"") }
        try (evals.prefix(3).joined(separator: "\n") + "\n" + evals[3].prefix(30)).write(toFile: log, atomically: true, encoding: .utf8)
        let bare = dir.appendingPathComponent("bare.jsonl").path
        let noIDs = try evals.map { line -> String in
            var o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            o["run"] = nil
            o["segment"] = nil
            return String(decoding: try JSONSerialization.data(withJSONObject: o), as: UTF8.self)
        }
        try (noIDs.joined(separator: "\n") + "\n").write(toFile: bare, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("curves.svg").path
        let r = try dnic(["plot", log, bare, "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("cut.jsonl: 3 evaluations to step 30"), r.stdout)
        XCTAssertTrue(r.stdout.contains("bare.jsonl: 4 evaluations to step 40"), r.stdout)
        XCTAssertEqual(try seriesLabels(out), ["cut.jsonl train", "cut.jsonl test", "bare.jsonl train", "bare.jsonl test"])
    }

    /// Each bad input: exit 2, one line naming what is wrong, the directory
    /// (logs, an existing figure) exactly as it was: no figure, no temporary file.
    func testPlotRefusesBadInputWritingNothing() throws {
        let dir = try tempDir()
        let good = dir.appendingPathComponent("good.jsonl").path
        try trainedLog(good)
        let garbled = dir.appendingPathComponent("garbled.jsonl").path
        var lines = try String(contentsOfFile: good, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[1] = String(lines[1].prefix(20))
        try (lines.joined(separator: "\n") + "\n").write(toFile: garbled, atomically: true, encoding: .utf8)
        let noEvals = dir.appendingPathComponent("noevals.jsonl").path
        try "{\"event\":\"checkpoint\",\"step\":10}\n".write(toFile: noEvals, atomically: true, encoding: .utf8)
        let fieldless = dir.appendingPathComponent("fieldless.jsonl").path
        try "{\"event\":\"eval\",\"step\":10}\n".write(toFile: fieldless, atomically: true, encoding: .utf8)
        let existing = dir.appendingPathComponent("old.svg").path
        try "<svg/>".write(toFile: existing, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("curves.svg").path
        let cases: [([String], [String])] = [
            ([garbled, "--out", out], ["garbled.jsonl: line 2 is not a JSON object"]),
            ([good, noEvals, "--out", out], ["noevals.jsonl: no evaluations"]),
            ([fieldless, "--out", out], ["fieldless.jsonl: line 1 is an evaluation without its step, losses or accuracy"]),
            ([dir.appendingPathComponent("absent.jsonl").path, "--out", out], ["absent.jsonl: cannot read it"]),
            ([good, "--out", out, "--metric", "perplexity"], ["perplexity", "--metric"]),
            ([good, "--out", dir.appendingPathComponent("curves.pdf").path], ["--out", "curves.pdf: must end in .svg or .png"]),
            ([good, "--out", existing], ["--out", "old.svg", "--overwrite"]),
            (["--out", out], ["give one or more logs"]),
        ]
        for (args, words) in cases {
            let before = snapshot(dir.path)
            let hashes = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map { snapshot(dir.appendingPathComponent($0).path) }
            let r = try dnic(["plot"] + args)
            assertOneLine(r, status: 2, has: ["dnic: error:"] + words, lacks: ["Error", "Fatal"])
            XCTAssertEqual(snapshot(dir.path), before, "\(args)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map { snapshot(dir.appendingPathComponent($0).path) },
                           hashes, "\(args)")
        }
    }
}
