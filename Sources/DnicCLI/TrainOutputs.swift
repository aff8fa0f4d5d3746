import Dnic
import Foundation

/// Where a `dnic train` run writes, resolved and checked before anything is
/// loaded or trained: the checkpoint (`--save`, also the `--checkpoint-every`
/// target) and the metrics log (`--log`). A resumed run keeps the outputs
/// stored in its checkpoint (it saves back to the checkpoint it resumes and
/// appends to its original log) unless flags say otherwise; it appends only
/// to a log that is its own (LogContinuation).
struct TrainOutputs {
    var save: String?
    /// How `save` was chosen, for messages: "--save", or "--resume" when a
    /// resumed run saves back to the file it resumed.
    var saveName = "--save"
    /// `save` is the checkpoint being resumed (it holds the starting step).
    var savesToResumed = false
    var log: String?
    /// "--log", or "the run's log" when it comes from the checkpoint.
    var logName = "--log"
    var logMode = LineWriter.Mode.create
    /// With `logMode` `.append`: the checkpoint the log is continued from.
    var continuing: LogContinuation.Resumed?
    /// The record the resumed run's log could not take (a full disk): written first.
    var pendingRecord: String?
    var checkpointEvery: Int?
    /// This invocation: the resumed run's id (a new one for a new run, or
    /// for a checkpoint of an earlier dnic) and a new segment.
    let identity: RunIdentity

    /// What the checkpoint records so that `--resume` continues these outputs.
    var stored: Checkpoint.Outputs {
        Checkpoint.Outputs(log: log.map(OutputFile.canonical), checkpointEvery: save == nil ? nil : checkpointEvery, identity: identity)
    }

    /// Resolves the outputs from the flags and the checkpoint being resumed,
    /// then checks each path; every problem is a UsageError (exit 2) and
    /// nothing on disk is touched.
    init(save flagSave: String?, log flagLog: String?, checkpointEvery flagEvery: Int?, overwrite: Bool,
         resume: String?, restored: Checkpoint.Loaded?, config: String?) throws {
        identity = RunIdentity.starting(run: restored?.outputs.identity?.run)
        pendingRecord = restored?.outputs.pendingRecord
        save = flagSave ?? resume
        if flagSave == nil, resume != nil { saveName = "--resume" }
        if let save, let resume { savesToResumed = OutputFile.same(resume, save) }
        log = flagLog ?? restored?.outputs.log
        if flagLog == nil, log != nil { logName = "the run's log" }
        logMode = overwrite ? .truncate : .create
        checkpointEvery = flagEvery ?? restored?.outputs.checkpointEvery
        if let every = flagEvery {
            if every < 1 || every > maxTrainingSamples { throw UsageError("--checkpoint-every \(every): must be between 1 and 2^53") }
            if save == nil { throw UsageError("--checkpoint-every needs --save FILE") }
        }

        if let save {
            try check(saveName, save) { try OutputFile.check(save, existing: savesToResumed ? .allow : .refuse, replace: overwrite) }
        }
        if let log {
            try check(logName, log) { try OutputFile.check(log, existing: resume != nil ? .allow : .refuse, replace: overwrite) }
            if let resume, OutputFile.same(resume, log) {
                throw UsageError("\(logName) \(pathText(log)): is the checkpoint being resumed")
            }
            if let save, OutputFile.same(save, log) {
                throw UsageError("\(logName) \(pathText(log)): is the same file as the checkpoint \(pathText(save))")
            }
            if let restored, FileManager.default.fileExists(atPath: log) {
                try decideContinuation(of: log, from: restored, byFlag: flagLog != nil, overwrite: overwrite)
            }
        }
        for (name, path) in [(saveName, save), (logName, log)] {
            if let path, let config, OutputFile.same(config, path) {
                throw UsageError("\(name) \(pathText(path)): is the config file being read")
            }
        }
    }

    /// A resumed run and an existing log: continue it when it is this run's
    /// own up to the checkpoint; else replace it when `--log FILE
    /// --overwrite` asked for that (`byFlag`), or refuse.
    private mutating func decideContinuation(of log: String, from restored: Checkpoint.Loaded, byFlag: Bool, overwrite: Bool) throws {
        try check(logName, log) { try LineWriter.checkNotBusy(log) }
        let resuming = LogContinuation.Resumed(identity: restored.outputs.identity, step: restored.step)
        guard let bytes = FileManager.default.contents(atPath: log) else {
            throw UsageError("\(logName) \(pathText(log)): cannot read it (to check that it is this run's log)")
        }
        switch LogContinuation.verdict(bytes, resuming: resuming) {
        case .continue:
            logMode = .append
            continuing = resuming
        case .refuse(let why):
            if byFlag, overwrite { return } // logMode is .truncate
            throw UsageError("\(logName) \(pathText(log)): \(why); "
                             + (byFlag ? "pass --overwrite to replace it, or another --log" : "pass --log FILE to log this run elsewhere"))
        }
    }

    /// Runs a check, naming the flag in its error.
    private func check(_ name: String, _ path: String, _ body: () throws -> Void) throws {
        do { try body() } catch let error as OutputError {
            throw refusal(name, error, elsewhere: name == "the run's log" ? " (pass --log FILE to log elsewhere)" : "")
        }
    }

    /// Refuses a checkpoint that cannot fit: better now than after training.
    func checkRoom(for trainer: Trainer) throws {
        guard let save, let free = OutputFile.freeBytes(near: save) else { return }
        let size = try Checkpoint.encoded(trainer.snapshot(outputs: stored)).count
        if UInt64(size) > free {
            throw UsageError("\(saveName) \(pathText(save)): the checkpoint needs \(bytes(size)) but its file system has \(bytes(Int(clamping: free))) free")
        }
    }
}

/// An output refused before the run: "--log run.jsonl: file exists (pass
/// --overwrite to replace it)".
func refusal(_ name: String, _ error: OutputError, elsewhere: String = "") -> UsageError {
    UsageError("\(name) \(error.description)\(error.reason == .exists ? " (pass --overwrite to replace it)" : elsewhere)")
}

/// "5.6 MiB", "60 KiB", "512 bytes".
func bytes(_ n: Int) -> String {
    if n >= 1 << 20 { return String(format: "%.1f MiB", Double(n) / Double(1 << 20)) }
    if n >= 1 << 10 { return String(format: "%.0f KiB", Double(n) / Double(1 << 10)) }
    return "\(n) bytes"
}

/// `text` quoted for a POSIX shell when it needs it (the library's shellWord).
func shellQuoted(_ text: String) -> String { shellWord(text) }
