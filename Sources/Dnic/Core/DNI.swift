import CDnic

/// Owns a C locked DNI trainer (`dnic_dni_t`): a network plus the
/// interfaces a run's `InterfaceSpec` places on it.
public final class DNI {
    let handle: OpaquePointer
    public let network: Network
    /// Hidden-layer numbers (1-based) of the boundaries, top first (the C
    /// trainer's order).
    public let boundaries: [Int]

    public init(network: Network, spec: InterfaceSpec, labelWidth: Int, seed: UInt64) throws {
        let hidden = network.description.layers.count
        let placed = try spec.boundaries(hidden: hidden)
        var descs = [dnic_iface_desc]()
        var widths = spec.hidden.map { Int32(clamping: $0) }
        for k in placed { descs.append(DNI.coreDescription(spec, boundary: k)) }
        var made: OpaquePointer?
        let status = widths.withUnsafeMutableBufferPointer { w -> dnic_status in
            for i in descs.indices { descs[i].mlp_widths = UnsafePointer(w.baseAddress) }
            return dnic_dni_create(&made, network.handle, descs, Int32(descs.count), Int32(labelWidth), seed)
        }
        try DnicError.check(status, "creating the interfaces (\(spec.rule.rawValue) at \(placed))")
        handle = made!
        self.network = network
        boundaries = placed.sorted(by: >)
        try DnicError.check(dnic_dni_set_track_alignment(handle, spec.trackAlignment ? 1 : 0), "alignment tracking")
    }

    deinit { dnic_dni_free(handle) }

    /// The core's description of the interface after hidden layer `k`
    /// (an mlp's widths still to be pointed at).
    static func coreDescription(_ spec: InterfaceSpec, boundary k: Int) -> dnic_iface_desc {
        var d = dnic_iface_desc()
        dnic_iface_desc_defaults(&d, Int32(k - 1))
        d.kind = spec.kind.core
        d.target = spec.target.core
        d.loss = spec.loss.core
        d.signal = spec.signal.core
        d.alpha = Float(spec.alpha)
        d.mlp_layers = Int32(spec.hidden.count)
        d.mlp_batchnorm = spec.batchnorm ? 1 : 0
        d.warmup_steps = Int64(spec.warmup)
        d.centre = spec.centre.core  // auto: where the layer above has batch norm (docs/rules-and-interfaces.md)
        return d
    }

    /// Whether each step also measures the cosine between every delivered
    /// signal and the true gradient (`alignments`; one more backward).
    public func setTrackAlignment(_ on: Bool) throws {
        try DnicError.check(dnic_dni_set_track_alignment(handle, on ? 1 : 0), "alignment tracking")
    }

    public func setInterfaceOptimizer(_ spec: OptimizerSpec) throws {
        var c = spec.core
        try DnicError.check(dnic_dni_set_iface_optimizer(handle, &c), "interface optimizer settings")
    }

    /// Every interface's learning-rate schedule, over its own update count.
    public func setInterfaceLearningRateSchedule(_ schedule: LearningRateSchedule) throws {
        var s = schedule.core
        try DnicError.check(dnic_dni_set_iface_lr_schedule(handle, &s), "interface learning-rate schedule")
    }

    public func trainStep(x: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int) throws -> Float {
        var loss: Float = 0
        try DnicError.check(dnic_dni_train_step(handle, x, labels, nil, Int32(batch), &loss), "training step")
        return loss
    }

    /// Last step's interface losses and alignments, in `boundaries` order.
    public var interfaceLosses: [Float] { (0..<boundaries.count).map { dnic_dni_iface_loss(handle, Int32($0)) } }
    public var alignments: [Float] { (0..<boundaries.count).map { dnic_dni_iface_alignment(handle, Int32($0)) } }

    /// Every interface tensor, named "interface{k}.{name}" with k the
    /// boundary's hidden-layer number, with its place in that interface's blocks.
    public var tensorTable: [(name: String, shape: [Int], interface: Int, offset: Int, size: Int, trainable: Bool)] {
        var out = [(name: String, shape: [Int], interface: Int, offset: Int, size: Int, trainable: Bool)]()
        for (i, k) in boundaries.enumerated() {
            let it = dnic_dni_iface(handle, Int32(i))
            for t in 0..<Int(dnic_iface_num_tensors(it)) {
                var info = dnic_tensor_info()
                _ = dnic_iface_tensor(it, Int32(t), &info)
                let name = cString(info.name)
                let shape = tensorShape(info, name: name)
                out.append(("interface\(k).\(name)", shape, i, info.offset, info.size, info.trainable != 0))
            }
        }
        return out
    }

    /// Interface i's parameter block (or optimizer state, 2 × parameters).
    public func block(_ i: Int, optimizer: Bool = false) -> UnsafeMutableBufferPointer<Float> {
        let it = dnic_dni_iface(handle, Int32(i))
        var n = 0
        let p = optimizer ? dnic_iface_optim_state(it, &n) : dnic_iface_params(it, &n)
        return UnsafeMutableBufferPointer(start: p, count: n)
    }

    /// Boundaries whose interface centres its prediction over the batch, as
    /// the core resolved `centre` (auto: where the hidden layer above has batch norm).
    public var centredBoundaries: [Int] {
        boundaries.indices.filter { dnic_iface_centred(dnic_dni_iface(handle, Int32($0))) != 0 }.map { boundaries[$0] }.sorted()
    }

    /// Whether this process holds interface i (on a network holding a layer range, only those on its layers).
    public func holds(_ i: Int) -> Bool { dnic_dni_iface(handle, Int32(i)) != nil }

    public func step(_ i: Int) -> Int64 { dnic_iface_step(dnic_dni_iface(handle, Int32(i))) }
    public func setStep(_ i: Int, _ t: Int64) throws {
        try DnicError.check(dnic_iface_set_step(dnic_dni_iface(handle, Int32(i)), t), "interface step")
    }

    public func setGradientClip(_ maxNorm: Double) throws {
        try DnicError.check(dnic_dni_set_grad_clip(handle, Float(maxNorm)), "{training.clip-grad} \(maxNorm)")
    }

    /// After a non-finite step: the interface tensor or interface loss at
    /// fault. The locked trainer names the interface; under an unlocked
    /// schedule (which runs the same interfaces) each is asked in turn.
    public var fault: NumericFault? {
        let named = Int(dnic_dni_fault_iface(handle))
        let candidates = named >= 0 && named < boundaries.count ? [named] : Array(boundaries.indices)
        for i in candidates {
            let it = dnic_dni_iface(handle, Int32(i))
            var gradient: Int32 = 0
            let t = Int(dnic_iface_fault_tensor(it, &gradient))
            let table = tensorTable.filter { $0.interface == i }
            if t >= 0, t < table.count { return NumericFault(tensor: table[t].name, gradient: gradient) }
            if dnic_iface_loss_faulted(it) != 0 { return .interfaceLoss(layer: boundaries[i]) }
        }
        return nil
    }
}
