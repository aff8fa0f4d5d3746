import Foundation
import XCTest
@testable import Dnic

/// `dnic reproduce … --data idx:DIR`: every result on image data runs on
/// MNIST-sized IDX files of the user's choice (here links to the installed
/// Fashion-MNIST under another name, given as a relative path), says so,
/// and writes nothing outside its --out directory.
extension CLITests {
    func testImageResultsRunOnIDXDataOfTheUsersChoice() throws {
        let source = "/usr/share/datasets/fashion-mnist"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: source)) ?? []
        guard files.count >= 4 else { throw XCTSkip("no Fashion-MNIST in \(source)") }
        let dir = try tempDir()
        let images = dir.appendingPathComponent("my-images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        for f in files { try FileManager.default.createSymbolicLink(atPath: images.appendingPathComponent(f).path, withDestinationPath: "\(source)/\(f)") }
        for id in ["table1", "fig3", "fig4", "fig5", "fig8"] {
            let r = try dnic(in: dir, ["reproduce", id, "--quick", "--out", "res", "--data", "idx:my-images", "--threads", "1"])
            XCTAssertEqual(r.status, 0, "\(id): \(r.stderr)")
            let report = try json(dir.appendingPathComponent("res/\(id)/result.json").path) as? [String: Any] ?? [:]
            XCTAssertEqual(report["data"] as? String, "idx:my-images", id)
            let summary = try String(contentsOf: dir.appendingPathComponent("res/\(id)/summary.md"), encoding: .utf8)
            XCTAssertTrue(summary.contains("Data: idx:my-images"), "\(id): \(summary.prefix(300))")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["my-images", "res"])
    }
}
