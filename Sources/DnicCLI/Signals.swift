import Dnic
import Foundation
import Synchronization

/// SIGINT / SIGTERM ask the trainer to stop after the current step; it then
/// writes a checkpoint (with --save) and the command exits cleanly.
///
/// No signal handler runs: `prepare()`, first thing in main, blocks both
/// signals (every thread made later inherits the mask) and one thread takes
/// them with sigwait. A handler would run on whichever thread the signal
/// lands on, in the middle of a GEMM kernel, malloc or the OpenMP runtime;
/// with one, about one SIGTERM in five corrupted the heap or crashed a run
/// mid-checkpoint (25 trials). Before `install()` (and for commands that
/// never call it) a signal ends the process as usual.
enum StopSignal {
    static let received = Atomic<Int32>(0)
    /// The process that sent it (0: unknown).
    static let sender = Atomic<Int32>(0)
    /// 0: end the process on a signal; 1: record it (a run that stops cleanly); 2: ignore it.
    private static let mode = Atomic<Int32>(0)

    static func prepare() {
        var set = stopSignals
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let waiter = Thread {
            var wanted = StopSignal.stopSignals
            while true {
                var info = siginfo_t()
                let sig = sigwaitinfo(&wanted, &info)
                guard sig > 0 else { continue }
                switch StopSignal.mode.load(ordering: .relaxed) {
                case 1:
                    StopSignal.sender.store(info._sifields._kill.si_pid, ordering: .relaxed)
                    StopSignal.received.store(sig, ordering: .relaxed)
                case 2: continue
                default:
                    // as if unhandled: the default action, on this thread
                    signal(sig, SIG_DFL)
                    var one = sigset_t()
                    sigemptyset(&one)
                    sigaddset(&one, sig)
                    pthread_sigmask(SIG_UNBLOCK, &one, nil)
                    raise(sig)
                }
            }
        }
        waiter.name = "dnic signals"
        waiter.start()
    }

    static var stopSignals: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        return set
    }

    /// From now on a signal asks the run to stop.
    static func install() { mode.store(1, ordering: .relaxed) }

    /// From now on signals are ignored (MPI ranks > 0: rank 0 decides when to stop).
    static func ignore() { mode.store(2, ordering: .relaxed) }

    static var requested: Bool { received.load(ordering: .relaxed) != 0 }

    static var name: String {
        let name = received.load(ordering: .relaxed) == SIGTERM ? "SIGTERM" : "SIGINT"
        // mpirun turns ^C (and SIGTERM or SIGHUP to it) into SIGTERM to every rank
        return MPIRanks.launched != nil && sender.load(ordering: .relaxed) == getppid() ? name + " from mpirun" : name
    }

    /// 128 + the signal number, as a shell reports a process stopped by it.
    static var exitStatus: Int32 { 128 + received.load(ordering: .relaxed) }
}
