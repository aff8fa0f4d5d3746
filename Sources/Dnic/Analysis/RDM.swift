import CDnic

/// The paper's Figure 3: representational dissimilarity matrices. For a
/// fixed set of test points ordered by label, layer l's RDM holds
/// 1 − corr(h_l(x_i), h_l(x_j)) (Pearson correlation across the layer's
/// units), so points a layer represents alike are near 0 and classes show
/// as dark diagonal blocks. A point whose activation is constant (every
/// unit equal, e.g. all ReLUs off) has no correlation: 1 with every other.
public enum RDM {
    /// `perClass` points of each class, chosen with `seed`, ordered by label.
    public static func points(_ data: Dataset, perClass: Int, seed: UInt64) throws -> [Int] {
        var byClass = [[Int]](repeating: [], count: data.classes)
        for (i, y) in data.labels.enumerated() { byClass[Int(y)].append(i) }
        var rng = seed
        var chosen = [Int]()
        for (c, rows) in byClass.enumerated() where !rows.isEmpty {
            guard rows.count >= perClass else {
                throw DnicError("\(data.name): class \(c) has \(rows.count) test points; the RDM takes \(perClass) of each")
            }
            var order = rows.map { Int32($0) }
            shuffle(&order, rng: &rng)
            chosen += order.prefix(perClass).map { Int($0) }.sorted()
        }
        return chosen
    }

    /// The (n x n) RDM of n rows of width d, row-major.
    public static func matrix(_ h: [Float], rows n: Int, width d: Int) -> [Float] {
        precondition(h.count == n * d)
        var z = [Float](repeating: 0, count: n * d)
        for r in 0 ..< n {
            let row = h[r * d ..< (r + 1) * d]
            let mean = row.reduce(0.0) { $0 + Double($1) } / Double(d)
            let norm = row.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }.squareRoot()
            guard norm > 0 else { continue }
            for (j, v) in row.enumerated() { z[r * d + j] = Float((Double(v) - mean) / norm) }
        }
        var g = [Float](repeating: 0, count: n * n)
        z.withUnsafeBufferPointer { zp in
            g.withUnsafeMutableBufferPointer { gp in
                dnic_sgemm(0, 1, Int32(n), Int32(n), Int32(d), 1, zp.baseAddress, Int32(d), zp.baseAddress, Int32(d), 0, gp.baseAddress,
                           Int32(n))
            }
        }
        return g.map { 1 - $0 }
    }

    /// L2 distance between two RDMs over their within-class diagonal blocks
    /// (the (i, j) with labels[i] == labels[j]).
    public static func blockDistance(_ a: [Float], _ b: [Float], labels: [Int32]) -> Double {
        let n = labels.count
        var s = 0.0
        for i in 0 ..< n {
            for j in 0 ..< n where labels[i] == labels[j] {
                let d = Double(a[i * n + j]) - Double(b[i * n + j])
                s += d * d
            }
        }
        return s.squareRoot()
    }

    /// Mean dissimilarity of pairs of one class (i != j) and of different classes.
    public static func meanDissimilarity(_ r: [Float], labels: [Int32]) -> (within: Double, between: Double) {
        let n = labels.count
        var w = 0.0, wn = 0, b = 0.0, bn = 0
        for i in 0 ..< n {
            for j in 0 ..< n where i != j {
                if labels[i] == labels[j] { w += Double(r[i * n + j]); wn += 1 } else { b += Double(r[i * n + j]); bn += 1 }
            }
        }
        return (wn > 0 ? w / Double(wn) : .nan, bn > 0 ? b / Double(bn) : .nan)
    }

    /// Every hidden layer's RDM of `points` through `network`.
    public static func matrices(_ network: Network, points: Dataset) throws -> [[Float]] {
        try (0 ..< network.layerCount - 1).map { l in
            matrix(try network.activations(of: points, layer: l), rows: points.count, width: network.width(ofLayer: l))
        }
    }
}
