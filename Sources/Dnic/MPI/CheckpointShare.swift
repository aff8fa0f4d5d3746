import Foundation

/// How rank 0 gives the other ranks a resumed run's checkpoint: its header,
/// then its data in pieces of `piece` bytes, each broadcast to every rank.
/// A rank keeps the bytes of the tensors it asks for and drops the rest as
/// they pass, so it never holds the whole file (the file of a wide network
/// is several times one block), only its block's tensors and one piece.
///
/// Why broadcast pieces rather than send each rank its part, or have each
/// rank read the file: the ranks may run on hosts that do not share the
/// file's directory, and a broadcast is the one collective the transport
/// has; the whole file crosses the link to every rank, as it did before.
enum CheckpointShare {
    /// Bytes per broadcast: large enough that the message overhead does not
    /// count, small next to a block.
    static let piece = 64 << 20

    /// Rank 0: the checkpoint file's bytes to every other rank.
    static func send(_ bytes: Data, timeout: Double) throws {
        let headerEnd = try SafeTensors.headerEnd(bytes, fileSize: bytes.count, name: "the checkpoint")
        var size = UInt64(bytes.count).littleEndian
        _ = try MPIRanks.broadcast(Data(bytes: &size, count: 8) + bytes.prefix(headerEnd), timeout: timeout)
        var at = headerEnd
        while at < bytes.count {
            let end = min(at + piece, bytes.count)
            _ = try MPIRanks.broadcast(bytes.subdata(in: at..<end), timeout: timeout)
            at = end
        }
    }

    /// Other ranks: the checkpoint rank 0 sends, holding the values of the
    /// tensors `keep` names; the others keep their shape and no values.
    static func receive(keep: (String) -> Bool, name: String, timeout: Double) throws -> SafeTensors {
        func bad(_ why: String) -> DnicError { DnicError("\(pathText(name)): \(why)") }
        let first = try MPIRanks.broadcast(nil, timeout: timeout)
        guard first.count >= 8 else { throw bad("rank 0 sent no checkpoint header") }
        let fileSize = Int(first.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let head = Data(first.dropFirst(8))
        let layout = try SafeTensors.layout(head: head, fileSize: fileSize, name: name)
        var values = layout.entries.map { keep($0.name) ? [Float](repeating: 0, count: ($0.end - $0.begin) / 4) : [] }
        // the data, piece by piece: each kept tensor takes its overlap
        var at = 0, payload = fileSize - layout.headerEnd
        while at < payload {
            let bytes = try MPIRanks.broadcast(nil, timeout: timeout)
            let end = at + bytes.count
            guard !bytes.isEmpty, end <= payload else { throw bad("rank 0 sent \(end) data bytes of \(payload)") }
            for (i, e) in layout.entries.enumerated() where !values[i].isEmpty && e.begin < end && e.end > at {
                let from = max(e.begin, at), to = min(e.end, end)
                values[i].withUnsafeMutableBytes { dst in
                    let slot = UnsafeMutableRawBufferPointer(rebasing: dst[(from - e.begin)..<(to - e.begin)])
                    bytes.copyBytes(to: slot.bindMemory(to: UInt8.self), from: (bytes.startIndex + from - at)..<(bytes.startIndex + to - at))
                }
            }
            at = end
        }
        let tensors = layout.entries.enumerated().map { i, e in SafeTensors.Tensor(name: e.name, shape: e.shape, values: values[i]) }
        return SafeTensors(tensors: tensors, metadata: layout.metadata)
    }

    /// Whether a checkpoint tensor belongs to the rank holding `layers`:
    /// their parameters and moments, the interfaces on them, the batches in flight.
    static func belongs(_ tensor: String, to layers: ClosedRange<Int>) -> Bool {
        var name = Substring(tensor)
        for prefix in ["optimizer.m.", "optimizer.v."] where name.hasPrefix(prefix) { name = name.dropFirst(prefix.count) }
        if name == "pipeline.inflight" { return true }
        // layer{l}.… is layer l; interface{k}.… sits after hidden layer k, on layer k - 1
        for (prefix, shift) in [("layer", 0), ("interface", -1)] where name.hasPrefix(prefix) {
            guard let n = Int(name.dropFirst(prefix.count).prefix { $0.isNumber }) else { return false }
            return layers.contains(n + shift)
        }
        return false
    }
}
