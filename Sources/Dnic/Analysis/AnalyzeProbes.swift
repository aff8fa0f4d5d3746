/// `dnic analyze probes` (Figure 8): linear-probe accuracy of every layer
/// of each model, as probes.json, probes.csv and probes.svg.
extension LinearProbes {
    public struct Row: Codable {
        public var model: String
        public var checkpoint: String
        public var data: String
        public var boundaries: [Int]
        public var layers: [Result]
    }

    public static let files = ["probes.json", "probes.csv", "probes.svg"]

    /// Probes every model on its training data (or `data`), written into
    /// `directory`; the layer being probed goes to `notes.progress`.
    public static func analyse(_ models: [AnalysedModel], data: String?, ridge: Double, into directory: String,
                               notes: AnalysisNotes) throws -> [Row] {
        var rows = [Row]()
        for m in models {
            let network = m.checkpoint.network
            let (spec, split) = try m.trainingData(data, notes: notes)
            let layers = try run(network, train: split.train, test: split.test, ridge: ridge) { l in
                notes.progress("\(m.label): probing layer \(l) of \(network.layerCount - 1)")
            }
            notes.progress("")
            rows.append(Row(model: m.label, checkpoint: m.path, data: spec.description, boundaries: m.boundaries, layers: layers))
        }
        var csv = "model,layer,width,train_accuracy,test_accuracy\n"
        for r in rows {
            for l in r.layers { csv += "\(csvField(r.model)),\(l.layer),\(l.width),\(l.trainAccuracy),\(l.testAccuracy)\n" }
        }
        let plot = AnalysisPlots.probes(rows.map { (.init(label: $0.model, boundaries: $0.boundaries), $0.layers) })
        try AnalysisDirectory.writeJSON(rows, directory, "probes.json", what: "the probes")
        try AnalysisDirectory.write(csv, directory, "probes.csv", what: "the probes")
        try plot.write(to: PathName.joining(directory, "probes.svg"))
        return rows
    }
}
