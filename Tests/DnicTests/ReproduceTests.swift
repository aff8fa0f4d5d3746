import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Dnic

/// `dnic reproduce`: each result's quick form end to end, its verdict
/// decided by the numbers, and its refusals.
extension CLITests {
    func testReproduceTheorem1Quick() throws {
        let dir = try tempDir()
        let out = dir.appendingPathComponent("results").path
        let r = try dnic(["reproduce", "thm1", "--quick", "--out", out, "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("thm1: reproduced (3 of 3)"), r.stdout)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/thm1/thm1.json"))) as? [String: Any]
        XCTAssertEqual(json?["verdict"] as? String, "reproduced")
        let curves = json?["curves"] as? [[String: Any]] ?? []
        XCTAssertEqual(curves.count, 6)
        for c in curves where c["method"] as? String == "sg" {
            let d = c["distances"] as? [Double] ?? []
            XCTAssertGreaterThan(d.first ?? 0, 0.1, "it starts far from the optimum")
            XCTAssertLessThan(d.last ?? 1, 1e-4, "and ends at it (Theorem 1)")
        }
        let summary = try String(contentsOfFile: out + "/thm1/summary.md", encoding: .utf8)
        XCTAssertTrue(summary.hasPrefix("# Theorem 1 — reproduced") && summary.contains("**Paper:**") && summary.contains("synth:linear-2d"), summary)
        XCTAssertTrue(XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: out + "/thm1/thm1.svg"))).parse())
        // again: the results are there, kept unless --overwrite
        try assertFails(["reproduce", "thm1", "--quick", "--out", out], status: 2, mentions: ["--overwrite"])
        XCTAssertEqual(try dnic(["reproduce", "thm1", "--quick", "--out", out, "--overwrite", "--threads", "1"]).status, 0)
    }

    func testReproduceRefusals() throws {
        let dir = try tempDir()
        let file = dir.appendingPathComponent("plain").path
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        try assertFails(["reproduce", "thm1", "--quick", "--out", file], status: 2, mentions: [file, "not a directory"])
        try assertFails(["reproduce", "thm1", "--out", dir.appendingPathComponent("a/b").path], status: 2, mentions: ["does not exist"])
        try assertFails(["reproduce", "thm1", "--out", dir.path, "--data", "ftp:x"], status: 2, mentions: ["ftp:x"])
        try assertFails(["reproduce", "fig9"], status: 2, mentions: ["fig9"])
    }
}
