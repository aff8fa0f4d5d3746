import Foundation

/// The paper's Figure 2: the loss a linear SG implies (L̂ = ½hAhᵀ +
/// (yB + C)hᵀ) beside the true loss over a 2-D grid, for a 5-hidden-layer
/// relu network with a single SG and with an SG after every hidden layer,
/// MSE and log loss, on the grid with 10% random labels and on all-random
/// labels, at several points in training: at fixed steps, and when the
/// training loss first falls to fixed fractions of its initial value (the
/// paper's "late" regime is a true loss around 0.001: a zero-initialised SG
/// takes tens of thousands of steps to get there, so steps alone do not
/// say where in learning a snapshot is).
public enum Figure2: PaperResult {
    public static let id = "fig2"
    public static let summary = "Figure 2: the loss implied by linear SGs beside the true loss on a 2-D grid."

    struct Settings {
        var steps: Int
        var snapshots: [Int]
        var seeds: [Int]
        /// Snapshots when the training loss first falls to these fractions of its initial value.
        let fractions = [0.5, 0.1, 0.01, 0.001]
        /// "Early" in learning: step 1000, once the zero-initialised SGs have fitted (the ½ level comes at step 20–70, before
        /// they have; at step 100 they have barely fitted). "Late": the training loss at 1/100 of its initial value.
        let earlyStep = 1000, late = 0.01
        /// Levels before the late one that "the majority of learning" covers.
        let during = [0.1]
        /// Steps between measurements of the loss over the whole training set.
        let lossEvery = 10
        init(quick: Bool) {
            steps = quick ? 3000 : 60000
            snapshots = quick ? [100, 1000, 3000] : [100, 1000, 3000, 60000]
            seeds = quick ? [1] : [1, 2, 3]
        }
    }

    /// One configuration (grid, loss, placement); its runs are its seeds.
    struct Planned: Equatable {
        var grid: String
        var loss: LossKind
        var every: Bool
        var name: String { "\(grid)-\(loss == .mse ? "mse" : "log")-\(every ? "sg-every" : "sg-single")" }
        var short: String { "\(grid) \(loss == .mse ? "MSE" : "log")" }
    }

    static func config(_ p: Planned, seed: Int, settings: Settings) -> RunConfig {
        var c = RunConfig(data: "synth:\(p.grid)", model: ModelDescription(layers: Reproduction.layers(5, width: 64), loss: p.loss))
        c.interfaces = InterfaceSpec(rule: .sg)
        c.interfaces.at = p.every ? .every : .list([3])
        c.optimizer.lr = 1e-3  // calibrated here; not the default for SGs in series
        c.training.batch = 32
        c.training.steps = settings.steps
        c.training.evalEvery = settings.steps
        c.training.seed = UInt64(seed)
        return c
    }

    static func runName(_ p: Planned, seed: Int) -> String { "\(p.name)-seed\(seed)" }

    /// A configuration's runs, one per seed.
    struct Outcome {
        var planned: Planned
        var runs: [Recorded]

        /// ρ of the top (or bottom) interface at step snapshot `index`, per seed.
        func atStep(_ index: Int, top: Bool) -> [Double] {
            runs.map { r in
                guard index < r.byStep.count, let l = top ? r.byStep[index].layers.last : r.byStep[index].layers.first else { return .nan }
                return l.spearman
            }
        }

        /// ρ of the top (or bottom) interface at a loss level, per seed; nil when a seed never got there.
        func atLevel(_ fraction: Double, top: Bool) -> [Double]? {
            let values = runs.map { r -> Double? in
                guard let level = r.byLevel.first(where: { $0.fraction == fraction }),
                      let l = top ? level.snapshot.layers.last : level.snapshot.layers.first else { return nil }
                return l.spearman
            }
            return values.contains { $0 == nil } ? nil : values.map { $0! }
        }

        func reached(_ fraction: Double) -> Int { runs.filter { r in r.byLevel.contains { $0.fraction == fraction } }.count }
    }

    static func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
    static func fraction(_ f: Double) -> String { f == 0.5 ? "½" : "1/\(Int((1 / f).rounded()))" }

    public static func run(_ r: Reproduction) throws -> ResultReport {
        let settings = Settings(quick: r.options.quick)
        var plan = [Planned]()
        for g in ["grid", "grid-random"] { for l in [LossKind.mse, .logistic] { for e in [false, true] {
            plan.append(Planned(grid: g, loss: l, every: e))
        } } }
        var splits = [String: DataSplit]()
        for g in ["grid", "grid-random"] { splits[g] = try r.data(.synthetic(name: g)) }
        r.progress.begin(id, runs: plan.flatMap { p in settings.seeds.map { s in
            Reproduction.planned(runName(p, seed: s), config(p, seed: s, settings: settings), split: splits[p.grid]!)
        } })
        let store = try r.store(id)
        let levelsText = settings.fractions.map(fraction).joined(separator: ", ")
        var report = ResultReport(id: id, title: "Figure 2 — the loss a linear SG implies, beside the true loss",
                                  data: "dnic's 2-D grids: synth:grid (20×20 training grid on [−1, 1]², labels by a line with 10% random) "
                                        + "and synth:grid-random (all labels random); pictures over the 41×41 test grid",
                                  command: r.command(id), quick: r.options.quick,
                                  setup: "5 hidden layers × 64 relu (6 layers with the output), Adam lr 1e-3 for network and interfaces, "
                                         + "batch 32, \(settings.steps) steps, seeds \(settings.seeds.map(String.init).joined(separator: ", "))"
                                         + "; linear label-conditioned SGs with bootstrapped targets, a "
                                         + "single one after hidden layer 3 or one after every hidden layer (1–4); MSE on one-hot labels "
                                         + "or log loss (logistic regression on one output). Snapshots at steps "
                                         + "\(settings.snapshots.map(String.init).joined(separator: ", ")), and when the loss over the "
                                         + "whole training set (measured every \(settings.lossEvery) steps) first falls to \(levelsText) of "
                                         + "its value after the first step. Quality: Spearman's rank correlation ρ between L̂ and the "
                                         + "true loss over the test grid's points (L̂ is known up to a constant only); numbers are "
                                         + "means over the seeds, pictures seed \(settings.seeds[0]).")
        var outcomes = [Outcome]()
        for p in plan {
            let split = splits[p.grid]!
            var runs = [Recorded]()
            for seed in settings.seeds {
                let recorder = Recorder(steps: settings.snapshots, fractions: settings.fractions, lossEvery: settings.lossEvery,
                                        train: split.train, grid: split.test, loss: p.loss)
                let outcome = try store.run(runName(p, seed: seed), config: config(p, seed: seed, settings: settings), split: split,
                                            key: "snapshots \(settings.snapshots), levels \(settings.fractions) every "
                                                 + "\(settings.lossEvery)",
                                            continuation: .restart, observe: recorder.observe) { _, _ in recorder.recorded }
                report.runs += 1
                if outcome.skipped { report.skippedRuns += 1 }
                report.computeSeconds += outcome.final.seconds
                runs.append(outcome.result)
            }
            outcomes.append(Outcome(planned: p, runs: runs))
        }
        try writeNumbers(outcomes, settings: settings, r)
        try drawFigures(outcomes, settings: settings, report: &report, r)
        addTables(outcomes, settings: settings, report: &report)
        addFindings(outcomes, settings: settings, report: &report)
        return report
    }

    static func writeNumbers(_ outcomes: [Outcome], settings: Settings, _ r: Reproduction) throws {
        var csv = "grid,loss,placement,seed,snapshot,step,train_loss_fraction,boundary,spearman\n"
        for o in outcomes { for (seed, run) in zip(settings.seeds, o.runs) {
            let p = o.planned
            let head = "\(p.grid),\(p.loss == .mse ? "mse" : "log"),\(p.every ? "every" : "single"),\(seed)"
            for s in run.byStep { for l in s.layers { csv += "\(head),step,\(s.step),,\(l.boundary),\(l.spearman)\n" } }
            for v in run.byLevel { for l in v.snapshot.layers {
                csv += "\(head),level,\(v.snapshot.step),\(v.fraction),\(l.boundary),\(l.spearman)\n"
            } }
        } }
        try AtomicFile.write(Data(csv.utf8), to: try r.path(id, "fig2.csv"), what: "the correlations")
        struct Level: Codable { var fraction: Double; var step: Int; var trainLoss: Double; var spearman: [Double] }
        struct Row: Codable {
            var run: String; var seed: Int; var steps: [Int]; var spearman: [[Double]]; var boundaries: [Int]
            var initialLoss: Double; var lowestLoss: Double; var finalLoss: Double; var levels: [Level]
        }
        let rows = outcomes.flatMap { o in zip(settings.seeds, o.runs).map { seed, s in
            Row(run: runName(o.planned, seed: seed), seed: seed, steps: s.byStep.map(\.step),
                spearman: s.byStep.map { $0.layers.map(\.spearman) }, boundaries: s.byStep.first?.layers.map(\.boundary) ?? [],
                initialLoss: s.initialLoss, lowestLoss: s.lowestLoss, finalLoss: s.finalLoss,
                levels: s.byLevel.map { Level(fraction: $0.fraction, step: $0.snapshot.step, trainLoss: $0.trainLoss,
                                              spearman: $0.snapshot.layers.map(\.spearman)) })
        } }
        try AtomicFile.write(try jsonData(rows), to: try r.path(id, "fig2.json"), what: "the correlations")
    }

    /// Per (grid, loss), seed 1: one picture by step, one by loss level (the levels both placements reached).
    static func drawFigures(_ outcomes: [Outcome], settings: Settings, report: inout ResultReport, _ r: Reproduction) throws {
        for g in ["grid", "grid-random"] { for l in [LossKind.mse, .logistic] {
            let single = outcomes.first { $0.planned.grid == g && $0.planned.loss == l && !$0.planned.every }!.runs[0]
            let every = outcomes.first { $0.planned.grid == g && $0.planned.loss == l && $0.planned.every }!.runs[0]
            let grid = g == "grid" ? "Grid with 10% random labels" : "Grid with all labels random"
            let panelText = "Left: the true loss and the loss implied by a single SG after hidden layer 3; right: the true loss and "
                + "the loss implied at each of the SGs after hidden layers 1–4 (bottom first). Every panel has its own colour scale "
                + "(only the shape matters)."
            let base = "fig2-\(g)-\(l == .mse ? "mse" : "log")"
            let columns = (single.byStep.first.map { $0.layers.count + 1 } ?? 0) + (every.byStep.first.map { $0.layers.count + 1 } ?? 0)
            var panels = [HeatmapPanel]()
            for (a, b) in zip(single.byStep, every.byStep) {
                panels += LossSurface.panels(a, outputBoundary: 6, prefix: "single SG, ")
                panels += LossSurface.panels(b, outputBoundary: 6, prefix: "SG every, ")
            }
            if !panels.isEmpty {
                try HeatmapFigure(panels: panels, columns: columns).write(to: try r.path(id, base))
                report.figures.append(.init(file: base + ".svg", caption: "\(grid), \(l == .mse ? "MSE" : "log loss"), seed "
                    + "\(settings.seeds[0]). Rows: steps \(settings.snapshots.map(String.init).joined(separator: ", ")). " + panelText))
            }
            var levelPanels = [HeatmapPanel]()
            var shown = [String]()
            for a in single.byLevel {
                guard let b = every.byLevel.first(where: { $0.fraction == a.fraction }) else { continue }
                levelPanels += LossSurface.panels(a.snapshot, outputBoundary: 6, prefix: "single SG, loss \(fraction(a.fraction)), ")
                levelPanels += LossSurface.panels(b.snapshot, outputBoundary: 6, prefix: "SG every, loss \(fraction(a.fraction)), ")
                shown.append(fraction(a.fraction))
            }
            if !levelPanels.isEmpty {
                try HeatmapFigure(panels: levelPanels, columns: columns).write(to: try r.path(id, base + "-levels"))
                report.figures.append(.init(file: base + "-levels.svg", caption: "\(grid), \(l == .mse ? "MSE" : "log loss"), seed "
                    + "\(settings.seeds[0]). Rows: when the training loss first fell to \(shown.joined(separator: ", ")) of its initial "
                    + "value (the levels both runs reached). " + panelText))
            }
        }}
    }

    static func addTables(_ outcomes: [Outcome], settings: Settings, report: inout ResultReport) {
        let seeds = settings.seeds.count == 1 ? "seed \(settings.seeds[0])" : "mean of \(settings.seeds.count) seeds"
        func means(_ perSeed: [[Double]]) -> String {  // per seed, per interface → the interfaces' seed means
            guard let width = perSeed.first?.count, perSeed.allSatisfy({ $0.count == width }) else { return "—" }
            return (0 ..< width).map { i in fixed(mean(perSeed.map { $0[i] }), 2) }.joined(separator: " / ")
        }
        for every in [false, true] {
            let placement = every ? "SG after every hidden layer (h1 … h4)" : "single SG after h3"
            var byStep = ResultReport.Table(caption: "Spearman ρ(L̂, L) by step, \(placement) (\(seeds))",
                                            header: ["grid", "loss"] + settings.snapshots.map { "step \($0)" }, rows: [])
            var byLevel = ResultReport.Table(caption: "Spearman ρ(L̂, L) by training-loss level (fraction of the initial loss), "
                                                      + "\(placement) (\(seeds); — : not every seed got there)",
                                             header: ["grid", "loss"] + settings.fractions.map { "loss \(fraction($0))" }, rows: [])
            for o in outcomes where o.planned.every == every {
                let head = [o.planned.grid, o.planned.loss == .mse ? "MSE" : "log"]
                byStep.rows.append(head + settings.snapshots.indices.map { i in
                    means(o.runs.map { r in i < r.byStep.count ? r.byStep[i].layers.map(\.spearman) : [] })
                })
                byLevel.rows.append(head + settings.fractions.map { f in
                    let levels = o.runs.compactMap { r in r.byLevel.first { $0.fraction == f } }
                    return levels.count < o.runs.count ? "—" : means(levels.map { $0.snapshot.layers.map(\.spearman) })
                })
            }
            report.tables.append(byStep)
            report.tables.append(byLevel)
        }
        var reached = ResultReport.Table(caption: "Step at which the training loss first fell to each level (per seed; — : never)",
                                         header: ["grid", "loss", "placement", "initial loss"]
                                                 + settings.fractions.map { "loss \(fraction($0))" }, rows: [])
        for o in outcomes {
            reached.rows.append([o.planned.grid, o.planned.loss == .mse ? "MSE" : "log", o.planned.every ? "every" : "single",
                                 o.runs.map { String(format: "%.3g", $0.initialLoss) }.joined(separator: " / ")]
                                + settings.fractions.map { f in
                                    o.runs.map { r in r.byLevel.first { $0.fraction == f }.map { "\($0.snapshot.step)" } ?? "—" }
                                        .joined(separator: " / ")
                                })
        }
        report.tables.append(reached)
    }
}
