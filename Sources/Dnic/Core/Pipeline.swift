import CDnic

/// Owns a C unlocked schedule (`dnic_pipe_t`) over a DNI's network and
/// interfaces (docs/unlocked.md): the pipeline (blocks in lockstep ticks, each on
/// its own batch) or, with a queue length, async (the same blocks
/// free-running on worker threads). The network the DNI holds is stale
/// while it trains; `sync()` copies the blocks' values back (for
/// evaluation and checkpoints), after `flush()` under async.
public final class Pipeline {
    let handle: OpaquePointer
    /// Kept alive: the pipeline uses its interfaces and imports its network.
    public let dni: DNI
    public let isAsync: Bool

    /// - Parameter asyncQueue: nil for the pipeline; async with this many
    ///   messages per queue otherwise.
    public init(dni: DNI, asyncQueue: Int? = nil) throws {
        var made: OpaquePointer?
        if let q = asyncQueue {
            try DnicError.check(dnic_pipe_create_async(&made, dni.handle, Int32(q)), "building the async schedule")
        } else {
            try DnicError.check(dnic_pipe_create(&made, dni.handle), "building the pipeline schedule")
        }
        handle = made!
        self.dni = dni
        isAsync = asyncQueue != nil
    }

    deinit { dnic_pipe_free(handle) }

    public var blockCount: Int { Int(dnic_pipe_num_blocks(handle)) }

    /// Batches that reached the loss, and their mean loss.
    public struct Finished {
        public var count: Int
        public var meanLoss: Float
    }

    /// One tick feeding a batch (or nothing, to drain); under async, queues
    /// the batch. The batches that reached the top meanwhile, if any.
    public func tick(x: UnsafePointer<Float>?, labels: UnsafePointer<Int32>?, batch: Int) throws -> Finished? {
        var loss: Float = 0
        var finished: Int32 = 0
        try check(dnic_pipe_tick(handle, x, labels, Int32(batch), &loss, &finished), isAsync ? "async step" : "pipeline tick")
        return finished > 0 ? Finished(count: Int(finished), meanLoss: loss) : nil
    }

    /// `tick` on rows `picked[0 ..< batch]` of `rows` (count × input) and their labels, gathered by the schedule.
    public func tick(rows: UnsafePointer<Float>, labels: UnsafePointer<Int32>, count: Int,
                     picked: UnsafePointer<Int32>, batch: Int) throws -> Finished? {
        var loss: Float = 0
        var finished: Int32 = 0
        try check(dnic_pipe_tick_rows(handle, rows, labels, count, picked, Int32(batch), &loss, &finished),
                  isAsync ? "async step" : "pipeline tick")
        return finished > 0 ? Finished(count: Int(finished), meanLoss: loss) : nil
    }

    public var pending: Bool { dnic_pipe_pending(handle) != 0 }

    /// Update decoupling; `firstBatch`: batches trained before this pipeline (a resumed run's step).
    public func setUpdateProbability(_ p: Double, seed: UInt64, firstBatch: Int) throws {
        try DnicError.check(dnic_pipe_set_update_prob(handle, Float(p), seed, Int64(firstBatch)), "{training.update-prob} \(p)")
    }

    /// Each block's optimizer step (bottom first).
    public var blockSteps: [Int64] {
        get { (0..<blockCount).map { dnic_pipe_block_step(handle, Int32($0)) } }
    }

    public func setBlockSteps(_ steps: [Int64]) throws {
        for (s, t) in steps.enumerated() {
            try DnicError.check(dnic_pipe_set_block_step(handle, Int32(s), t), "block step")
        }
    }

    /// Ticks without input (async: waits) until every batch fed has gone
    /// through every block and interface; the batches finished meanwhile.
    public func flush() throws -> [Finished] {
        var done = [Finished]()
        while pending {
            if let f = try tick(x: nil, labels: nil, batch: 0) { done.append(f) }
        }
        return done
    }

    /// The pipeline's batches in flight at a tick boundary (for a checkpoint
    /// that resumes bit for bit): their activations and gradients, and the
    /// messages, rings, labels and counters.
    public struct Inflight: Equatable, Sendable {
        public var values: [Float]
        public var ints: [Int64]
    }

    public func exportInflight() throws -> Inflight {
        var nValues = 0, nInts = 0
        try DnicError.check(dnic_pipe_export_inflight(handle, nil, &nValues, nil, &nInts), "saving the pipeline")
        var f = Inflight(values: [Float](repeating: 0, count: nValues), ints: [Int64](repeating: 0, count: nInts))
        try DnicError.check(dnic_pipe_export_inflight(handle, &f.values, &nValues, &f.ints, &nInts), "saving the pipeline")
        return f
    }

    /// Into a fresh pipeline (after its block steps are set).
    public func importInflight(_ f: Inflight) throws {
        let st = dnic_pipe_import_inflight(handle, f.values, f.values.count, f.ints, f.ints.count)
        if st == DNIC_ERR_ARG {
            throw DnicError("the checkpoint's batches in flight (metadata pipeline_inflight, tensor pipeline.inflight) are garbled or do "
                            + "not fit its network", status: st)
        }
        try DnicError.check(st, "restoring the batches in flight")
    }

    /// The blocks' parameters, optimizer state and step into the DNI's network.
    public func sync() throws { try check(dnic_pipe_sync_to_net(handle), "pipeline sync") }

    /// Under MPI a failure may be another rank's: the transport says which and why.
    private func check(_ st: dnic_status, _ what: String) throws {
        if st == DNIC_ERR_PEER { throw DnicError(MPIRanks.failure, status: st) }
        if st != DNIC_OK, st != DNIC_ERR_NONFINITE, let r = MPIRanks.failedRank, r > 0 {
            throw DnicError("\(what) on rank \(r) (block \(r)): \(MPIRanks.statusText(st))", status: st)
        }
        try DnicError.check(st, what)
    }

    /// Block s (0 = bottom): seconds computing, and seconds of ticks spent waiting for the other blocks.
    public func stats(_ s: Int) -> (busy: Double, wait: Double) {
        var busy = 0.0, wait = 0.0
        _ = dnic_pipe_block_stats(handle, Int32(s), &busy, &wait)
        return (busy, wait)
    }

    /// Staleness of the targets block s's interface trained on (batches the
    /// block forwarded before a batch's target arrived); nil for the top block.
    public func staleness(_ s: Int) -> (mean: Double, max: Int)? {
        var mean = 0.0
        var most: Int64 = 0, count: Int64 = 0
        _ = dnic_pipe_block_staleness(handle, Int32(s), &mean, &most, &count)
        return count > 0 ? (mean, Int(most)) : nil
    }

    /// The last interface loss of the interface on top of block s.
    public func interfaceLoss(block s: Int) -> Float { dnic_pipe_iface_loss(handle, Int32(s)) }

    /// After a non-finite update in a block: which tensor (named as in the whole network).
    public var fault: NumericFault? {
        for s in 0..<blockCount {
            guard let net = dnic_pipe_block_net(handle, Int32(s)) else { continue }
            var gradient: Int32 = 0
            let t = dnic_net_fault_tensor(net, &gradient)
            guard t >= 0 else { continue }
            var info = dnic_tensor_info()
            _ = dnic_net_tensor(net, t, &info)
            return NumericFault(tensor: cString(info.name), gradient: gradient)
        }
        return nil
    }
}
