import CDnic

/// An error from the C core, or from the Swift shell's own checks.
/// `message` is one line meant for a user; it may name settings as `{key}`
/// (`description`, in Model, writes them as config keys).
public struct DnicError: Error, Equatable, Sendable {
    public let message: String
    /// The C core's status, when the error came from it.
    public let status: dnic_status?

    public init(_ message: String, status: dnic_status? = nil) {
        self.message = message
        self.status = status
    }

    /// Throws when `status` is not DNIC_OK, saying which call failed and
    /// why: the status's text, then the core's detail of this thread's
    /// failure (dnic_last_error: the argument, its value, what is allowed).
    @inline(__always)
    static func check(_ status: dnic_status, _ call: @autoclosure () -> String) throws {
        if status != DNIC_OK {
            throw DnicError(coreMessage(call(), status), status: status)
        }
    }

    /// "call: status text (detail)", the detail without the C function
    /// names it starts with (the Swift layer names the call) and left out
    /// where the core had nothing to add.
    static func coreMessage(_ call: String, _ status: dnic_status) -> String {
        let text = String(cString: dnic_status_str(status))
        let detail = userDetail(String(cString: dnic_last_error()))
        return detail.isEmpty ? "\(call): \(text)" : "\(call): \(text) (\(detail))"
    }

    /// The core's detail as a user reads it: one line, its "dnic_x: "
    /// prefixes (the C functions that refused) dropped.
    static func userDetail(_ detail: String) -> String {
        let line = detail.split(separator: "\n").first.map(String.init) ?? ""
        return line.components(separatedBy: ": ").filter { !isFunctionName($0) }.joined(separator: ": ")
    }

    /// "dnic_pipe_tick" or "dnic_iface_write_signal (PRED)": a C function's name.
    private static func isFunctionName(_ part: String) -> Bool {
        guard part.hasPrefix("dnic_") else { return false }
        let name = part.prefix { $0 != " " }
        let rest = part.dropFirst(name.count)
        return rest.isEmpty || (rest.hasPrefix(" (") && rest.hasSuffix(")"))
    }
}
