import ArgumentParser
import Dnic
import Foundation

/// `dnic`: train and evaluate networks with decoupled neural interfaces.
@main
struct DnicCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnic",
        abstract: "Train feed-forward networks with synthetic gradients and decoupled neural interfaces.",
        version: DnicVersion.core,
        subcommands: [TrainCommand.self, PlanCommand.self, EvalCommand.self, PredictCommand.self, ExportCommand.self, PlotCommand.self, InfoCommand.self,
                      BenchCommand.self, AnalyzeCommand.self, ReproduceCommand.self]
    )

    /// Usage errors exit 2 and runtime errors 1, each as one line on
    /// stderr (ArgumentParser alone would exit 64 and add the usage text).
    static func main() {
        // before anything is opened, so that no file takes descriptor 0, 1 or 2
        StandardDescriptors.reopenClosed()
        // before any other thread (setenv is not thread-safe) and any OpenMP call
        let environmentWarnings = EnvironmentCheck.cleanOpenMP()
        // A file-size limit or a closed pipe must surface as a failed write
        // (EFBIG, EPIPE) that dnic reports after saving its checkpoint, not
        // kill the process and the run with it.
        signal(SIGXFSZ, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        // before any thread exists, so that every thread inherits the mask
        StopSignal.prepare()
        // settings named as flags; `dnic train` has named those from a config file already
        let namer = SettingNamer(arguments: CommandLine.arguments, source: nil)
        // under mpirun every rank sees the same environment: rank 0 alone says what it changed
        if (MPIRanks.launched?.rank ?? 0) == 0 { environmentWarnings.forEach(Console.warn) }
        do {
            var command = try parseAsRoot()
            if let problem = EnvironmentCheck.problem() { throw UsageError(problem) }
            try command.run()
        } catch {
            if let failure = Failure(error, namer: namer) { fail(failure.line, code: failure.code) }
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            // ArgumentParser maps every error it does not know to EXIT_FAILURE
            // and prints its Swift description: say those in plain words
            if code == .failure, !(error is ExitCode) { fail(ErrorWords.line(for: error), code: 1) }
            let text = ParserMessage.oneLine(fullMessage(for: error))
            if code.rawValue == 1 || code == .failure { fail(text, code: 1) }
            fail(text, code: 2)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        let line = message.split(separator: "\n").first.map(String.init) ?? message
        // under mpirun every rank parses the same flags: rank 0 alone says what is wrong
        if let launched = MPIRanks.launched, launched.size > 1, launched.rank > 0, !MPIRanks.isActive {
            sleep(2)
            Foundation.exit(code)
        }
        Console.err("dnic: error: \(line)\n")
        CreatedOutputs.removeEmpty()
        if MPIRanks.isActive { MPIRanks.abort(code) } // every rank ends with it, never a hang
        Foundation.exit(code)
    }
}

/// An error of dnic's own as one line and an exit status (2: what was
/// asked cannot run; 1: it failed while running), with settings named by a
/// SettingNamer and options written as flags. The one place errors are
/// worded: `dnic train` words its own with the namer that knows its config
/// file, DnicCommand.main every other.
struct Failure: Error {
    let line: String
    let code: Int32

    /// nil for an error that is not dnic's (ArgumentParser's, Foundation's).
    init?(_ error: Error, namer: SettingNamer) {
        let text: String
        switch error {
        case let failure as Failure:
            self = failure
            return
        case let error as UsageError: (text, code) = (namer.render(error.message), 2)
        case let error as SettingError: (text, code) = (namer.render(error), 2)
        case let error as DnicError: (text, code) = (namer.render(error.message), 1)
        case let error as DataError: (text, code) = (namer.render(error.message), 1)
        case let error as OutputError: (text, code) = (error.description, 1)
        default: return nil
        }
        line = renderOptionNames(text) { "--" + $0 }
    }
}

/// Runs `body`, turning any error into a UsageError.
func asUsage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as UsageError { throw error } catch let error as DnicError {
        throw UsageError(error.message)
    } catch let error as DataError { throw UsageError(error.message) }
}
