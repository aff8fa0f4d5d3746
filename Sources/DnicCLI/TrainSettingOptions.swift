import ArgumentParser
import Dnic

extension Activation: ExpressibleByArgument {}
extension LossKind: ExpressibleByArgument {}
extension InitKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension Rule: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}
extension LRScheduleKind: ExpressibleByArgument {}
extension MonitorKind: ExpressibleByArgument {}
extension InterfaceKind: ExpressibleByArgument {}
extension InterfaceTarget: ExpressibleByArgument {}
extension InterfaceLoss: ExpressibleByArgument {}
extension InterfaceSignal: ExpressibleByArgument {}
extension InterfaceCentre: ExpressibleByArgument {}
extension InterfaceLRScheduleKind: ExpressibleByArgument {}

/// `dnic train`'s settings as flags: one per row of the settings table
/// (`RunConfig.settingTable`), its help and default taken from the row. A
/// property's name is its flag in camel case (`updateProb`: --update-prob),
/// which is how `SettingFlags.given(in:)` finds its setting.
struct TrainSettingOptions: ParsableArguments {
    @Option(help: .setting("data"))
    var data: String?

    @Option(parsing: .unconditional, help: .setting("model.layers"), transform: ArgumentValue.integer)
    var hidden: Int?

    @Option(parsing: .unconditional, help: .setting("model.layers[].width"), transform: ArgumentValue.integer)
    var width: Int?

    @Option(help: .setting("model.layers[].activation"))
    var activation: Activation?

    @Flag(inversion: .prefixedNo, help: .setting("model.layers[].batchnorm"))
    var batchnorm: Bool?

    @Option(help: .setting("model.loss"))
    var loss: LossKind?

    @Option(help: .setting("model.init"))
    var `init`: InitKind?

    @Option(help: .setting("optimizer.kind"))
    var optimizer: OptimizerKind?

    @Option(parsing: .unconditional, help: .setting("optimizer.lr"), transform: ArgumentValue.number)
    var lr: Double?

    @Option(parsing: .unconditional, help: .setting("optimizer.l2"), transform: ArgumentValue.number)
    var l2: Double?

    @Option(parsing: .unconditional, help: .setting("optimizer.momentum"), transform: ArgumentValue.number)
    var momentum: Double?

    @Option(help: .setting("interfaces.rule"))
    var rule: Rule?

    @Option(help: .setting("interfaces.at"))
    var sgAt: String?

    @Option(help: .setting("interfaces.kind"))
    var sgKind: InterfaceKind?

    @Option(help: .setting("interfaces.target"))
    var sgTarget: InterfaceTarget?

    @Option(help: .setting("interfaces.loss"))
    var sgLoss: InterfaceLoss?

    @Option(help: .setting("interfaces.signal"))
    var sgSignal: InterfaceSignal?

    @Option(parsing: .unconditional, help: .setting("interfaces.alpha"), transform: ArgumentValue.number)
    var sgAlpha: Double?

    @Option(help: .setting("interfaces.hidden"))
    var sgHidden: String?

    @Flag(inversion: .prefixedNo, help: .setting("interfaces.batchnorm"))
    var sgBatchnorm: Bool?

    @Option(help: .setting("interfaces.optimizer.kind"))
    var sgOptimizer: OptimizerKind?

    @Option(parsing: .unconditional, help: .setting("interfaces.optimizer.lr"), transform: ArgumentValue.number)
    var sgLr: Double?

    @Option(parsing: .unconditional, help: .setting("interfaces.warmup"), transform: ArgumentValue.integer)
    var sgWarmup: Int?

    @Option(help: .setting("interfaces.centre"))
    var sgCentre: InterfaceCentre?

    // the interfaces' own learning-rate schedule
    @Option(help: .setting("interfaces.lr-schedule"))
    var sgLrSchedule: InterfaceLRScheduleKind?

    @Option(parsing: .unconditional, help: .setting("interfaces.lr-warmup"), transform: ArgumentValue.integer)
    var sgLrWarmup: Int?

    @Option(help: .setting("interfaces.lr-steps"))
    var sgLrSteps: String?

    @Option(parsing: .unconditional, help: .setting("interfaces.lr-gamma"), transform: ArgumentValue.number)
    var sgLrGamma: Double?

    @Option(parsing: .unconditional, help: .setting("interfaces.lr-min"), transform: ArgumentValue.number)
    var sgLrMin: Double?

    @Flag(inversion: .prefixedNo, help: .setting("interfaces.track-alignment"))
    var trackAlignment: Bool?

    @Option(parsing: .unconditional, help: .setting("training.batch"), transform: ArgumentValue.integer)
    var batch: Int?

    @Option(parsing: .unconditional, help: .setting("training.epochs"), transform: ArgumentValue.integer)
    var epochs: Int?

    @Option(parsing: .unconditional, help: .setting("training.steps"), transform: ArgumentValue.integer)
    var steps: Int?

    @Option(parsing: .unconditional, help: .setting("training.eval-every"), transform: ArgumentValue.integer)
    var evalEvery: Int?

    @Option(parsing: .unconditional, help: .setting("training.seed"), transform: ArgumentValue.seed)
    var seed: UInt64?

    @Option(parsing: .unconditional, help: .setting("training.threads"), transform: ArgumentValue.integer)
    var threads: Int?

    @Option(parsing: .unconditional, help: .setting("training.validation"), transform: ArgumentValue.number)
    var validation: Double?

    @Option(parsing: .unconditional, help: .setting("training.early-stop"), transform: ArgumentValue.integer)
    var earlyStop: Int?

    @Option(help: .setting("training.monitor"))
    var monitor: MonitorKind?

    @Option(parsing: .unconditional, help: .setting("model.classes"), transform: ArgumentValue.integer)
    var classes: Int?

    @Option(parsing: .unconditional, help: .setting("training.clip-grad"), transform: ArgumentValue.number)
    var clipGrad: Double?

    @Option(help: .setting("training.schedule"))
    var schedule: ScheduleKind?

    @Option(parsing: .unconditional, help: .setting("training.update-prob"), transform: ArgumentValue.number)
    var updateProb: Double?

    @Option(parsing: .unconditional, help: .setting("training.queue"), transform: ArgumentValue.integer)
    var queue: Int?

    @Option(help: .setting("training.lr-schedule"))
    var lrSchedule: LRScheduleKind?

    @Option(parsing: .unconditional, help: .setting("training.lr-warmup"), transform: ArgumentValue.integer)
    var lrWarmup: Int?

    @Option(help: .setting("training.lr-steps"))
    var lrSteps: String?

    @Option(parsing: .unconditional, help: .setting("training.lr-gamma"), transform: ArgumentValue.number)
    var lrGamma: Double?

    @Option(parsing: .unconditional, help: .setting("training.lr-min"), transform: ArgumentValue.number)
    var lrMin: Double?
}
