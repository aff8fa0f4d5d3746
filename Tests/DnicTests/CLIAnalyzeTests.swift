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
