// Predictions as the CSV `dnic predict` writes: one line per input row, in
// input order.

extension Predictions {
    /// `class` (and with `probabilities`, `p0`, `p1`, … one per class) on a
    /// header line, then one line per row. Probabilities are written in
    /// Swift's shortest form that reads back as the same float.
    public func csv(probabilities withProbabilities: Bool) throws -> String {
        var probabilities: [Float]?
        if withProbabilities {
            guard let p = self.probabilities else {
                throw DnicError("the model's loss is \(loss.rawValue): its outputs are not probabilities; leave out --proba")
            }
            probabilities = p
        }
        let columns = probabilities == nil ? 0 : classCount
        var text = "class" + (0 ..< columns).map { ",p\($0)" }.joined() + "\n"
        text.reserveCapacity(classes.count * (2 + columns * 12))
        for (row, guess) in classes.enumerated() {
            text += String(guess)
            if let probabilities {
                for k in 0 ..< columns { text += "," + probabilities[row * columns + k].description }
            }
            text += "\n"
        }
        return text
    }
}
