import Dnic
import Foundation
import XCTest

/// `dnic train --mpi` with its two ranks on two "hosts": scripts/mpi-two-hosts.sh
/// puts each rank in its own network namespace, joined only by a veth pair,
/// with Open MPI's TCP BTL as the only way between them. The checkpoint is
/// the in-process pipeline's bit for bit, and the veth carried the traffic.
/// Skipped unless root with mpirun (the script exits 77 if it cannot make
/// the namespaces; its one line is the skip reason).
final class MPITwoHostTests: XCTestCase {
    private static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/mpi-two-hosts.sh").standardized

    private static let mpirun: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":").map { "\($0)/mpirun" } + ["/usr/bin/mpirun", "/usr/local/bin/mpirun"])
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    private static var executable: URL { CLITests.executable }

    private func launch(_ executable: URL, _ args: [String]) throws -> ProcessRun {
        try ProcessRun.launch(executable.path, args)
    }

    private func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-mpi2h-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testTwoRanksInTwoNetworkNamespacesEqualTheInProcessPipeline() throws {
        guard getuid() == 0 else { throw XCTSkip("not root: network namespaces need root (uid \(getuid()))") }
        guard Self.mpirun != nil else { throw XCTSkip("mpirun not found (openmpi-bin)") }
        guard MPIRanks.isBuilt else { throw XCTSkip("this dnic was built without MPI (no libopenmpi-dev)") }
        let dir = try tempDir()
        let train = ["train", "--schedule", "pipeline", "--rule", "sg", "--hidden", "2", "--width", "64",
                     "--steps", "200", "--eval-every", "100", "--threads", "1", "--data", "synth:xor-100d"]
        let ranksPath = dir.appendingPathComponent("mpi.safetensors").path
        let inProcessPath = dir.appendingPathComponent("in-process.safetensors").path

        // not --quiet: the header naming the ranks is asserted below
        let started = Date()
        let mpi = try launch(Self.script, ["-q", "--", Self.executable.path] + train + ["--mpi", "--save", ranksPath])
        let seconds = Date().timeIntervalSince(started)
        if mpi.status == 77 {
            let reason = mpi.stderr.split(separator: "\n").first { $0.contains("skip:") }
            throw XCTSkip(reason.map(String.init) ?? "mpi-two-hosts.sh exited 77: \(mpi.stderr)")
        }
        XCTAssertEqual(mpi.status, 0, "stdout: \(mpi.stdout)\nstderr: \(mpi.stderr)")
        XCTAssertTrue(mpi.stdout.contains("2 MPI ranks"), mpi.stdout)
        XCTAssertLessThan(seconds, 120, "the two-namespace run took \(seconds) s")

        // the veth carried the job's traffic, both ways
        let counters = mpi.stderr.split(separator: "\n").last { $0.hasPrefix("mpi-two-hosts: veth bytes ") }
        let numbers = counters.map { line in
            line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        } ?? []
        XCTAssertEqual(numbers.count, 2, "no veth byte line on stderr: \(mpi.stderr)")
        if numbers.count == 2 {
            XCTAssertGreaterThan(numbers[0], 100_000, "bytes A->B: \(counters ?? "")")
            XCTAssertGreaterThan(numbers[1], 100_000, "bytes B->A: \(counters ?? "")")
        }

        let local = try launch(Self.executable, train + ["--save", inProcessPath])
        XCTAssertEqual(local.status, 0, local.stderr)
        // the same result line up to the speed: "test accuracy A (test loss L) after E epochs, S steps, ..."
        let result: (String) -> String = { out in
            let last = out.split(separator: "\n").last.map(String.init) ?? ""
            return last.components(separatedBy: ", ").prefix(2).joined(separator: ", ")
        }
        XCTAssertEqual(result(mpi.stdout), result(local.stdout), "\(mpi.stdout)\nvs\n\(local.stdout)")

        let a = try Checkpoint.load(path: ranksPath), b = try Checkpoint.load(path: inProcessPath)
        XCTAssertEqual(a.step, 200)
        XCTAssertEqual(a.step, b.step)
        let (pa, pb) = (a.network.parameters(), b.network.parameters())
        XCTAssertEqual(pa.count, pb.count)
        XCTAssertTrue(pa.map(\.bitPattern) == pb.map(\.bitPattern), "network parameters differ at \(zip(pa, pb).filter { $0 != $1 }.count) of \(pa.count)")
        let (oa, ob) = (a.network.optimizerState(), b.network.optimizerState())
        XCTAssertEqual(oa.count, ob.count)
        XCTAssertTrue(oa.map(\.bitPattern) == ob.map(\.bitPattern), "optimizer state differs at \(zip(oa, ob).filter { $0 != $1 }.count) of \(oa.count)")
        // and the synthetic-gradient interface, parameters and optimizer state
        XCTAssertEqual(a.interfaces.boundaries, b.interfaces.boundaries)
        for i in a.interfaces.boundaries.indices where i < b.interfaces.boundaries.count {
            for optimizer in [false, true] {
                XCTAssertTrue(a.interfaces.block(i, optimizer: optimizer).map(\.bitPattern) == b.interfaces.block(i, optimizer: optimizer).map(\.bitPattern),
                              "interface \(i)\(optimizer ? " optimizer state" : "") differs")
            }
        }
    }
}
