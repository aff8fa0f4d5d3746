/// The paper's Figure 5: how much of a network's weight sits in each
/// hidden layer. For hidden layers l = 1 … H (the output layer left out),
/// ‖W_l‖²_F / Σ_k ‖W_k‖²_F: squared Frobenius norms of the weight matrices
/// (biases and batch-norm parameters not counted), normalised to sum to 1
/// so networks of different scales compare.
public enum WeightNorms {
    /// Index l-1 holds hidden layer l's share.
    public static func normalised(_ network: Network) -> [Double] {
        let hidden = network.layerCount - 1
        guard hidden > 0 else { return [] }
        let params = network.parameters()
        var squares = [Double](repeating: 0, count: hidden)
        for t in network.tensors {
            guard let l = layerOfWeight(t.name), l < hidden else { continue }
            var s = 0.0
            for v in params[t.offset ..< t.offset + t.size] { s += Double(v) * Double(v) }
            squares[l] = s
        }
        let total = squares.reduce(0, +)
        return squares.map { total > 0 ? $0 / total : 0 }
    }

    /// "layer3.weight" -> 3 (the core's tensor names).
    static func layerOfWeight(_ name: String) -> Int? {
        guard name.hasPrefix("layer"), name.hasSuffix(".weight") else { return nil }
        return Int(name.dropFirst(5).dropLast(7))
    }
}
