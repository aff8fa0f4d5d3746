import Foundation
import XCTest

/// `dnic analyze probes --kind softmax|ridge`: softmax probes (the default)
/// are trained to convergence and say so per layer; ridge probes are the
/// closed-form option; a bad kind, or a penalty of the other kind, is
/// refused in one line naming the flag, before anything is written.
extension CLITests {
    func probeLayers(_ out: String) throws -> (kind: String?, layers: [[String: Any]]) {
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/probes.json"))) as? [[String: Any]]
        return (rows?.first?["kind"] as? String, rows?.first?["layers"] as? [[String: Any]] ?? [])
    }

    func testProbeKindsSoftmaxByDefaultAndRidge() throws {
        let dir = try tempDir()
        let cp = try twoCheckpoints(dir)[0]
        let soft = dir.appendingPathComponent("soft").path, ridge = dir.appendingPathComponent("ridge").path
        let s = try dnic(["analyze", "probes", "--checkpoint", cp, "--out", soft, "--threads", "1"])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertEqual(s.stderr, "")
        let (softKind, softLayers) = try probeLayers(soft)
        XCTAssertEqual(softKind, "softmax", "softmax is the default")
        XCTAssertEqual(softLayers.count, 4)
        for l in softLayers {
            XCTAssertEqual(l["converged"] as? Bool, true, "\(l)")
            XCTAssertGreaterThan(l["iterations"] as? Int ?? 0, 0, "\(l)")
        }
        // linear-2d is linearly separable: the softmax probe on the raw input separates its training points
        XCTAssertEqual(softLayers.first?["trainAccuracy"] as? Double, 1, "\(softLayers.first ?? [:])")
        XCTAssertTrue(try String(contentsOfFile: soft + "/probes.csv", encoding: .utf8).contains(",softmax,0,2,1.0,"))

        let r = try dnic(["analyze", "probes", "--kind", "ridge", "--ridge", "0.01", "--checkpoint", cp, "--out", ridge, "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (ridgeKind, ridgeLayers) = try probeLayers(ridge)
        XCTAssertEqual(ridgeKind, "ridge")
        XCTAssertEqual(ridgeLayers.count, 4)
        XCTAssertTrue(ridgeLayers.allSatisfy { $0["iterations"] == nil && $0["converged"] == nil }, "closed form: \(ridgeLayers)")
    }

    func testProbeKindRefusals() throws {
        let dir = try tempDir()
        let cp = try twoCheckpoints(dir)[0]
        let out = dir.appendingPathComponent("r").path
        let before = snapshot(dir.path)
        try assertFails(["analyze", "probes", "--kind", "magic", "--checkpoint", cp, "--out", out], status: 2,
                        mentions: ["--kind magic", "softmax", "ridge"])
        try assertFails(["analyze", "probes", "--ridge", "0.01", "--checkpoint", cp, "--out", out], status: 2,
                        mentions: ["--ridge 0.01", "--kind ridge"])
        try assertFails(["analyze", "probes", "--kind", "ridge", "--l2", "0.01", "--checkpoint", cp, "--out", out], status: 2,
                        mentions: ["--l2 0.01", "--kind softmax"])
        try assertFails(["analyze", "probes", "--l2=-1", "--checkpoint", cp, "--out", out], status: 2, mentions: ["--l2 -1.0", ">= 0"])
        XCTAssertEqual(snapshot(dir.path), before, "nothing written")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
