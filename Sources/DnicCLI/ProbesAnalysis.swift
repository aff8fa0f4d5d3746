import ArgumentParser
import Dnic
import Foundation

extension LinearProbes.Kind: ExpressibleByArgument {}

/// `dnic analyze probes` (Figure 8).
struct ProbesAnalysis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probes",
        abstract: "Linear-probe accuracy of every layer (the paper's Figure 8).",
        discussion: "Per layer (0 = the input): a linear classifier fitted on the layer's activations on the training set, scored by argmax on the training and the test set. --kind softmax (default, the paper's probes): multinomial logistic regression trained to convergence by full-batch L-BFGS (penalty --l2 on the mean loss); --kind ridge: least squares to one-hot labels in closed form through LAPACK, faster (penalty --ridge times the training rows). Writes probes.json, probes.csv and probes.svg.")

    @OptionGroup var options: AnalysisOptions

    @Option(help: "Dataset (as for train). (default: each checkpoint's own)")
    var data: String?

    @Option(help: "Probe: softmax (trained to convergence, the paper's) or ridge (least squares, closed form, faster).")
    var kind: LinearProbes.Kind = LinearProbes.defaultKind

    @Option(parsing: .unconditional, help: "Softmax probes: L2 penalty on the mean loss. (default: 0.0001)", transform: ArgumentValue.number)
    var l2: Double?

    @Option(parsing: .unconditional, help: "Ridge probes: penalty per training row. (default: 0.001)", transform: ArgumentValue.number)
    var ridge: Double?

    func run() throws {
        if let ridge {
            guard ridge >= 0, ridge.isFinite else { throw UsageError("--ridge \(ridge): must be a finite number >= 0") }
            guard kind == .ridge else { throw UsageError("--ridge \(ridge): applies to --kind ridge (the probes are --kind \(kind))") }
        }
        if let l2 {
            guard l2 >= 0, l2.isFinite else { throw UsageError("--l2 \(l2): must be a finite number >= 0") }
            guard kind == .softmax else { throw UsageError("--l2 \(l2): applies to --kind softmax (the probes are --kind \(kind))") }
        }
        let models = try options.prepare(files: LinearProbes.files)
        let rows = try LinearProbes.analyse(models, data: data, kind: kind, ridge: ridge ?? LinearProbes.defaultRidge,
                                            l2: l2 ?? SoftmaxProbe.defaultL2, into: options.out, notes: options.notes)
        for r in rows {
            try Console.out.write("\(r.model): test accuracy by layer "
                                  + r.layers.map { String(format: "%d %.4f", $0.layer, $0.testAccuracy) }.joined(separator: ", "))
            let capped = r.layers.filter { $0.converged == false }.map { String($0.layer) }
            if !capped.isEmpty {
                Console.warn("\(r.model): the softmax probes of layer(s) \(capped.joined(separator: ", ")) stopped at the "
                             + "cap of \(SoftmaxProbe.maxIterations) iterations before converging")
            }
        }
        try Console.out.write("wrote \(options.path("probes.svg")), probes.json, probes.csv")
    }
}
