// The bytes after a file's header, as its header declares them: a loader
// learns whether the file really holds them before it allocates for them,
// then reads them straight into the array it returns.
//
// The bug this answers: a 4.7 MB gzip that inflates to 1 GB of zeros, with
// an IDX header claiming 2.7 M images of 28x28, took 17 s and 4.7 GB of
// memory (release build) to be refused as truncated, because the float
// buffer grew with the stream. Now nothing dataset-sized is allocated until
// the length is known:
//   raw file   its size is the length; both errors are known up front.
//   gzip       the trailer's ISIZE (the last member's length mod 2^32)
//              agreeing with the header is taken as the length, which keeps
//              real files (one member) at one pass: Fashion-MNIST loads in
//              the same 0.5 s as before, in its final 209.6 MiB. Any other
//              trailer (several members, garbage after the stream, a lying
//              header) costs a counting pass first: inflate into a fixed
//              1 MiB buffer, stop as soon as the count passes the claim,
//              rewind. The 4.7 MB bomb is refused in 0.4 s (the time zlib
//              takes to inflate it) by a process of 23 MB, and no claim
//              makes it inflate more than 2^31 + 1 MiB bytes. A multi-member
//              file pays one inflate more (Fashion-MNIST as two members:
//              0.54 s -> 0.77 s).
//   a pipe     neither measurable nor rewindable: its bytes are staged in a
//              buffer that grows 1.25x at a time up to the claim, then
//              widened (peak 1.25x of the final array).
// Considered and left out: checking compressed bytes consumed (gzoffset)
// against bytes produced at deflate's 1032:1 bound as the stream goes. It
// would stop the reported bomb only after 72% of it (level-1 zeros expand
// 229:1, the bound is 1032:1) and a bomb at the 1032:1 ceiling never, so the
// counting pass is needed anyway and already stops it.
//
// Reading: the payload bytes land at the end of the final array's memory
// ((stride - 1) * count bytes in), and are widened in place front to back;
// element i's bytes end before byte i + 1 starts, so no byte is overwritten
// before it is read. A loaded file therefore costs its final size plus
// zlib's buffers, and a gzip whose trailer lies about a short stream costs
// one byte per byte it really delivers before it is refused.
// Not here: the header formats (IDX.swift); CSV, which has no header and is
// parsed as it streams (CSV.swift).

import Foundation

/// What a header declares the rest of its file holds.
struct PayloadClaim {
    /// "3 images of 2x2", "5 labels": what messages say was declared.
    let what: String
    /// Bytes of header before the payload (already read).
    let header: UInt64
    /// Payload bytes the header declares, one element each.
    let bytes: UInt64
    /// Adds " (N bytes)" to `what` in messages, when it does not say so.
    let showBytes: Bool

    var declared: String { showBytes ? "\(what) (\(bytes) bytes)" : what }
}

/// The largest buffer a loader sized from a file (from its header's claim
/// or its content), in bytes: the internal hook that lets tests check that
/// a lying file costs no dataset-sized allocation. zlib's own buffers and
/// the 64 KiB scratch of the trailing-data check are not counted.
final class LoadMemory {
    private(set) var largest = 0
    func note(_ bytes: Int) { largest = max(largest, bytes) }
}

/// Bytes past the payload are counted exactly up to this many, then the
/// message says "more than": a bomb after a valid payload is not followed.
let trailingBudget: UInt64 = 1 << 20

private func truncated(_ reader: GzipFileReader, _ claim: PayloadClaim, holds: UInt64) -> DataError {
    DataError("\(reader.shownPath): truncated: header declares \(claim.declared) but the \(reader.form) file holds only \(holds)")
}

private func trailing(_ reader: GzipFileReader, _ claim: PayloadClaim, extra: UInt64) -> DataError {
    let amount = extra > trailingBudget ? "more than \(trailingBudget)" : "\(extra)"
    return DataError("\(reader.shownPath): \(amount) bytes of trailing data after \(claim.what); header and file size disagree")
}

/// Fails, before anything is allocated, when the file cannot possibly hold
/// the payload (raw: its size says so exactly; gzip: not even at deflate's
/// largest ratio).
private func checkFits(_ reader: GzipFileReader, _ claim: PayloadClaim) throws {
    let available = reader.maxContentBytes - min(claim.header, reader.maxContentBytes)
    guard claim.bytes > available else { return }
    if reader.isGzip {
        throw DataError("\(reader.shownPath): truncated: header declares \(claim.declared) but a \(reader.fileSize ?? 0)-byte gzip file "
                        + "cannot hold more than \(available)")
    }
    throw truncated(reader, claim, holds: available)
}

/// True once the content is known to be exactly header + payload (reading
/// still checks every byte); false when it cannot be known beforehand (not
/// a regular file). Throws the truncated or trailing-data error otherwise.
/// Leaves the reader just after the header.
private func checkLength(_ reader: GzipFileReader, _ claim: PayloadClaim, memory: LoadMemory?) throws -> Bool {
    try checkFits(reader, claim)
    guard let size = reader.fileSize else { return false }
    if !reader.isGzip {
        let extra = size - min(size, claim.header + claim.bytes)
        if extra > 0 { throw trailing(reader, claim, extra: extra) }
        return true
    }
    if reader.trailerLength == UInt32(truncatingIfNeeded: claim.header + claim.bytes) { return true }
    let scratch = Int(min(1 << 20, claim.bytes + trailingBudget + 1))
    memory?.note(scratch)
    let found = try reader.countContent(upTo: claim.bytes + trailingBudget, scratch: scratch)
    if found < claim.bytes { throw truncated(reader, claim, holds: found) }
    if found > claim.bytes { throw trailing(reader, claim, extra: found - claim.bytes) }
    try reader.rewind()
    try reader.skip(Int(claim.header))
    return true
}

/// Whether `bytes` can be allocated now: Swift traps when an array cannot
/// get its memory, so a loader asks first and turns no into a DataError.
func canAllocate(_ bytes: Int) -> Bool {
    guard let probe = malloc(max(bytes, 1)) else { return false }
    free(probe)
    return true
}

private func checkAllocatable(_ reader: GzipFileReader, _ claim: PayloadClaim, bytes: Int, memory: LoadMemory?) throws {
    memory?.note(bytes)
    guard canAllocate(bytes) else {
        throw DataError("\(reader.shownPath): out of memory: cannot allocate \(bytes) bytes for \(claim.what)")
    }
}

/// Reads the payload `claim` declares into a new array of exactly
/// `claim.bytes` elements and checks that nothing follows it. `widen`
/// converts `count` bytes at `source` into `count` elements at `target`
/// and may throw (a label out of range). The two may overlap: it must go
/// front to back, reading byte i before writing element i.
func readPayload<T>(_ reader: GzipFileReader, _ claim: PayloadClaim, as _: T.Type, memory: LoadMemory? = nil,
                    widen: (_ source: UnsafeRawPointer, _ target: UnsafeMutablePointer<T>, _ count: Int) throws -> Void)
    throws -> [T] {
    let count = Int(claim.bytes)
    let values: [T]
    if try checkLength(reader, claim, memory: memory) {
        let stride = MemoryLayout<T>.stride
        try checkAllocatable(reader, claim, bytes: count * stride, memory: memory)
        values = try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            // T is a plain number type: elements left uninitialized on a throw need no cleanup.
            guard let base = buffer.baseAddress else { return }
            let raw = UnsafeMutableRawPointer(base)
            let staged = (stride - 1) * count
            let got = try reader.read(into: UnsafeMutableRawBufferPointer(start: raw + staged, count: count))
            guard got == count else { throw truncated(reader, claim, holds: UInt64(got)) }
            try widen(UnsafeRawPointer(raw + staged), base, count)
            initialized = count
        }
    } else {
        let bytes = try readGrowing(reader, claim, memory: memory)
        try checkAllocatable(reader, claim, bytes: count * MemoryLayout<T>.stride, memory: memory)
        values = try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            try bytes.withUnsafeBytes { try widen($0.baseAddress!, base, count) }
            initialized = count
        }
    }
    let extra = try reader.countContent(upTo: trailingBudget, scratch: 1 << 16)
    if extra > 0 { throw trailing(reader, claim, extra: extra) }
    return values
}

/// The payload of a stream of unknown length, in a buffer that grows at
/// most 1.25x at a time and never past the claim, so a lying header costs
/// no more than the bytes that really arrive.
private func readGrowing(_ reader: GzipFileReader, _ claim: PayloadClaim, memory: LoadMemory?) throws -> [UInt8] {
    let count = Int(claim.bytes)
    var bytes = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: min(1 << 20, count))
    memory?.note(chunk.count)
    while bytes.count < count {
        let want = min(chunk.count, count - bytes.count)
        let got = try chunk.withUnsafeMutableBytes {
            try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0 ..< want]))
        }
        if bytes.count + got > bytes.capacity {
            bytes.reserveCapacity(min(count, max(bytes.count + got, bytes.capacity + bytes.capacity / 4)))
            memory?.note(bytes.capacity)
        }
        bytes.append(contentsOf: chunk[0 ..< got])
        if got < want { break }
    }
    guard bytes.count == count else { throw truncated(reader, claim, holds: UInt64(bytes.count)) }
    return bytes
}
