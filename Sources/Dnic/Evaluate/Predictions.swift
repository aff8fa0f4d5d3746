import CDnic
import Foundation

// What a trained network says about every row of a dataset: its class
// and, where the loss makes its outputs probabilities, how sure it is.

/// The network's class for each row of a dataset, in the dataset's order,
/// chosen exactly as the C core counts a guess correct
/// (dnic_count_correct): the largest output, or for one output the side of
/// its cut (0 for logistic, 1/2 for mse).
public struct Predictions: Sendable {
    /// One class per row, in input order.
    public let classes: [Int]
    /// The network's raw outputs, (rows, outputs) row-major.
    public let outputs: [Float]
    /// Outputs per row.
    public let width: Int
    /// Classes a row may be given (2 for one output).
    public let classCount: Int
    public let loss: LossKind

    /// Runs `network` forward (evaluation mode) on every row of `data`.
    public init(network: Network, data: Dataset) throws {
        let last = network.layerCount - 1
        let outputs = data.count == 0 ? [] : try network.activations(of: data, layer: last)
        let width = network.outputDim
        let loss = network.description.loss
        self.outputs = outputs
        self.width = width
        self.loss = loss
        classCount = max(width, 2)
        classes = (0 ..< data.count).map { row in
            let scores = outputs[row * width ..< (row + 1) * width]
            if width == 1 { return scores.first! > (loss == .mse ? 0.5 : 0) ? 1 : 0 }
            var best = 0
            for k in 1 ..< width where scores[scores.startIndex + k] > scores[scores.startIndex + best] { best = k }
            return best
        }
    }

    /// Each row's probability of each class, (rows, classCount) row-major:
    /// softmax for ce, the sigmoid of each output for logistic (of class 1
    /// for one output), as the C core defines them
    /// (dnic_loss_probabilities, what dnic_net_predict's proba gives).
    /// nil for mse, whose outputs are not probabilities.
    public var probabilities: [Float]? {
        if loss == .mse || classes.isEmpty { return loss == .mse ? nil : [] }
        var p = [Float](repeating: 0, count: outputs.count)
        let status = dnic_loss_probabilities(loss.core, outputs, classes.count, Int32(width), &p)
        guard status == DNIC_OK else { return nil }
        return width == 1 ? p.flatMap { [1 - $0, $0] } : p
    }
}
