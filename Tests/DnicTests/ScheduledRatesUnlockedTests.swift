import Foundation
import XCTest
@testable import Dnic

/// Learning-rate schedules where each updater keeps its own count: the
/// pipeline's and async's blocks (refused before the core applied the
/// schedule), and the interfaces' own schedule (`--sg-lr-*`) apart from
/// the network's. A rate cut by 1e-30 after the first update freezes what
/// it schedules: between step 5 and step 20 it does not move, while what
/// keeps its rate does.
final class ScheduledRatesUnlockedTests: XCTestCase {
    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-lr-unlocked-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Trains through the command for `steps` steps; the saved network's and interfaces' values.
    func trained(_ flags: [String], steps: Int, in dir: URL) throws -> (network: [Float], interfaces: [[Float]], stdout: String) {
        let model = dir.appendingPathComponent("m\(steps).safetensors")
        try? FileManager.default.removeItem(at: model)
        let r = try ProcessRun.launch(CLITests.executable.path,
                                      ["train", "--data", "synth:xor-2d", "--rule", "sg", "--optimizer", "sgd", "--lr", "0.01",
                                       "--steps", "\(steps)", "--save", model.path, "--threads", "1"] + flags,
                                      directory: dir.path)
        XCTAssertEqual(r.status, 0, "\(flags): \(r.stderr)")
        let loaded = try Checkpoint.load(path: model.path)
        let ifaces = loaded.interfaces.boundaries.indices.map { Array(loaded.interfaces.block($0)) }
        return (loaded.network.parameters(), ifaces, r.stdout)
    }

    func distance(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
    }

    func distance(_ a: [[Float]], _ b: [[Float]]) -> Double { distance(a.flatMap { $0 }, b.flatMap { $0 }) }

    /// What a rate of 1e-30 left still moved by 1e-6 of what a kept rate moved at most.
    func assertFrozen(_ frozen: Double, against moved: Double, _ what: String, line: UInt = #line) {
        XCTAssertGreaterThan(moved, 1e-3, "\(what): a kept rate moves it", line: line)
        XCTAssertLessThan(frozen, moved * 1e-6, "\(what) moved \(frozen) (at a kept rate: \(moved))", line: line)
    }

    let freezeNetwork = ["--lr-schedule", "step", "--lr-steps", "1", "--lr-gamma", "1e-30"]
    let freezeInterfaces = ["--sg-lr-schedule", "step", "--sg-lr-steps", "1", "--sg-lr-gamma", "1e-30"]

    /// Under pipeline and async each block follows the schedule over its
    /// own updates: after each block's first, nothing moves.
    func testPipelineAndAsyncBlocksFollowTheSchedule() throws {
        let dir = try scratch()
        for schedule in ["pipeline", "async"] {
            let flags = ["--schedule", schedule]
            let early = try trained(flags + freezeNetwork, steps: 5, in: dir)
            let late = try trained(flags + freezeNetwork, steps: 20, in: dir)
            let freeEarly = try trained(flags, steps: 5, in: dir)
            let freeLate = try trained(flags, steps: 20, in: dir)
            assertFrozen(distance(early.network, late.network), against: distance(freeEarly.network, freeLate.network),
                         "\(schedule): the scheduled network")
            assertFrozen(distance(early.interfaces, late.interfaces), against: distance(freeEarly.interfaces, freeLate.interfaces),
                         "\(schedule): the interfaces following it")
        }
    }

    /// The interfaces' own schedule acts on them alone; by default they
    /// follow the network's; the header says which.
    func testInterfacesHaveTheirOwnSchedule() throws {
        let dir = try scratch()
        let free = (try trained([], steps: 5, in: dir), try trained([], steps: 20, in: dir))
        let networkMoves = distance(free.0.network, free.1.network), interfacesMove = distance(free.0.interfaces, free.1.interfaces)
        // their own: the interfaces freeze, the network keeps its rate
        let own = (try trained(freezeInterfaces, steps: 5, in: dir), try trained(freezeInterfaces, steps: 20, in: dir))
        assertFrozen(distance(own.0.interfaces, own.1.interfaces), against: interfacesMove, "interfaces on their own schedule")
        XCTAssertGreaterThan(distance(own.0.network, own.1.network), networkMoves * 0.1, "the network kept its rate")
        XCTAssertTrue(own.1.stdout.contains("(own schedule: step ×1e-30 after 1)"), own.1.stdout)
        // the network's, with the interfaces on a constant schedule of their own
        let apart = freezeNetwork + ["--sg-lr-schedule", "constant"]
        let split = (try trained(apart, steps: 5, in: dir), try trained(apart, steps: 20, in: dir))
        assertFrozen(distance(split.0.network, split.1.network), against: networkMoves, "the network on its schedule")
        XCTAssertGreaterThan(distance(split.0.interfaces, split.1.interfaces), interfacesMove * 0.1, "the interfaces kept their rate")
        // by default they follow the network's
        let follow = (try trained(freezeNetwork, steps: 5, in: dir), try trained(freezeNetwork, steps: 20, in: dir))
        assertFrozen(distance(follow.0.network, follow.1.network), against: networkMoves, "the network")
        assertFrozen(distance(follow.0.interfaces, follow.1.interfaces), against: interfacesMove, "interfaces following the network's schedule")
        XCTAssertTrue(follow.1.stdout.contains("(following the network's schedule)"), follow.1.stdout)
    }

    func config() throws -> RunConfig {
        var c = ScheduleFixture.config(hidden: 4, kind: .cosine, warmup: 10, total: 50)
        c.interfaces.at = try Placement(parsing: "1,3")
        c.interfaces.lrSchedule = .step
        c.interfaces.lrSteps = [12, 25]
        c.interfaces.lrGamma = 0.3
        c.training.schedule = .pipeline
        return c
    }

    func data() throws -> DataSplit { try ScheduleFixture.data() }

    /// A pipeline stopped mid-warm-up (step 5) and mid-decay (step 30),
    /// batches in flight, resumes to the straight run's values bit for bit.
    func testPipelineResumeMidScheduleIsBitForBit() throws {
        let dir = try scratch()
        let c = try config()
        let straight = try Trainer(config: c, data: try data())
        _ = try straight.run()
        for stop in [5, 30] {
            let cut = try Trainer(config: c, data: try data())
            let path = dir.appendingPathComponent("cut\(stop).safetensors").path
            XCTAssertThrowsError(try cut.run(checkpoint: { t in try Checkpoint.save(t.snapshot(), to: path) },
                                             shouldStop: { cut.state.step == stop }))
            let resumed = try Trainer(config: c, data: try data(), restoring: try Checkpoint.load(path: path))
            _ = try resumed.run()
            XCTAssertEqual(resumed.network.parameters(), straight.network.parameters(), "stopped at \(stop)")
            for i in straight.dni.boundaries.indices {
                XCTAssertEqual(Array(resumed.dni.block(i)), Array(straight.dni.block(i)), "interface \(i), stopped at \(stop)")
            }
        }
        // and the schedules changed the run
        var constant = c
        constant.training.lrSchedule = .constant
        constant.training.lrWarmup = 0
        constant.interfaces.lrSchedule = .follow
        constant.interfaces.lrSteps = []
        let other = try Trainer(config: constant, data: try data())
        _ = try other.run()
        XCTAssertNotEqual(other.network.parameters(), straight.network.parameters())
    }

    /// Over MPI ranks each block's schedule is the in-process pipeline's:
    /// the checkpoints equal bit for bit (the ranks learn the run's length
    /// from rank 0's setup).
    func testScheduledPipelineOverMPIRanksEqualsInProcess() throws {
        guard MPIRanks.isBuilt else { throw XCTSkip("this dnic was built without MPI (no libopenmpi-dev)") }
        guard let mpirun = MPITests.mpirun else { throw XCTSkip("mpirun not found (openmpi-bin)") }
        let dir = try scratch()
        let args = MPITests.trainArgs(blocks: 2, steps: 30)
            + ["--lr-schedule", "cosine", "--lr-warmup", "5", "--sg-lr-schedule", "step", "--sg-lr-steps", "10,20"]
        let inProcess = dir.appendingPathComponent("in.safetensors"), ranks = dir.appendingPathComponent("mpi.safetensors")
        let a = try ProcessRun.launch(CLITests.executable.path, args + ["--save", inProcess.path])
        XCTAssertEqual(a.status, 0, a.stderr)
        let b = try ProcessRun.launch(mpirun, MPITests.mpirunFlags + ["-np", "2", CLITests.executable.path]
                                      + args + ["--mpi", "--save", ranks.path])
        XCTAssertEqual(b.status, 0, b.stderr)
        let x = try SafeTensors.read(path: inProcess.path), y = try SafeTensors.read(path: ranks.path)
        XCTAssertEqual(x.tensors.count, y.tensors.count)
        for t in x.tensors {
            XCTAssertTrue(y.tensor(t.name)?.values.map(\.bitPattern) == t.values.map(\.bitPattern), "\(t.name) differs")
        }
    }
}
