import Foundation
import Synchronization

/// SIGINT / SIGTERM ask the trainer to stop after the current step; it then
/// writes a checkpoint (with --save) and the command exits cleanly.
enum StopSignal {
    /// Set from the signal handler: an atomic store is async-signal-safe.
    static let received = Atomic<Int32>(0)

    static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { number in StopSignal.received.store(number, ordering: .relaxed) }
        }
    }

    static var requested: Bool { received.load(ordering: .relaxed) != 0 }

    static var name: String { received.load(ordering: .relaxed) == SIGTERM ? "SIGTERM" : "SIGINT" }

    /// 128 + the signal number, as a shell reports a process stopped by it.
    static var exitStatus: Int32 { 128 + received.load(ordering: .relaxed) }
}
