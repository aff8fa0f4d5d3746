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
///
/// After `install()`, dnic still ends within 2 s of SIGTERM (what a
/// supervisor sending it may rely on): a step or a checkpoint of a very
/// large model can take longer than that, and then the process ends at the
/// deadline without saving, removing the temporary file of a checkpoint
/// being written (the previous checkpoint stays whole). A second SIGINT or
/// SIGTERM ends it at once the same way; a single SIGINT (^C at a terminal)
/// waits for the step and the checkpoint however long they take.
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
                    StopSignal.awaitStop(after: sig, waiting: &wanted)
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

    /// How long a run may take to stop cleanly after SIGTERM: 2 s less the
    /// time the kernel may take to tear down a large process.
    static let termGraceSeconds = 1.5

    /// After the first signal: waits for the run to stop by itself (the
    /// process then exits and this thread with it); ends the process on a
    /// second signal, or when SIGTERM's grace time has passed.
    private static func awaitStop(after first: Int32, waiting wanted: inout sigset_t) {
        // under mpirun the launcher keeps its own deadline (SIGKILL after
        // odls_base_sigkill_timeout) and rank 0 must be free to use it all
        let deadline = first == SIGTERM && !MPIRanks.isActive ? Date().addingTimeInterval(termGraceSeconds) : nil
        while true {
            var sig: Int32 = 0
            if let deadline {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 { endNow(first, "the run did not stop within \(termGraceSeconds) s") }
                var wait = timespec(tv_sec: Int(left), tv_nsec: Int((left - left.rounded(.down)) * 1e9))
                sig = sigtimedwait(&wanted, nil, &wait)
                if sig < 0 { continue } // EAGAIN: the deadline, seen above; EINTR: wait again
            } else if sigwait(&wanted, &sig) != 0 {
                continue
            }
            endNow(sig, "a second stop signal")
        }
    }

    /// Ends the process now, from the signal thread: no checkpoint, no
    /// temporary file left behind, one line, 128 + the signal.
    private static func endNow(_ sig: Int32, _ why: String) -> Never {
        AtomicFile.removeInFlight()
        Console.err("dnic: \(sig == SIGTERM ? "SIGTERM" : "SIGINT"): \(why); ended at once, saving nothing more (a checkpoint saved earlier is kept)\n")
        _exit(128 + sig)
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
