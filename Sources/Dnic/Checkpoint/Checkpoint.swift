import Foundation

/// A training run (`RunSnapshot`) in a safetensors file: every parameter of
/// the network and its interfaces, the optimizer state, and in
/// `__metadata__` the run configuration (the text `--print-config` prints),
/// the step, epoch, data-order position and RNG state, and the dnic version.
///
/// Tensor names (stable, documented in the README):
///   layer{l}.weight (in, out), layer{l}.bias, layer{l}.bn.{gamma, beta, running_mean, running_var}
///   interface{k}.{A, B, C, d} or interface{k}.mlp.layer{l}.…   (k: boundary after hidden layer k)
///   optimizer.m.<name>, optimizer.v.<name> for every trainable tensor above
///     (momentum uses m; Adam m and v; plain SGD keeps zeros)
///   pipeline.inflight (n): under the pipeline, the activations and gradients
///     of the batches in flight; the rest of the schedule's state (messages,
///     rings, labels, counters) is the metadata's pipeline_inflight
public enum Checkpoint {
    public static let format = "dnic-checkpoint-1"

    /// Where a run writes besides the checkpoint itself, kept in the
    /// checkpoint so that `--resume` continues the same outputs: the metrics
    /// log (an absolute path), the checkpoint interval, and the run and
    /// segment that saved it (metadata `run_id`, `run_segment`: a resumed run
    /// appends only to its own log, see LogContinuation; nil in a checkpoint
    /// of an earlier dnic), and the log record a failed write kept out of the
    /// log (`run_log_pending`), which the resumed run writes first; the
    /// TensorBoard directory (`run_tensorboard`, absolute), where a resumed
    /// run adds a new event file; with early stopping, the `--save-best`
    /// file (`run_save_best`, absolute), which a resumed run keeps replacing.
    public struct Outputs: Equatable, Sendable {
        public var log: String?
        public var saveBest: String?
        public var tensorboard: String?
        public var checkpointEvery: Int?
        public var identity: RunIdentity?
        public var pendingRecord: String?
        public init(log: String? = nil, checkpointEvery: Int? = nil, identity: RunIdentity? = nil, pendingRecord: String? = nil,
                    tensorboard: String? = nil) {
            self.log = log
            self.tensorboard = tensorboard
            self.checkpointEvery = checkpointEvery
            self.identity = identity
            self.pendingRecord = pendingRecord
        }
    }

    /// A loaded checkpoint: the run it holds.
    public typealias Loaded = RunSnapshot

    /// Writes `run` to `path` atomically (the previous file stays whole until the new one is).
    public static func save(_ run: RunSnapshot, to path: String) throws {
        try AtomicFile.write(try encoded(run), to: path, what: "the checkpoint")
    }

    /// The checkpoint file's bytes (also how large it will be).
    public static func encoded(_ run: RunSnapshot) throws -> Data {
        let network = run.network, dni = run.interfaces, state = run.state, outputs = run.outputs
        let params = network.parameters(), optim = network.optimizerState()
        var tensors = [SafeTensors.Tensor]()
        var moments = [SafeTensors.Tensor]()
        for t in network.tensors {
            tensors.append(.init(name: t.name, shape: t.shape, values: Array(params[t.offset..<(t.offset + t.size)])))
            guard network.trainable(t.name) else { continue }
            moments.append(.init(name: "optimizer.m.\(t.name)", shape: t.shape,
                                 values: Array(optim[t.offset..<(t.offset + t.size)])))
            let v = params.count + t.offset
            moments.append(.init(name: "optimizer.v.\(t.name)", shape: t.shape, values: Array(optim[v..<(v + t.size)])))
        }
        for t in dni.tensorTable {
            let p = dni.block(t.interface), o = dni.block(t.interface, optimizer: true)
            tensors.append(.init(name: t.name, shape: t.shape, values: Array(p[t.offset..<(t.offset + t.size)])))
            guard t.trainable else { continue }
            moments.append(.init(name: "optimizer.m.\(t.name)", shape: t.shape, values: Array(o[t.offset..<(t.offset + t.size)])))
            let v = p.count + t.offset
            moments.append(.init(name: "optimizer.v.\(t.name)", shape: t.shape, values: Array(o[v..<(v + t.size)])))
        }
        let interfaceSteps = dni.boundaries.indices.map { dni.step($0) }
        if let field = state.nonFiniteField {
            throw DnicError("cannot write the checkpoint: the trainer state's \(field) is NaN or infinite")
        }
        let stateJSON = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        var metadata = [
            "format": format, "dnic_version": DnicVersion.core, "config": try ConfigFile.yaml(run.config),
            "step": String(state.step), "epoch": String(Double(state.step) / Double(max(run.stepsPerEpoch ?? 1, 1))),
            "data_position": String(state.position), "data_rng": String(state.epochRNG),
            "trainer_state": stateJSON, "optimizer_step": String(network.optimizerStep),
            "interface_steps": interfaceSteps.map(String.init).joined(separator: ","),
            "input_dim": String(network.inputDim), "output_dim": String(network.outputDim), "classes": String(run.classes),
        ]
        if let log = outputs.log { metadata["run_log"] = log }
        if let tensorboard = outputs.tensorboard { metadata["run_tensorboard"] = tensorboard }
        if let saveBest = outputs.saveBest { metadata["run_save_best"] = saveBest }
        if let stopping = run.earlyStopping {
            metadata["early_stopping"] = String(decoding: try JSONEncoder().encode(stopping), as: UTF8.self)
        }
        if let every = outputs.checkpointEvery { metadata["checkpoint_every"] = String(every) }
        if let data = run.data { metadata["data_files"] = try data.json() }
        if let identity = outputs.identity {
            metadata["run_id"] = identity.run
            metadata["run_segment"] = identity.segment
        }
        if let pending = outputs.pendingRecord { metadata["run_log_pending"] = pending }
        if let inflight = run.inflight {
            metadata["pipeline_inflight"] = inflight.ints.map(String.init).joined(separator: ",")
            if !inflight.values.isEmpty {
                moments.append(.init(name: "pipeline.inflight", shape: [inflight.values.count], values: inflight.values))
            }
        }
        return try SafeTensors(tensors: tensors + moments, metadata: metadata).encoded()
    }

    /// Reads and checks everything, then builds the network (and interfaces)
    /// with parameters and optimizer state restored.
    /// - Parameter maxBatch: rows the network must take; nil = the stored
    ///   configuration's batch size.
    public static func load(path: String, maxBatch: Int? = 1024) throws -> Loaded {
        try load(file: try SafeTensors.read(path: path), path: path, maxBatch: maxBatch)
    }

    /// The same from a checkpoint file's bytes (e.g. sent by MPI rank 0); `name` stands for the file in messages.
    public static func load(bytes: Data, name: String, maxBatch: Int? = 1024) throws -> Loaded {
        try load(file: try SafeTensors.decode(bytes, name: name), path: name, maxBatch: maxBatch)
    }

    /// - Parameter holding: build the network holding these layers only
    ///   (an MPI rank's block) and load only their tensors, the interfaces
    ///   on them and the batches in flight; `file` may lack the others'
    ///   values (CheckpointShare), and tensors outside the model are not
    ///   looked for (rank 0 loaded the whole file first).
    ///   The file is consumed: each tensor's values are dropped once loaded,
    ///   so the file's copy and the network's do not both stay whole.
    static func load(file: consuming SafeTensors, path: String, maxBatch: Int?, holding: ClosedRange<Int>? = nil) throws -> Loaded {
        var file = consume file
        func bad(_ why: String) -> DnicError { DnicError("\(pathText(path)): \(why)") }
        let meta = file.metadata
        guard meta["format"] == format else {
            throw bad("not a dnic checkpoint (metadata format is \(meta["format"].map { "'\(messageText($0))'" } ?? "missing"))")
        }
        guard let configText = meta["config"] else { throw bad("no model description in the metadata") }
        let config: RunConfig
        do { config = try ConfigFile.parse(Data(configText.utf8), name: "(metadata config)") } catch let error as DnicError {
            throw bad(error.message)
        }
        guard let inputDim = meta["input_dim"].flatMap(Int.init), inputDim > 0, inputDim <= 1 << 24,
              let outputDim = meta["output_dim"].flatMap(Int.init), outputDim > 0, outputDim <= 1 << 22,
              let classes = meta["classes"].flatMap(Int.init), classes > 0, classes <= 1 << 22,
              let optimizerStep = meta["optimizer_step"].flatMap(Int64.init), optimizerStep >= 0, optimizerStep <= maxTrainingSamples,
              let stateText = meta["trainer_state"] else {
            throw bad("metadata lacks or garbles input_dim, output_dim, classes, optimizer_step or trainer_state")
        }
        let state: TrainerState
        do { state = try JSONDecoder().decode(TrainerState.self, from: Data(stateText.utf8)) } catch {
            throw bad("trainer_state in the metadata is not valid: \(describe(error))")
        }
        // the plain copies a reader sees first must say what the state says
        for (key, value) in [("step", String(state.step)), ("data_position", String(state.position)),
                             ("data_rng", String(state.epochRNG))] {
            if let text = meta[key], text != value {
                throw bad("metadata \(key) '\(messageText(text))' contradicts trainer_state (\(value))")
            }
        }
        try config.validate()
        // the interfaces condition on max(classes, 2) labels, which the C core
        // checks against the network's outputs
        guard outputDim == config.model.outputWidth(classes: classes) else {
            throw bad("metadata classes \(classes) does not fit output_dim \(outputDim) under the model's loss")
        }
        // every weight's shape before building anything: a small file must not
        // make us allocate a network it cannot hold
        let dims = [inputDim] + config.model.layers.map(\.width) + [outputDim]
        for l in 0..<(dims.count - 1) {
            let name = "layer\(l).weight", want = [dims[l], dims[l + 1]]
            guard let t = file.tensor(name) else { throw bad("tensor '\(name)' is missing: the file does not match its own model description") }
            guard t.shape == want else { throw bad("tensor '\(name)' has shape \(t.shape), the model description needs \(want)") }
        }
        let network = try Network(config.model, inputDim: inputDim, outputDim: outputDim,
                                  maxBatch: maxBatch ?? config.training.batch, seed: config.training.seed, holding: holding)
        var used = Set<String>()
        func stored(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let t = file.tensor(name) else { throw bad("tensor '\(name)' is missing: the file does not match its own model description") }
            guard t.shape == shape else { throw bad("tensor '\(name)' has shape \(t.shape), the model description needs \(shape)") }
            guard t.values.count == shape.reduce(1, *) else { throw bad("tensor '\(name)' was not received") }
            guard t.values.allSatisfy(\.isFinite) else { throw bad("tensor '\(name)' contains NaN or infinity") }
            used.insert(name)
            if let i = file.tensors.firstIndex(where: { $0.name == name }) { file.tensors[i].values = [] }
            return t.values
        }
        /// Adam's v is a running mean of squares: a negative value would make
        /// its square root NaN at the first step of the resumed run.
        func secondMoment(_ name: String, _ shape: [Int]) throws -> [Float] {
            let values = try stored(name, shape)
            if let i = values.firstIndex(where: { $0 < 0 }) {
                throw bad("tensor '\(name)' has a negative value (\(values[i]) at \(i)): a second moment is a mean of squares")
            }
            return values
        }
        // straight into the network's values: a wide network's values are
        // gigabytes, and a second copy of them would double the peak
        let held = network.heldValues()
        for t in network.tensors where t.offset >= held.base && t.offset + t.size <= held.base + held.params.count {
            let at = t.offset - held.base, n = held.params.count
            func put(_ values: [Float], at start: Int, in block: UnsafeMutableBufferPointer<Float>) {
                values.withUnsafeBufferPointer { block.baseAddress!.advanced(by: start).update(from: $0.baseAddress!, count: t.size) }
            }
            put(try stored(t.name, t.shape), at: at, in: held.params)
            if network.trainable(t.name) {
                put(try stored("optimizer.m.\(t.name)", t.shape), at: at, in: held.optim)
                put(try secondMoment("optimizer.v.\(t.name)", t.shape), at: n + at, in: held.optim)
            } else {
                // not trained: plain SGD's zeros, as a whole network's load leaves them
                held.optim.baseAddress!.advanced(by: at).update(repeating: 0, count: t.size)
                held.optim.baseAddress!.advanced(by: n + at).update(repeating: 0, count: t.size)
            }
        }
        try network.setOptimizerStep(optimizerStep)

        let interfaces = try DNI(network: network, spec: config.interfaces, labelWidth: max(classes, 2), seed: 0)
        try interfaces.setInterfaceOptimizer(config.interfaceOptimizer)
        for t in interfaces.tensorTable {
            let p = interfaces.block(t.interface), o = interfaces.block(t.interface, optimizer: true)
            let values = try stored(t.name, t.shape)
            for k in 0..<t.size { p[t.offset + k] = values[k] }
            guard t.trainable else { continue }
            let m = try stored("optimizer.m.\(t.name)", t.shape), v = try secondMoment("optimizer.v.\(t.name)", t.shape)
            for k in 0..<t.size {
                o[t.offset + k] = m[k]
                o[p.count + t.offset + k] = v[k]
            }
        }
        let text = meta["interface_steps"] ?? ""
        let steps = text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map { Int64($0) ?? -1 }
        guard steps.count == interfaces.boundaries.count, steps.allSatisfy({ $0 >= 0 && $0 <= maxTrainingSamples }) else {
            throw bad("metadata interface_steps '\(messageText(text))' does not match the \(interfaces.boundaries.count) interfaces")
        }
        for (i, t) in steps.enumerated() where interfaces.holds(i) { try interfaces.setStep(i, t) }
        var inflight: Pipeline.Inflight?
        if let text = meta["pipeline_inflight"] {
            let ints = text.split(separator: ",", omittingEmptySubsequences: false).map { Int64($0) }
            guard !ints.isEmpty, ints.allSatisfy({ $0 != nil }) else {
                throw bad("metadata pipeline_inflight is not a list of integers")
            }
            let count = file.tensor("pipeline.inflight")?.values.count
            let values = try count.map { try stored("pipeline.inflight", [$0]) } ?? []
            inflight = Pipeline.Inflight(values: values, ints: ints.map { $0! })
        }
        if holding == nil, let extra = file.tensors.first(where: { !used.contains($0.name) }) {
            throw bad("tensor '\(messageText(extra.name))' is not part of the model description")
        }
        var outputs = Outputs(log: meta["run_log"], tensorboard: meta["run_tensorboard"])
        outputs.saveBest = meta["run_save_best"]
        var earlyStopping: EarlyStopping?
        if let text = meta["early_stopping"] {
            do { earlyStopping = try JSONDecoder().decode(EarlyStopping.self, from: Data(text.utf8)) } catch {
                throw bad("metadata early_stopping is not valid: \(describe(error))")
            }
            if let best = earlyStopping?.best, best.step > state.step {
                throw bad("metadata early_stopping's best_step \(best.step) lies after the checkpoint's step \(state.step)")
            }
        }
        if let text = meta["checkpoint_every"] {
            guard let every = Int(text), every >= 1 else { throw bad("metadata checkpoint_every '\(messageText(text))' is not a positive integer") }
            outputs.checkpointEvery = every
        }
        if meta["run_id"] != nil || meta["run_segment"] != nil {
            guard let identity = RunIdentity(run: meta["run_id"] ?? "", segment: meta["run_segment"] ?? "") else {
                throw bad("metadata run_id '\(messageText(meta["run_id"] ?? ""))' and run_segment '\(messageText(meta["run_segment"] ?? ""))' "
                          + "are not two run ids (16 hexadecimal digits each)")
            }
            outputs.identity = identity
        }
        if let pending = meta["run_log_pending"] {
            // it goes into a log: one of this run's records, nothing else
            guard let record = RecordStamp(pending.utf8), !pending.contains("\n"),
                  record.run == outputs.identity?.run, record.step <= state.step else {
                throw bad("metadata run_log_pending '\(messageText(pending))' is not one of this run's log records")
            }
            outputs.pendingRecord = pending
        }
        return RunSnapshot(config: config, network: network, interfaces: interfaces, state: state, classes: classes,
                           stepsPerEpoch: nil, outputs: outputs, inflight: inflight, data: try recordedData(meta, config: config, bad: bad),
                           earlyStopping: earlyStopping)
    }

    /// The metadata's data_files, checked to describe the config's own data.
    private static func recordedData(_ meta: [String: String], config: RunConfig,
                                     bad: (String) -> DnicError) throws -> DataRecord? {
        guard let text = meta["data_files"] else { return nil }
        let record: DataRecord
        do { record = try DataRecord.parse(json: text) } catch let error as DataError {
            throw bad("metadata data_files \(error.description)")
        }
        guard record.data == config.data else {
            throw bad("metadata data_files describes \(messageText(record.data)), but the run's data is \(messageText(config.data))")
        }
        return record
    }
}
