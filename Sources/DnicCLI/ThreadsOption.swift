import ArgumentParser
import Dnic

/// `--threads N` of the commands that run the core outside `dnic train`
/// (where threads are a setting of the run): checked, then set for dnic
/// and its GEMM backend together.
struct ThreadsOption: ParsableArguments {
    @Option(parsing: .unconditional, help: "Threads for dnic and its GEMM backend together. (default: all cores)",
            transform: ArgumentValue.integer)
    var threads: Int?

    func apply() throws {
        guard let threads else { return }
        if threads < 1 || threads > 4096 { throw UsageError("--threads \(threads): must be between 1 and 4096") }
        try asUsage { try CoreSystem.setThreads(threads) }
    }
}
