import Foundation

/// The safetensors file format: an 8-byte little-endian header length, a
/// JSON header mapping tensor names to {dtype, shape, data_offsets} (plus a
/// string-to-string "__metadata__"), then the raw little-endian data.
/// Readable from Python with numpy alone (see README). dnic writes F32 only.
///
/// Reading validates everything before using anything: header length and
/// JSON, dtypes, shapes against byte ranges, ranges inside the file, no
/// overlap or gap, and the total size.
public struct SafeTensors: Equatable {
    public struct Tensor: Equatable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    public var tensors: [Tensor]
    public var metadata: [String: String]

    public init(tensors: [Tensor], metadata: [String: String]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public func tensor(_ name: String) -> Tensor? { tensors.first { $0.name == name } }

    // MARK: writing

    /// The file's bytes.
    public func encoded() throws -> Data {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for t in tensors {
            precondition(t.shape.reduce(1, *) == t.values.count, "shape of \(t.name) does not match its values")
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.values.count]]
            offset += 4 * t.values.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // pad with spaces so the data starts 8-byte aligned (allowed by the format)
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for t in tensors {
            t.values.withUnsafeBufferPointer { buffer in
                // float32 in memory is little-endian on every platform Swift targets here
                out.append(UnsafeBufferPointer(start: UnsafeRawPointer(buffer.baseAddress!)
                    .assumingMemoryBound(to: UInt8.self), count: buffer.count * 4))
            }
        }
        return out
    }

    /// Writes atomically (AtomicFile): an existing file at `path` survives
    /// untouched until the new one is complete, and a failed write leaves it
    /// as it was with no temporary file behind.
    public func write(to path: String) throws {
        try AtomicFile.write(try encoded(), to: path, what: "the checkpoint")
    }

    // MARK: reading

    public static func read(path: String) throws -> SafeTensors {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DnicError("\(pathText(path)): cannot read the checkpoint (missing or unreadable)")
        }
        return try decode(data, name: path)
    }

    /// A file's header and where each tensor's bytes lie, checked against
    /// the file's size: what reading needs before any tensor's values.
    struct Layout {
        var metadata: [String: String]
        /// Tensors in file order; begin and end count from the data's start.
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)]
        /// Where the data starts in the file (8 + the header's length).
        var headerEnd: Int
    }

    /// The header length the file's first 8 bytes give, checked against its size.
    static func headerEnd(_ first8: Data, fileSize: Int, name: String) throws -> Int {
        func bad(_ why: String) -> DnicError { DnicError("\(pathText(name)): not a valid checkpoint: \(why)") }
        guard fileSize >= 8, first8.count >= 8 else { throw bad("\(fileSize) bytes, shorter than the 8-byte header length") }
        let headerLength = first8.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength >= 2, headerLength <= UInt64(fileSize - 8), headerLength <= 100_000_000 else {
            throw bad("header length \(headerLength) does not fit a \(fileSize)-byte file")
        }
        return 8 + Int(headerLength)
    }

    /// The layout from the file's first `headerEnd` bytes (`head`) and its size.
    static func layout(head data: Data, fileSize: Int, name: String) throws -> Layout {
        func bad(_ why: String) -> DnicError { DnicError("\(pathText(name)): not a valid checkpoint: \(why)") }
        let headerEnd = try headerEnd(data, fileSize: fileSize, name: name)
        guard data.count >= headerEnd else { throw bad("the header is cut short") }
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        var metadata = [String: String]()
        if let meta = header["__metadata__"] {
            guard let meta = meta as? [String: String] else { throw bad("__metadata__ is not a map of strings") }
            metadata = meta
        }
        let payload = fileSize - headerEnd
        var entries = [(name: String, shape: [Int], begin: Int, end: Int)]()
        // in name order, so the same bad file always gets the same message
        for (key, value) in header.sorted(by: { $0.key < $1.key }) where key != "__metadata__" {
            let tensor = messageText(key)  // file text: quoted escaped, so the message stays one line
            guard let info = value as? [String: Any] else { throw bad("entry '\(tensor)' is not an object") }
            guard let dtype = info["dtype"] as? String else { throw bad("'\(tensor)' has no dtype") }
            guard dtype == "F32" else { throw bad("'\(tensor)' has dtype \(messageText(dtype)); dnic reads F32 only") }
            guard let shape = info["shape"] as? [Int], shape.allSatisfy({ $0 >= 0 && $0 <= 1 << 31 }) else {
                throw bad("'\(tensor)' has no valid shape")
            }
            guard let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw bad("'\(tensor)' has no valid data_offsets")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= payload else {
                throw bad("'\(tensor)' data [\(begin), \(end)) lies outside the \(payload) data bytes")
            }
            // Bytes the shape needs, saturating: [2^31, 2^31] must not trap
            // when multiplied by the 4 bytes of an F32.
            let bytes = (shape + [4]).reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
            guard bytes != Int.max, bytes == end - begin else {
                throw bad("'\(tensor)' shape \(shape) needs \(bytes == Int.max ? "too many" : "\(bytes)") bytes, data_offsets give \(end - begin)")
            }
            entries.append((key, shape, begin, end))
        }
        entries.sort { $0.begin < $1.begin || ($0.begin == $1.begin && $0.end < $1.end) }
        var cursor = 0
        for e in entries {
            guard e.begin == cursor else {
                let tensor = messageText(e.name)
                throw bad(e.begin < cursor ? "'\(tensor)' overlaps the tensor before it" : "gap before '\(tensor)'")
            }
            cursor = e.end
        }
        guard cursor == payload else { throw bad("\(payload - cursor) bytes after the last tensor") }
        return Layout(metadata: metadata, entries: entries, headerEnd: headerEnd)
    }

    public static func decode(_ data: Data, name: String) throws -> SafeTensors {
        let layout = try layout(head: data.prefix(try headerEnd(data, fileSize: data.count, name: name)),
                                fileSize: data.count, name: name)
        let (entries, metadata, headerEnd) = (layout.entries, layout.metadata, layout.headerEnd)
        let tensors = entries.map { e -> Tensor in
            var values = [Float](repeating: 0, count: (e.end - e.begin) / 4)
            values.withUnsafeMutableBytes { dst in
                data.copyBytes(to: dst.bindMemory(to: UInt8.self), from: (headerEnd + e.begin)..<(headerEnd + e.end))
            }
            return Tensor(name: e.name, shape: e.shape, values: values)
        }
        return SafeTensors(tensors: tensors, metadata: metadata)
    }
}
