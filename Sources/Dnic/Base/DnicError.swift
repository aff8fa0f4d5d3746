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

    /// Throws when `status` is not DNIC_OK, saying which call failed and why.
    @inline(__always)
    static func check(_ status: dnic_status, _ call: @autoclosure () -> String) throws {
        if status != DNIC_OK {
            throw DnicError("\(call()): \(String(cString: dnic_status_str(status)))", status: status)
        }
    }
}
