import Foundation

/// Where a training run writes, resolved and checked before anything is
/// loaded or trained: the checkpoint (also the interval checkpoints'
/// target) and the metrics log. A resumed run keeps the outputs stored in
/// its checkpoint (it saves back to the checkpoint it resumes and appends
/// to its original log) unless it is given others; it appends only to a
/// log that is its own (LogContinuation).
public struct RunOutputs {
    /// Which output a message is about, and whether it was given for this
    /// run or comes from the checkpoint being resumed (a caller names it:
    /// the CLI as --save, --resume, --log or "the run's log").
    public enum Output: Sendable {
        case checkpoint, resumedCheckpoint, log, resumedLog, tensorboard, resumedTensorboard
    }

    /// An output refused before the run: which, its file and why, and the way out.
    public struct Refusal: Error {
        public let output: Output
        public let error: OutputError
        public let wayOut: WayOut?
    }

    /// What would let a refused output through.
    public enum WayOut: Sendable {
        /// Allowing the file there to be replaced.
        case replace
        /// Replacing the file, or naming another log.
        case replaceOrAnotherLog
        /// Naming another log for this run (the resumed checkpoint's is not usable).
        case anotherLog
        /// The same, after a problem with the resumed checkpoint's log file itself.
        case anotherLogFile
    }

    public private(set) var save: String?
    public private(set) var saveOutput = Output.checkpoint
    /// `save` is the checkpoint being resumed (it holds the starting step).
    public private(set) var savesToResumed = false
    public private(set) var log: String?
    public private(set) var logOutput = Output.log
    public private(set) var logMode = LineWriter.Mode.create
    /// With `logMode` `.append`: the checkpoint the log is continued from.
    public private(set) var continuing: LogContinuation.Resumed?
    /// The record the resumed run's log could not take (a full disk): written first.
    public private(set) var pendingRecord: String?
    public private(set) var checkpointEvery: Int?
    /// The TensorBoard directory, where this run starts a new event file.
    public private(set) var tensorboard: String?
    public private(set) var tensorboardOutput = Output.tensorboard
    /// This invocation: the resumed run's id (a new one for a new run, or
    /// for a checkpoint of an earlier dnic) and a new segment.
    public let identity: RunIdentity

    /// What the checkpoint records so that a resume continues these outputs.
    public var stored: Checkpoint.Outputs {
        Checkpoint.Outputs(log: log.map(OutputFile.canonical), checkpointEvery: save == nil ? nil : checkpointEvery, identity: identity,
                           tensorboard: tensorboard.map(OutputFile.canonical))
    }

    /// Resolves the outputs from what was given and the checkpoint being
    /// resumed (`resume`, loaded as `restored`), then checks each path;
    /// every problem is a Refusal and nothing on disk is touched.
    /// - Parameters:
    ///   - replace: existing regular files may be replaced.
    ///   - configFile: the settings file being read, which no output may be.
    public init(save givenSave: String?, log givenLog: String?, checkpointEvery givenEvery: Int?, replace: Bool,
                resume: String?, restored: RunSnapshot?, configFile: String?, tensorboard givenTensorboard: String? = nil) throws {
        identity = RunIdentity.starting(run: restored?.outputs.identity?.run)
        pendingRecord = restored?.outputs.pendingRecord
        save = givenSave ?? resume
        if givenSave == nil, resume != nil { saveOutput = .resumedCheckpoint }
        if let save, let resume { savesToResumed = OutputFile.same(resume, save) }
        log = givenLog ?? restored?.outputs.log
        if givenLog == nil, log != nil { logOutput = .resumedLog }
        logMode = replace ? .truncate : .create
        checkpointEvery = givenEvery ?? restored?.outputs.checkpointEvery
        tensorboard = givenTensorboard ?? restored?.outputs.tensorboard
        if givenTensorboard == nil, tensorboard != nil { tensorboardOutput = .resumedTensorboard }

        if let save {
            try check(saveOutput, save) { try OutputFile.check(save, existing: savesToResumed ? .allow : .refuse, replace: replace) }
        }
        if let log {
            try check(logOutput, log) { try OutputFile.check(log, existing: resume != nil ? .allow : .refuse, replace: replace) }
            if let resume, OutputFile.same(resume, log) {
                throw Refusal(output: logOutput, error: OutputError(log, "is the checkpoint being resumed"), wayOut: nil)
            }
            if let save, OutputFile.same(save, log) {
                throw Refusal(output: logOutput, error: OutputError(log, "is the same file as the checkpoint \(pathText(save))"), wayOut: nil)
            }
            if let restored, FileManager.default.fileExists(atPath: log) {
                try decideContinuation(of: log, from: restored, given: givenLog != nil, replace: replace)
            }
        }
        if let tensorboard {
            try check(tensorboardOutput, tensorboard) { try TensorBoardLog.check(tensorboard) }
            // absent now, it would be made a directory where the other output goes
            for (other, what) in [(save, "the checkpoint"), (log, "the log")] {
                if let other, OutputFile.same(other, tensorboard) {
                    throw Refusal(output: tensorboardOutput, error: OutputError(tensorboard, "is the same path as \(what)"), wayOut: nil)
                }
            }
        }
        for (output, path) in [(saveOutput, save), (logOutput, log), (tensorboardOutput, tensorboard)] {
            if let path, let configFile, OutputFile.same(configFile, path) {
                throw Refusal(output: output, error: OutputError(path, "is the config file being read"), wayOut: nil)
            }
        }
    }

    /// A resumed run and an existing log: continue it when it is this run's
    /// own up to the checkpoint; else replace it when a log given for this
    /// run may be replaced, or refuse.
    private mutating func decideContinuation(of log: String, from restored: RunSnapshot, given: Bool, replace: Bool) throws {
        try check(logOutput, log) { try LineWriter.checkNotBusy(log) }
        let resuming = LogContinuation.Resumed(identity: restored.outputs.identity, step: restored.step)
        guard let bytes = FileManager.default.contents(atPath: log) else {
            throw Refusal(output: logOutput, error: OutputError(log, "cannot read it (to check that it is this run's log)"), wayOut: nil)
        }
        switch LogContinuation.verdict(bytes, resuming: resuming) {
        case .continue:
            logMode = .append
            continuing = resuming
        case .refuse(let why):
            if given, replace { return } // logMode is .truncate
            throw Refusal(output: logOutput, error: OutputError(log, why), wayOut: given ? .replaceOrAnotherLog : .anotherLog)
        }
    }

    /// Runs a check of `output`'s file, saying what would let it through.
    private func check(_ output: Output, _ path: String, _ body: () throws -> Void) throws {
        do { try body() } catch let error as OutputError {
            throw Refusal(output: output, error: error,
                          wayOut: error.reason == .exists ? .replace : output == .resumedLog ? .anotherLogFile : nil)
        }
    }

    /// Refuses a checkpoint that cannot fit: better now than after training.
    public func checkRoom(for trainer: Trainer) throws {
        guard let save, let free = OutputFile.freeBytes(near: save) else { return }
        let size = try Checkpoint.encoded(trainer.snapshot(outputs: stored)).count
        if UInt64(size) > free {
            let problem = "the checkpoint needs \(byteCount(size)) but its file system has \(byteCount(Int(clamping: free))) free"
            throw Refusal(output: saveOutput, error: OutputError(save, problem), wayOut: nil)
        }
    }
}

/// "5.6 MiB", "60 KiB", "512 bytes" (as dnic train has always said it; NetworkMemory's byteText says "60.0 KiB").
private func byteCount(_ n: Int) -> String {
    if n >= 1 << 20 { return String(format: "%.1f MiB", Double(n) / Double(1 << 20)) }
    if n >= 1 << 10 { return String(format: "%.0f KiB", Double(n) / Double(1 << 10)) }
    return "\(n) bytes"
}
