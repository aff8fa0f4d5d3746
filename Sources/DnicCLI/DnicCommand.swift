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
        subcommands: [TrainCommand.self, EvalCommand.self, InfoCommand.self, BenchCommand.self]
    )

    /// Usage errors exit 2 and runtime errors 1, each as one line on
    /// stderr (ArgumentParser alone would exit 64 and add the usage text).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as UsageError {
            fail(error.message, code: 2)
        } catch let error as DnicError {
            fail(error.message, code: 1)
        } catch let error as DataError {
            fail(error.message, code: 1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if code.rawValue == 1 || code == .failure { fail(message(for: error), code: 1) }
            fail(message(for: error), code: 2)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        let line = message.split(separator: "\n").first.map(String.init) ?? message
        FileHandle.standardError.write(Data("dnic: error: \(line)\n".utf8))
        Foundation.exit(code)
    }
}

/// A problem with what the user asked for (flags, config file, impossible
/// settings): exit status 2.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Runs `body`, turning any error into a UsageError.
func asUsage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as UsageError { throw error } catch let error as DnicError {
        throw UsageError(error.message)
    } catch let error as DataError { throw UsageError(error.message) }
}
