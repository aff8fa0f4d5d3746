import Dnic
import Foundation

/// The CLI's standard output and standard error.
enum Console {
    /// Standard output, line by line, each write checked: a full disk under
    /// `> file` or a closed pipe is an OutputError naming standard output,
    /// which stops a training run like any other failed output.
    nonisolated(unsafe) static let out = LineWriter(fileDescriptor: STDOUT_FILENO, name: "standard output")

    /// Writes `text` to standard error as is. A failure is ignored: there is
    /// nowhere left to report it, and it must not stop a run.
    static func err(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(STDERR_FILENO, raw.baseAddress! + done, raw.count - done)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return }
                done += n
            }
        }
    }

    static func warn(_ text: String) { err("dnic: warning: \(text)\n") }
}
