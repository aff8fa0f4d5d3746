import Dnic

/// The data `eval` and `predict` score: what --data names, whole (a file
/// given to score is test data), or else the test set the checkpoint records.
enum ScoredData {
    /// `labelled` is false for CSV rows of the model's width alone, without
    /// a label column (new data, for predict), and for npy:X.npy; a width
    /// that is neither the model's features nor those and a label is
    /// refused in one line, which for `needsLabels` (eval) asks for the label.
    static func load(_ data: String?, for loaded: Checkpoint.Loaded, at path: String, needsLabels: Bool = false) throws
        -> (spec: DataSpec, test: Dataset, read: DataRecord, labelled: Bool) {
        let options = loaded.config.dataOptions
        if data == nil, loaded.trainedInMemory {
            throw UsageError(loaded.inMemoryDataLine(path: path, command: "dnic"))
        }
        let spec = try asUsage { try DataSpec.parse(data ?? loaded.config.data) }
        guard data != nil else {
            let (test, read) = try loaded.data.map { try loadTestData(recorded: $0, options: options) }
                ?? loadTestData(spec, options: options, wholeFiles: false)
            return (spec, test, read, true)
        }
        do {
            let (rows, labelled, read) = try loadRowsToClassify(spec, options: options, features: loaded.network.inputDim)
            return (spec, rows, read, labelled)
        } catch let error as CSVWidthError {
            guard needsLabels else { throw UsageError(error.description) }
            throw UsageError("\(error.path): rows of \(error.found) fields; the model takes \(error.features) features: "
                             + "give rows of \(error.features + 1) fields, the label first")
        }
    }
}
