import Foundation

/// The paper's Figure 3: RDMs of every hidden layer for a label-ordered
/// sample of test points, and the distance of each layer's within-class
/// blocks to the last layer's.
public enum Figure3: PaperResult {
    public static let id = "fig3"
    public static let summary = "Figure 3: RDMs of a deep stack under backprop, one SG and SG everywhere."

    public static func run(_ r: Reproduction) throws -> ResultReport {
        var report = ResultReport(id: id, title: "Figure 3 — representational dissimilarity matrices", data: r.imageDataName,
                                  command: r.command(id), quick: r.options.quick, setup: "")
        let (s, models) = try DeepStack.models(r, result: id, report: &report)
        r.progress.note("RDMs")
        let split = try r.data(r.options.data)
        let perClass = r.options.quick ? 20 : 40, drawnPerClass = 10
        let chosen = split.test.subset(try RDM.points(split.test, perClass: perClass, seed: 1))
        let drawn = split.test.subset(try RDM.points(split.test, perClass: drawnPerClass, seed: 1))
        struct Layer: Codable {
            var layer: Int
            var distanceToLast: Double
            var distanceToBackprop: Double
            var withinClass: Double
            var betweenClass: Double
        }
        struct Row: Codable { var model: String; var boundaries: [Int]; var testAccuracy: Double; var layers: [Layer] }
        var rows = [Row]()
        var panels = [HeatmapPanel]()
        // the picture: every other layer, the layers around the single SG and the last (it stays a few MB)
        let shown = Set(Array(stride(from: 1, through: s.hidden, by: s.hidden > 10 ? 2 : 1)) + [s.single, s.single + 1, s.hidden]).sorted()
        let backprop = try RDM.matrices(models[0].network, points: chosen)
        for m in models {
            if r.shouldStop() { throw Reproduction.Stopped(step: nil, run: "\(m.name) (before its RDMs)") }
            let rdms = try RDM.matrices(m.network, points: chosen)
            let layers = rdms.enumerated().map { l, rdm in
                let (w, b) = RDM.meanDissimilarity(rdm, labels: chosen.labels)
                return Layer(layer: l + 1, distanceToLast: RDM.blockDistance(rdm, rdms[rdms.count - 1], labels: chosen.labels),
                             distanceToBackprop: RDM.blockDistance(rdm, backprop[l], labels: chosen.labels), withinClass: w,
                             betweenClass: b)
            }
            rows.append(Row(model: m.label, boundaries: m.boundaries, testAccuracy: m.final.testAccuracy, layers: layers))
            for (l, rdm) in try RDM.matrices(m.network, points: drawn).enumerated() where shown.contains(l + 1) {
                panels.append(HeatmapPanel(title: "\(m.label) h\(l + 1)", rows: drawn.count, cols: drawn.count,
                                           values: rdm.map(Double.init)))
            }
        }
        try HeatmapFigure(panels: panels, columns: shown.count).write(to: try r.path(id, "fig3-rdm"))
        let plot = AnalysisPlots.rdmDistance(rows.map { row in
            (.init(label: row.model, boundaries: row.boundaries), row.layers.map { ($0.layer, $0.distanceToLast) })
        })
        try plot.write(to: try r.path(id, "fig3-distance.svg"))
        var csv = "model,layer,distance_to_last,distance_to_backprop,within_class,between_class\n"
        for row in rows {
            for l in row.layers {
                csv += "\(csvField(row.model)),\(l.layer),\(l.distanceToLast),\(l.distanceToBackprop),\(l.withinClass),\(l.betweenClass)\n"
            }
        }
        try AtomicFile.write(Data(csv.utf8), to: try r.path(id, "fig3.csv"), what: "the RDM figures")
        try AtomicFile.write(try jsonData(rows), to: try r.path(id, "fig3.json"), what: "the RDM figures")
        report.setup = DeepStack.setupText(s, r) + " RDMs: 1 − corr(h(xᵢ), h(xⱼ)) over \(perClass) test points per class (seeded, "
                                                   + "label-ordered) for the distances, \(drawnPerClass) per class in the picture; "
                                                   + "distances are L2 over the within-class diagonal blocks."
        report.figures = [
            .init(file: "fig3-rdm.svg", caption: "RDMs of hidden layers \(shown.map { "h\($0)" }.joined(separator: ", ")) for a "
                                                 + "label-ordered sample of \(drawnPerClass) test points per class: backprop (top row), a "
                                                 + "single SG after hidden layer \(s.single) (middle), an SG between every pair of layers "
                                                 + "(bottom). Dark diagonal blocks: points of one class represented alike. Each "
                                                 + "panel has its own colour scale."),
            .init(file: "fig3-distance.svg", caption: "L2 distance between each layer's within-class RDM blocks and the same blocks at "
                                                      + "the last hidden layer (\(perClass) points per class); "
                                                      + "dashed lines: where the SGs sit."),
        ]
        let mid = s.hidden / 2
        let bp = rows[0].layers, single = rows[1].layers, every = rows[2].layers
        let columns = [1, mid / 2, mid, s.single + 1, s.hidden - 1]
        report.tables.append(.init(caption: "Distance to the last layer's within-class blocks",
                                   header: ["model"] + columns.map { "h\($0)" },
                                   rows: rows.map { row in [row.model] + columns.map { fixed(row.layers[$0 - 1].distanceToLast, 1) } }))
        // 1. backprop settles early: from the middle on, near the final representation
        let bpSettled = bp[mid - 1].distanceToLast < 0.5 * bp[0].distanceToLast
        report.findings.append(.init(
            paper: "with backprop, the representation after 9 of 20 layers is nearly the same as the final layer's.",
            ours: "backprop's distance to the last layer falls from \(fixed(bp[0].distanceToLast, 1)) at h1 to "
                  + "\(fixed(bp[mid - 1].distanceToLast, 1)) at h\(mid).",
            verdict: bpSettled ? .reproduced : .not,
            rule: "reproduced when backprop's distance at the middle layer is below half its distance at h1"))
        // 2. single SG: below the SG the representation differs from backprop's more than above it
        let below = mean(single[0 ..< s.single].map(\.distanceToBackprop)), above = mean(single[s.single...].map(\.distanceToBackprop))
        report.findings.append(.init(
            paper: "with a single SG in the middle, the layers before the SG develop a qualitatively different style of "
                   + "representation from backprop's.",
            ours: "the single-SG model's RDM blocks are on average \(fixed(below, 1)) from backprop's below the SG and "
                  + "\(fixed(above, 1)) above it.",
            verdict: below > above ? .reproduced : .not,
            rule: "reproduced when the mean distance to backprop's RDM (layer by layer) is larger below the SG than above it"))
        // 3. SG everywhere: no layer from which the representation is static
        let everyFar = every[mid - 1].distanceToLast > 2 * bp[mid - 1].distanceToLast
        report.findings.append(.init(
            paper: "with an SG between every pair of layers the representation is scattered more broadly: there is no point in the "
                   + "stack where it becomes static.",
            ours: "at h\(mid) the SG-everywhere model is \(fixed(every[mid - 1].distanceToLast, 1)) from its last layer (backprop "
                  + "\(fixed(bp[mid - 1].distanceToLast, 1))), and \(fixed(every[s.hidden - 2].distanceToLast, 1)) at h\(s.hidden - 1).",
            verdict: everyFar ? .reproduced : .not,
            rule: "reproduced when at the middle layer its distance to the last layer is more than twice backprop's"))
        return report
    }
}
