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
    /// Under an unlocked schedule, per block (bottom first): seconds
    /// computing and seconds waiting for the other blocks since the run (or
    /// resume) began, and the staleness of its interface's targets.
    public var blocks: [BlockRecord]?
    /// Wall-clock seconds since training started.
    public var seconds: Double
    /// The network's learning rate at this step (the schedule's).
    public var lr: Double?

    enum CodingKeys: String, CodingKey {
        case step, epoch, seconds
        case trainLoss = "train_loss", testLoss = "test_loss", testAccuracy = "test_accuracy"
        case validationLoss = "validation_loss", validationAccuracy = "validation_accuracy"
        case samplesPerSecond = "samples_per_sec"
        case interfaces, blocks, lr
    }
}

public struct BlockRecord: Codable, Equatable, Sendable {
    public var busySeconds: Double
    public var waitSeconds: Double
    /// Blocks with an interface on top: how many batches the block forwarded
    /// between a batch and the arrival of that batch's target, mean and
    /// max since the run (or resume) began (pipeline: 1 in steady state).
    public var stalenessMean: Double?
    public var stalenessMax: Int?
    /// The share of the run this block spent computing.
    public var busyShare: Double { busySeconds / max(busySeconds + waitSeconds, 1e-9) }

    public init(busySeconds: Double, waitSeconds: Double, stalenessMean: Double? = nil, stalenessMax: Int? = nil) {
        self.busySeconds = busySeconds
        self.waitSeconds = waitSeconds
        self.stalenessMean = stalenessMean
        self.stalenessMax = stalenessMax
    }

    enum CodingKeys: String, CodingKey {
        case busySeconds = "busy_seconds", waitSeconds = "wait_seconds"
        case stalenessMean = "staleness_mean", stalenessMax = "staleness_max"
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
    /// `blocks`: under the pipeline, each block's busy and waiting seconds so far.
    case progress(step: Int, totalSteps: Int, epoch: Double, loss: Double, samplesPerSecond: Double, etaSeconds: Double,
                  blocks: [BlockRecord], lr: Double)
    case evaluation(EvaluationRecord)
}

/// The training loop: shuffles, gathers batches into one reused buffer,
/// and steps them through the run's schedule (locked, or the unlocked
/// pipeline and async: `TrainingSchedule`); keeps the run's accounts
/// (`state`), evaluates every `evalEvery` steps (default: once per epoch)
/// and at the end.
public final class Trainer {
    public let config: RunConfig
    public let data: DataSplit
    public let network: Network
    /// The interfaces the rule places (none for backprop): every rule
    /// trains through them, so there is one code path.
    public let dni: DNI
    /// How the blocks step (`training.schedule`). Unlocked, `network` is
    /// stale between the schedule's settles.
    let schedule: TrainingSchedule
    /// The unlocked schedule's blocks (nil: locked); MPI ranks attach to them.
    public var pipeline: Pipeline? { schedule.pipeline }
    /// Where the run stands; restored from a checkpoint to resume.
    public var state = TrainerState()
    public let stepsPerEpoch: Int
    public let totalSteps: Int
    /// The network's learning-rate schedule (the core applies it at each
    /// update, over the network's or each unlocked block's own step).
    public let learningRates: LearningRateSchedule
    /// The interfaces' (the network's under `follow`), over each interface's own updates.
    public let interfaceLearningRates: LearningRateSchedule
    /// The network's rate before its schedule, as the core holds it.
    private let networkBaseRate: Float
    public let evalEvery: Int

    /// The batch rows a network needs: the training batch (evaluation runs
    /// in chunks of that size too). Activations are sized by it, so a
    /// larger evaluation chunk would cost memory on deep networks.
    public static func maxBatch(_ config: RunConfig, _ data: DataSplit) -> Int {
        max(min(config.training.batch, data.train.count), 1)
    }

    /// - Parameter restoring: a run to continue (a loaded checkpoint): its
    ///   network, interfaces, optimizer state, trainer state and batches in flight.
    public init(config: RunConfig, data: DataSplit, restoring: RunSnapshot? = nil) throws {
        try config.validate()
        let train = data.train
        guard train.count > 0 else { throw DnicError("\(train.name): the training set is empty") }
        self.config = config
        self.data = data
        let batch = min(config.training.batch, train.count)
        stepsPerEpoch = (train.count + batch - 1) / batch
        // validate() bounds steps x batch; epochs need the data's size
        let epochs = config.training.epochs
        if config.training.steps == nil, epochs > maxTrainingSamples / train.count {
            throw SettingError("training.epochs", epochs, "\(epochs) epochs of \(train.count) examples are more than 2^53 samples; at most \(maxTrainingSamples / train.count) epochs")
        }
        totalSteps = config.training.steps ?? epochs * stepsPerEpoch
        let built = try Trainer.build(config: config, inputDim: train.dim, classes: train.classes,
                                      maxBatch: Trainer.maxBatch(config, data), totalSteps: totalSteps,
                                      restoring: restoring, dataName: train.name)
        network = built.network
        dni = built.dni
        state = built.state
        schedule = built.schedule
        (learningRates, interfaceLearningRates) = config.learningRateSchedules(totalSteps: totalSteps)
        networkBaseRate = config.networkOptimizer.core.lr
        evalEvery = config.training.evalEvery ?? stepsPerEpoch
    }

    /// What `build` makes.
    public struct Parts {
        public let network: Network
        public let dni: DNI
        public let state: TrainerState
        let schedule: TrainingSchedule
        /// The unlocked schedule's blocks (nil: locked).
        public var pipeline: Pipeline? { schedule.pipeline }
    }

    /// What a run trains, without its data: the network and interfaces
    /// (fresh from the settings, or a checkpoint's) with their optimizers
    /// and clipping, the trainer state, and the schedule with a
    /// checkpoint's batches in flight restored. MPI ranks other than 0
    /// build their copy of the run from this alone.
    /// The schedules need the run's length (`totalSteps`).
    /// - Parameter holding: a fresh run's layers to allocate (0-based, output
    ///   last), the rest shape only: an MPI rank's block (MPIRun).
    public static func build(config: RunConfig, inputDim: Int, classes: Int, maxBatch: Int, totalSteps: Int,
                             restoring: RunSnapshot?, dataName: String, holding: ClosedRange<Int>? = nil) throws -> Parts {
        let network: Network, dni: DNI
        var state = TrainerState()
        if let restoring {
            network = restoring.network
            dni = restoring.interfaces
            state = restoring.state
            guard network.inputDim == inputDim, network.outputDim == config.model.outputWidth(classes: classes) else {
                throw DnicError("the checkpoint's network (\(network.inputDim) inputs, \(network.outputDim) outputs) does not fit \(dataName)")
            }
        } else {
            network = try Network(config.model, inputDim: inputDim, outputDim: config.model.outputWidth(classes: classes),
                                  maxBatch: maxBatch, seed: config.training.seed, holding: holding)
            dni = try DNI(network: network, spec: config.interfaces, labelWidth: max(classes, 2),
                          seed: config.training.seed ^ 0x1F_ACE5)
        }
        try network.setOptimizer(config.networkOptimizer)
        try dni.setInterfaceOptimizer(config.interfaceOptimizer)
        // before the schedule: a pipeline's blocks take the network's at creation
        try config.validateLearningRateSchedule(totalSteps: totalSteps)
        let rates = config.learningRateSchedules(totalSteps: totalSteps)
        try network.setLearningRateSchedule(rates.network)
        try dni.setInterfaceLearningRateSchedule(rates.interfaces)
        if let clip = config.training.clipGrad {
            try network.setGradientClip(clip)
            try dni.setGradientClip(clip)
        }
        let schedule = try makeSchedule(config, dni: dni, state: &state, inflight: restoring?.inflight)
        return Parts(network: network, dni: dni, state: state, schedule: schedule)
    }

    /// The run as it stands, for a checkpoint: the network gets the blocks'
    /// values first (under the pipeline the batches in flight come along).
    /// - Parameter outputs: what the run writes besides, for a resume to continue.
    public func snapshot(outputs: Checkpoint.Outputs = Checkpoint.Outputs()) throws -> RunSnapshot {
        let inflight = try schedule.prepareCheckpoint(&state)
        return RunSnapshot(config: config, network: network, interfaces: dni, state: state, classes: data.train.classes,
                           stepsPerEpoch: stepsPerEpoch, outputs: outputs, inflight: inflight, data: data.record)
    }

    /// Unlocked, each block's busy and waiting seconds and staleness so far (bottom first).
    public var blockRecords: [BlockRecord]? { schedule.blockRecords }

    /// The network on `set`; a loss that overflows (the parameters are
    /// finite, the outputs are not) stops the run like a fault in a step.
    private func evaluate(_ set: Dataset, _ part: String, at step: Int) throws -> (loss: Double, accuracy: Double) {
        do { return try network.evaluate(set) } catch let error as DnicError where error.status == DNIC_ERR_NONFINITE {
            throw StepFault(error: DnicError("step \(step): the loss on the \(part) set is NaN or infinite (the network's outputs overflow); "
                            + "try a smaller {optimizer.lr} or {training.clip-grad}", status: error.status))
        }
    }

    /// The network's rate at step `step`, as the core sets it (for the log
    /// and the live line; unlocked blocks each follow their own count).
    private func networkRate(step: Int) -> Double {
        Double(learningRates.rate(at: step, base: networkBaseRate))
    }

    /// A fault already described with its step.
    private struct StepFault: Error { let error: DnicError }

    /// How a run was stopped before its last step.
    public enum Stop: Error { case requested }

    /// Trains from `state` to `totalSteps`. `every` steps (if set) calls
    /// `checkpoint`; `shouldStop` is polled after each step (signals): a stop
    /// throws `Stop.requested` after `checkpoint` has run. An error thrown by
    /// `onEvent` (an output that failed) stops the run after a complete step,
    /// with `state` describing that step, so a checkpoint can still be saved.
    /// `afterStep` sees the trainer after every complete step (analyses
    /// that snapshot a run; under an unlocked schedule the network may lag
    /// the blocks' batches in flight). Returns the last evaluation.
    public func run(onEvent: (TrainEvent) throws -> Void = { _ in }, checkpointEvery every: Int? = nil,
                    checkpoint: (Trainer) throws -> Void = { _ in },
                    shouldStop: () -> Bool = { false },
                    afterStep: (Trainer) throws -> Void = { _ in }) throws -> EvaluationRecord {
        let train = data.train
        let batch = min(config.training.batch, train.count)
        var order = [Int32](repeating: 0, count: train.count)
        var batches = BatchGatherer(data: train, batch: batch)
        let nInterfaces = dni.boundaries.count
        if state.step == 0 {
            // data order has its own stream, so changing the model does not reshuffle
            state.epochRNG = config.training.seed ^ 0x0DA7_A0DE_5EED
            state.interfaceLossSums = Array(repeating: 0, count: nInterfaces)
            state.interfaceAlignmentSums = Array(repeating: 0, count: nInterfaces)
        }
        guard state.interfaceLossSums.count == nInterfaces, state.interfaceAlignmentSums.count == nInterfaces,
              state.position <= train.count else {
            throw DnicError("the trainer state does not fit this run (interfaces or data size differ)")
        }
        var rng = state.epochRNG
        /// Every epoch shuffles 0..<n afresh from the RNG state at its start,
        /// so a resumed run regenerates its order from (epochRNG, position).
        func shuffleEpoch() throws {
            state.epochRNG = rng
            for i in order.indices { order[i] = Int32(i) }
            shuffle(&order, rng: &rng)
        }
        if state.inEpoch { try shuffleEpoch() }
        // whichever way the loop ends, the network holds what the blocks
        // learnt (a checkpoint may follow an error; it takes what is in flight)
        defer { _ = try? schedule.prepareCheckpoint(&state) }
        let start = Date().addingTimeInterval(-state.trainingSeconds)
        // samples/s of this run's own steps (a resumed run's, not the
        // checkpoint's past): the speed now, and right for a checkpoint that
        // records no training time (written by another program, e.g. Python)
        let (samplesBefore, secondsBefore) = (state.samples, state.trainingSeconds)
        func samplesPerSecond() -> Double {
            Double(state.samples - samplesBefore) / max(state.trainingSeconds - secondsBefore, 1e-9)
        }
        var lastProgress = Date.distantPast
        var last: EvaluationRecord?

        // a NaN or infinity met anywhere in a step (async blocks report it
        // at the next call into the schedule) stops the run naming it
        var current = state.step + 1
        do {
            while state.step < totalSteps {
                let step = state.step + 1
                current = step
                if !state.inEpoch || state.position >= train.count {
                    try shuffleEpoch()
                    state.position = 0
                    state.inEpoch = true
                }
                let position = state.position
                let rows = min(batch, train.count - position)
                let lr = networkRate(step: step)
                let t0 = Date()
                let finished = try schedule.step(&batches, order, from: position, rows: rows)
                // the last batch fed has gone through every block when the run ends
                if step == totalSteps { try schedule.settle(&state) }
                state.trainingSeconds += Date().timeIntervalSince(t0)
                state.step = step
                state.position += rows
                state.samples += rows
                if let finished { state.count(finished) }
                for (i, v) in schedule.interfaceLosses.enumerated() where !v.isNaN { state.interfaceLossSums[i] += Double(v) }
                if config.interfaces.trackAlignment {
                    for (i, v) in dni.alignments.enumerated() { state.interfaceAlignmentSums[i] += Double(v) }
                }
                let epoch = Double(step) / Double(stepsPerEpoch)

                if step % evalEvery == 0 || step == totalSteps {
                    try schedule.prepareEvaluation(&state)
                    var record = EvaluationRecord(step: step, epoch: epoch,
                                                  trainLoss: state.lossSum / Double(max(state.lossCount, 1)),
                                                  testLoss: 0, testAccuracy: 0,
                                                  samplesPerSecond: samplesPerSecond(),
                                                  seconds: 0)
                    record.blocks = schedule.blockRecords
                    record.lr = lr
                    let test = try evaluate(data.test, "test", at: step)
                    record.testLoss = test.loss
                    record.testAccuracy = test.accuracy
                    if let validation = data.validation {
                        let v = try evaluate(validation, "validation", at: step)
                        record.validationLoss = v.loss
                        record.validationAccuracy = v.accuracy
                    }
                    record.seconds = Date().timeIntervalSince(start)
                    if !dni.boundaries.isEmpty {
                        let n = Double(max(state.lossCount, 1))
                        record.interfaces = dni.boundaries.indices.map {
                            InterfaceRecord(layer: dni.boundaries[$0], loss: state.interfaceLossSums[$0] / n,
                                            alignment: config.interfaces.trackAlignment ? state.interfaceAlignmentSums[$0] / n : nil)
                        }
                    }
                    // an end-of-run evaluation off the evaluation grid leaves the
                    // interval open, so a resumed run logs what a straight run would
                    if step % evalEvery == 0 {
                        state.lossSum = 0
                        state.lossCount = 0
                        state.interfaceLossSums = state.interfaceLossSums.map { _ in 0 }
                        state.interfaceAlignmentSums = state.interfaceAlignmentSums.map { _ in 0 }
                    }
                    last = record
                    try onEvent(.evaluation(record))
                } else if Date().timeIntervalSince(lastProgress) > 0.25 {
                    lastProgress = Date()
                    let rate = samplesPerSecond()
                    let remaining = Double(totalSteps - step) * Double(batch) / max(rate, 1e-9)
                    try onEvent(.progress(step: step, totalSteps: totalSteps, epoch: epoch,
                                      loss: state.lossSum / Double(max(state.lossCount, 1)), samplesPerSecond: rate,
                                      etaSeconds: remaining, blocks: blockRecords ?? [], lr: lr))
                }
                if let every, step % every == 0, step < totalSteps {
                    try checkpoint(self)
                }
                if shouldStop(), step < totalSteps {
                    try checkpoint(self)
                    throw Stop.requested
                }
                try afterStep(self)
            }
        } catch let fault as StepFault {
            throw fault.error
        } catch let error as DnicError where error.status == DNIC_ERR_NONFINITE {
            throw DnicError("step \(current): \(faultDescription())", status: error.status)
        }
        if let last { return last }
        // resumed at the very end: evaluate once so there is a final record
        let test = try network.evaluate(data.test)
        return EvaluationRecord(step: state.step, epoch: Double(state.step) / Double(stepsPerEpoch), trainLoss: 0,
                                testLoss: test.loss, testAccuracy: test.accuracy,
                                samplesPerSecond: samplesPerSecond(),
                                seconds: state.trainingSeconds)
    }

    /// One line naming the tensor (or interface loss) that became NaN or
    /// infinite, and what to change.
    func faultDescription() -> String {
        guard let fault = schedule.fault ?? network.fault ?? dni.fault else {
            return "the training loss is NaN or infinite; try a smaller {optimizer.lr} or {training.clip-grad}"
        }
        let interface: Bool
        switch fault {
        case .interfaceLoss: interface = true
        case .update(let t), .gradient(let t): interface = t.hasPrefix("interface")
        }
        // an interface's own rate, when it has one to lower
        let rate = interface && config.interfaces.kind.trainable ? "{interfaces.optimizer.lr}" : "{optimizer.lr}"
        return "\(fault.description); try a smaller \(rate) or {training.clip-grad}"
    }
}
