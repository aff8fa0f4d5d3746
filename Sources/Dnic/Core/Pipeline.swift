import CDnic

/// Owns a C pipeline schedule (`dnic_pipe_t`) over a DNI's network and
/// interfaces: blocks in lockstep ticks, each on its own batch (DESIGN §2).
/// The network the DNI holds is stale while the pipeline trains; `sync()`
/// copies the blocks' values back (for evaluation and checkpoints).
public final class Pipeline {
    let handle: OpaquePointer
    /// Kept alive: the pipeline uses its interfaces and imports its network.
    public let dni: DNI

    public init(dni: DNI) throws {
        var made: OpaquePointer?
        try DnicError.check(dnic_pipe_create(&made, dni.handle), "building the pipeline schedule")
        handle = made!
        self.dni = dni
    }

    deinit { dnic_pipe_free(handle) }

    public var blockCount: Int { Int(dnic_pipe_num_blocks(handle)) }

    /// One tick feeding a batch (or nothing, to drain); the loss of the
    /// batch that reached the top this tick, if one did.
    public func tick(x: UnsafePointer<Float>?, labels: UnsafePointer<Int32>?, batch: Int) throws -> Float? {
        var loss: Float = 0
        var finished: Int32 = 0
        try DnicError.check(dnic_pipe_tick(handle, x, labels, Int32(batch), &loss, &finished), "pipeline tick")
        return finished != 0 ? loss : nil
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

    /// Ticks without input until every batch fed has gone through every
    /// block and interface; the losses of the batches finished meanwhile.
    public func flush() throws -> [Float] {
        var losses = [Float]()
        while pending {
            if let loss = try tick(x: nil, labels: nil, batch: 0) { losses.append(loss) }
        }
        return losses
    }

    /// The blocks' parameters, optimizer state and step into the DNI's network.
    public func sync() throws { try DnicError.check(dnic_pipe_sync_to_net(handle), "pipeline sync") }

    /// Block s (0 = bottom): seconds computing, and seconds of ticks spent waiting for the other blocks.
    public func stats(_ s: Int) -> (busy: Double, wait: Double) {
        var busy = 0.0, wait = 0.0
        _ = dnic_pipe_block_stats(handle, Int32(s), &busy, &wait)
        return (busy, wait)
    }

    /// The last interface loss of the interface on top of block s.
    public func interfaceLoss(block s: Int) -> Float { dnic_pipe_iface_loss(handle, Int32(s)) }

    /// After a non-finite update in a block: which tensor (named as in the whole network).
    public var fault: (tensor: String, gradient: Bool)? {
        for s in 0..<blockCount {
            guard let net = dnic_pipe_block_net(handle, Int32(s)) else { continue }
            var gradient: Int32 = 0
            let t = dnic_net_fault_tensor(net, &gradient)
            guard t >= 0 else { continue }
            var info = dnic_tensor_info()
            _ = dnic_net_tensor(net, t, &info)
            return (cString(info.name), gradient != 0)
        }
        return nil
    }
}
