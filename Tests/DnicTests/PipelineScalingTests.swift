import XCTest
@testable import Dnic

/// `dnic bench pipeline --simulate`: the link model by hand, the splits,
/// and the command end to end with its refusals.
final class PipelineScalingTests: XCTestCase {
    func testProjectionFollowsTheStatedModel() {
        // blocks 2 ms and 3 ms, one boundary of 1,000,000 bytes up, 800,000 down, batch 100
        let s = PipelineScaling.Split(blocks: 2, batch: 100, blockSeconds: [0.002, 0.003], upBytes: [1_000_000], downBytes: [800_000])
        let link = PipelineScaling.Link(gigabitsPerSecond: 8, latencyMicroseconds: 100)
        XCTAssertEqual(link.seconds(bytes: 1_000_000), 1e-4 + 1e-3, accuracy: 1e-15)
        let p = PipelineScaling.project(s, link: link)
        let message = 0.0011
        XCTAssertEqual(p.pipelineOverlapped, 100 / max(0.003, message), accuracy: 1e-9)
        XCTAssertEqual(p.pipelineSerial, 100 / (0.003 + message), accuracy: 1e-9)
        XCTAssertEqual(p.lockedBackprop, 100 / (0.005 + 2 * message), accuracy: 1e-9)
        XCTAssertEqual(p.speedup, p.pipelineOverlapped / p.lockedBackprop, accuracy: 1e-12)
        // a slow link: the message, not the blocks, sets the tick
        let slow = PipelineScaling.project(s, link: .init(gigabitsPerSecond: 0.8, latencyMicroseconds: 0))
        XCTAssertEqual(slow.pipelineOverlapped, 100 / 0.01, accuracy: 1e-9)
    }

    func testBoundariesSplitTheStackEvenly() {
        XCTAssertEqual(PipelineScaling.boundaries(hidden: 20, blocks: 2), [10])
        XCTAssertEqual(PipelineScaling.boundaries(hidden: 20, blocks: 4), [5, 10, 15])
        XCTAssertEqual(PipelineScaling.boundaries(hidden: 20, blocks: 20), Array(1 ... 19))
        let b16 = PipelineScaling.boundaries(hidden: 20, blocks: 16)
        XCTAssertEqual(b16.count, 15)
        XCTAssertEqual(Set(b16).count, 15, "no empty block")
        XCTAssertTrue(b16.allSatisfy { $0 >= 1 && $0 < 20 })
    }

    func testMeasuredSplitHasEveryBlockAndItsMessages() throws {
        let data = TrainBenchmark.syntheticMNIST(count: 256)
        let s = try PipelineScaling.measure(widths: [32, 32, 16, 16], blocks: 3, batch: 64, steps: 6, data: data)
        XCTAssertEqual(s.blockSeconds.count, 3)
        XCTAssertTrue(s.blockSeconds.allSatisfy { $0 > 0 }, "\(s.blockSeconds)")
        let cuts = PipelineScaling.boundaries(hidden: 4, blocks: 3)
        XCTAssertEqual(s.upBytes, cuts.map { 64 * ([32, 32, 16, 16][$0 - 1] * 4 + 4) })
        XCTAssertEqual(s.downBytes, cuts.map { 64 * [32, 32, 16, 16][$0 - 1] * 4 })
    }
}

extension CLITests {
    func testBenchPipelineSimulateTableAndRefusals() throws {
        let r = try dnic(["bench", "pipeline", "--simulate", "2,4", "--link", "1,100", "--steps", "4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("   2 ") || $0.hasPrefix("   4 ") }
        XCTAssertEqual(rows.count, 4, r.stdout)
        for row in rows {
            let v = row.split(separator: " ").compactMap { Double($0) }
            XCTAssertEqual(v.count, 7, String(row))
            XCTAssertGreaterThan(v[2], 0, "a block takes time")
            XCTAssertGreaterThanOrEqual(v[3], v[4], "overlap is never slower: \(row)")
            XCTAssertEqual(v[6], v[3] / v[5], accuracy: 0.01 * v[6] + 0.01, String(row))
        }
        try assertFails(["bench", "pipeline", "--simulate", "1"], status: 2, mentions: ["--simulate 1"])
        try assertFails(["bench", "pipeline", "--simulate", "21"], status: 2, mentions: ["--simulate 21", "20"])
        try assertFails(["bench", "pipeline", "--simulate", "2,x"], status: 2, mentions: ["--simulate '2,x'"])
        try assertFails(["bench", "pipeline", "--simulate", "2", "--link", "0"], status: 2, mentions: ["--link 0"])
        try assertFails(["bench", "pipeline", "--simulate", "2", "--latency=-1"], status: 2, mentions: ["--latency -1"])
        try assertFails(["bench", "pipeline", "--simulate", "2", "--steps", "1"], status: 2, mentions: ["--steps 1"])
    }
}
