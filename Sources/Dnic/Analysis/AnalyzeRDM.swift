/// `dnic analyze rdm` (Figure 3): RDMs of every hidden layer for a fixed,
/// label-ordered set of test points, models side by side, as rdm.png /
/// rdm.svg, rdm-distance.svg, rdm.json and rdm.csv.
extension RDM {
    public struct Layer: Codable {
        public var layer: Int
        public var distanceToLast: Double
        public var withinClass: Double
        public var betweenClass: Double
    }

    public struct Model: Codable {
        public var model: String
        public var checkpoint: String
        public var boundaries: [Int]
        public var layers: [Layer]
    }

    public struct Analysis: Codable {
        public var data: String
        public var points: [Int]
        public var models: [Model]
    }

    public static let files = ["rdm.png", "rdm.svg", "rdm-distance.svg", "rdm.json", "rdm.csv"]

    /// The refusals, before any work: a network without hidden layers,
    /// checkpoints of different architectures, or trained on different data
    /// when no `data` is given; `layers` naming no hidden layer.
    public static func check(_ checkpoints: [(path: String, checkpoint: Checkpoint.Loaded)], data: String?,
                             layers: String?) throws {
        guard let (firstPath, first) = checkpoints.first else { return }
        func widths(_ c: Checkpoint.Loaded) -> [Int] { c.config.model.layers.map(\.width) }
        func shown(_ widths: [Int]) -> String { widths.map(String.init).joined(separator: "x") }
        for (i, (path, c)) in checkpoints.enumerated() {
            guard !widths(c).isEmpty else {
                throw UsageError("\(path): a network without hidden layers has no representations to compare")
            }
            if i == 0 {
                _ = try drawnLayers(layers, hidden: widths(c).count)
                continue
            }
            guard widths(first) == widths(c), first.network.inputDim == c.network.inputDim else {
                throw UsageError("\(path): hidden layers \(shown(widths(c))) differ from \(firstPath)'s \(shown(widths(first))); "
                                 + "RDMs side by side need one architecture")
            }
            guard data != nil || first.config.data == c.config.data else {
                throw UsageError("\(path): trained on \(c.config.data), \(firstPath) on \(first.config.data); "
                                 + "pass {data} to compare them on one dataset")
            }
        }
    }

    /// The hidden layers to draw (1-based) from `text` ("1,5,10"; nil: all).
    public static func drawnLayers(_ text: String?, hidden: Int) throws -> [Int] {
        guard let text else { return Array(1 ... hidden) }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= hidden }) else {
            throw UsageError("{option:layers} '\(text)': expected hidden-layer numbers 1 … \(hidden) separated by commas")
        }
        return Array(Set(parts.map { $0! })).sorted()
    }

    /// The RDMs of every model on `perClass` test points of each class
    /// (chosen with `seed`) of the first model's data (or `data`), written
    /// into `directory`; `layers` chooses the layers drawn.
    public static func analyse(_ models: [AnalysedModel], data: String?, perClass: Int, seed: UInt64, layers: String?,
                               into directory: String, notes: AnalysisNotes) throws -> Analysis {
        let drawn = try drawnLayers(layers, hidden: models[0].checkpoint.network.layerCount - 1)
        let (spec, split) = try models[0].trainingData(data, others: Array(models.dropFirst()), notes: notes)
        let points = try points(split.test, perClass: perClass, seed: seed)
        let chosen = split.test.subset(points)
        var panels = [HeatmapPanel]()
        var rows = [Model]()
        var csv = "model,layer,distance_to_last,within_class,between_class\n"
        for m in models {
            let net = m.checkpoint.network, hidden = net.layerCount - 1
            let rdms = try matrices(net, points: chosen)
            var layers = [Layer]()
            for (l, r) in rdms.enumerated() {
                let (within, between) = meanDissimilarity(r, labels: chosen.labels)
                layers.append(Layer(layer: l + 1, distanceToLast: blockDistance(r, rdms[hidden - 1], labels: chosen.labels),
                                    withinClass: within, betweenClass: between))
                if drawn.contains(l + 1) {
                    panels.append(HeatmapPanel(title: "\(m.label) h\(l + 1)", rows: chosen.count, cols: chosen.count,
                                               values: r.map(Double.init)))
                }
                csv += "\(csvField(m.label)),\(l + 1),\(layers.last!.distanceToLast),\(within),\(between)\n"
            }
            rows.append(Model(model: m.label, checkpoint: m.path, boundaries: m.boundaries, layers: layers))
        }
        try HeatmapFigure(panels: panels, columns: drawn.count).write(to: PathName.joining(directory, "rdm"))
        let plot = AnalysisPlots.rdmDistance(rows.map { r in
            (.init(label: r.model, boundaries: r.boundaries), r.layers.map { ($0.layer, $0.distanceToLast) })
        })
        try plot.write(to: PathName.joining(directory, "rdm-distance.svg"))
        let analysis = Analysis(data: spec.description, points: points, models: rows)
        try AnalysisDirectory.writeJSON(analysis, directory, "rdm.json", what: "the RDM figures")
        try AnalysisDirectory.write(csv, directory, "rdm.csv", what: "the RDM figures")
        return analysis
    }
}
