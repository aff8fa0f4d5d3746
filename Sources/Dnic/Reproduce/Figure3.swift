import Foundation

/// The paper's Figure 3: RDMs of every hidden layer for a label-ordered
/// sample of test points, the distance of each layer's within-class blocks
/// to the last layer's, and each layer's distance to backprop's RDMs beside
/// backprop's own seed-to-seed distance (the baseline of "the layers below
/// the SG differ"), with batch norm (the paper's setting) and without.
public enum Figure3: PaperResult {
    public static let id = "fig3"
    public static let summary = "Figure 3: RDMs of a deep stack under backprop, one SG and SG everywhere, against backprop's seed-to-seed spread."

    struct Layer: Codable {
        var layer: Int
        var distanceToLast: Double
        /// Mean over the backprop seeds (other than itself) of the layer's distance to theirs.
        var distanceToBackprop: Double
        var withinClass: Double
        var betweenClass: Double
    }

    struct Row: Codable {
        var model: String
        var run: String
        var variant: String
        var batchnorm: Bool
        var seed: Int
        var boundaries: [Int]
        var testAccuracy: Double
        var layers: [Layer]
    }

    /// Backprop against backprop of another seed, layer by layer: the distance
    /// two equally trained models have by chance.
    struct SeedPair: Codable {
        var seeds: [Int]
        var distances: [Double]
        var below: Double
        var above: Double
    }

    struct Baseline: Codable {
        var variant: String
        var batchnorm: Bool
        var single: Int
        var pairs: [SeedPair]
        /// The single-SG model's mean distance to the backprop seeds, below
        /// (layers 1…single) and above the SG.
        var sgBelow: Double
        var sgAbove: Double
    }

    /// The models of this figure: both sets, each with backprop's extra seeds.
    static func members(_ s: DeepStack.Settings) -> [DeepStack.Member] {
        DeepStack.set(.batchnorm) + DeepStack.extraSeeds(.batchnorm, s) + DeepStack.set(.plain) + DeepStack.extraSeeds(.plain, s)
    }

    /// The columns of the distance table: first, quarter, middle, after the
    /// SG, next to last — each once, in order (a small stack makes some coincide).
    static func tableColumns(hidden: Int, single: Int) -> [Int] {
        let mid = hidden / 2
        return Set([1, mid / 2, mid, single + 1, hidden - 1].filter { (1 ... hidden).contains($0) }).sorted()
    }

    public static func run(_ r: Reproduction) throws -> ResultReport {
        var report = ResultReport(id: id, title: "Figure 3 — representational dissimilarity matrices", data: r.imageDataName,
                                  command: r.command(id), quick: r.options.quick, setup: "")
        let settings = DeepStack.Settings(quick: r.options.quick)
        let (s, models) = try DeepStack.models(r, result: id, report: &report, members: members(settings))
        r.progress.note("RDMs")
        let split = try r.data(r.options.data)
        let perClass = r.options.quick ? 20 : 40, drawnPerClass = 10
        let chosen = split.test.subset(try RDM.points(split.test, perClass: perClass, seed: 1))
        let drawn = split.test.subset(try RDM.points(split.test, perClass: drawnPerClass, seed: 1))
        // the picture: every other layer, the layers around the single SG and the last (it stays a few MB)
        let shown = Set(Array(stride(from: 1, through: s.hidden, by: s.hidden > 10 ? 2 : 1)) + [s.single, s.single + 1, s.hidden]).sorted()
        var rdms = [String: [[Float]]]()
        var panels = [HeatmapPanel]()
        for m in models {
            if r.shouldStop() { throw Reproduction.Stopped(step: nil, run: "\(m.name) (before its RDMs)") }
            rdms[m.name] = try RDM.matrices(m.network, points: chosen)
            guard m.variant == .batchnorm, m.seed == 1 else { continue }
            for (l, rdm) in try RDM.matrices(m.network, points: drawn).enumerated() where shown.contains(l + 1) {
                panels.append(HeatmapPanel(title: "\(m.label) h\(l + 1)", rows: drawn.count, cols: drawn.count,
                                           values: rdm.map(Double.init)))
            }
        }
        func distances(_ a: String, _ b: String) -> [Double] {
            zip(rdms[a]!, rdms[b]!).map { RDM.blockDistance($0, $1, labels: chosen.labels) }
        }
        let below = 0 ..< s.single, above = s.single ..< s.hidden
        var rows = [Row]()
        var baselines = [Baseline]()
        for variant in [DeepStack.Variant.batchnorm, .plain] {
            let set = models.filter { $0.variant == variant }
            let backprops = set.filter { $0.name.hasPrefix(variant.prefix + "backprop") }
            for m in set {
                let own = rdms[m.name]!
                let others = backprops.filter { $0.name != m.name }.map { distances(m.name, $0.name) }
                let layers = own.enumerated().map { l, rdm in
                    let (w, b) = RDM.meanDissimilarity(rdm, labels: chosen.labels)
                    return Layer(layer: l + 1, distanceToLast: RDM.blockDistance(rdm, own[own.count - 1], labels: chosen.labels),
                                 distanceToBackprop: mean(others.map { $0[l] }), withinClass: w, betweenClass: b)
                }
                rows.append(Row(model: m.label, run: m.name, variant: variant.rawValue, batchnorm: m.batchnorm, seed: m.seed,
                                boundaries: m.boundaries, testAccuracy: m.final.testAccuracy, layers: layers))
            }
            var pairs = [SeedPair]()
            for (i, a) in backprops.enumerated() {
                for b in backprops[(i + 1)...] {
                    let d = distances(a.name, b.name)
                    pairs.append(SeedPair(seeds: [a.seed, b.seed], distances: d, below: mean(Array(d[below])),
                                          above: mean(Array(d[above]))))
                }
            }
            let single = rows.first { $0.run == variant.prefix + "sg-single" }!.layers.map(\.distanceToBackprop)
            baselines.append(Baseline(variant: variant.rawValue, batchnorm: variant == .batchnorm, single: s.single, pairs: pairs,
                                      sgBelow: mean(Array(single[below])), sgAbove: mean(Array(single[above]))))
        }
        try HeatmapFigure(panels: panels, columns: shown.count).write(to: try r.path(id, "fig3-rdm"))
        for variant in [DeepStack.Variant.batchnorm, .plain] {
            let seedOne = rows.filter { $0.variant == variant.rawValue && $0.seed == 1 }
            let plot = AnalysisPlots.rdmDistance(seedOne.map { row in
                (.init(label: row.model, boundaries: row.boundaries), row.layers.map { ($0.layer, $0.distanceToLast) })
            })
            try plot.write(to: try r.path(id, "fig3-distance\(variant == .plain ? "-nobn" : "").svg"))
            // each layer's distance to backprop: the single SG's beside backprop's seed pairs
            let b = baselines.first { $0.variant == variant.rawValue }!
            let sg = rows.first { $0.run == variant.prefix + "sg-single" }!
            var toBackprop = LinePlot(title: "Within-class RDM blocks: distance to backprop's, layer by layer"
                                             + (variant == .plain ? " (no batch norm)" : ""),
                                      xLabel: "hidden layer", yLabel: "L2 distance",
                                      series: [.init(label: "\(sg.model) to backprop (mean over seeds)",
                                                     points: sg.layers.map { (Double($0.layer), $0.distanceToBackprop) }, colour: 1)]
                                          + b.pairs.map { p in
                                              .init(label: "backprop seed \(p.seeds[0]) to seed \(p.seeds[1])",
                                                    points: p.distances.enumerated().map { (Double($0.offset + 1), $0.element) },
                                                    colour: 0)
                                          })
            toBackprop.integerX = true
            toBackprop.marks = [(x: Double(s.single) + 0.5, label: "SG", series: nil)]
            try toBackprop.write(to: try r.path(id, "fig3-to-backprop\(variant == .plain ? "-nobn" : "").svg"))
        }
        var csv = "model,run,batchnorm,seed,layer,distance_to_last,distance_to_backprop,within_class,between_class\n"
        for row in rows {
            for l in row.layers {
                csv += "\(csvField(row.model)),\(row.run),\(row.batchnorm),\(row.seed),\(l.layer),\(l.distanceToLast),"
                    + "\(l.distanceToBackprop),\(l.withinClass),\(l.betweenClass)\n"
            }
        }
        try AtomicFile.write(Data(csv.utf8), to: try r.path(id, "fig3.csv"), what: "the RDM figures")
        struct Output: Codable { var models: [Row]; var seedBaseline: [Baseline] }
        try AtomicFile.write(try jsonData(Output(models: rows, seedBaseline: baselines)), to: try r.path(id, "fig3.json"),
                             what: "the RDM figures")
        report.setup = DeepStack.setupText(s, r) + " " + DeepStack.plainSetupText(s) + " Backprop runs at seeds "
                       + s.backpropSeeds.map(String.init).joined(separator: ", ") + " in each set (the other models: seed 1). "
                       + "RDMs: 1 − corr(h(xᵢ), h(xⱼ)) over \(perClass) test points per class (seeded, label-ordered) for the "
                       + "distances, \(drawnPerClass) per class in the picture; distances are L2 over the within-class diagonal blocks."
        report.figures = [
            .init(file: "fig3-rdm.svg", caption: "RDMs of hidden layers \(shown.map { "h\($0)" }.joined(separator: ", ")) for a "
                                                 + "label-ordered sample of \(drawnPerClass) test points per class: backprop (top row), a "
                                                 + "single SG after hidden layer \(s.single) (middle), an SG between every pair of layers "
                                                 + "(bottom), with batch norm. Dark diagonal blocks: points of one class represented "
                                                 + "alike. Each panel has its own colour scale."),
            .init(file: "fig3-distance.svg", caption: "L2 distance between each layer's within-class RDM blocks and the same blocks at "
                                                      + "the last hidden layer (\(perClass) points per class), with batch norm; "
                                                      + "dashed lines: where the SGs sit."),
            .init(file: "fig3-to-backprop.svg", caption: "With batch norm: L2 distance of each layer's within-class RDM blocks to "
                                                         + "backprop's, for the single-SG model (mean over the backprop seeds) and for "
                                                         + "backprop against backprop of another seed (the baseline); the mark: "
                                                         + "where the SG sits."),
            .init(file: "fig3-distance-nobn.svg", caption: "As figure 2, without batch norm."),
            .init(file: "fig3-to-backprop-nobn.svg", caption: "As figure 3, without batch norm."),
        ]
        let mid = s.hidden / 2
        func layers(_ run: String) -> [Layer] { rows.first { $0.run == run }!.layers }
        let columns = tableColumns(hidden: s.hidden, single: s.single)
        report.tables.append(.init(caption: "Distance to the last layer's within-class blocks",
                                   header: ["model"] + columns.map { "h\($0)" },
                                   rows: rows.map { row in [row.model] + columns.map { fixed(row.layers[$0 - 1].distanceToLast, 1) } }))
        func spread(_ v: [Double]) -> (mean: Double, sd: Double) { (mean(v), DeepStack.standardDeviation(v)) }
        report.tables.append(.init(
            caption: "Mean distance to backprop's within-class blocks, below the SG (h1–h\(s.single)) and above it "
                     + "(h\(s.single + 1)–h\(s.hidden))",
            header: ["models", "below the SG", "above the SG"],
            rows: baselines.flatMap { b -> [[String]] in
                let suffix = b.batchnorm ? "" : " (no BN)"
                let lo = spread(b.pairs.map(\.below)), hi = spread(b.pairs.map(\.above))
                return [["SG at \(s.single)\(suffix) to backprop", fixed(b.sgBelow, 1), fixed(b.sgAbove, 1)],
                        ["backprop to backprop\(suffix), \(b.pairs.count) seed pairs", "\(fixed(lo.mean, 1)) ± \(fixed(lo.sd, 1))",
                         "\(fixed(hi.mean, 1)) ± \(fixed(hi.sd, 1))"]]
            }))
        // 1. backprop settles early: from the middle on, near the final representation (every seed)
        let bpRuns = ([DeepStack.Member(kind: "backprop", variant: .batchnorm)] + DeepStack.extraSeeds(.batchnorm, s)).map(\.name)
        let settled = bpRuns.map { layers($0) }.filter { $0[mid - 1].distanceToLast < 0.5 * $0[0].distanceToLast }
        let bp = layers("backprop")
        report.findings.append(.init(
            paper: "with backprop, the representation after 9 of 20 layers is nearly the same as the final layer's.",
            ours: "backprop's distance to the last layer falls from \(fixed(bp[0].distanceToLast, 1)) at h1 to "
                  + "\(fixed(bp[mid - 1].distanceToLast, 1)) at h\(mid) (seed 1); below half in \(settled.count) of "
                  + "\(bpRuns.count) seeds.",
            verdict: Verdict.counting(settled.count, of: bpRuns.count),
            rule: "reproduced when, in every backprop seed (\(bpRuns.count), batch norm), the distance at the middle layer is below half "
                  + "the distance at h1; partly when in some"))
        // 2. single SG: below the SG the representation differs from backprop's more than backprop's own seeds do
        for b in baselines {
            let lo = spread(b.pairs.map(\.below)), hi = spread(b.pairs.map(\.above))
            let differsBelow = b.sgBelow > lo.mean + 2 * lo.sd
            let moreBelow = b.sgBelow / lo.mean > b.sgAbove / hi.mean
            let reading = b.batchnorm ? "" : "without batch norm (the alternative reading), "
            report.findings.append(.init(
                paper: (b.batchnorm ? "" : "(without batch norm) ") + "with a single SG in the middle, the layers before the SG "
                       + "develop a qualitatively different style of representation from backprop's.",
                ours: reading + "the single-SG model's RDM blocks are on average \(fixed(b.sgBelow, 1)) from backprop's below the SG "
                      + "(\(fixed(b.sgBelow / lo.mean, 2))× the seed baseline) and \(fixed(b.sgAbove, 1)) above it "
                      + "(\(fixed(b.sgAbove / hi.mean, 2))×).",
                verdict: differsBelow && moreBelow ? .reproduced : differsBelow ? .partly : .not,
                rule: "distances are layer by layer, to each backprop seed, averaged over the layers below the SG (h1–h\(s.single)) or "
                      + "above it; reproduced when below the SG the single-SG model is further from backprop than the backprop "
                      + "seeds are from one another (mean + 2 sd over the seed pairs) and its excess over that baseline "
                      + "(ratio) is larger below the SG than above; partly when only the first holds",
                baseline: "backprop seed-to-seed distance\(b.batchnorm ? "" : " (no BN)") \(fixed(lo.mean, 1)) ± \(fixed(lo.sd, 1)) "
                          + "below the SG, \(fixed(hi.mean, 1)) ± \(fixed(hi.sd, 1)) above (\(b.pairs.count) pairs of "
                          + "\(s.backpropSeeds.count) seeds)"))
        }
        // 3. SG everywhere: no layer from which the representation is static
        let every = layers("sg-every")
        let bpMid = bpRuns.map { layers($0)[mid - 1].distanceToLast }
        let everyFar = every[mid - 1].distanceToLast > 2 * (bpMid.max() ?? .nan)
        report.findings.append(.init(
            paper: "with an SG between every pair of layers the representation is scattered more broadly: there is no point in the "
                   + "stack where it becomes static.",
            ours: "at h\(mid) the SG-everywhere model is \(fixed(every[mid - 1].distanceToLast, 1)) from its last layer, and "
                  + "\(fixed(every[s.hidden - 2].distanceToLast, 1)) at h\(s.hidden - 1).",
            verdict: everyFar ? .reproduced : .not,
            rule: "reproduced when at the middle layer its distance to the last layer is more than twice that of every backprop seed",
            baseline: "backprop at h\(mid): " + bpMid.map { fixed($0, 1) }.joined(separator: ", ") + " (seeds "
                      + s.backpropSeeds.map(String.init).joined(separator: ", ") + ")"))
        return report
    }
}
