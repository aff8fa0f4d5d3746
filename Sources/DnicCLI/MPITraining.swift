import Dnic
import Foundation

/// `dnic train --mpi` under `mpirun -np K`: rank s runs block s of the
/// pipeline. Rank 0 is the ordinary `dnic train` (data, evaluation, log,
/// checkpoints) and sends the other ranks what they need to build the same
/// run: its settings, the data's shape and, when resuming, the checkpoint's
/// bytes. The other ranks ignore their own flags, print nothing unless rank
/// 0 vanishes, and serve their block until rank 0 is done.
enum MPITraining {
    /// What rank 0 tells the others, as JSON.
    struct Setup: Codable {
        var config: String
        var inputDim: Int
        var classes: Int
        var maxBatch: Int
        var dataName: String
        /// The user's --threads (each rank's own default otherwise).
        var threads: Int?
        var timeout: Double
        var resuming: Bool
    }

    static let defaultTimeout = 120.0

    /// The pipeline attached on this rank (rank 0 stops the others through it).
    nonisolated(unsafe) static var attached: Pipeline?

    /// Refuses mpirun without --mpi: every rank would train the whole
    /// network alone and write the same files. Rank 0 says so; the others
    /// leave quietly (after a moment, so that rank 0's line comes out).
    static func refuseRanksWithoutMPI() throws {
        guard let launched = MPIRanks.launched, launched.size > 1 else { return }
        if launched.rank > 0 {
            sleep(2)
            Foundation.exit(2)
        }
        throw UsageError("started by mpirun as \(launched.size) ranks without --mpi: each rank would train the whole network "
                         + "on its own and write the same files; add --mpi (with --schedule pipeline or async), or run without mpirun")
    }

    /// `--mpi`: starts this process as one of mpirun's ranks. A dnic that no
    /// launcher started is refused before MPI starts (Open MPI would make it
    /// a lone rank and print lines of ORTE_ERROR_LOG when it ends). A rank
    /// dies with mpirun: a second ^C makes mpirun exit at once, and its
    /// ranks must not train on and write files after the prompt is back.
    static func start() throws {
        if MPIRanks.isBuilt, MPIRanks.launched == nil {
            throw UsageError("--mpi runs each block as an MPI rank, but no mpirun started this dnic: "
                             + "run mpirun -np BLOCKS dnic train --mpi … (one rank per block), or drop --mpi")
        }
        // mpirun ended before this rank could tie itself to it: no job is left
        if MPIRanks.endWithLauncher() == .launcherGone { Foundation.exit(1) }
        try MPIRanks.start()
    }

    /// Threads per rank when the user set none: the host's cores shared by its ranks.
    static func defaultThreads() -> Int {
        max(1, ProcessInfo.processInfo.activeProcessorCount / max(MPIRanks.localSize, 1))
    }

    /// Rank 0, once its trainer is built: the setup to the others, then attach.
    static func shareRun(_ trainer: Trainer, checkpoint: Data?, threads: Int?, timeout: Double) throws {
        guard let pipeline = trainer.pipeline else {
            throw UsageError("--mpi runs an unlocked schedule, one rank per block: add --schedule pipeline or --schedule async")
        }
        let train = trainer.data.train
        let setup = Setup(config: try ConfigFile.yaml(trainer.config), inputDim: train.dim, classes: train.classes,
                          maxBatch: Trainer.maxBatch(trainer.config, trainer.data), dataName: train.name,
                          threads: threads, timeout: timeout, resuming: checkpoint != nil)
        let bytes = try JSONEncoder().encode(setup)
        _ = try MPIRanks.broadcast(bytes, timeout: timeout)
        if let checkpoint { _ = try MPIRanks.broadcast(checkpoint, timeout: timeout) }
        try MPIRanks.attach(pipeline, fingerprint: fingerprint(bytes), timeout: timeout)
        attached = pipeline
    }

    /// Rank 0 at a normal end (finished, or stopped by a signal with its
    /// checkpoint written): the others stop, MPI finishes.
    static func end() {
        guard MPIRanks.isActive else { return }
        if let pipeline = attached { try? MPIRanks.detach(pipeline) }
        attached = nil
        MPIRanks.finish()
    }

    /// Settings digest every rank computes from rank 0's setup and its own dnic version.
    static func fingerprint(_ setup: Data) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Data(DnicVersion.core.utf8) + setup {
            h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return h
    }

    /// Ranks > 0: build the run from rank 0's setup and serve the block. Never returns.
    static func serve(timeout: Double) -> Never {
        // rank 0 decides when to stop (mpirun forwards ^C to every rank)
        StopSignal.ignore()
        let rank = MPIRanks.rank
        let pipeline: Pipeline
        let bytes: Data
        var waitLimit = timeout
        do {
            // rank 0 loads the data before it sends the settings: wait for
            // them as long as for its commands (dnic_mpi_serve: 3 x + 10 s)
            bytes = try MPIRanks.broadcast(nil, timeout: 3 * timeout + 10)
            let setup = try JSONDecoder().decode(Setup.self, from: bytes)
            waitLimit = setup.timeout
            let config = try ConfigFile.parse(Data(setup.config.utf8), name: "rank 0's settings")
            try CoreSystem.setThreads(setup.threads ?? defaultThreads())
            let restored = try setup.resuming
                ? Checkpoint.load(bytes: try MPIRanks.broadcast(nil, timeout: setup.timeout), name: "rank 0's checkpoint",
                                  maxBatch: nil)
                : nil
            let built = try Trainer.build(config: config, inputDim: setup.inputDim, classes: setup.classes,
                                          maxBatch: setup.maxBatch, restoring: restored, dataName: setup.dataName)
            guard let p = built.pipeline else { throw DnicError("rank 0's settings have no pipeline") }
            pipeline = p
        } catch {
            fail(rank, error)
        }
        do {
            try MPIRanks.attach(pipeline, fingerprint: fingerprint(bytes), timeout: waitLimit)
        } catch {
            // rank 0 has the same verdict, says it and ends every rank
            // (a few seconds at least: --mpi-timeout may be below one)
            Thread.sleep(forTimeInterval: min(max(waitLimit, 5), 30))
            fail(rank, error)
        }
        do {
            try MPIRanks.serve(pipeline)
            try MPIRanks.detach(pipeline)
        } catch {
            fail(rank, error)
        }
        MPIRanks.finish()
        Foundation.exit(0)
    }

    private static func fail(_ rank: Int, _ error: Error) -> Never {
        let text = (error as? DnicError)?.message ?? (error as? UsageError)?.message ?? "\(error)"
        Console.err("dnic: error: rank \(rank): \(text)\n")
        MPIRanks.abort(1)
    }
}
