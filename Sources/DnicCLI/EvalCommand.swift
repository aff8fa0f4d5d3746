import ArgumentParser
import Dnic
import Foundation

/// `dnic eval`: evaluates a checkpoint written by `dnic train --save` on
/// the test set of a dataset (by default the one it was trained on).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a checkpoint on a dataset's test set.")

    @Option(help: "Checkpoint file written by `dnic train --save`.")
    var checkpoint: String

    @Option(help: "Dataset (as for train). (default: the one in the checkpoint)")
    var data: String?

    @OptionGroup var threadsOption: ThreadsOption

    func run() throws {
        try threadsOption.apply()
        let loaded = try Checkpoint.load(path: checkpoint)
        let spec = try asUsage { try DataSpec.parse(data ?? loaded.config.data) }
        var options = DataOptions()
        options.seed = loaded.config.training.seed // synthetic data: the same points as in training
        options.validationFraction = loaded.config.training.validation
        options.classes = loaded.config.model.classes
        let split = try loadData(spec, options: options)
        let test = split.test
        guard test.dim == loaded.network.inputDim else {
            throw DnicError("\(spec.description) has \(test.dim) features per example; \(checkpoint) expects \(loaded.network.inputDim)")
        }
        guard test.classes <= loaded.classes else {
            throw DnicError("\(spec.description) has \(test.classes) classes; \(checkpoint) was trained on \(loaded.classes)")
        }
        let result = try loaded.network.evaluate(test)
        try Console.out.write(String(format: "test accuracy %.4f (test loss %.4f) on %d examples of %@, checkpoint step %d",
                     result.accuracy, result.loss, test.count, spec.description, loaded.step))
    }
}
