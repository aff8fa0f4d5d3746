import Dnic
import Foundation

/// What the commands that read a checkpoint's data (`eval`, `analyze`,
/// `train --resume`) do with the record of its data files: read the
/// recorded files (absolute paths, so the working directory does not
/// matter), say which files they read, and warn, refuse or note when the
/// data is not, or cannot be shown to be, the data the run was trained on.
enum DataIdentity {
    /// One warning when `read` is not the data the checkpoint at `path` was
    /// trained or tested on, or when the checkpoint cannot tell.
    static func check(_ read: DataRecord?, against c: Checkpoint.Loaded, path: String) {
        if let warning = c.dataWarning(read: read, path: path) { Console.warn(warning) }
    }

    /// The data a resumed run continues on: the files its checkpoint
    /// recorded, or `given` (--data passed again) when those hold the
    /// recorded bytes; refused in one line, before anything is loaded,
    /// when a file is missing or changed. A checkpoint without the record
    /// loads `spec` as before, with a note that it cannot be checked.
    static func resumed(_ restored: Checkpoint.Loaded, from path: String, given: String?, spec: DataSpec,
                        options: DataOptions) throws -> DataSplit {
        guard let record = restored.data else {
            let split = try loadData(spec, options: options)
            Console.warn(restored.uncheckedData(path: path, read: split.record?.filesText ?? spec.description))
            return split
        }
        let givenSpec = try given.map { text in try asUsage { try DataSpec.parse(text) } }
        do { try record.checkResume(given: givenSpec) } catch let error as DataError {
            let line = "--resume \(pathText(path)): \(error.message)"
            // data the user named is a usage problem; files changed on disk are not
            if givenSpec != nil { throw UsageError(line) }
            throw DataError(line)
        }
        return try givenSpec.map { try loadData($0, options: options) } ?? loadData(recorded: record, options: options)
    }

    /// `new` as `RunConfig.resumeDifference` should compare it: when the
    /// checkpoint records its files, those decide about the data (a copy
    /// of them under another name continues the run), not the text.
    static func comparable(_ new: RunConfig, to restored: Checkpoint.Loaded) -> RunConfig {
        // arrays in memory have no name to compare: the data given is taken (and said to be unchecked)
        guard restored.data != nil || restored.trainedInMemory else { return new }
        var c = new
        c.data = restored.config.data
        return c
    }
}
