import CDnic

/// Owns a C network (`dnic_net_t`): created from a model description,
/// freed on deinit. Training calls hand Swift buffers to the core without
/// copying.
public final class Network {
    let handle: OpaquePointer
    public let description: ModelDescription
    public let inputDim: Int
    public let outputDim: Int
    public let maxBatch: Int

    /// - Parameters: inputDim and outputDim come from the data; maxBatch is
    ///   the largest batch any call will use; `holding` (0-based layers, the
    ///   output layer last): only these layers' values are allocated, the
    ///   rest is shape (an MPI rank's block: `dnic_net_create_range`).
    public init(_ model: ModelDescription, inputDim: Int, outputDim: Int, maxBatch: Int, seed: UInt64,
                holding: ClosedRange<Int>? = nil) throws {
        try model.checkFits(inputDim: inputDim, outputDim: outputDim, maxBatch: maxBatch)
        var layers = model.layers.map {
            dnic_layer_desc(width: Int32(clamping: $0.width), act: $0.activation.core,
                            batchnorm: $0.batchnorm ? 1 : 0)
        }
        layers.append(dnic_layer_desc(width: Int32(clamping: outputDim), act: DNIC_ACT_IDENTITY, batchnorm: 0))
        var desc = dnic_net_desc()
        dnic_net_desc_defaults(&desc)
        desc.input_dim = Int32(clamping: inputDim)
        desc.n_layers = Int32(layers.count)
        desc.loss = model.loss.core
        desc.`init` = model.initializer.core
        desc.max_batch = Int32(clamping: maxBatch)
        var made: OpaquePointer?
        let status = layers.withUnsafeBufferPointer { buffer -> dnic_status in
            desc.layers = buffer.baseAddress
            if let holding {
                return dnic_net_create_range(&made, &desc, seed, Int32(clamping: holding.lowerBound),
                                             Int32(clamping: holding.upperBound))
            }
            return dnic_net_create(&made, &desc, seed)
        }
        try DnicError.check(status, "creating the network")
        guard let made else { throw DnicError("creating the network: no handle returned") }
        handle = made
        self.description = model
        self.inputDim = inputDim
        self.outputDim = outputDim
        self.maxBatch = maxBatch
    }

    deinit { dnic_net_free(handle) }

    public func setOptimizer(_ spec: OptimizerSpec, group: Int = 0) throws {
        var config = spec.core
        try DnicError.check(dnic_net_set_optimizer(handle, Int32(group), &config), "optimizer settings")
    }

    /// The learning-rate schedule the core applies to `group`'s rate at each update.
    public func setLearningRateSchedule(_ schedule: LearningRateSchedule, group: Int = 0) throws {
        var s = schedule.core
        try DnicError.check(dnic_net_set_lr_schedule(handle, Int32(group), &s), "learning-rate schedule")
    }

    /// One locked training step on `batch` rows of x (batch, inputDim).
    public func trainStep(x: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int) throws -> Float {
        var loss: Float = 0
        try DnicError.check(dnic_net_train_step(handle, x, labels, nil, Int32(batch), &loss), "training step")
        return loss
    }

    /// Mean loss and accuracy over a whole dataset in evaluation mode.
    public func evaluate(_ data: Dataset) throws -> (loss: Double, accuracy: Double) {
        var loss = 0.0
        var correct = 0
        let status = data.features.withUnsafeBufferPointer { x in
            data.labels.withUnsafeBufferPointer { y in
                dnic_net_evaluate(handle, x.baseAddress, y.baseAddress, nil, data.count, &loss, &correct)
            }
        }
        try DnicError.check(status, "evaluating on \(data.name)")
        return (loss, Double(correct) / Double(max(data.count, 1)))
    }

    /// Layer `layer`'s outputs (evaluation mode) for the examples at
    /// `rows` of `data`, in that order (every example when nil), as
    /// (rows, width) row-major. Only those rows are forwarded.
    public func activations(of data: Dataset, layer: Int, rows: [Int]? = nil) throws -> [Float] {
        guard layer >= 0, layer < layerCount else {
            throw DnicError("layer \(layer): the network has layers 0..<\(layerCount)")
        }
        if let bad = rows?.first(where: { $0 < 0 || $0 >= data.count }) {
            throw DnicError("row \(bad) of \(data.name): it has rows 0..<\(data.count)")
        }
        let width = Int(dnic_net_layer_width(handle, Int32(layer)))
        let n = rows?.count ?? data.count
        guard n > 0 else { return [] }
        var out = [Float](repeating: 0, count: n * width)
        let picked = rows?.map { size_t(clamping: $0) }
        let status = data.features.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                if let picked {
                    return picked.withUnsafeBufferPointer { r in
                        dnic_net_activations(handle, x.baseAddress, data.count, Int32(layer), r.baseAddress, n, o.baseAddress)
                    }
                }
                return dnic_net_activations(handle, x.baseAddress, data.count, Int32(layer), nil, n, o.baseAddress)
            }
        }
        try DnicError.check(status, "activations of layer \(layer) on \(data.name)")
        return out
    }

    /// Layers, the output layer included (hidden layers are 0..<layerCount-1).
    public var layerCount: Int { Int(dnic_net_num_layers(handle)) }

    /// Width of layer `layer`.
    public func width(ofLayer layer: Int) -> Int { Int(dnic_net_layer_width(handle, Int32(layer))) }

    /// The parameter tensors, in block order, with their stable names.
    public var tensors: [(name: String, shape: [Int], offset: Int, size: Int)] {
        (0..<Int(dnic_net_num_tensors(handle))).map { i in
            var info = dnic_tensor_info()
            _ = dnic_net_tensor(handle, Int32(i), &info)
            let name = cString(info.name)
            return (name, tensorShape(info, name: name), info.offset, info.size)
        }
    }

    /// Whether the optimizer trains this tensor (running statistics are not).
    public func trainable(_ name: String) -> Bool { !name.contains(".running_") }

    /// A copy of the parameter block.
    public func parameters() -> [Float] {
        var n = 0
        let p = dnic_net_params(handle, &n)!
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    /// Replaces the parameter block (refused if it holds NaN or infinity).
    public func setParameters(_ values: [Float]) throws {
        try DnicError.check(dnic_net_set_params(handle, values, values.count), "loading parameters")
    }

    /// Optimizer state: 2 × parameterCount floats (momentum / Adam m, then Adam v).
    public func optimizerState() -> [Float] {
        var n = 0
        let p = dnic_net_optim_state(handle, &n)!
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    public func setOptimizerState(_ values: [Float]) throws {
        var n = 0
        let p = dnic_net_optim_state(handle, &n)!
        guard values.count == n else { throw DnicError("optimizer state has \(values.count) values, the network needs \(n)") }
        values.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: n) }
    }

    /// The optimizer's step counter (Adam's t).
    public var optimizerStep: Int64 { dnic_net_optim_step(handle) }

    /// Restores the step counter when resuming (0 ... 2^53).
    public func setOptimizerStep(_ step: Int64) throws {
        try DnicError.check(dnic_net_set_optim_step(handle, step), "optimizer step \(step)")
    }

    public func setGradientClip(_ maxNorm: Double) throws {
        try DnicError.check(dnic_net_set_grad_clip(handle, Float(maxNorm)), "{training.clip-grad} \(maxNorm)")
    }

    /// After a non-finite update: which tensor, and whether its gradient was the cause.
    public var fault: NumericFault? {
        var gradient: Int32 = 0
        let i = Int(dnic_net_fault_tensor(handle, &gradient))
        guard i >= 0, i < tensors.count else { return nil }
        return NumericFault(tensor: tensors[i].name, gradient: gradient)
    }

    /// Bytes allocated for values and activations (parameters, gradients,
    /// optimizer moments, activations): the held layers' only under `holding`.
    public var bytesHeld: Int { Int(dnic_net_bytes_held(handle)) }

    /// The values the network holds (every layer's unless built `holding`
    /// a range): parameters over the tensor table's floats
    /// `base ..< base + count`, and both optimizer moments (m, then v, count
    /// each). Writable: how an MPI rank loads its block from a checkpoint.
    public func heldValues() -> (base: Int, params: UnsafeMutableBufferPointer<Float>, optim: UnsafeMutableBufferPointer<Float>) {
        var base = 0, n = 0
        var optim: UnsafeMutablePointer<Float>?
        let p = dnic_net_held_values(handle, &base, &n, &optim)
        return (base, UnsafeMutableBufferPointer(start: p, count: n), UnsafeMutableBufferPointer(start: optim, count: 2 * n))
    }

    /// Number of floats in the parameter block.
    public var parameterCount: Int {
        var n = 0
        _ = dnic_net_params(handle, &n)
        return n
    }
}

/// A tensor's shape as a checkpoint stores it: matrices (`weight`, an
/// interface's `A` and `B`) stay 2-D even with one column (a one-output
/// layer), which the core's `cols = 1` alone does not tell from a vector.
func tensorShape(_ info: dnic_tensor_info, name: String) -> [Int] {
    let matrix = ["weight", "A", "B"].contains(name.split(separator: ".").last.map(String.init) ?? "")
    return info.cols == 1 && !matrix ? [Int(info.rows)] : [Int(info.rows), Int(info.cols)]
}
