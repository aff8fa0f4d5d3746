import ArgumentParser
import Dnic

/// `dnic eval`: evaluates saved parameters on a dataset. Checkpoints (the
/// file it reads) arrive with the checkpoint issue; until then it says so.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a checkpoint on a dataset (checkpoints: not yet available).")

    @Option(help: "Checkpoint file written by `dnic train --save`.")
    var checkpoint: String

    @Option(help: "Dataset (as for train).")
    var data: String = "fashion-mnist"

    func run() throws {
        throw UsageError("dnic eval: checkpoints are not implemented yet (dnic train has no --save yet)")
    }
}
