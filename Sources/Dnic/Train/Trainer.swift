import CDnic
import Foundation

/// One evaluation of the network during training.
public struct EvaluationRecord: Codable, Equatable, Sendable {
    public var step: Int
    public var epoch: Double
    /// Mean training-batch loss since the previous evaluation.
    public var trainLoss: Double
    public var testLoss: Double
    public var testAccuracy: Double
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    /// Training samples per second of training time (evaluation excluded).
    public var samplesPerSecond: Double
    /// Per interface, top first: mean interface loss since the previous
    /// evaluation and, with alignment tracking, the mean cosine between the
    /// delivered signal and the true gradient.
    public var interfaces: [InterfaceRecord]?
    /// Wall-clock seconds since training started.
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case step, epoch, seconds
        case trainLoss = "train_loss", testLoss = "test_loss", testAccuracy = "test_accuracy"
        case validationLoss = "validation_loss", validationAccuracy = "validation_accuracy"
        case samplesPerSecond = "samples_per_sec"
        case interfaces
    }
}

public struct InterfaceRecord: Codable, Equatable, Sendable {
    /// The boundary: after hidden layer `layer` (1-based).
    public var layer: Int
    public var loss: Double
    public var alignment: Double?
}

/// What a training run reports as it goes.
public enum TrainEvent: Sendable {
    /// Throttled to a few per second, for a live progress line.
    case progress(step: Int, totalSteps: Int, epoch: Double, loss: Double, samplesPerSecond: Double, etaSeconds: Double)
    case evaluation(EvaluationRecord)
}

/// The locked training loop: shuffles, gathers batches into one reused
/// buffer, and drives the C core's training step; evaluates every
/// `evalEvery` steps (default: once per epoch) and at the end.
public final class Trainer {
    public let config: RunConfig
    public let data: DataSplit
    public let network: Network
    /// The interfaces, when the rule places any.
    public let dni: DNI?
    public let stepsPerEpoch: Int
    public let totalSteps: Int
    public let evalEvery: Int

    public init(config: RunConfig, data: DataSplit) throws {
        try config.validate()
        let train = data.train
        guard train.count > 0 else { throw DnicError("\(train.name): the training set is empty") }
        self.config = config
        self.data = data
        let batch = min(config.training.batch, train.count)
        network = try Network(config.model, inputDim: train.dim,
                              outputDim: config.model.outputWidth(classes: train.classes),
                              maxBatch: max(batch, 1024), seed: config.training.seed)
        try network.setOptimizer(config.optimizer)
        if try config.interfaces.boundaries(hidden: config.model.layers.count).isEmpty {
            dni = nil
        } else {
            let made = try DNI(network: network, spec: config.interfaces, labelWidth: max(train.classes, 2),
                               seed: config.training.seed ^ 0x1F_ACE5)
            try made.setInterfaceOptimizer(config.interfaceOptimizer)
            dni = made
        }
        stepsPerEpoch = (train.count + batch - 1) / batch
        totalSteps = config.training.steps ?? config.training.epochs * stepsPerEpoch
        evalEvery = config.training.evalEvery ?? stepsPerEpoch
    }

    public func run(onEvent: (TrainEvent) -> Void = { _ in }) throws -> EvaluationRecord {
        let train = data.train
        let batch = min(config.training.batch, train.count)
        var order = (0..<train.count).map { Int32($0) }
        var xBatch = [Float](repeating: 0, count: batch * train.dim)
        var yBatch = [Int32](repeating: 0, count: batch)
        // data order has its own stream, so changing the model does not reshuffle
        var rng: UInt64 = config.training.seed ^ 0x0DA7_A0DE_5EED
        var position = train.count // forces a shuffle before the first batch
        var lossSum = 0.0, lossCount = 0
        let nInterfaces = dni?.boundaries.count ?? 0
        var ifaceLoss = [Double](repeating: 0, count: nInterfaces)
        var ifaceAlign = [Double](repeating: 0, count: nInterfaces)
        var trainingSeconds = 0.0, samples = 0
        let start = Date()
        var lastProgress = Date.distantPast
        var last: EvaluationRecord?

        for step in 1...totalSteps {
            if position >= train.count {
                try DnicError.check(dnic_shuffle(&order, order.count, &rng), "shuffling")
                position = 0
            }
            let rows = min(batch, train.count - position)
            let t0 = Date()
            let loss = try order.withUnsafeBufferPointer { idx -> Float in
                let picked = idx.baseAddress! + position
                try train.features.withUnsafeBufferPointer { src in
                    try xBatch.withUnsafeMutableBufferPointer { dst in
                        try DnicError.check(dnic_gather_rows(dst.baseAddress, src.baseAddress, picked, Int32(rows),
                                                             train.dim, train.count), "gathering a batch")
                    }
                }
                try train.labels.withUnsafeBufferPointer { src in
                    try yBatch.withUnsafeMutableBufferPointer { dst in
                        try DnicError.check(dnic_gather_labels(dst.baseAddress, src.baseAddress, picked, Int32(rows),
                                                               train.count), "gathering labels")
                    }
                }
                return try xBatch.withUnsafeBufferPointer { x in
                    try yBatch.withUnsafeBufferPointer { y in
                        do {
                            if let dni {
                                return try dni.trainStep(x: x.baseAddress!, labels: y.baseAddress!, batch: rows)
                            }
                            return try network.trainStep(x: x.baseAddress!, labels: y.baseAddress!, batch: rows)
                        } catch let error as DnicError where error.status == DNIC_ERR_NONFINITE {
                            throw DnicError("step \(step): the loss is not finite (NaN or infinity); try a smaller --lr",
                                            status: error.status)
                        }
                    }
                }
            }
            trainingSeconds += Date().timeIntervalSince(t0)
            position += rows
            samples += rows
            lossSum += Double(loss)
            lossCount += 1
            if let dni {
                for (i, v) in dni.interfaceLosses.enumerated() { ifaceLoss[i] += Double(v) }
                if config.interfaces.trackAlignment {
                    for (i, v) in dni.alignments.enumerated() { ifaceAlign[i] += Double(v) }
                }
            }
            let epoch = Double(step) / Double(stepsPerEpoch)

            if step % evalEvery == 0 || step == totalSteps {
                var record = EvaluationRecord(step: step, epoch: epoch, trainLoss: lossSum / Double(max(lossCount, 1)),
                                              testLoss: 0, testAccuracy: 0,
                                              samplesPerSecond: Double(samples) / max(trainingSeconds, 1e-9),
                                              seconds: 0)
                let test = try network.evaluate(data.test)
                record.testLoss = test.loss
                record.testAccuracy = test.accuracy
                if let validation = data.validation {
                    let v = try network.evaluate(validation)
                    record.validationLoss = v.loss
                    record.validationAccuracy = v.accuracy
                }
                record.seconds = Date().timeIntervalSince(start)
                if let dni {
                    let n = Double(max(lossCount, 1))
                    record.interfaces = dni.boundaries.indices.map {
                        InterfaceRecord(layer: dni.boundaries[$0], loss: ifaceLoss[$0] / n,
                                        alignment: config.interfaces.trackAlignment ? ifaceAlign[$0] / n : nil)
                    }
                    ifaceLoss = ifaceLoss.map { _ in 0 }
                    ifaceAlign = ifaceAlign.map { _ in 0 }
                }
                lossSum = 0
                lossCount = 0
                last = record
                onEvent(.evaluation(record))
            } else if Date().timeIntervalSince(lastProgress) > 0.25 {
                lastProgress = Date()
                let rate = Double(samples) / max(trainingSeconds, 1e-9)
                let remaining = Double((totalSteps - step) * batch) / max(rate, 1e-9)
                onEvent(.progress(step: step, totalSteps: totalSteps, epoch: epoch,
                                  loss: lossSum / Double(max(lossCount, 1)), samplesPerSecond: rate,
                                  etaSeconds: remaining))
            }
        }
        return last!
    }
}
