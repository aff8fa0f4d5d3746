// An Evaluation said three ways: an aligned table for people (`dnic eval
// --per-class`), JSON for programs (`dnic eval --json FILE`) and the
// confusion matrix alone as CSV (`dnic eval --csv FILE`).

import Foundation

extension Evaluation {
    /// Per-class accuracy, then the confusion matrix (rows: true class,
    /// columns: predicted class), every column right-aligned.
    public var perClassTable: String {
        let accuracies = perClassAccuracy
        let scores = f1
        var rows = [["class", "examples", "correct", "accuracy", "F1"]]
        for k in confusion.indices {
            rows.append([String(k), String(support[k]), String(confusion[k][k]),
                         accuracies[k].map { String(format: "%.4f", $0) } ?? "-", String(format: "%.4f", scores[k])])
        }
        var matrix = [["true\\predicted"] + confusion.indices.map(String.init)]
        for k in confusion.indices { matrix.append([String(k)] + confusion[k].map(String.init)) }
        return aligned(rows) + "\nconfusion matrix (rows: true class, columns: predicted class)\n" + aligned(matrix)
    }

    /// The confusion matrix as the CSV `--csv` writes: a header
    /// `true\predicted,0,1,…`, then one row per true class, its label first.
    public var confusionCSV: String {
        var text = "true\\predicted" + confusion.indices.map { ",\($0)" }.joined() + "\n"
        for k in confusion.indices { text += String(k) + confusion[k].map { ",\($0)" }.joined() + "\n" }
        return text
    }

    /// The JSON `--json` writes (keys sorted, so two runs diff cleanly).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(EvaluationJSON(self)) + Data("\n".utf8)
    }
}

/// The fields of `dnic eval --json`.
private struct EvaluationJSON: Encodable {
    struct PerClass: Encodable {
        let `class`: Int
        let examples: Int
        let correct: Int
        let accuracy: Double?
        let f1: Double

        enum CodingKeys: String, CodingKey { case `class`, examples, correct, accuracy, f1 }

        /// accuracy as null, not left out, for a class with no example
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(self.class, forKey: .class)
            try c.encode(examples, forKey: .examples)
            try c.encode(correct, forKey: .correct)
            try c.encode(accuracy, forKey: .accuracy)
            try c.encode(f1, forKey: .f1)
        }
    }

    let examples: Int
    let correct: Int
    let accuracy: Double
    let loss: Double
    let macro_f1: Double
    let per_class: [PerClass]
    /// confusion_matrix[true][predicted]
    let confusion_matrix: [[Int]]

    init(_ e: Evaluation) {
        examples = e.count
        correct = e.correct
        accuracy = e.accuracy
        loss = e.loss
        macro_f1 = e.macroF1
        let accuracies = e.perClassAccuracy, scores = e.f1
        per_class = e.confusion.indices.map {
            PerClass(class: $0, examples: e.support[$0], correct: e.confusion[$0][$0], accuracy: accuracies[$0], f1: scores[$0])
        }
        confusion_matrix = e.confusion
    }
}

/// `rows` as lines of right-aligned columns two spaces apart.
private func aligned(_ rows: [[String]]) -> String {
    let widths = rows.reduce(into: [Int]()) { widths, row in
        for (i, cell) in row.enumerated() {
            if i == widths.count { widths.append(0) }
            widths[i] = max(widths[i], cell.count)
        }
    }
    return rows.map { row in
        row.enumerated().map { String(repeating: " ", count: widths[$0.offset] - $0.element.count) + $0.element }
            .joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}
