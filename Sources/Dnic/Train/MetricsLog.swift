import Foundation

/// JSON Lines metrics: one object per evaluation (`"event": "eval"`) and a
/// last one with `"event": "final"`. The file is created exclusively, so an
/// existing log is never overwritten unless the caller asked for it.
public final class MetricsLog {
    private let handle: FileHandle
    public let path: String

    /// - Parameter append: continue an existing log (a resumed run).
    public init(path: String, overwrite: Bool, append: Bool = false) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw DnicError("--log \(path): is a directory")
        }
        // O_EXCL: an existing file is refused atomically, not after a check
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : overwrite ? O_TRUNC : O_EXCL)
        let fd = open(path, flags, 0o644)
        if fd < 0 {
            if errno == EEXIST { throw DnicError("--log \(path): file exists (pass --overwrite to replace it)") }
            throw DnicError("--log \(path): cannot create the file: \(String(cString: strerror(errno)))")
        }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        self.path = path
    }

    deinit { try? handle.close() }

    public func write(_ record: EvaluationRecord, event: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var object = try JSONSerialization.jsonObject(with: encoder.encode(record)) as! [String: Any]
        object["event"] = event
        var line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        line.append(0x0A)
        try handle.write(contentsOf: line)
    }
}
