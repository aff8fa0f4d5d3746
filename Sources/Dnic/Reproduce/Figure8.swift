import Foundation

/// The paper's supplementary Figure 8: linear-probe accuracy per layer.
public enum Figure8: PaperResult {
    public static let id = "fig8"
    public static let summary = "Figure 8: linear probes on every layer of the deep stack."

    public static func run(_ r: Reproduction) throws -> ResultReport {
        var report = ResultReport(id: id, title: "Figure 8 — softmax probes per layer", data: r.imageDataName,
                                  command: r.command(id), quick: r.options.quick, setup: "")
        let (s, models) = try DeepStack.models(r, result: id, report: &report)
        let split = try r.data(r.options.data)
        // the probes' training set: all of it (quick: the first 1,000 points)
        let probeTrain = r.options.quick ? split.train.subset(Array(0 ..< min(1000, split.train.count))) : split.train
        report.setup = DeepStack.setupText(s, r) + " Probes: softmax (multinomial logistic) regression from a layer's activations, "
                                                   + "fitted on \(probeTrain.count) training points to convergence (full-batch L-BFGS "
                                                   + "from zero, L2 \(SVGNumber(SoftmaxProbe.defaultL2)) on the mean loss; stops when the "
                                                   + "gradient's largest entry falls to 1e-3 of its start or an iteration lowers the loss by "
                                                   + "less than 1e-9 (relative), or "
                                                   + "after \(SoftmaxProbe.maxIterations) iterations), argmax accuracy on them and on "
                                                   + "the test set."
        struct Row: Codable { var model: String; var boundaries: [Int]; var layers: [LinearProbes.Result] }
        var rows = [Row]()
        for m in models {
            if r.shouldStop() { throw Reproduction.Stopped(step: nil, run: "\(m.name) (before its probes)") }
            r.progress.note("probing \(m.label)")
            rows.append(Row(model: m.label, boundaries: m.boundaries,
                            layers: try LinearProbes.run(m.network, train: probeTrain, test: split.test, kind: .softmax,
                                                         inputProbe: rows.first?.layers.first)))
        }
        var csv = "model,layer,width,train_accuracy,test_accuracy,iterations,converged\n"
        for row in rows {
            for l in row.layers {
                csv += "\(csvField(row.model)),\(l.layer),\(l.width),\(l.trainAccuracy),\(l.testAccuracy),"
                    + "\(l.iterations.map(String.init) ?? ""),\(l.converged.map { String($0) } ?? "")\n"
            }
        }
        try AtomicFile.write(Data(csv.utf8), to: try r.path(id, "fig8.csv"), what: "the probes")
        try AtomicFile.write(try jsonData(rows), to: try r.path(id, "fig8.json"), what: "the probes")
        let plot = AnalysisPlots.probes(rows.map { (.init(label: $0.model, boundaries: $0.boundaries), $0.layers) })
        try plot.write(to: try r.path(id, "fig8.svg"))
        report.figures = [.init(file: "fig8.svg", caption: "Accuracy of a softmax probe on each layer (0 = the input) on its training "
                                                           + "points and on the test set: backprop, a single SG after hidden layer "
                                                           + "\(s.single) and an SG between every pair of layers.")]
        let columns = [0, 1, 2, s.single, s.hidden]
        report.tables.append(.init(caption: "Probe accuracy (train / test)", header: ["model"] + columns.map { "layer \($0)" },
                                   rows: rows.map { row in [row.model] + columns.map { l in
                                       "\(fixed(row.layers[l].trainAccuracy, 3)) / \(fixed(row.layers[l].testAccuracy, 3))"
                                   } }))
        let probes = rows.enumerated().flatMap { i, row in i == 0 ? row.layers : Array(row.layers.dropFirst()) }  // one input probe
        let capped = probes.filter { $0.converged == false }.count
        let iterations = probes.compactMap(\.iterations)
        report.notes.append("Softmax probes: \(probes.count - capped) of \(probes.count) converged (a stopping rule, not the cap of "
                            + "\(SoftmaxProbe.maxIterations) iterations, ended them; the input's probe is shared by the three "
                            + "models), in \(iterations.min() ?? 0)–"
                            + "\(iterations.max() ?? 0) L-BFGS iterations.")
        // Rule, fixed before the softmax probes were first run: the claim is
        // that, as with backprop, the SG model's layer-2 probe separates the
        // training set (the paper's 100%, read as ≥ 0.99) — and that those
        // layers learned something: their probe beats the probe on the raw
        // input, measured in the same run (chance is 0.10).
        let bp2 = rows[0].layers[2].trainAccuracy, sg2 = rows[1].layers[2].trainAccuracy
        let input = rows[1].layers[0].trainAccuracy
        let separated = sg2 >= 0.99 && bp2 >= 0.99, learned = sg2 > input
        report.findings.append(.init(
            paper: "as with backprop, probes on the SG-based model reach 100% training accuracy after the first two hidden layers (the "
                   + "layers before the SG learn something useful).",
            ours: "softmax-probe training accuracy on hidden layer 2: single SG \(fixed(sg2)), backprop \(fixed(bp2)); on the raw "
                  + "input \(fixed(input)).",
            verdict: separated && learned ? .reproduced : learned && sg2 >= bp2 - 0.01 ? .partly : .not,
            rule: "reproduced when the layer-2 softmax probes of both the single-SG model and backprop reach ≥ 0.99 training accuracy "
                  + "and the SG model's beats the input's; partly when the SG model's beats the input's and is within 0.01 of "
                  + "backprop's (or above); not otherwise",
            baseline: "the same probe on the raw input: training accuracy \(fixed(input)) (chance 0.10)"))
        let every = rows[2].layers
        let peak = every.map(\.testAccuracy).max() ?? .nan, lastAcc = every.last?.testAccuracy ?? .nan
        report.findings.append(.init(
            paper: "with an SG between every pair of layers each layer contributes a small amount to the final solution.",
            ours: "the SG-everywhere model's probe test accuracy goes from \(fixed(every[0].testAccuracy, 3)) (input) to "
                  + "\(fixed(every[1].testAccuracy, 3)) (h1), peaks at \(fixed(peak, 3)) and ends at \(fixed(lastAcc, 3)); backprop's "
                  + "last layer \(fixed(rows[0].layers.last?.testAccuracy ?? .nan, 3)).",
            verdict: (every.last?.testAccuracy ?? 0) > every[1].testAccuracy ? .reproduced : .not,
            rule: "reproduced when its last layer's probe beats its first hidden layer's (layers keep adding to the solution)"))
        return report
    }
}
