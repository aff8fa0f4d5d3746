/// `dnic analyze norms` (Figure 5): each model's hidden-layer shares of the
/// squared weight norm, as norms.json, norms.csv and norms.svg.
extension WeightNorms {
    public struct Row: Codable {
        public var model: String
        public var checkpoint: String
        public var boundaries: [Int]
        public var shares: [Double]
    }

    public static let files = ["norms.json", "norms.csv", "norms.svg"]

    /// The shares of every model, written into `directory`.
    public static func analyse(_ models: [AnalysedModel], into directory: String) throws -> [Row] {
        let rows = models.map {
            Row(model: $0.label, checkpoint: $0.path, boundaries: $0.boundaries, shares: normalised($0.checkpoint.network))
        }
        var csv = "model,layer,share\n"
        for r in rows { for (l, s) in r.shares.enumerated() { csv += "\(csvField(r.model)),\(l + 1),\(s)\n" } }
        let plot = AnalysisPlots.norms(rows.map { (.init(label: $0.model, boundaries: $0.boundaries), $0.shares) })
        try AnalysisDirectory.writeJSON(rows, directory, "norms.json", what: "the norms")
        try AnalysisDirectory.write(csv, directory, "norms.csv", what: "the norms")
        try plot.write(to: PathName.joining(directory, "norms.svg"))
        return rows
    }
}
