/// `dnic analyze probes` (Figure 8): linear-probe accuracy of every layer
/// of each model, as probes.json, probes.csv and probes.svg.
extension LinearProbes {
    public struct Row: Codable {
        public var model: String
        public var kind: Kind
        public var checkpoint: String
        public var data: String
        public var boundaries: [Int]
        public var layers: [Result]
    }

    public static let files = ["probes.json", "probes.csv", "probes.svg"]

    /// Probes every model on its training data (or `data`), written into
    /// `directory`; the layer being probed goes to `notes.progress`.
    public static func analyse(_ models: [AnalysedModel], data: String?, kind: Kind = defaultKind, ridge: Double = defaultRidge,
                               l2: Double = SoftmaxProbe.defaultL2, into directory: String, notes: AnalysisNotes) throws -> [Row] {
        var rows = [Row]()
        for m in models {
            let network = m.checkpoint.network
            let (spec, split) = try m.trainingData(data, notes: notes)
            let layers = try run(network, train: split.train, test: split.test, kind: kind, ridge: ridge, l2: l2) { l in
                notes.progress("\(m.label): probing layer \(l) of \(network.layerCount - 1)")
            }
            notes.progress("")
            rows.append(Row(model: m.label, kind: kind, checkpoint: m.path, data: spec.description, boundaries: m.boundaries, layers: layers))
        }
        var csv = "model,kind,layer,width,train_accuracy,test_accuracy,iterations,converged\n"
        for r in rows {
            for l in r.layers {
                csv += "\(csvField(r.model)),\(r.kind.rawValue),\(l.layer),\(l.width),\(l.trainAccuracy),\(l.testAccuracy),"
                    + "\(l.iterations.map(String.init) ?? ""),\(l.converged.map { String($0) } ?? "")\n"
            }
        }
        let plot = AnalysisPlots.probes(rows.map { (.init(label: $0.model, boundaries: $0.boundaries), $0.layers) })
        try AnalysisDirectory.writeJSON(rows, directory, "probes.json", what: "the probes")
        try AnalysisDirectory.write(csv, directory, "probes.csv", what: "the probes")
        try plot.write(to: PathName.joining(directory, "probes.svg"))
        return rows
    }
}
