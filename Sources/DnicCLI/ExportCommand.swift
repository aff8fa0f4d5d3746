import ArgumentParser
import Dnic
import Foundation

extension WeightsExport.Layout: ExpressibleByArgument {}

/// `dnic export`: a checkpoint's network weights alone, as safetensors.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write a checkpoint's network weights alone (no optimizer state, no interfaces) as safetensors.",
        discussion: """
        --layout dnic keeps the checkpoint's names and shapes (layer{l}.weight is (in, out)); --layout torch writes the \
        state_dict of a torch.nn.Sequential (Linear weights (out, in), names 0.weight, 0.bias, …) and, in the metadata's \
        torch_sequential, the list of its modules. See docs/cli.md. --out is written whole or not at all.
        """)

    @Option(help: "Checkpoint file written by `dnic train --save`.")
    var checkpoint: String

    @Option(help: "The safetensors file to write (refuses an existing file without --overwrite).")
    var out: String

    @Option(help: "Tensor names and shapes: dnic (the checkpoint's) or torch (an nn.Sequential's state_dict).")
    var layout: WeightsExport.Layout = .dnic

    @Flag(help: "Let --out replace an existing file.")
    var overwrite = false

    func run() throws {
        do { try OutputFile.check(out, existing: .refuse, replace: overwrite) } catch let error as OutputError {
            throw refusal("--out", error)
        }
        // --overwrite must not turn the checkpoint itself into its weights
        var a = stat(), b = stat()
        if stat(out, &a) == 0, stat(checkpoint, &b) == 0, a.st_dev == b.st_dev, a.st_ino == b.st_ino {
            throw UsageError("--out \(pathText(out)) is the checkpoint itself; give another file")
        }
        let loaded = try Checkpoint.load(path: checkpoint, maxBatch: 1)
        let file = try WeightsExport.file(loaded, layout: layout)
        try AtomicFile.write(try file.encoded(), to: out, what: "the weights")
        try Console.out.write("\(file.tensors.count) tensors of \(pathText(checkpoint)) written to \(pathText(out)) (layout \(layout.rawValue))")
    }
}
