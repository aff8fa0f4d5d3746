/// What the commands that read a checkpoint's data (`eval`, `analyze`,
/// `train --resume`) need from it: how to reproduce the run's split, and
/// whether the data just read is the data it was trained on.
extension Checkpoint.Loaded {
    /// The options that reproduce the run's split of its data.
    public var dataOptions: DataOptions { config.dataOptions }

    /// One warning when `read` is not the data this checkpoint (at `path`)
    /// was trained or tested on, or when it cannot tell (saved before
    /// checkpoints recorded their data files); nil when it is.
    public func dataWarning(read: DataRecord?, path: String) -> String? {
        guard let read else { return nil }
        guard let recorded = data else { return uncheckedData(path: path, read: read.filesText) }
        return recorded.mismatch(read: read, checkpoint: path)
    }

    /// The note for a checkpoint that records no data files.
    public func uncheckedData(path: String, read: String) -> String {
        if trainedInMemory {
            return "\(pathText(path)) was trained on arrays in memory (from Python): cannot check that \(read) is that data"
        }
        return "\(pathText(path)) records no data files (saved by an older dnic): cannot check that \(pathText(config.data)) "
            + "(\(read)) is the data it was trained on"
    }

    /// Trained on arrays in memory (DataSpec.inMemory): no data to read again.
    public var trainedInMemory: Bool { config.data == DataSpec.inMemory }

    /// The one line for a command that needs the checkpoint's own data.
    public func inMemoryDataLine(path: String, command: String) -> String {
        "\(pathText(path)) was trained on arrays in memory (from Python), which \(command) cannot read again: "
            + "give --data naming the same data as files (npy:X.npy,y.npy, csv:…)"
    }
}
