import Dnic
import Foundation

/// The flags of a `dnic train` run's outputs: `--save`, `--log`,
/// `--checkpoint-every`, `--resume` and `--overwrite` to the library's
/// RunOutputs, and its refusals back in the flags' words.
enum TrainOutputs {
    /// Resolves and checks the outputs before anything is loaded or
    /// trained; every problem is a UsageError (exit 2) and nothing on disk
    /// is touched.
    static func resolve(save: String?, log: String?, checkpointEvery: Int?, overwrite: Bool, resume: String?,
                        restored: RunSnapshot?, config: String?, tensorboard: String? = nil) throws -> RunOutputs {
        if let every = checkpointEvery {
            if every < 1 || every > maxTrainingSamples { throw UsageError("--checkpoint-every \(every): must be between 1 and 2^53") }
            if save == nil, resume == nil { throw UsageError("--checkpoint-every needs --save FILE") }
        }
        return try flagged {
            try RunOutputs(save: save, log: log, checkpointEvery: checkpointEvery, replace: overwrite, resume: resume,
                           restored: restored, configFile: config, tensorboard: tensorboard)
        }
    }

    /// Runs `body`; a refused output becomes a UsageError naming its flag:
    /// "--log run.jsonl: file exists (pass --overwrite to replace it)".
    static func flagged<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let refusal as RunOutputs.Refusal {
            let wayOut: String
            switch refusal.wayOut {
            case nil: wayOut = ""
            case .replace: wayOut = " (pass --overwrite to replace it)"
            case .anotherLogFile: wayOut = " (pass --log FILE to log elsewhere)"
            case .replaceOrAnotherLog: wayOut = "; pass --overwrite to replace it, or another --log"
            case .anotherLog: wayOut = "; pass --log FILE to log this run elsewhere"
            }
            throw UsageError("\(name(refusal.output)) \(refusal.error.description)\(wayOut)")
        }
    }

    /// How an output was chosen: by its flag, or (resuming) by the checkpoint.
    static func name(_ output: RunOutputs.Output) -> String {
        switch output {
        case .checkpoint: return "--save"
        case .resumedCheckpoint: return "--resume"
        case .log: return "--log"
        case .resumedLog: return "the run's log"
        case .tensorboard: return "--tensorboard"
        case .resumedTensorboard: return "the run's TensorBoard directory"
        }
    }
}

/// An output refused before the run: "--json out.json: file exists (pass
/// --overwrite to replace it)".
func refusal(_ name: String, _ error: OutputError) -> UsageError {
    UsageError("\(name) \(error.description)\(error.reason == .exists ? " (pass --overwrite to replace it)" : "")")
}
