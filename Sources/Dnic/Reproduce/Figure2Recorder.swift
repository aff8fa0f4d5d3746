import Foundation

extension Figure2 {
    /// What one Figure 2 run records: loss-surface snapshots at fixed steps
    /// and at training-loss levels, and the training loss it measured.
    struct Recorded: Codable {
        /// A snapshot taken when the training loss first fell below
        /// `fraction` × its initial value.
        struct Level: Codable {
            var fraction: Double
            var trainLoss: Double
            var snapshot: LossSurface.Snapshot
        }
        var byStep: [LossSurface.Snapshot]
        var byLevel: [Level]
        /// The training loss after the first step (the levels' reference).
        var initialLoss: Double
        var lowestLoss: Double
        var finalLoss: Double
    }

    /// Takes a run's snapshots: at the given steps, and the first time the
    /// loss over the whole training set (measured every `lossEvery` steps)
    /// is at or below each fraction of its value after the first step. A
    /// step's loss can pass several levels at once: each gets that snapshot.
    final class Recorder {
        let steps: [Int]
        let fractions: [Double]
        let lossEvery: Int
        let train: Dataset
        let grid: Dataset
        let loss: LossKind
        private var byStep = [LossSurface.Snapshot]()
        private var byLevel = [Recorded.Level]()
        private var initial: Double?
        private var lowest = Double.infinity
        private var last = Double.nan

        init(steps: [Int], fractions: [Double], lossEvery: Int, train: Dataset, grid: Dataset, loss: LossKind) {
            self.steps = steps
            self.fractions = fractions.sorted(by: >)
            self.lossEvery = lossEvery
            self.train = train
            self.grid = grid
            self.loss = loss
        }

        func observe(_ trainer: Trainer) throws {
            let step = trainer.state.step
            var taken: LossSurface.Snapshot?
            func snapshot() throws -> LossSurface.Snapshot {
                if let taken { return taken }
                let s = try LossSurface.snapshot(trainer.network, trainer.dni, grid: grid, loss: loss, step: step)
                taken = s
                return s
            }
            if steps.contains(step) { byStep.append(try snapshot()) }
            guard step == 1 || step % lossEvery == 0 || step == trainer.totalSteps else { return }
            let value = try trainer.network.evaluate(train).loss
            last = value
            guard value.isFinite else { return }
            lowest = min(lowest, value)
            guard let initial else { initial = value; return }
            while byLevel.count < fractions.count, value <= fractions[byLevel.count] * initial {
                byLevel.append(.init(fraction: fractions[byLevel.count], trainLoss: value, snapshot: try snapshot()))
            }
        }

        var recorded: Recorded {
            Recorded(byStep: byStep, byLevel: byLevel, initialLoss: initial ?? .nan, lowestLoss: lowest, finalLoss: last)
        }
    }
}
