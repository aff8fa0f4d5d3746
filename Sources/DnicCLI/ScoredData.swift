import Dnic

/// The data `eval` and `predict` score: what --data names, whole (a file
/// given to score is test data), or else the test set the checkpoint records.
enum ScoredData {
    static func load(_ data: String?, for loaded: Checkpoint.Loaded) throws -> (spec: DataSpec, test: Dataset, read: DataRecord) {
        let options = loaded.config.dataOptions
        let spec = try asUsage { try DataSpec.parse(data ?? loaded.config.data) }
        let (test, read) = try data == nil ? loaded.data.map { try loadTestData(recorded: $0, options: options) }
            ?? loadTestData(spec, options: options, wholeFiles: false)
            : loadTestData(spec, options: options, wholeFiles: true)
        return (spec, test, read)
    }
}
