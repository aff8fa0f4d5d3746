// Which data a run read, so that its checkpoint can say so and a later
// command can tell whether it reads the same: each file's absolute path, its
// size and the CRC-32 of its bytes on disk; synthetic data, which has no
// files, by its name and seed (recorded for every kind: it also draws the
// seeded splits).
//
// Why CRC-32: zlib's is already linked (gzip reading) and hashes at about
// 4 GB/s, so Fashion-MNIST's four files (30 MB) cost about 8 ms of a 0.5 s
// load; with the size it catches any accidental change (an edited row,
// another file under the same name) except with probability 2^-32. It is no
// defence against a file forged to collide; nothing here needs one, and a
// cryptographic hash would mean a new dependency (swift-crypto or OpenSSL).
//
// Paths are made absolute lexically (the working directory joined, "." and
// "x/.." collapsed), never through realpath: the record names the file the
// way the user reached it, not where its symbolic links lead. A file that is not a regular file (a
// pipe) is recorded by path alone: hashing it would consume it.

import CZlib
import Foundation

/// The part of a dataset a file holds.
public enum DataRole: String, Codable, Sendable {
    case train, test
    case trainImages = "train-images", trainLabels = "train-labels"
    case testImages = "test-images", testLabels = "test-labels"
    case trainFeatures = "train-features", testFeatures = "test-features"

    /// Whether the file holds training examples (a test split may still be
    /// held out of it).
    var isTraining: Bool { self == .train || self == .trainImages || self == .trainLabels || self == .trainFeatures }

    /// The role of a training file read as test data (a file given to score).
    var asTest: DataRole {
        switch self {
        case .train: return .test
        case .trainImages: return .testImages
        case .trainLabels: return .testLabels
        case .trainFeatures: return .testFeatures
        default: return self
        }
    }
}

/// One file a dataset was read from.
public struct DataFile: Codable, Equatable, Sendable {
    public var role: DataRole
    /// Absolute (lexically: no symbolic link is resolved).
    public var path: String
    /// Size in bytes on disk; nil when the file is not a regular file.
    public var bytes: UInt64?
    /// CRC-32 of the bytes on disk as 8 lower-case hex digits; nil with `bytes`.
    public var crc32: String?

    public init(role: DataRole, path: String, bytes: UInt64? = nil, crc32: String? = nil) {
        self.role = role
        self.path = path
        self.bytes = bytes
        self.crc32 = crc32
    }

    /// Whether the two hold the same bytes; nil when either was not measured.
    func sameBytes(_ other: DataFile) -> Bool? {
        guard let a = bytes, let b = other.bytes, let x = crc32, let y = other.crc32 else { return nil }
        return a == b && x == y
    }

    /// How `now` differs from this file as recorded: "1200 bytes then, 1300
    /// now", "the same 1200 bytes, other content (CRC-32 … then, … now)".
    func change(to now: DataFile) -> String {
        guard let a = bytes, let b = now.bytes else { return "it is no longer a regular file" }
        if a != b { return "\(a) bytes then, \(b) now" }
        return "the same \(a) bytes, other content (CRC-32 \(crc32 ?? "?") then, \(now.crc32 ?? "?") now)"
    }

    /// How `other`, another file, differs from this one: "1300 bytes, the
    /// run's 1200", "other content (CRC-32 …, the run's …)".
    func difference(from other: DataFile) -> String {
        guard let a = bytes, let b = other.bytes else { return "not a regular file" }
        if a != b { return "\(b) bytes, the run's \(a)" }
        return "other content (CRC-32 \(other.crc32 ?? "?"), the run's \(crc32 ?? "?"))"
    }
}

/// The data a run read: what `--data` said and the files it came to.
public struct DataRecord: Codable, Equatable, Sendable {
    /// The `--data` value as given (relative paths and all).
    public var data: String
    /// The seed that generated synthetic data and drew the seeded splits
    /// (a CSV's test hold-out, --validation): the run's seed in `dnic
    /// train`, 1 in `dnic reproduce`. nil in a record that does not say.
    public var seed: UInt64?
    /// The files read, in the order of the dataset's parts (none for synthetic data).
    public var files: [DataFile]

    public init(data: String, seed: UInt64? = nil, files: [DataFile]) {
        self.data = data
        self.seed = seed
        self.files = files
    }

    /// `options` with the recorded seed, so that the data is generated and
    /// split again as the run had it.
    func replaying(_ options: DataOptions) -> DataOptions {
        var o = options
        if let seed { o.seed = seed }
        return o
    }

    /// The record as the checkpoint metadata's `data_files` holds it.
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Reads `data_files`; throws a one-line reason when it is garbled or
    /// does not fit the kind of data it names.
    static func parse(json text: String) throws -> DataRecord {
        let record: DataRecord
        do { record = try JSONDecoder().decode(DataRecord.self, from: Data(text.utf8)) } catch {
            throw DataError("is not valid: \(describe(error))")
        }
        try record.check()
        return record
    }

    /// The roles of the files must be the ones its kind of data reads.
    func check() throws {
        let spec = try DataSpec.parse(data)
        let roles = files.map(\.role)
        let expected: [[DataRole]]
        switch spec {
        case .fashionMNIST, .mnist, .idx: expected = [[.trainImages, .trainLabels, .testImages, .testLabels]]
        case .csv(_, let test): expected = [test == nil ? [.train] : [.train, .test]]
        case .synthetic: expected = [[]]
        case .npy(_, _, let test, _):
            expected = [test == nil ? [.trainFeatures, .trainLabels] : [.trainFeatures, .trainLabels, .testFeatures, .testLabels]]
        case .npz: expected = [[.train]]
        }
        guard expected.contains(roles) else {
            throw DataError("lists files \(roles.map(\.rawValue)) that \(messageText(data)) does not read")
        }
        for f in files {
            guard !f.path.isEmpty, (f.bytes == nil) == (f.crc32 == nil),
                  f.crc32.map({ $0.count == 8 && UInt32($0, radix: 16) != nil }) ?? true else {
                throw DataError("has a garbled entry for its \(f.role.rawValue) file")
            }
        }
    }

    /// The files named for people: "/a/t.csv", "t10k-images-idx3-ubyte.gz,
    /// t10k-labels-idx1-ubyte.gz in /usr/share/datasets/fashion-mnist", or
    /// "generated from seed 1" for synthetic data.
    public var filesText: String {
        guard let first = files.first else { return "generated from seed \(seed.map(String.init) ?? "?")" }
        if files.count == 1 { return pathText(first.path) }
        let directory = parentDirectory(first.path)
        if files.allSatisfy({ parentDirectory($0.path) == directory }) {
            return files.map { fileName($0.path) }.joined(separator: ", ") + " in " + pathText(directory)
        }
        return files.map { pathText($0.path) }.joined(separator: ", ")
    }

    /// Why `read` — what a command has just read to score or analyse a
    /// model — is not the data this record's run was trained or tested on,
    /// in one line naming `checkpoint`; nil when it is. A file counts as the
    /// same when it holds the same bytes (size and CRC-32); where a file
    /// could not be measured, its path decides.
    public func mismatch(read: DataRecord, checkpoint: String) -> String? {
        let name = pathText(checkpoint)
        if read.files.isEmpty || files.isEmpty {
            guard read.data == data, read.seed == seed, read.files.isEmpty, files.isEmpty else {
                return "\(pathText(read.data)) (\(read.filesText)) is not the data \(name) was trained or tested on "
                       + "(\(pathText(data)): \(filesText))"
            }
            return nil
        }
        for f in read.files {
            let samePath = files.first { $0.path == f.path }
            if let r = samePath, r.sameBytes(f) == false {
                return "\(pathText(f.path)) has changed since \(name) was saved: \(r.change(to: f))"
            }
            // unmeasured (a pipe): the same path is all there is to go by
            guard let r = samePath ?? files.first(where: { $0.sameBytes(f) == true }) else {
                return "\(pathText(f.path)) is not the data \(name) was trained or tested on (\(pathText(data)): \(filesText))"
            }
            if r.role.isTraining, !f.role.isTraining {
                return "\(pathText(f.path)) is the file \(name) was trained on: its score includes the training examples"
            }
        }
        return nil
    }

    /// Refuses, in one line (a DataError), data that cannot continue the
    /// run this record describes: a recorded file missing or changed (which
    /// one, and its size or content), or `given` (a `--data` value passed
    /// again, resolved here: a relative path names this directory's file)
    /// naming files that do not hold the recorded bytes. Reads the files
    /// only to hash them; loads nothing.
    public func checkResume(given: DataSpec?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let given {
            let source = try DataSource(given, environment: environment)
            guard source.files.map(\.role) == files.map(\.role), !files.isEmpty || given.description == data else {
                throw DataError("{data} \(pathText(given.description)) is not the run's data \(pathText(data)) (\(filesText))")
            }
            for (f, path) in zip(files, source.files.map(\.path)) {
                let now = try DataFile.measure(role: f.role, path: path)
                guard f.sameBytes(now) ?? (f.path == now.path) else {
                    throw DataError("{data} \(pathText(given.description)): \(pathText(now.path)) is not the run's \(f.role.rawValue) "
                                    + "file \(pathText(f.path)): \(f.difference(from: now))")
                }
            }
            return
        }
        for f in files {
            guard FileManagerProbe.kind(f.path) != .missing else {
                throw DataError("\(pathText(f.path)), the run's \(f.role.rawValue) file, is missing; restore it, or "
                                + "pass {data} with a copy of it")
            }
            let now = try DataFile.measure(role: f.role, path: f.path)
            if f.sameBytes(now) == false {
                throw DataError("\(pathText(f.path)), the run's \(f.role.rawValue) file, has changed since the run was saved: "
                                + "\(f.change(to: now)); the run continues only on the data it was trained on")
            }
        }
    }
}

extension DataFile {
    /// The file at `path` (made absolute), with its size and CRC-32 when it
    /// is a regular file, read through one 1 MiB buffer.
    static func measure(role: DataRole, path: String) throws -> DataFile {
        let absolute = absolutePath(path)
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw DataError("\(pathText(path)): cannot read it: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return DataFile(role: role, path: absolute) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataError("\(pathText(path)): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var crc = CZlib.crc32(0, nil, 0)
        var total: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw DataError("\(pathText(path)): read error: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            crc = buffer.withUnsafeBufferPointer { CZlib.crc32(crc, $0.baseAddress, UInt32(n)) }
            total += UInt64(n)
        }
        let hex = String(UInt32(truncatingIfNeeded: crc), radix: 16)
        return DataFile(role: role, path: absolute, bytes: total, crc32: String(repeating: "0", count: 8 - hex.count) + hex)
    }
}

/// `path` made absolute against the working directory, lexically as
/// Python's abspath and Go's filepath.Abs do: "." and empty components
/// dropped, "x/.." collapsed. Unchanged when the working directory is gone.
func absolutePath(_ path: String) -> String {
    var joined = path
    if !path.hasPrefix("/") {
        guard let cwd = getcwd(nil, 0) else { return path }
        joined = String(cString: cwd) + "/" + path
        free(cwd)
    }
    var parts = [Substring]()
    for part in joined.split(separator: "/") where part != "." {
        if part == ".." { _ = parts.popLast() } else { parts.append(part) }
    }
    return "/" + parts.joined(separator: "/")
}

/// The directory part of an absolute path, by string ("/" for a top-level file).
private func parentDirectory(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
    return String(path[..<slash])
}
