import Foundation

/// A run whose pipeline blocks are MPI ranks (`mpirun -np K`, one rank per
/// block): rank s runs block s. Rank 0 is the ordinary run (data,
/// evaluation, log, checkpoints) and sends the other ranks what they need
/// to build the same run: its settings, the data's shape and, when
/// resuming, the checkpoint (CheckpointShare). The other ranks serve their
/// block until rank 0 is done; they allocate only their block's layers and
/// interface (`heldLayers`), and a resumed one loads only their tensors of
/// the checkpoint; rank 0 holds the whole network (it
/// evaluates and checkpoints, gathering the blocks). The transport is MPIRanks (Core); this is the
/// protocol on top of it.
public enum MPIRun {
    /// What rank 0 tells the others, as JSON.
    struct Setup: Codable {
        var config: String
        var inputDim: Int
        var classes: Int
        var maxBatch: Int
        var dataName: String
        /// The user's thread count (each rank's own default otherwise).
        var threads: Int?
        var timeout: Double
        var resuming: Bool
        /// The run's length (its learning-rate schedules need it).
        var totalSteps: Int
    }

    /// Seconds a rank waits for another before giving up, unless told otherwise.
    public static let defaultTimeout = 120.0

    /// The pipeline attached on this rank (rank 0 stops the others through it).
    nonisolated(unsafe) static var attached: Pipeline?

    /// Starts this process as one of mpirun's ranks, tied to mpirun: a rank
    /// dies with it (a second ^C makes mpirun exit at once, and its ranks
    /// must not train on and write files after the prompt is back). Returns
    /// false when mpirun has ended already: no job is left to join.
    public static func start() throws -> Bool {
        if MPIRanks.endWithLauncher() == .launcherGone { return false }
        try MPIRanks.start()
        return true
    }

    /// Threads per rank when the user set none: the host's cores shared by its ranks.
    public static func defaultThreads() -> Int {
        max(1, ProcessInfo.processInfo.activeProcessorCount / max(MPIRanks.localSize, 1))
    }

    /// Rank 0, once its trainer is built: the setup (and the resumed
    /// checkpoint's bytes) to the others, then attach the pipeline.
    public static func shareRun(_ trainer: Trainer, checkpoint: Data?, threads: Int?, timeout: Double) throws {
        guard let pipeline = trainer.pipeline else {
            throw DnicError("an MPI run needs an unlocked schedule (pipeline or async), one rank per block")
        }
        let train = trainer.data.train
        let setup = Setup(config: try ConfigFile.yaml(trainer.config), inputDim: train.dim, classes: train.classes,
                          maxBatch: Trainer.maxBatch(trainer.config, trainer.data), dataName: train.name,
                          threads: threads, timeout: timeout, resuming: checkpoint != nil,
                          totalSteps: trainer.totalSteps)
        let bytes = try JSONEncoder().encode(setup)
        _ = try MPIRanks.broadcast(bytes, timeout: timeout)
        if let checkpoint { try CheckpointShare.send(checkpoint, timeout: timeout) }
        try MPIRanks.attach(pipeline, fingerprint: fingerprint(bytes), timeout: timeout)
        attached = pipeline
    }

    /// Rank 0 at a normal end (finished, or stopped by a signal with its
    /// checkpoint written): the others stop, MPI finishes.
    public static func end() {
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

    /// Block `rank`'s layers (0-based, the output layer last) under the
    /// run's interfaces: the layers that rank allocates. Nil where it
    /// has no block of its own (a rank count the attach refuses).
    static func heldLayers(_ config: RunConfig, rank: Int) throws -> ClosedRange<Int>? {
        let hidden = config.model.layers.count
        // an interface after hidden layer k (1-based) ends the block at layer k-1
        let cuts = try config.interfaces.boundaries(hidden: hidden).sorted()
        guard cuts.allSatisfy({ $0 >= 1 && $0 <= hidden }) else { return nil }
        let firsts = [0] + cuts, lasts = cuts.map { $0 - 1 } + [hidden]
        return rank < firsts.count ? firsts[rank]...lasts[rank] : nil
    }

    /// A rank other than 0 failed: the caller says so and ends every rank (MPIRanks.abort).
    public struct RankFailure: Error {
        public let rank: Int
        public let error: Error
    }

    /// Ranks > 0: builds the run from rank 0's setup, serves the block until
    /// rank 0 is done, and finishes MPI. Ignores the caller's settings.
    public static func serve(timeout: Double) throws {
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
            // fresh or resumed, the rank allocates its block alone; resumed,
            // it keeps only its block's tensors of the checkpoint rank 0 sends
            let held = try heldLayers(config, rank: rank)
            var restored: RunSnapshot?
            if setup.resuming {
                let name = "rank 0's checkpoint"
                let file = try CheckpointShare.receive(keep: { tensor in held.map { CheckpointShare.belongs(tensor, to: $0) } ?? true },
                                                       name: name, timeout: setup.timeout)
                restored = try Checkpoint.load(file: consume file, path: name, maxBatch: nil, holding: held)
            }
            let built = try Trainer.build(config: config, inputDim: setup.inputDim, classes: setup.classes,
                                          maxBatch: setup.maxBatch, totalSteps: setup.totalSteps, restoring: restored,
                                          dataName: setup.dataName, holding: held)
            guard let p = built.pipeline else { throw DnicError("rank 0's settings have no pipeline") }
            pipeline = p
        } catch {
            throw RankFailure(rank: rank, error: error)
        }
        do {
            try MPIRanks.attach(pipeline, fingerprint: fingerprint(bytes), timeout: waitLimit)
        } catch {
            // rank 0 has the same verdict, says it and ends every rank
            // (a few seconds at least: the timeout may be below one)
            Thread.sleep(forTimeInterval: min(max(waitLimit, 5), 30))
            throw RankFailure(rank: rank, error: error)
        }
        do {
            try MPIRanks.serve(pipeline)
            try MPIRanks.detach(pipeline)
        } catch {
            throw RankFailure(rank: rank, error: error)
        }
        MPIRanks.finish()
    }
}
