import CDnic

/// How a run's blocks take their steps (`training.schedule`). Locked: one
/// training step through the whole network per batch, every rule.
/// Unlocked (pipeline, async): the blocks between interfaces step apart,
/// each on its own batch, in the C core's `dnic_pipe_t`, and the network
/// lags them until they settle. The trainer and the benchmark drive both
/// the same way; the trainer keeps the accounts (`TrainerState`).
protocol TrainingSchedule: AnyObject {
    /// Trains on examples order[position ..< position + rows]; the batches
    /// that reached the loss meanwhile (locked: this one; unlocked: earlier
    /// ones, or none while the blocks fill).
    func step(_ batches: inout BatchGatherer, _ order: [Int32], from position: Int, rows: Int) throws -> Pipeline.Finished?

    /// Every batch fed has gone through every block (their losses counted
    /// in `state`), and the network holds the blocks' values.
    func settle(_ state: inout TrainerState) throws

    /// Before an evaluation: the network holds what the blocks learnt
    /// (async drains first: its workers own the blocks).
    func prepareEvaluation(_ state: inout TrainerState) throws

    /// Before a checkpoint: the network holds the blocks' values; the
    /// batches in flight the checkpoint takes along, if any (else they were
    /// drained and counted, so the checkpoint holds every sample it counts).
    func prepareCheckpoint(_ state: inout TrainerState) throws -> Pipeline.Inflight?

    /// The interface losses of the last step, top first (`dni.boundaries` order).
    var interfaceLosses: [Float] { get }

    /// Unlocked, each block's busy and waiting seconds and staleness so far (bottom first).
    var blockRecords: [BlockRecord]? { get }

    /// After a non-finite update in an unlocked block: which tensor.
    var fault: NumericFault? { get }

    /// The C schedule of the unlocked blocks (MPI ranks attach to it).
    var pipeline: Pipeline? { get }
}

extension TrainerState {
    /// Batches that reached the loss, into the current interval's training loss.
    mutating func count(_ done: Pipeline.Finished) {
        lossSum += Double(done.meanLoss) * Double(done.count)
        lossCount += done.count
    }
}

/// The schedule `config` chooses, over `dni`, continuing `state`. A
/// pipeline checkpoint's batches in flight (`inflight`) are restored into
/// a pipeline, and finished first under any other schedule (none is lost).
func makeSchedule(_ config: RunConfig, dni: DNI, state: inout TrainerState, inflight: Pipeline.Inflight?) throws
    -> TrainingSchedule {
    var inflight = inflight
    if let f = inflight, config.training.schedule != .pipeline {
        // a pipeline of its own, gone before the run's is made (the DNI
        // lends its blocks to one schedule at a time)
        do {
            let drain = try Pipeline(dni: dni)
            if let steps = state.blockSteps, steps.count == drain.blockCount { try drain.setBlockSteps(steps) }
            try drain.importInflight(f)
            for done in try drain.flush() { state.count(done) }
            try drain.sync()
        }
        inflight = nil
    }
    let t = config.training
    switch t.schedule {
    case .locked: return LockedSchedule(dni: dni)
    case .pipeline, .async:
        // last: the pipeline imports the network's values and settings
        let pipeline = try Pipeline(dni: dni, asyncQueue: t.schedule == .async ? t.queue ?? TrainingSpec.defaultQueue : nil)
        if let p = t.updateProb, p < 1 {
            try pipeline.setUpdateProbability(p, seed: t.seed ^ 0x0DEC_0091E, firstBatch: state.step)
        }
        // blocks that skipped different updates resume with their own counts
        if let steps = state.blockSteps, steps.count == pipeline.blockCount { try pipeline.setBlockSteps(steps) }
        if let inflight { try pipeline.importInflight(inflight) }
        return UnlockedSchedule(pipeline)
    }
}

/// Every block of every batch in one training step of the whole network.
final class LockedSchedule: TrainingSchedule {
    let dni: DNI

    init(dni: DNI) { self.dni = dni }

    func step(_ batches: inout BatchGatherer, _ order: [Int32], from position: Int, rows: Int) throws -> Pipeline.Finished? {
        try batches.gather(order, from: position, rows: rows)
        return Pipeline.Finished(count: 1, meanLoss: try batches.trainStep(dni))
    }

    // the network is always up to date, nothing is ever in flight
    func settle(_ state: inout TrainerState) throws {}
    func prepareEvaluation(_ state: inout TrainerState) throws {}
    func prepareCheckpoint(_ state: inout TrainerState) throws -> Pipeline.Inflight? { nil }

    var interfaceLosses: [Float] { dni.interfaceLosses }
    var blockRecords: [BlockRecord]? { nil }
    var fault: NumericFault? { nil }
    var pipeline: Pipeline? { nil }
}

/// The blocks between interfaces in parallel: the pipeline (lockstep
/// ticks, deterministic) or async (free-running workers, bounded queues).
final class UnlockedSchedule: TrainingSchedule {
    let blocks: Pipeline

    init(_ blocks: Pipeline) { self.blocks = blocks }

    var pipeline: Pipeline? { blocks }

    func step(_ batches: inout BatchGatherer, _ order: [Int32], from position: Int, rows: Int) throws -> Pipeline.Finished? {
        try batches.feed(blocks, order, from: position, rows: rows)
    }

    func settle(_ state: inout TrainerState) throws {
        for done in try blocks.flush() { state.count(done) }
        try blocks.sync()
        state.blockSteps = blocks.blockSteps
    }

    func prepareEvaluation(_ state: inout TrainerState) throws {
        if blocks.isAsync { try settle(&state) }
        try blocks.sync()
    }

    /// The pipeline keeps its batches in flight and hands them to the
    /// checkpoint, so a resumed run continues bit for bit from any tick;
    /// async, and a pipeline with oracle (delayed) blocks, drain.
    func prepareCheckpoint(_ state: inout TrainerState) throws -> Pipeline.Inflight? {
        if blocks.isAsync {
            try settle(&state)
            return nil
        }
        guard blocks.pending else {
            try blocks.sync()
            state.blockSteps = blocks.blockSteps
            return nil
        }
        do {
            try blocks.sync() // under MPI this brings the other ranks' blocks (and batches in flight) here
            let inflight = try blocks.exportInflight()
            state.blockSteps = blocks.blockSteps
            return inflight
        } catch let error as DnicError where error.status == DNIC_ERR_STATE {
            // a delayed (oracle) block's kept inputs are not exported: drain
            try settle(&state)
            return nil
        }
    }

    /// Block s trains the interface on its top (block 0 the bottom one).
    var interfaceLosses: [Float] {
        let n = blocks.dni.boundaries.count
        return (0..<n).map { blocks.interfaceLoss(block: n - 1 - $0) }
    }

    var blockRecords: [BlockRecord]? {
        (0..<blocks.blockCount).map {
            let s = blocks.stats($0), stale = blocks.staleness($0)
            return BlockRecord(busySeconds: s.busy, waitSeconds: s.wait, stalenessMean: stale?.mean, stalenessMax: stale?.max)
        }
    }

    var fault: NumericFault? { blocks.fault }
}
