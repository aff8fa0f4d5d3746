import CDnic
import Foundation
#if canImport(CDnicMPI)
import CDnicMPI
#endif

/// The pipeline's blocks as MPI ranks (libdnic_mpi, dnic_mpi.h): rank s
/// runs block s; rank 0 loads the data, drives the ticks, evaluates, logs
/// and checkpoints. Built only where Open MPI's headers were found
/// (`isBuilt`); otherwise every call but the queries throws.
public enum MPIRanks {
    /// Whether this build has the MPI transport.
    public static var isBuilt: Bool {
        #if canImport(CDnicMPI)
        return true
        #else
        return false
        #endif
    }

    /// The rank count and rank mpirun (Open MPI, or any PMI launcher) gave
    /// this process, read from its environment before MPI starts; nil when
    /// not started by mpirun.
    public static var launched: (rank: Int, size: Int)? {
        let env = ProcessInfo.processInfo.environment
        for (r, n) in [("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"), ("PMI_RANK", "PMI_SIZE"), ("PMIX_RANK", "PMIX_SIZE")] {
            if let rank = env[r].flatMap(Int.init), let size = env[n].flatMap(Int.init) { return (rank, size) }
        }
        return nil
    }

    /// Ranks started by mpirun on this host (for a default thread count).
    public static var localSize: Int {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
    }

    static func unavailable() -> DnicError {
        DnicError("this dnic was built without MPI (install libopenmpi-dev and openmpi-bin, then rebuild)",
                  status: DNIC_ERR_UNAVAILABLE)
    }

    /// Whether MPI runs in this process (started, not finished).
    public static var isActive: Bool {
        #if canImport(CDnicMPI)
        return dnic_mpi_initialized() != 0
        #else
        return false
        #endif
    }

    /// What became of the request to end with the launcher.
    public enum LauncherBond { case bound, launcherGone, unsupported }

    /// Ties this process to the one that started it (mpirun, or Open MPI's
    /// daemon on another host): when that one ends, the kernel ends this
    /// one with SIGKILL at the same instant. mpirun ends without its ranks
    /// on a second ^C (it exits at once) or when killed; they would train
    /// on as orphans and write checkpoints after the prompt is back. Call
    /// before `start()`.
    public static func endWithLauncher() -> LauncherBond {
        #if canImport(CDnicMPI)
        switch dnic_mpi_end_with_launcher(SIGKILL) {
        case DNIC_OK: return .bound
        case DNIC_ERR_STATE: return .launcherGone
        default: return .unsupported
        }
        #else
        return .unsupported
        #endif
    }

    public static func start() throws {
        #if canImport(CDnicMPI)
        let st = dnic_mpi_init(nil, nil)
        if st != DNIC_OK { throw DnicError("MPI could not start: \(failure)", status: st) }
        #else
        throw unavailable()
        #endif
    }

    public static var rank: Int {
        #if canImport(CDnicMPI)
        return Int(dnic_mpi_rank())
        #else
        return 0
        #endif
    }

    public static var size: Int {
        #if canImport(CDnicMPI)
        return Int(dnic_mpi_size())
        #else
        return 1
        #endif
    }

    /// The transport's last failure, one line naming the rank.
    public static var failure: String {
        #if canImport(CDnicMPI)
        return String(cString: dnic_mpi_failure())
        #else
        return ""
        #endif
    }

    /// The rank whose block failed at the last tick, if any.
    public static var failedRank: Int? {
        #if canImport(CDnicMPI)
        let r = Int(dnic_mpi_failed_rank())
        return r >= 0 ? r : nil
        #else
        return nil
        #endif
    }

    /// Rank 0's bytes to every rank (rank 0 passes them; the others get them).
    public static func broadcast(_ bytes: Data?, timeout: Double) throws -> Data {
        #if canImport(CDnicMPI)
        var pointer: UnsafeMutableRawPointer?
        var count = bytes?.count ?? 0
        var mine = [UInt8](bytes ?? Data())
        let st: dnic_status = mine.withUnsafeMutableBytes { raw in
            if rank == 0 { pointer = raw.baseAddress }
            return dnic_mpi_broadcast(&pointer, &count, timeout)
        }
        if st != DNIC_OK { throw DnicError(st == DNIC_ERR_PEER ? failure : "MPI broadcast: \(statusText(st))", status: st) }
        if rank == 0 { return bytes ?? Data() }
        defer { free(pointer) }
        return pointer.map { Data(bytes: $0, count: count) } ?? Data()
        #else
        throw unavailable()
        #endif
    }

    /// Binds the pipeline to the ranks (collective); every rank gives the same fingerprint.
    public static func attach(_ pipeline: Pipeline, fingerprint: UInt64, timeout: Double) throws {
        #if canImport(CDnicMPI)
        let st = dnic_mpi_attach(pipeline.handle, fingerprint, timeout)
        if st != DNIC_OK { throw DnicError(failure.isEmpty ? "MPI attach: \(statusText(st))" : failure, status: st) }
        #else
        throw unavailable()
        #endif
    }

    /// Ranks > 0: runs this rank's block until rank 0 is done.
    public static func serve(_ pipeline: Pipeline) throws {
        #if canImport(CDnicMPI)
        let st = dnic_mpi_serve(pipeline.handle)
        if st != DNIC_OK {
            throw DnicError(st == DNIC_ERR_PEER ? failure : "rank \(rank): \(statusText(st))", status: st)
        }
        #else
        throw unavailable()
        #endif
    }

    /// Rank 0: every block's values here and the other ranks stopped.
    public static func detach(_ pipeline: Pipeline) throws {
        #if canImport(CDnicMPI)
        let st = dnic_mpi_detach(pipeline.handle)
        if st != DNIC_OK, st != DNIC_ERR_STATE { throw DnicError(failure, status: st) }
        #endif
    }

    /// MPI_Finalize: the run ends normally on this rank.
    public static func finish() {
        #if canImport(CDnicMPI)
        _ = dnic_mpi_finalize()
        #endif
    }

    /// MPI_Abort: every rank ends with `code`.
    public static func abort(_ code: Int32) -> Never {
        #if canImport(CDnicMPI)
        dnic_mpi_abort(code)
        #endif
        Foundation.exit(code)
    }

    static func statusText(_ st: dnic_status) -> String { String(cString: dnic_status_str(st)) }
}
