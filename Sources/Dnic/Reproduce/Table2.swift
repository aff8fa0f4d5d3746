import Foundation

/// The paper's Section 4 "Artificial data" (its supplement's Table 2): on
/// four artificial datasets in 2-D and 100-D, a linear model and a deep
/// linear one (10 hidden layers) trained with MSE and with log loss, by
/// backprop and with a linear SG on the output (and, deep, in the middle):
/// does SG reach backprop's optimum? The paper: yes for MSE; not for log
/// loss on separable data, where ∂L/∂p is step-like and a linear SG cannot
/// model it; a sigmoid SG, d·σ(hA) + yB + C, fixes that. Log loss is the
/// paper's logistic regression: ONE sigmoid output (`--classes 1 --loss
/// logistic`), p = xW + b with W of one column. (A softmax over two outputs
/// makes W square on 2-D data, and the equilibrium of SG and model then
/// forces the true gradient to zero: no gap to see.)
public enum Table2: PaperResult {
    public static let id = "table2"
    public static let summary = "Table 2: SG reaches backprop's optimum for MSE, not for log loss on separable data."

    static let datasets = ["linear", "noisy", "random", "xor"]

    /// Calibrated here (full-batch gradient descent; the supplement's rates
    /// are not available): the largest rates that converge on every dataset,
    /// with the log loss as a 2-class softmax; kept for one logistic output.
    struct Settings {
        let quick: Bool
        let width = 16
        var dims: [String] { ["2d", "100d"] }
        /// Quick runs the deep model on linear-2d only: elsewhere it needs 10,000 steps to converge.
        func includes(dataset: String, deep: Bool) -> Bool { !(quick && deep && dataset != "linear-2d") }
        func steps(deep: Bool, loss: LossKind) -> Int {
            if deep { return quick ? 2000 : 10000 }
            return loss == .mse ? (quick ? 2000 : 5000) : (quick ? 4000 : 10000)
        }
        func lr(deep: Bool, loss: LossKind) -> Double { deep ? (loss == .mse ? 0.03 : 0.01) : 0.1 }
        func sgLR(kind: InterfaceKind, deep: Bool, loss: LossKind) -> Double {
            switch (deep, loss) {
            case (false, .mse): return 0.5
            case (true, .mse): return 0.1
            case (false, _): return kind == .sigmoid ? 0.1 : 0.01
            default: return 0.002
            }
        }
        /// The deep model's middle SG on MSE needs its updates clipped (NaN at step 6 on 100-D otherwise).
        func clip(_ p: Planned) -> Double? { p.deep && p.loss == .mse && p.method == "sg-mid" ? 1 : nil }
        init(quick: Bool) { self.quick = quick }
    }

    struct Case: Codable {
        var dataset: String
        var model: String
        var loss: String
        var method: String
        var finalLoss: Double
    }

    /// One row of the plan: a dataset, model, loss and method.
    struct Planned {
        var dataset: String
        var deep: Bool
        var loss: LossKind
        var method: String
        var name: String { "\(dataset)-\(deep ? "deep" : "linear")-\(loss == .mse ? "mse" : "log")-\(method)" }
    }

    static func methods(deep: Bool, loss: LossKind) -> [String] {
        var m = ["backprop", "sg-output"]
        if deep { m.append("sg-mid") }
        if loss != .mse { m.append("sigmoid-sg-output") }
        return m
    }

    static func config(_ p: Planned, settings: Settings, split: DataSplit) -> RunConfig {
        var c = RunConfig(data: "synth:\(p.dataset)", model: ModelDescription(
            layers: p.deep ? Reproduction.layers(10, width: settings.width, activation: .linear) : [],
            loss: p.loss, initializer: .glorotUniform))
        if p.loss == .logistic { c.model.classes = 1 }
        c.optimizer = OptimizerSpec(kind: .sgd, lr: settings.lr(deep: p.deep, loss: p.loss))
        c.training.clipGrad = settings.clip(p)
        if p.method != "backprop" {
            c.interfaces = InterfaceSpec(rule: .sg)
            c.interfaces.at = p.method == "sg-mid" ? .mid : .output
            let kind: InterfaceKind = p.method.hasPrefix("sigmoid") ? .sigmoid : .linear
            c.interfaces.kind = kind
            c.interfaces.optimizer = OptimizerSpec(kind: .sgd, lr: settings.sgLR(kind: kind, deep: p.deep, loss: p.loss))
        }
        c.training.batch = split.train.count
        c.training.steps = settings.steps(deep: p.deep, loss: p.loss)
        c.training.evalEvery = c.training.steps
        c.training.seed = 1
        return c
    }

    public static func run(_ r: Reproduction) throws -> ResultReport {
        let settings = Settings(quick: r.options.quick)
        var plan = [Planned]()
        for d in datasets where !settings.quick || ["linear", "random"].contains(d) {
            for dim in settings.dims {
                for deep in [false, true] where settings.includes(dataset: "\(d)-\(dim)", deep: deep) {
                    for loss in [LossKind.mse, .logistic] {
                        for m in methods(deep: deep, loss: loss) {
                            plan.append(Planned(dataset: "\(d)-\(dim)", deep: deep, loss: loss, method: m))
                        }
                    }
                }
            }
        }
        var splits = [String: DataSplit]()
        for p in plan where splits[p.dataset] == nil { splits[p.dataset] = try r.data(.synthetic(name: p.dataset)) }
        r.progress.begin(id, runs: plan.map {
            Reproduction.planned($0.name, config($0, settings: settings, split: splits[$0.dataset]!), split: splits[$0.dataset]!)
        })
        let store = try r.store(id)
        var report = ResultReport(id: id, title: "Table 2 — does SG reach backprop's optimum on artificial data?",
                                  data: "dnic's artificial datasets linear, noisy, random and xor in 2-D and 100-D (2,000 training points "
                                        + "each; the paper's supplement with its datasets is not available)",
                                  command: r.command(id), quick: r.options.quick,
                                  setup: "full-batch gradient descent with Glorot-uniform init; linear model: lr 0.1, "
                                         + "\(settings.steps(deep: false, loss: .mse)) steps for MSE and "
                                         + "\(settings.steps(deep: false, loss: .logistic)) for log loss; deep linear model (10 hidden "
                                         + "linear layers × \(settings.width)\(settings.quick ? ", on linear-2d only" : "")): "
                                         + "\(settings.steps(deep: true, loss: .mse)) steps, lr 0.03 (MSE) / 0.01 (log loss). MSE on "
                                         + "one-hot labels; log loss = logistic regression: one sigmoid output (`--classes 1 --loss logistic`). "
                                         + "The SG (on the output p, or after hidden layer 5: `mid`) is trained by SGD toward the "
                                         + "gradient from above at lr 0.5 (linear model, MSE), 0.1 (deep, MSE; the middle SG with "
                                         + "gradient-norm clipping at 1), 0.01 (linear model, log loss; sigmoid SG 0.1), 0.002 (deep, log "
                                         + "loss). Rates calibrated here as the largest that converge on every dataset (with the log loss as a 2-class "
                                         + "softmax, kept for one logistic output); the supplement's "
                                         + "are not available. Final loss: the loss over the whole training set after the last step.")
        var cases = [Case]()
        for p in plan {
            let split = splits[p.dataset]!
            let outcome = try store.run(p.name, config: config(p, settings: settings, split: split), split: split,
                                        continuation: .restart) { t, final in
                final.trainLoss.isNaN ? Double.infinity : try t.network.evaluate(split.train).loss
            }
            report.runs += 1
            if outcome.skipped { report.skippedRuns += 1 }
            report.computeSeconds += outcome.final.seconds
            cases.append(Case(dataset: p.dataset, model: p.deep ? "deep linear" : "linear", loss: p.loss == .mse ? "MSE" : "log loss",
                              method: p.method, finalLoss: outcome.result))
        }
        var csv = "dataset,model,loss,method,final_train_loss\n"
        for c in cases { csv += "\(c.dataset),\(c.model),\(c.loss),\(c.method),\(c.finalLoss)\n" }
        try AtomicFile.write(Data(csv.utf8), to: try r.path(id, "table2.csv"), what: "the table")
        try AtomicFile.write(try jsonData(cases), to: try r.path(id, "table2.json"), what: "the table")

        func loss(_ d: String, _ model: String, _ l: String, _ m: String) -> Double? {
            cases.first { $0.dataset == d && $0.model == model && $0.loss == l && $0.method == m }?.finalLoss
        }
        let allMethods = ["backprop", "sg-output", "sg-mid", "sigmoid-sg-output"]
        for l in ["MSE", "log loss"] {
            var table = ResultReport.Table(caption: "Final training loss, \(l) (— : not applicable)",
                                           header: ["dataset", "model"] + allMethods, rows: [])
            for d in plan.map(\.dataset).uniqued() { for model in ["linear", "deep linear"] {
                let cells = allMethods.map { m in
                    loss(d, model, l, m).map { l == "MSE" && $0.isFinite ? String(format: "%.6g", $0) : lossText($0) } ?? "—"
                }
                if cells.contains(where: { $0 != "—" }) { table.rows.append([d, model] + cells) }
            } }
            report.tables.append(table)
        }

        // MSE: every SG run within 1e-4 of backprop's final loss
        let mse = cases.filter { $0.loss == "MSE" && $0.method != "backprop" }
        let mseHeld = mse.filter { c in abs(c.finalLoss - (loss(c.dataset, c.model, "MSE", "backprop") ?? .nan)) < 1e-4 }
        let worst = mse.map { c in abs(c.finalLoss - (loss(c.dataset, c.model, "MSE", "backprop") ?? .nan)) }.max() ?? .nan
        report.findings.append(.init(
            paper: "for MSE, both the linear and the deep linear model trained with a linear SG converge to the "
                   + "global optimum backprop reaches.",
            ours: "\(mseHeld.count) of \(mse.count) MSE SG runs end within 1e-4 of backprop's final loss (largest "
                  + "difference \(scientific(worst))).",
            verdict: Verdict.counting(mseHeld.count, of: mse.count),
            rule: "reproduced when every MSE SG run (output and middle) is within 1e-4 of backprop's final training loss",
            baseline: "backprop's final MSE on the same data and model, in this run: " + baselines("MSE", cases)))

        // log loss on separable data: the linear SG stays above backprop
        let separable = plan.map(\.dataset).uniqued().filter { $0.hasPrefix("linear") }
        var gaps = [(String, Double, Double)]()
        for d in separable { for model in ["linear", "deep linear"] {
            if let bp = loss(d, model, "log loss", "backprop"), let sg = loss(d, model, "log loss",
                                                                              "sg-output") { gaps.append(("\(d) \(model)", bp, sg)) }
        } }
        // a diverged SG (infinite loss) failed to reach the optimum too: it counts as a gap
        let gapHeld = gaps.filter { !$0.2.isFinite || $0.2 > 1.5 * $0.1 }
        report.findings.append(.init(
            paper: "for log loss on (linearly) separable data a linear SG does not reach backprop's solution: ∂L/∂p approaches a step "
                   + "function a linear SG cannot model.",
            ours: "the linear SG on the output ends above backprop on \(gapHeld.count) of \(gaps.count) separable cases: "
                + gaps.map { "\($0.0) \(lossText($0.2)) vs \(lossText($0.1))" }.joined(separator: "; ") + ".",
            verdict: Verdict.counting(gapHeld.count, of: gaps.count),
            rule: "one logistic output; a gap is an SG final loss above 1.5 × backprop's, or an SG that diverged (it failed to reach the "
                  + "optimum); reproduced when every separable (linear-*) case, linear and deep linear model, has one",
            baseline: "backprop's final log loss on the same data and model, in this run: "
                      + gaps.map { "\($0.0) \(lossText($0.1))" }.joined(separator: "; ")))

        // random labels: the gap vanishes
        let random = plan.map(\.dataset).uniqued().filter { $0.hasPrefix("random") }
        var randomCases = [(String, Double, Double)]()
        for d in random { for model in ["linear", "deep linear"] {
            if let bp = loss(d, model, "log loss", "backprop"), let sg = loss(d, model, "log loss",
                                                                              "sg-output") { randomCases.append(("\(d) \(model)", bp, sg)) }
        } }
        let randomHeld = randomCases.filter { $0.2 <= 1.1 * $0.1 }
        report.findings.append(.init(
            paper: "with random labels the problem vanishes, since ∂L/∂p is then approximated much better.",
            ours: "on random labels the linear SG ends within 10% of backprop on \(randomHeld.count) of \(randomCases.count) cases: "
                + randomCases.map { "\($0.0) \(lossText($0.2)) vs \(lossText($0.1))" }.joined(separator: "; ") + ".",
            verdict: Verdict.counting(randomHeld.count, of: randomCases.count),
            rule: "reproduced when every random-label case's SG loss is at most 1.1 × backprop's (a diverged SG is above it)",
            baseline: "backprop's final log loss on the same data and model, in this run: "
                      + randomCases.map { "\($0.0) \(lossText($0.1))" }.joined(separator: "; ")))

        // the sigmoid SG closes the gap
        var sigmoid = [(String, Double, Double, Double)]()
        for d in separable { for model in ["linear", "deep linear"] {
            if let bp = loss(d, model, "log loss", "backprop"), let sg = loss(d, model, "log loss", "sg-output"),
               let s = loss(d, model, "log loss", "sigmoid-sg-output") { sigmoid.append(("\(d) \(model)", bp, sg, s)) }
        } }
        let closed = sigmoid.filter { $0.3.isFinite && $0.3 <= $0.1 + 0.25 * max($0.2 - $0.1, 0) }
        report.findings.append(.init(
            paper: "for log loss one should use an SG with a sigmoid, SG(h, y) = d·σ(hA) + yB + C.",
            ours: "the sigmoid SG closes at least three quarters of the linear SG's gap on \(closed.count) of \(sigmoid.count) separable "
                  + "cases: " + sigmoid.map { "\($0.0) \(lossText($0.3))" }.joined(separator: "; ") + ".",
            verdict: Verdict.counting(closed.count, of: sigmoid.count),
            rule: "reproduced when on every separable case the sigmoid SG's loss is finite and ≤ backprop's + ¼ of the linear SG's gap",
            baseline: "backprop's and the linear SG's final log loss, in this run: "
                      + sigmoid.map { "\($0.0) \(lossText($0.1)) and \(lossText($0.2))" }.joined(separator: "; ")))
        let ratio2d = (loss("linear-2d", "linear", "log loss", "sg-output") ?? .nan) / (loss("linear-2d", "linear", "log loss", "backprop") ?? .nan)
        report.notes.append("Log loss is logistic regression on one sigmoid output, as in the paper. A softmax over two outputs (what "
                            + "this result ran before) makes W square on 2-D data, and the equilibrium of SG and model then forces the "
                            + "true gradient to zero: no gap to see. With one output the linear model on linear-2d still ends within "
                            + "\(String(format: "%.3g", ratio2d)) × backprop's loss: its linear SG tracks backprop for the "
                            + "\(settings.steps(deep: false, loss: .logistic)) steps; trained on, it diverges (at step 19,251 of a "
                            + "40,000-step run, measured with `dnic train --data synth:linear-2d --hidden 0 --loss logistic --classes 1 "
                            + "--init glorot-uniform --optimizer sgd --lr 0.1 --batch 2000 --steps 40000 --rule sg --sg-at output "
                            + "--sg-kind linear --sg-optimizer sgd --sg-lr 0.01`). The sigmoid SG on the deep linear model diverged with "
                            + "the 2-class softmax at every rate tried (0.002–0.5, with clipping and warm-up) and still does on the "
                            + "separable and noisy sets: a saturated sigmoid keeps delivering a constant gradient for confidently "
                            + "classified points, which a 10-layer linear stack probably amplifies (not investigated further).")
        return report
    }

    static func lossText(_ v: Double) -> String { v.isFinite ? String(format: "%.4g", v) : "diverged" }

    /// Backprop's final loss per dataset and model, for a finding's baseline.
    static func baselines(_ loss: String, _ cases: [Case]) -> String {
        cases.filter { $0.loss == loss && $0.method == "backprop" }
            .map { "\($0.dataset) \($0.model) \(String(format: "%.6g", $0.finalLoss))" }.joined(separator: "; ")
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
