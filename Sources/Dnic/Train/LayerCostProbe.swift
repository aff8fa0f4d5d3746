import CDnic
import Foundation

/// Measures what one batch costs each layer and each candidate interface on
/// this machine (PlacementPlanner's input), the way an unlocked schedule
/// runs them: every layer a network of its own (a one-layer block, as the
/// pipeline cuts them), timed for zero-grad + forward + backward + update
/// at the run's batch, on 1 thread (each block has its own core) and the
/// current GEMM backend. Medians of `repetitions` rounds after `warmup`.
public enum LayerCostProbe {
    public static func measure(_ config: RunConfig, inputDim: Int, classes: Int,
                               repetitions: Int = 15, warmup: Int = 3) throws -> LayerCosts {
        let before = CoreSystem.threads
        try CoreSystem.setThreads(1)
        defer { try? CoreSystem.setThreads(before) }
        let batch = config.training.batch
        let widths = config.model.layers.map(\.width)
        let outputDim = config.model.outputWidth(classes: classes)
        let labels = (0 ..< batch).map { Int32($0 % (outputDim == 1 ? 2 : classes)) }
        let layers = try (0 ... widths.count).map { l in
            try LayerProbe(config, layer: l, inputDim: l == 0 ? inputDim : widths[l - 1], outputDim: outputDim, batch: batch)
        }
        let interfaces = try widths.indices.dropLast().map { k in
            try InterfaceProbe(config, boundary: k + 1, width: widths[k], labelWidth: max(classes, 2), batch: batch)
        }
        // round by round, every part once per round, as a training step
        // touches them all (each finds the caches as a step leaves them);
        // an interface's prediction on the forward is timed apart, as the
        // locked step does not make it
        let steps: [() throws -> Void] = layers.map { p in { try p.step(labels) } }
            + interfaces.map { p in { try p.train(labels) } } + interfaces.map { p in { try p.predict(labels) } }
        var times = [[Double]](repeating: [], count: steps.count)
        for round in 0 ..< warmup + max(repetitions, 1) {
            for (i, step) in steps.enumerated() {
                let start = TrainBenchmark.now()
                try step()
                if round >= warmup { times[i].append(TrainBenchmark.now() - start) }
            }
        }
        let medians = times.map { t in t.sorted()[t.count / 2] }
        let n = interfaces.count, train = Array(medians[layers.count ..< layers.count + n])
        // (an interface that does not predict timed an empty call: none)
        let predict = interfaces.first?.predicts == true ? Array(medians[(layers.count + n)...]) : []
        return LayerCosts(layerSeconds: Array(medians[..<layers.count]),
                          interfaceSeconds: predict.isEmpty ? train : zip(train, predict).map { $0 + $1 },
                          batch: batch, widths: widths, interfacePredictionSeconds: predict)
    }
}

/// Layer `layer` (0-based; the last is the output layer) alone, as the
/// bottom of a block: its input gradient computed except for the first
/// layer (the data's needs none), as a block boundary needs it.
private final class LayerProbe {
    let net: OpaquePointer
    let isOutput: Bool
    let batch: Int
    var x: [Float]
    var signal: [Float]

    init(_ config: RunConfig, layer l: Int, inputDim: Int, outputDim: Int, batch: Int) throws {
        let hidden = config.model.layers
        isOutput = l == hidden.count
        self.batch = batch
        var layer = isOutput ? dnic_layer_desc(width: Int32(clamping: outputDim), act: DNIC_ACT_IDENTITY, batchnorm: 0)
            : dnic_layer_desc(width: Int32(clamping: hidden[l].width), act: hidden[l].activation.core,
                              batchnorm: hidden[l].batchnorm ? 1 : 0)
        var desc = dnic_net_desc()
        dnic_net_desc_defaults(&desc)
        desc.input_dim = Int32(clamping: inputDim)
        desc.n_layers = 1
        desc.loss = config.model.loss.core
        desc.`init` = config.model.initializer.core
        desc.max_batch = Int32(clamping: batch)
        desc.first_layer = Int32(l)
        desc.hidden_top = isOutput ? 0 : 1
        var made: OpaquePointer?
        let status = withUnsafePointer(to: &layer) { desc.layers = $0; return dnic_net_create(&made, &desc, config.training.seed) }
        try DnicError.check(status, "measuring layer \(l + 1)")
        net = made!
        var optimizer = probeOptimizer(config.networkOptimizer.core)
        try DnicError.check(dnic_net_set_optimizer(net, 0, &optimizer), "measuring layer \(l + 1)")
        if l > 0 { try DnicError.check(dnic_net_set_input_grad(net, 1), "measuring layer \(l + 1)") }
        x = probeValues(batch * inputDim, scale: 1)
        signal = probeValues(batch * Int(layer.width), scale: 1e-3)
    }

    deinit { dnic_net_free(net) }

    func step(_ labels: [Int32]) throws {
        let b = Int32(batch)
        dnic_net_zero_grad(net)
        try DnicError.check(dnic_net_forward(net, x, b, 1), "measuring a layer")
        if isOutput {
            var loss: Float = 0
            try DnicError.check(dnic_net_loss(net, labels, nil, b, &loss), "measuring the output layer")
        } else {
            // the learning signal an interface (or the block above) delivers
            _ = signal.withUnsafeBufferPointer { memcpy(dnic_net_grad_at(net, 0), $0.baseAddress!, $0.count * 4) }
        }
        try DnicError.check(dnic_net_backward_range(net, 0, 0, b), "measuring a layer")
        try DnicError.check(dnic_net_update(net), "measuring a layer")
    }
}

/// The interface after hidden layer `boundary`: under an unlocked schedule
/// it predicts when the batch passes, then trains on the target when it
/// comes back (dnic_iface_boundary_step) and updates.
private final class InterfaceProbe {
    let it: OpaquePointer
    let batch: Int
    let predicts: Bool
    var h: [Float]
    var target: [Float]
    var signal: [Float]

    init(_ config: RunConfig, boundary k: Int, width: Int, labelWidth: Int, batch: Int) throws {
        let spec = config.interfaces
        self.batch = batch
        var d = DNI.coreDescription(spec, boundary: k)
        if d.centre == DNIC_CENTRE_AUTO {
            let above = config.model.layers.indices.contains(k) && config.model.layers[k].batchnorm
            d.centre = spec.kind.trainable && above ? DNIC_CENTRE_ON : DNIC_CENTRE_OFF
        }
        var made: OpaquePointer?
        let mlp = spec.hidden.map { Int32(clamping: $0) }
        let status = mlp.withUnsafeBufferPointer { w -> dnic_status in
            d.mlp_widths = w.baseAddress
            return dnic_iface_create(&made, &d, Int32(clamping: width), Int32(clamping: width), Int32(clamping: labelWidth),
                                     Int32(clamping: batch), sqrtf(3 / Float(width)), config.training.seed ^ UInt64(k))
        }
        try DnicError.check(status, "measuring the interface after hidden layer \(k)")
        it = made!
        var optimizer = probeOptimizer(config.interfaceOptimizer.core)
        try DnicError.check(dnic_iface_set_optimizer(it, &optimizer), "measuring the interface after hidden layer \(k)")
        predicts = config.training.schedule != .locked && spec.signal == .pred && spec.kind != .oracle && spec.warmup == 0
        h = probeValues(batch * width, scale: 1)
        target = probeValues(batch * width, scale: 1e-3)
        signal = [Float](repeating: 0, count: batch * width)
    }

    deinit { dnic_iface_free(it) }

    /// The prediction an unlocked block makes as the batch passes (none
    /// where the schedule or the signal does not predict).
    func predict(_ labels: [Int32]) throws {
        guard predicts else { return }
        try DnicError.check(dnic_iface_predict_signal(it, h, labels, nil, &signal, Int32(batch)), "measuring an interface")
    }

    /// Training on the target (which predicts again, as the locked step does) and the update.
    func train(_ labels: [Int32]) throws {
        try DnicError.check(dnic_iface_boundary_step(it, h, labels, nil, target, &signal, Int32(batch), nil), "measuring an interface")
        try DnicError.check(dnic_iface_update(it), "measuring an interface")
    }
}

/// Inputs for timing only: spread over [-scale/2, scale/2), no zeros in runs
/// (the values do not matter, only that they are ordinary floats).
private func probeValues(_ n: Int, scale: Float) -> [Float] {
    (0 ..< n).map { Float(($0 &* 2_654_435_761) % 1000) / 1000 * scale - scale / 2 }
}

/// The run's optimizer (its kind sets the update's cost) at a rate too small
/// to move the probe's values anywhere: the time does not depend on the rate,
/// and a run's rate may be one that diverges, which the run is to find out, not
/// the probe.
func probeOptimizer(_ run: dnic_optim_config) -> dnic_optim_config {
    var probe = run
    probe.lr = 1e-7
    return probe
}
