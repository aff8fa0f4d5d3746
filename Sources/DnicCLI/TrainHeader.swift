import Dnic
import Foundation

/// What `dnic train` prints before training: warnings about the data, and
/// the header (data, network, rule, where a resumed run stands).
extension TrainCommand {
    /// Settings that run but are probably not what the user meant.
    func warnAboutData(_ config: RunConfig, _ data: DataSplit, _ namer: SettingNamer) {
        for unseen in data.labelsMissingFromTraining() {
            Console.warn("the \(unseen.part) set has label(s) \(labelRanges(unseen.labels)) that no training example has "
                         + "(training labels: \(labelRanges(data.trainingLabels))); the output layer has \(data.train.classes) classes"
                         + (config.model.classes == nil ? namer.render(" (set {model.classes} to choose)") : ""))
        }
        if config.interfaces.rule == .kickback, config.model.loss == .ce {
            Console.warn("kickback sums the output errors through all-ones, which is identically "
                + "zero under softmax cross-entropy: the hidden layers get no signal (use a single-output task: "
                + namer.render("{model.loss} logistic on binary data, or mse)"))
        }
    }

    func printHeader(_ config: RunConfig, _ spec: DataSpec, _ data: DataSplit, _ trainer: Trainer, _ loadSeconds: Double) throws {
        let gemm = CoreSystem.gemmInfo()
        let widths = ([data.train.dim] + config.model.layers.map(\.width) + [trainer.network.outputDim])
            .map(String.init).joined(separator: "-")
        try Console.out.write("data \(pathText(spec.description)): \(data.train.count) train, \(data.validation?.count ?? 0) validation, "
              + "\(data.test.count) test (loaded in \(String(format: "%.1f", loadSeconds)) s)")
        try Console.out.write("network \(widths) \(config.model.layers.first?.activation.rawValue ?? "linear")"
              + "\(config.model.layers.contains { $0.batchnorm } ? "+bn" : ""), \(config.model.loss.rawValue) loss, "
              + "\(config.optimizer.kind.rawValue) lr \(String(format: "%g", config.networkOptimizer.learningRate))"
              + (config.networkLearningRateReason.map { " (\($0))" } ?? "")
              + (trainer.learningRates.isConstant ? "" : " (\(trainer.learningRates.summary))") + ", batch \(config.training.batch), "
              + "\(trainer.totalSteps) steps, \(CoreSystem.threads) thread(s), GEMM \(gemm.summary)"
              + (trainer.pipeline.map { ", schedule \(config.training.schedule.rawValue) (\($0.blockCount) blocks"
                  + (mpi ? " as \(MPIRanks.size) MPI ranks" : "")
                  + (config.training.schedule == .async ? ", queue \(config.training.queue ?? TrainingSpec.defaultQueue))" : ")") } ?? ""))
        if !trainer.dni.boundaries.isEmpty {
            let dni = trainer.dni, i = config.interfaces
            let place = i.at == .output ? "one \(i.kind.rawValue) interface on the output"
                : "\(i.kind.rawValue) interfaces after hidden layer(s) \(dni.boundaries.sorted().map(String.init).joined(separator: ","))"
            try Console.out.write("rule \(i.rule.rawValue): \(place), target \(i.target.rawValue), "
                  + "loss \(i.loss.rawValue), signal \(i.signal.rawValue)\(i.signal == .predProp ? " (alpha \(i.alpha))" : "")"
                  + (i.kind.trainable ? ", \(config.interfaceOptimizer.kind.rawValue) lr \(String(format: "%g", config.interfaceOptimizer.learningRate))"
                      + interfaceScheduleText(i, trainer) : "")
                  + centredText(dni.centredBoundaries, of: dni.boundaries, asked: i.centre == .on))
        } else {
            try Console.out.write("rule \(config.interfaces.rule.rawValue)")
        }
        if trainer.state.step > 0 {
            try Console.out.write("resumed at step \(trainer.state.step) from \(pathText(resume ?? ""))"
                                  + (data.record.map { "; data \($0.filesText)" } ?? ""))
        }
    }

    /// The interfaces' schedule: their own, or the network's they follow (said when it moves the rate).
    private func interfaceScheduleText(_ i: InterfaceSpec, _ trainer: Trainer) -> String {
        if i.lrSchedule == .follow {
            return trainer.learningRates.isConstant ? "" : " (following the network's schedule)"
        }
        return " (own schedule: \(trainer.interfaceLearningRates.summary))"
    }

    private func centredText(_ centred: [Int], of boundaries: [Int], asked: Bool) -> String {
        if centred.isEmpty { return "" }
        return centred.count == boundaries.count ? ", predictions centred over the batch" + (asked ? "" : " (batch norm above)")
            : ", predictions centred over the batch after hidden layer(s) \(centred.map(String.init).joined(separator: ","))"
    }
}
