/// The line plots of the analyses, shared by `dnic analyze` and `dnic
/// reproduce`: one series (or two) per model over its layers, the SG
/// positions marked.
public enum AnalysisPlots {
    /// A model's values per layer, and where its interfaces sit.
    public struct Model {
        public var label: String
        public var boundaries: [Int]
        public init(label: String, boundaries: [Int]) {
            self.label = label
            self.boundaries = boundaries
        }
    }

    /// Each hidden layer's share of the squared weight norm (Figure 5).
    public static func norms(_ models: [(Model, shares: [Double])]) -> LinePlot {
        layered(title: "Weight norm per hidden layer", xLabel: "hidden layer", yLabel: "‖W‖²_F share", models.map { m, shares in
            (m, [LinePlot.Series(label: m.label, points: shares.enumerated().map { (Double($0.offset + 1), $0.element) })])
        })
    }

    /// Each hidden layer's within-class RDM distance to the last one's (Figure 3).
    public static func rdmDistance(_ models: [(Model, distances: [(layer: Int, distance: Double)])]) -> LinePlot {
        layered(title: "Within-class RDM blocks: distance to the last hidden layer", xLabel: "hidden layer", yLabel: "L2 distance",
                models.map { m, d in (m, [LinePlot.Series(label: m.label, points: d.map { (Double($0.layer), $0.distance) })]) })
    }

    /// Linear-probe accuracy per layer, test and training (Figure 8).
    public static func probes(_ models: [(Model, layers: [LinearProbes.Result])]) -> LinePlot {
        layered(title: "Linear probe accuracy per layer", xLabel: "layer (0 = input)", yLabel: "accuracy", models.map { m, layers in
            (m, [LinePlot.Series(label: "\(m.label) test", points: layers.map { (Double($0.layer), $0.testAccuracy) }),
                 LinePlot.Series(label: "\(m.label) train", points: layers.map { (Double($0.layer), $0.trainAccuracy) })])
        })
    }

    static func layered(title: String, xLabel: String, yLabel: String, _ models: [(Model, [LinePlot.Series])]) -> LinePlot {
        var plot = LinePlot(title: title, xLabel: xLabel, yLabel: yLabel, series: models.flatMap(\.1))
        plot.integerX = true
        plot.marks = markList(models.map { ($0.0.label, $0.0.boundaries) }, seriesPerModel: models.first?.1.count ?? 1)
        return plot
    }
}
