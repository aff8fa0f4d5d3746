// Labels the training set never shows: a network cannot learn a class it
// never sees, and when a test file carries labels beyond the training set's
// the output layer silently grows to hold them. The CLI warns with this.

/// Labels of one evaluation part (test or validation) that the training set lacks.
public struct UnseenLabels: Equatable, Sendable {
    /// "test" or "validation".
    public var part: String
    /// Ascending.
    public var labels: [Int]
}

extension DataSplit {
    /// For the test and validation parts, in that order: the labels they hold
    /// that no training example has (parts without such labels are left out).
    public func labelsMissingFromTraining() -> [UnseenLabels] {
        let trained = Set(train.labels)
        var out = [UnseenLabels]()
        for (part, set) in [("test", Optional(test)), ("validation", validation)] {
            guard let set else { continue }
            let missing = Set(set.labels).subtracting(trained)
            if !missing.isEmpty { out.append(UnseenLabels(part: part, labels: missing.map(Int.init).sorted())) }
        }
        return out
    }

    /// The labels the training set has, ascending.
    public var trainingLabels: [Int] { Set(train.labels).map(Int.init).sorted() }
}

/// Labels as a short list: "0–1", "0, 3, 7–9", elided after a dozen runs.
public func labelRanges(_ labels: [Int]) -> String {
    var runs = [String]()
    var i = 0
    while i < labels.count {
        var j = i
        while j + 1 < labels.count, labels[j + 1] == labels[j] + 1 { j += 1 }
        runs.append(j == i ? "\(labels[i])" : "\(labels[i])–\(labels[j])")
        i = j + 1
    }
    return runs.count > 12 ? runs.prefix(12).joined(separator: ", ") + ", … (\(runs.count - 12) more)"
                           : runs.joined(separator: ", ")
}
