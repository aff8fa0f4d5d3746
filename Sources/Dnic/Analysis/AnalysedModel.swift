/// A checkpoint given to an analysis (`dnic analyze`), with the label it
/// goes by in tables and pictures: its rule, and its file where two
/// checkpoints share a rule.
public struct AnalysedModel {
    public var label: String
    /// The checkpoint's file, as given.
    public var path: String
    public var checkpoint: Checkpoint.Loaded

    /// Each checkpoint labelled by its rule (and file, where two share one).
    public static func labelled(_ checkpoints: [(path: String, checkpoint: Checkpoint.Loaded)]) -> [AnalysedModel] {
        let rules = checkpoints.map { $0.checkpoint.config.interfaces.rule.rawValue }
        return zip(checkpoints, rules).map { c, rule in
            let shared = rules.filter { $0 == rule }.count > 1
            return AnalysedModel(label: shared ? "\(rule) (\(PathName.lastComponent(of: c.path)))" : rule,
                                 path: c.path, checkpoint: c.checkpoint)
        }
    }

    /// Its SG positions: hidden-layer numbers (1-based) an interface sits after.
    public var boundaries: [Int] {
        let c = checkpoint.config
        return (try? c.interfaces.boundaries(hidden: c.model.layers.count)) ?? []
    }

    /// The data split the checkpoint was trained on (the files it records,
    /// whatever the working directory), or `data`, checked to fit its
    /// network. Says which files it read, and warns when they are not the
    /// data the checkpoint (or one of `others`, analysed on the same data)
    /// was trained on.
    public func trainingData(_ data: String? = nil, others: [AnalysedModel] = [],
                             notes: AnalysisNotes) throws -> (DataSpec, DataSplit) {
        let c = checkpoint
        if data == nil, c.trainedInMemory { throw UsageError(c.inMemoryDataLine(path: path, command: "dnic")) }
        let spec: DataSpec
        do { spec = try DataSpec.parse(data ?? c.config.data) } catch let error as DataError { throw UsageError(error.message) }
        let options = c.dataOptions
        let split = try (data == nil ? c.data : nil).map { try loadData(recorded: $0, options: options) }
            ?? loadData(spec, options: options)
        guard split.train.dim == c.network.inputDim else {
            throw DnicError("\(spec.description) has \(split.train.dim) features per example; \(path) expects \(c.network.inputDim)")
        }
        try notes.say("data \(pathText(spec.description)) for \(pathText(path)): \(split.record?.filesText ?? "")")
        for m in [self] + others {
            if let warning = m.checkpoint.dataWarning(read: split.record, path: m.path) { notes.warn(warning) }
        }
        return (spec, split)
    }
}

/// What an analysis says while it runs: a line for the user (which files
/// it read), a warning, and a transient progress line ("" ends it). The CLI
/// prints them where they belong; a caller may also drop them.
public struct AnalysisNotes {
    public var say: (String) throws -> Void
    public var warn: (String) -> Void
    public var progress: (String) -> Void

    public init(say: @escaping (String) throws -> Void, warn: @escaping (String) -> Void,
                progress: @escaping (String) -> Void = { _ in }) {
        self.say = say
        self.warn = warn
        self.progress = progress
    }
}
