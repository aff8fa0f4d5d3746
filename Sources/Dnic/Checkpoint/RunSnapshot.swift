/// A training run as it stands, all a checkpoint holds: the network and
/// its interfaces with their optimizer state, the settings, the trainer's
/// state, the batches in flight and what the run writes besides. A trainer
/// makes one to be saved (`Trainer.snapshot`); loading a checkpoint gives
/// one that a trainer continues from (`Trainer(config:data:restoring:)`).
public struct RunSnapshot {
    public let config: RunConfig
    public let network: Network
    /// The interfaces (none for backprop).
    public let interfaces: DNI
    public let state: TrainerState
    /// The classes of the run's data (the interfaces condition on max(classes, 2) labels).
    public let classes: Int
    /// For the epoch a checkpoint states; nil in a loaded one (it keeps the epoch, not this).
    public let stepsPerEpoch: Int?
    /// The run's other outputs when it was saved.
    public let outputs: Checkpoint.Outputs
    /// Under the pipeline, the batches that were in flight (checked when imported).
    public let inflight: Pipeline.Inflight?
    /// The data files the run read, absolute, with their size and CRC-32
    /// (metadata data_files); nil in a checkpoint older than that record.
    public let data: DataRecord?
    /// With early stopping, its state (metadata early_stopping; the
    /// TrainingRun sets it, a trainer's own snapshot has none); nil in a
    /// checkpoint of a run without it or of an earlier dnic.
    public var earlyStopping: EarlyStopping?

    public var step: Int { state.step }

    public init(config: RunConfig, network: Network, interfaces: DNI, state: TrainerState, classes: Int,
                stepsPerEpoch: Int?, outputs: Checkpoint.Outputs = Checkpoint.Outputs(), inflight: Pipeline.Inflight? = nil,
                data: DataRecord? = nil, earlyStopping: EarlyStopping? = nil) {
        self.config = config
        self.network = network
        self.interfaces = interfaces
        self.state = state
        self.classes = classes
        self.stepsPerEpoch = stepsPerEpoch
        self.outputs = outputs
        self.inflight = inflight
        self.data = data
        self.earlyStopping = earlyStopping
    }
}
