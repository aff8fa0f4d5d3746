import ArgumentParser
import Dnic
import Foundation

/// `dnic analyze rdm` (Figure 3): RDMs of every hidden layer for a fixed,
/// label-ordered set of test points, models side by side.
struct RDMAnalysis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rdm",
        abstract: "Representational dissimilarity matrices of every hidden layer (the paper's Figure 3).",
        discussion: "--per-class test points of each class (seeded choice, ordered by label); per hidden layer RDM = 1 - corr(h(x_i), h(x_j)). Writes rdm.png / rdm.svg (a row per model, a column per layer), rdm-distance.svg (per layer, the L2 distance between its within-class diagonal blocks and the last hidden layer's, SG positions marked), rdm.json and rdm.csv (those distances, and the mean within- and between-class dissimilarity per layer). Several checkpoints must share one architecture.")

    @OptionGroup var options: AnalysisOptions

    @Option(help: "Dataset (as for train). (default: the checkpoints' own)")
    var data: String?

    @Option(parsing: .unconditional, help: "Test points per class. (default: 40)", transform: ArgumentValue.integer)
    var perClass = 40

    @Option(help: "Seed of the choice of points. (default: 1)", transform: ArgumentValue.seed)
    var seed: UInt64 = 1

    @Option(help: "Hidden layers to draw, e.g. 1,5,10 (the distances cover every layer). (default: all)")
    var layers: String?

    struct Layer: Codable { var layer: Int; var distanceToLast: Double; var withinClass: Double; var betweenClass: Double }
    struct Model: Codable { var model: String; var checkpoint: String; var boundaries: [Int]; var layers: [Layer] }
    struct Result: Codable { var data: String; var points: [Int]; var models: [Model] }

    func run() throws {
        guard perClass >= 2, perClass <= 10_000 else { throw UsageError("--per-class \(perClass): must be between 2 and 10000") }
        var first: (widths: [Int], input: Int, data: String, path: String)?
        let models = try options.prepare(files: ["rdm.png", "rdm.svg", "rdm-distance.svg", "rdm.json", "rdm.csv"]) { c, path in
            let widths = c.config.model.layers.map(\.width)
            guard !widths.isEmpty else { throw UsageError("\(path): a network without hidden layers has no representations to compare") }
            if let f = first {
                guard f.widths == widths, f.input == c.network.inputDim else {
                    throw UsageError("\(path): hidden layers \(widths.map(String.init).joined(separator: "x")) differ from \(f.path)'s \(f.widths.map(String.init).joined(separator: "x")); RDMs side by side need one architecture")
                }
                guard data != nil || f.data == c.config.data else {
                    throw UsageError("\(path): trained on \(c.config.data), \(f.path) on \(f.data); pass --data to compare them on one dataset")
                }
            } else {
                first = (widths, c.network.inputDim, c.config.data, path)
                _ = try drawnLayers(hidden: widths.count)
            }
        }
        let drawn = try drawnLayers(hidden: models[0].checkpoint.network.layerCount - 1)
        let others = models.indices.dropFirst().map { (models[$0].checkpoint, options.checkpoints[$0]) }
        let (spec, split) = try trainingData(models[0].checkpoint, path: options.checkpoints[0], data: data, others: others)
        let test = split.test
        let points = try RDM.points(test, perClass: perClass, seed: seed)
        let chosen = test.subset(points)
        var panels = [HeatmapPanel]()
        var rows = [Model]()
        var csv = "model,layer,distance_to_last,within_class,between_class\n"
        for (i, m) in models.enumerated() {
            let net = m.checkpoint.network, hidden = net.layerCount - 1
            let rdms = try RDM.matrices(net, points: chosen)
            var layers = [Layer]()
            for (l, r) in rdms.enumerated() {
                let (within, between) = RDM.meanDissimilarity(r, labels: chosen.labels)
                layers.append(Layer(layer: l + 1, distanceToLast: RDM.blockDistance(r, rdms[hidden - 1], labels: chosen.labels),
                                    withinClass: within, betweenClass: between))
                if drawn.contains(l + 1) {
                    panels.append(HeatmapPanel(title: "\(m.label) h\(l + 1)", rows: chosen.count, cols: chosen.count, values: r.map(Double.init)))
                }
                csv += "\(csvField(m.label)),\(l + 1),\(layers.last!.distanceToLast),\(within),\(between)\n"
            }
            rows.append(Model(model: m.label, checkpoint: options.checkpoints[i], boundaries: boundaries(of: m.checkpoint), layers: layers))
        }
        let figure = HeatmapFigure(panels: panels, columns: drawn.count)
        try figure.write(to: options.path("rdm"))
        let plot = AnalysisPlots.rdmDistance(rows.map { r in
            (.init(label: r.model, boundaries: r.boundaries), r.layers.map { ($0.layer, $0.distanceToLast) })
        })
        try plot.write(to: options.path("rdm-distance.svg"))
        try AtomicFile.write(try AnalysisOutputs.json(Result(data: spec.description, points: points, models: rows)),
                             to: options.path("rdm.json"), what: "the RDM figures")
        try AtomicFile.write(Data(csv.utf8), to: options.path("rdm.csv"), what: "the RDM figures")
        for r in rows {
            try Console.out.write("\(r.model): distance to the last layer " + r.layers.map { String(format: "h%d %.1f", $0.layer, $0.distanceToLast) }.joined(separator: ", "))
        }
        try Console.out.write("wrote \(options.path("rdm.png")) (and .svg), rdm-distance.svg, rdm.json, rdm.csv")
    }

    /// The hidden layers to draw (1-based), from --layers.
    func drawnLayers(hidden: Int) throws -> [Int] {
        guard let layers else { return Array(1 ... hidden) }
        let parts = layers.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= hidden }) else {
            throw UsageError("--layers '\(layers)': expected hidden-layer numbers 1 … \(hidden) separated by commas")
        }
        return Array(Set(parts.map { $0! })).sorted()
    }
}
