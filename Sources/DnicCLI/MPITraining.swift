import Dnic
import Foundation

/// `dnic train --mpi` under `mpirun -np K`: the checks that name flags, and
/// the calls into the library's MPIRun (rank 0 is the ordinary `dnic
/// train`; the other ranks ignore their own flags, print nothing unless
/// rank 0 vanishes, and serve their block until rank 0 is done).
enum MPITraining {
    static let defaultTimeout = MPIRun.defaultTimeout

    /// Refuses mpirun without --mpi: every rank would train the whole
    /// network alone and write the same files. Rank 0 says so; the others
    /// leave quietly (DnicCommand.fail).
    static func refuseRanksWithoutMPI() throws {
        guard let launched = MPIRanks.launched, launched.size > 1 else { return }
        throw UsageError("started by mpirun as \(launched.size) ranks without --mpi: each rank would train the whole network "
                         + "on its own and write the same files; add --mpi (with --schedule pipeline or async), or run without mpirun")
    }

    /// `--mpi`: starts this process as one of mpirun's ranks. A dnic that no
    /// launcher started is refused before MPI starts (Open MPI would make it
    /// a lone rank and print lines of ORTE_ERROR_LOG when it ends).
    static func start() throws {
        if MPIRanks.isBuilt, MPIRanks.launched == nil {
            throw UsageError("--mpi runs each block as an MPI rank, but no mpirun started this dnic: "
                             + "run mpirun -np BLOCKS dnic train --mpi … (one rank per block), or drop --mpi")
        }
        // mpirun ended before this rank could tie itself to it: no job is left
        if try !MPIRun.start() { Foundation.exit(1) }
    }

    static func defaultThreads() -> Int { MPIRun.defaultThreads() }

    static func shareRun(_ trainer: Trainer, checkpoint: Data?, threads: Int?, timeout: Double) throws {
        try MPIRun.shareRun(trainer, checkpoint: checkpoint, threads: threads, timeout: timeout)
    }

    static func end() { MPIRun.end() }

    /// Ranks > 0: serve the block, then exit; a failure is one line naming
    /// the rank, and every rank ends with it.
    static func serve(timeout: Double) -> Never {
        // rank 0 decides when to stop (mpirun forwards ^C to every rank)
        StopSignal.ignore()
        do { try MPIRun.serve(timeout: timeout) } catch {
            let failure = error as? MPIRun.RankFailure
            let cause = failure?.error ?? error
            let text = Failure(cause, namer: SettingNamer(arguments: [], source: "rank 0's settings"))?.line
                ?? ErrorWords.line(for: cause)
            Console.err("dnic: error: rank \(failure?.rank ?? MPIRanks.rank): \(text)\n")
            MPIRanks.abort(1)
        }
        Foundation.exit(0)
    }
}
