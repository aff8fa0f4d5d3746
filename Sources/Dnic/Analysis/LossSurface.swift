import CDnic

/// The paper's Figure 2: the loss a linear synthetic gradient implies.
/// A linear SG predicts ∂L/∂h = hA + yB + C, which is the gradient of
/// L̂(h) = ½ h A_s hᵀ + (yB + C) hᵀ (A_s = (A + Aᵀ)/2, the symmetric part:
/// the antisymmetric part has no potential), up to a constant. Over the
/// points of a 2-D grid dataset, L̂ at each point's activation h(x) is set
/// beside the true loss of the network's output for that point; Spearman's
/// rank correlation says how well L̂ orders the points as L does.
public enum LossSurface {
    /// A linear interface's parameters: A (dh x dh, row-major, s = hA + …),
    /// B (labels x dh, nil for `nolabel`), C (dh).
    public struct Linear {
        public var dh: Int
        public var a: [Float]
        public var b: [Float]?
        public var c: [Float]

        public init(dh: Int, a: [Float], b: [Float]?, c: [Float]) {
            precondition(a.count == dh * dh && c.count == dh && (b.map { $0.count % dh == 0 } ?? true))
            self.dh = dh
            self.a = a
            self.b = b
            self.c = c
        }

        /// Interface i of a DNI, if it is linear (linear or nolabel kind).
        public init?(_ dni: DNI, interface i: Int) {
            let table = dni.tensorTable.filter { $0.interface == i }
            let values = dni.block(i)
            func tensor(_ name: String) -> (shape: [Int], values: [Float])? {
                guard let t = table.first(where: { $0.name.hasSuffix(".\(name)") }) else { return nil }
                return (t.shape, Array(values[t.offset ..< t.offset + t.size]))
            }
            guard let a = tensor("A"), a.shape.count == 2, a.shape[0] == a.shape[1], let c = tensor("C"),
                  table.allSatisfy({ ["A", "B", "C"].contains($0.name.split(separator: ".").last.map(String.init) ?? "") })
            else { return nil }
            self.init(dh: a.shape[0], a: a.values, b: tensor("B")?.values, c: c.values)
        }

        /// L̂ for each row of h (n x dh) with its label.
        public func implied(h: [Float], labels: [Int32]) -> [Double] {
            let n = labels.count
            precondition(h.count == n * dh)
            return (0 ..< n).map { r in
                let x = h[r * dh ..< (r + 1) * dh].map(Double.init)
                var quad = 0.0, lin = 0.0
                for i in 0 ..< dh {
                    // hᵀ A_s h = hᵀ A h: the antisymmetric part adds nothing to the quadratic form
                    var ai = 0.0
                    for j in 0 ..< dh { ai += Double(a[i * dh + j]) * x[j] }
                    quad += x[i] * ai
                    var coef = Double(c[i])
                    if let b { coef += Double(b[Int(labels[r]) * dh + i]) }
                    lin += coef * x[i]
                }
                return 0.5 * quad + lin
            }
        }
    }

    /// The loss of each example (the core's loss on one row at a time),
    /// from outputs (n x k) and labels.
    public static func exampleLosses(outputs: [Float], labels: [Int32], classes k: Int, loss: LossKind) throws -> [Double] {
        try labels.indices.map { r in
            var value: Float = 0
            let status = outputs.withUnsafeBufferPointer { p in
                withUnsafePointer(to: labels[r]) { y in
                    dnic_loss_forward_backward(loss.core, &value, nil, p.baseAddress! + r * k, y, nil, 1, Int32(k))
                }
            }
            if status != DNIC_OK, status != DNIC_ERR_NONFINITE { try DnicError.check(status, "the loss of example \(r)") }
            return Double(value)
        }
    }

    /// Spearman's rank correlation (ties get their average rank); NaN when
    /// either side is constant.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count)
        return pearson(ranks(x), ranks(y))
    }

    static func ranks(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var rank = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, v[order[j + 1]] == v[order[i]] { j += 1 }
            for k in i ... j { rank[order[k]] = Double(i + j) / 2 + 1 }
            i = j + 1
        }
        return rank
    }

    static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan
    }
}
