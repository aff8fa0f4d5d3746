import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Dnic

/// `dnic analyze` end to end: results and pictures in --out, several
/// checkpoints side by side; every refusal is one line, exit 2, before any
/// work, and touches nothing.
extension CLITests {
    /// Two small checkpoints (backprop and sg) on synth:linear-2d.
    func twoCheckpoints(_ dir: URL) throws -> [String] {
        try ["backprop", "sg"].map { rule in
            let path = dir.appendingPathComponent("\(rule).safetensors").path
            let r = try dnic(["train", "--data", "synth:linear-2d", "--hidden", "3", "--width", "16", "--epochs", "2",
                              "--rule", rule, "--threads", "1", "--quiet", "--save", path])
            XCTAssertEqual(r.status, 0, r.stderr)
            return path
        }
    }

    func testAnalyzeNormsAndProbesWriteNumbersAndPictures() throws {
        let dir = try tempDir()
        let cps = try twoCheckpoints(dir)
        let out = dir.appendingPathComponent("results").path
        let args = cps.flatMap { ["--checkpoint", $0] } + ["--out", out, "--threads", "1"]
        let norms = try dnic(["analyze", "norms"] + args)
        XCTAssertEqual(norms.status, 0, norms.stderr)
        XCTAssertTrue(norms.stdout.contains("backprop: 1 ") && norms.stdout.contains("sg: 1 "), norms.stdout)
        let probes = try dnic(["analyze", "probes"] + args)
        XCTAssertEqual(probes.status, 0, probes.stderr)
        XCTAssertEqual(probes.stderr, "", "no progress lines when stderr is not a terminal")

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/norms.json"))) as? [[String: Any]]
        XCTAssertEqual(json?.map { $0["model"] as? String }, ["backprop", "sg"])
        let shares = json?.first?["shares"] as? [Double] ?? []
        XCTAssertEqual(shares.count, 3)
        XCTAssertEqual(shares.reduce(0, +), 1, accuracy: 1e-9)
        XCTAssertEqual(json?.last?["boundaries"] as? [Int], [2], "sg's interface sits after hidden layer 2 (mid of 3)")

        let probeRows = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/probes.json"))) as? [[String: Any]]
        let layers = probeRows?.first?["layers"] as? [[String: Any]] ?? []
        XCTAssertEqual(layers.count, 4, "input and three hidden layers")
        for l in layers {
            let test = l["testAccuracy"] as? Double ?? 0
            XCTAssertGreaterThan(test, 0.8, "linear-2d is linearly separable: \(l)")
        }
        let csv = try String(contentsOfFile: out + "/probes.csv", encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + 2 * 4)
        for svg in ["norms.svg", "probes.svg"] {
            let text = try String(contentsOfFile: out + "/" + svg, encoding: .utf8)
            XCTAssertTrue(text.contains("data-label=\"backprop") && text.contains("data-label=\"sg"), svg)
            XCTAssertTrue(XMLParser(data: Data(text.utf8)).parse(), "\(svg) is not XML")
        }
        // again without --overwrite: refused, the results left as they were
        let before = snapshot(out + "/norms.json")
        try assertFails(["analyze", "norms"] + args, status: 2, mentions: ["norms.json", "--overwrite"])
        XCTAssertEqual(snapshot(out + "/norms.json"), before)
        XCTAssertEqual(try dnic(["analyze", "norms", "--overwrite"] + args).status, 0)
    }

    func testAnalyzeRefusals() throws {
        let dir = try tempDir()
        let cp = try twoCheckpoints(dir)[0]
        let file = dir.appendingPathComponent("plain").path
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        try assertFails(["analyze", "norms", "--out", dir.path], status: 2, mentions: ["--checkpoint"])
        try assertFails(["analyze", "norms", "--checkpoint", cp, "--out", file], status: 2, mentions: [file, "not a directory"])
        let deep = dir.appendingPathComponent("no/such/dir").path
        try assertFails(["analyze", "norms", "--checkpoint", cp, "--out", deep], status: 2, mentions: ["does not exist"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("no").path))
        try assertFails(["analyze", "probes", "--checkpoint", cp, "--out", dir.appendingPathComponent("r").path, "--ridge=-1"],
                        status: 2, mentions: ["--ridge -1"])
        try assertFails(["analyze", "norms", "--checkpoint", file, "--out", dir.appendingPathComponent("r2").path],
                        status: 1, mentions: [file])
        try assertFails(["analyze", "frobnicate"], status: 2, mentions: ["frobnicate"])
    }
}

extension CLITests {
    func grid(_ dir: URL, _ name: String, _ args: [String]) throws -> String {
        let path = dir.appendingPathComponent("\(name).safetensors").path
        let r = try dnic(["train", "--data", "synth:grid", "--hidden", "3", "--width", "16", "--steps", "300", "--batch", "32",
                          "--threads", "1", "--quiet", "--save", path] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        return path
    }

    func testLossSurfaceAtStepsWritesHeatmapsAndRankCorrelations() throws {
        let dir = try tempDir()
        let one = try grid(dir, "one", ["--rule", "sg", "--sg-at", "2"])
        let every = try grid(dir, "every", ["--rule", "sg", "--sg-at", "every", "--loss", "mse"])
        let out = dir.appendingPathComponent("ls").path
        let r = try dnic(["analyze", "loss-surface", "--checkpoint", one, "--checkpoint", every, "--at", "50,10",
                          "--out", out, "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "", "the run trained again must equal the checkpoint (same thread count): \(r.stderr)")
        let models = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/loss-surface.json"))) as? [[String: Any]] ?? []
        XCTAssertEqual(models.count, 2)
        for (m, boundaries) in zip(models, [[2], [1, 2]]) {
            let snaps = m["snapshots"] as? [[String: Any]] ?? []
            XCTAssertEqual(snaps.map { $0["step"] as? Int }, [10, 50, 300])
            for s in snaps {
                let layers = s["layers"] as? [[String: Any]] ?? []
                XCTAssertEqual(layers.map { $0["boundary"] as? Int }, boundaries.map { $0 })
                for l in layers {
                    let rho = l["spearman"] as? Double ?? .nan
                    XCTAssertTrue(rho >= -1 && rho <= 1, "\(l)")
                }
            }
        }
        // the pictures: 3 steps x (true + interfaces) panels of the 41x41 test grid
        for (i, columns) in [(1, 2), (2, 3)] {
            let png = try Data(contentsOf: URL(fileURLWithPath: out + "/loss-surface-\(i).png"))
            let decoded = try PNG.decode(png)
            let panels = (0 ..< 3 * columns).map { _ in HeatmapPanel(title: "", rows: 41, cols: 41, values: Array(repeating: 0, count: 41 * 41)) }
            let figure = HeatmapFigure(panels: panels, columns: columns)
            XCTAssertEqual(decoded.width, figure.width)
            XCTAssertEqual(decoded.height, figure.height)
            let svg = try String(contentsOfFile: out + "/loss-surface-\(i).svg", encoding: .utf8)
            XCTAssertTrue(svg.contains("step 10: true loss") && svg.contains("step 300: implied at h2"), "figure \(i)")
        }
    }

    func testLossSurfaceRefusals() throws {
        let dir = try tempDir()
        let out = dir.appendingPathComponent("r").path
        let backprop = try grid(dir, "bp", ["--rule", "backprop"])
        try assertFails(["analyze", "loss-surface", "--checkpoint", backprop, "--out", out], status: 2, mentions: ["without interfaces"])
        let mlp = try grid(dir, "mlp", ["--rule", "sg", "--sg-kind", "mlp", "--sg-hidden", "1x8"])
        try assertFails(["analyze", "loss-surface", "--checkpoint", mlp, "--out", out], status: 2, mentions: ["mlp", "linear"])
        let sg = try grid(dir, "sg", ["--rule", "sg"])
        try assertFails(["analyze", "loss-surface", "--checkpoint", sg, "--out", out, "--at", "400"], status: 2, mentions: ["--at 400", "step 300"])
        try assertFails(["analyze", "loss-surface", "--checkpoint", sg, "--out", out, "--at", "0,x"], status: 2, mentions: ["--at"])
        let linear = dir.appendingPathComponent("lin.safetensors").path
        XCTAssertEqual(try dnic(["train", "--data", "synth:linear-2d", "--hidden", "2", "--width", "8", "--steps", "5", "--rule", "sg",
                                 "--threads", "1", "--quiet", "--save", linear]).status, 0)
        try assertFails(["analyze", "loss-surface", "--checkpoint", linear, "--out", out], status: 2, mentions: ["synth:linear-2d", "grid"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refusal creates nothing")
    }
}

extension CLITests {
    func testRDMSideBySideAndItsRefusals() throws {
        let dir = try tempDir()
        let cps = try twoCheckpoints(dir)
        let out = dir.appendingPathComponent("rdm").path
        let r = try dnic(["analyze", "rdm", "--checkpoint", cps[0], "--checkpoint", cps[1], "--per-class", "20", "--out", out, "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/rdm.json"))) as? [String: Any]
        XCTAssertEqual((json?["points"] as? [Int])?.count, 40, "20 points of each of linear-2d's 2 classes")
        let models = json?["models"] as? [[String: Any]] ?? []
        XCTAssertEqual(models.count, 2)
        for m in models {
            let layers = m["layers"] as? [[String: Any]] ?? []
            XCTAssertEqual(layers.count, 3)
            XCTAssertEqual(layers.last?["distanceToLast"] as? Double, 0, "the last layer against itself")
        }
        let png = try PNG.decode(Data(contentsOf: URL(fileURLWithPath: out + "/rdm.png")))
        let panels = (0 ..< 6).map { _ in HeatmapPanel(title: "", rows: 40, cols: 40, values: Array(repeating: 0, count: 1600)) }
        XCTAssertEqual(png.width, HeatmapFigure(panels: panels, columns: 3).width)
        XCTAssertEqual(png.height, HeatmapFigure(panels: panels, columns: 3).height)
        let distance = try String(contentsOfFile: out + "/rdm-distance.svg", encoding: .utf8)
        XCTAssertTrue(distance.contains("data-label=\"backprop\"") && distance.contains(">SG<") && distance.contains("in their model's colour"), distance)

        let other = dir.appendingPathComponent("other.safetensors").path
        XCTAssertEqual(try dnic(["train", "--data", "synth:linear-2d", "--hidden", "2", "--width", "16", "--steps", "5",
                                 "--threads", "1", "--quiet", "--save", other]).status, 0)
        let out2 = dir.appendingPathComponent("rdm2").path
        try assertFails(["analyze", "rdm", "--checkpoint", cps[0], "--checkpoint", other, "--out", out2], status: 2,
                        mentions: [other, "16x16", "one architecture"])
        try assertFails(["analyze", "rdm", "--checkpoint", cps[0], "--per-class", "1", "--out", out2], status: 2, mentions: ["--per-class 1"])
        try assertFails(["analyze", "rdm", "--checkpoint", cps[0], "--layers", "1,4", "--out", out2], status: 2, mentions: ["--layers", "1 … 3"])
        let some = dir.appendingPathComponent("some").path
        XCTAssertEqual(try dnic(["analyze", "rdm", "--checkpoint", cps[0], "--layers", "3,1", "--per-class", "10", "--out", some]).status, 0)
        let drawn = try PNG.decode(Data(contentsOf: URL(fileURLWithPath: some + "/rdm.png")))
        let two = (0 ..< 2).map { _ in HeatmapPanel(title: "", rows: 20, cols: 20, values: Array(repeating: 0, count: 400)) }
        XCTAssertEqual(drawn.width, HeatmapFigure(panels: two, columns: 2).width, "two layers drawn")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out2))
    }
}

extension CLITests {
    func testAlignmentFromLogsAndCheckpoints() throws {
        let dir = try tempDir()
        let log = dir.appendingPathComponent("run.jsonl").path, cp = dir.appendingPathComponent("run.safetensors").path
        XCTAssertEqual(try dnic(["train", "--data", "synth:linear-2d", "--hidden", "3", "--width", "16", "--rule", "sg", "--sg-at", "every",
                                 "--track-alignment", "--steps", "60", "--eval-every", "20", "--threads", "1", "--quiet",
                                 "--log", log, "--save", cp]).status, 0)
        // an oracle's signal is the true gradient: cosine 1
        let oracle = dir.appendingPathComponent("oracle.safetensors").path
        XCTAssertEqual(try dnic(["train", "--data", "synth:linear-2d", "--hidden", "3", "--width", "16", "--rule", "sg",
                                 "--sg-kind", "oracle", "--steps", "10", "--threads", "1", "--quiet", "--save", oracle]).status, 0)
        let out = dir.appendingPathComponent("al").path
        let r = try dnic(["analyze", "alignment", "--log", log, "--checkpoint", cp, "--checkpoint", oracle, "--out", out, "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/alignment.json"))) as? [String: Any]
        let curves = json?["logs"] as? [[String: Any]] ?? []
        XCTAssertEqual(curves.map { $0["boundary"] as? Int }, [1, 2], "one curve per interface")
        for c in curves { XCTAssertEqual((c["points"] as? [[String: Any]])?.compactMap { $0["step"] as? Int }, [20, 40, 60]) }
        let recomputed = json?["checkpoints"] as? [[String: Any]] ?? []
        XCTAssertEqual(recomputed.count, 2)
        let cosines = recomputed.last?["alignments"] as? [Double] ?? []
        XCTAssertEqual(cosines.count, 1)
        XCTAssertEqual(cosines.first ?? 0, 1, accuracy: 1e-5, "an oracle delivers the true gradient")
        for a in recomputed.first?["alignments"] as? [Double] ?? [] { XCTAssertTrue(a > -1 && a < 1, "\(a)") }
        for svg in ["alignment.svg", "alignment-layers.svg"] {
            XCTAssertTrue(XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: out + "/" + svg))).parse(), svg)
        }
        // refusals
        let out2 = dir.appendingPathComponent("al2").path
        let plain = dir.appendingPathComponent("plain.jsonl").path
        XCTAssertEqual(try dnic(["train", "--data", "synth:linear-2d", "--hidden", "3", "--width", "16", "--rule", "sg",
                                 "--steps", "20", "--eval-every", "10", "--threads", "1", "--quiet", "--log", plain]).status, 0)
        try assertFails(["analyze", "alignment", "--log", plain, "--out", out2], status: 2, mentions: [plain, "--track-alignment"])
        let garbled = dir.appendingPathComponent("garbled.jsonl").path
        try "{\"event\":\"eval\"}\nnot json\n".write(toFile: garbled, atomically: true, encoding: .utf8)
        try assertFails(["analyze", "alignment", "--log", garbled, "--out", out2], status: 2, mentions: ["line 2"])
        let bp = dir.appendingPathComponent("bp.safetensors").path
        XCTAssertEqual(try dnic(["train", "--data", "synth:linear-2d", "--hidden", "2", "--width", "8", "--steps", "5",
                                 "--threads", "1", "--quiet", "--save", bp]).status, 0)
        try assertFails(["analyze", "alignment", "--checkpoint", bp, "--out", out2], status: 2, mentions: ["without interfaces"])
        try assertFails(["analyze", "alignment", "--out", out2], status: 2, mentions: ["--log"])
        try assertFails(["analyze", "alignment", "--checkpoint", cp, "--batch", "0", "--out", out2], status: 2, mentions: ["--batch 0"])
        try assertFails(["analyze", "alignment", "--checkpoint", cp, "--seed", "x", "--out", out2], status: 2, mentions: ["--seed"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out2))
    }
}
