// A checkpoint scored on labelled data in detail: accuracy and loss as the
// C core computes them, and from the network's own guesses (Predictions)
// the confusion matrix, each class's accuracy and macro-F1.

/// Scores of a network on one labelled dataset.
public struct Evaluation: Sendable {
    /// Examples scored.
    public let count: Int
    /// Top-1 accuracy and mean loss, from the C core (dnic_net_evaluate).
    public let accuracy: Double
    public let loss: Double
    /// confusion[true][predicted]: how many examples of class `true` the
    /// network called `predicted`.
    public let confusion: [[Int]]

    public init(network: Network, data: Dataset, classes: Int) throws {
        let scored = try network.evaluate(data)
        let predictions = try Predictions(network: network, data: data)
        let n = max(classes, predictions.classCount, data.classes)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
        for (label, guess) in zip(data.labels, predictions.classes) { confusion[Int(label)][guess] += 1 }
        count = data.count
        accuracy = scored.accuracy
        loss = scored.loss
        self.confusion = confusion
    }

    /// The examples of each class (the confusion matrix's row sums).
    public var support: [Int] { confusion.map { $0.reduce(0, +) } }

    /// The examples classified correctly (the diagonal's sum).
    public var correct: Int { confusion.indices.reduce(0) { $0 + confusion[$1][$1] } }

    /// Each class's accuracy (recall: correct / its examples); nil for a
    /// class with no example.
    public var perClassAccuracy: [Double?] {
        confusion.indices.map { k in support[k] == 0 ? nil : Double(confusion[k][k]) / Double(support[k]) }
    }

    /// Each class's F1 = 2·TP / (2·TP + FP + FN); 0 where the class is
    /// neither present nor predicted (so it adds nothing but still counts).
    public var f1: [Double] {
        confusion.indices.map { k in
            let tp = confusion[k][k]
            let fn = support[k] - tp
            let fp = confusion.indices.reduce(0) { $0 + confusion[$1][k] } - tp
            let denominator = 2 * tp + fp + fn
            return denominator == 0 ? 0 : Double(2 * tp) / Double(denominator)
        }
    }

    /// The unweighted mean of F1 over the classes present in the data or
    /// predicted (a class absent from both would only dilute it).
    public var macroF1: Double {
        let predicted = confusion.indices.map { k in confusion.indices.reduce(0) { $0 + confusion[$1][k] } }
        let counted = confusion.indices.filter { support[$0] > 0 || predicted[$0] > 0 }
        guard !counted.isEmpty else { return 0 }
        let scores = f1
        return counted.reduce(0.0) { $0 + scores[$1] } / Double(counted.count)
    }
}
