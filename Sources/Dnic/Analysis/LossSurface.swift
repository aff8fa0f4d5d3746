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
            let n = labels.count, dh = dh
            precondition(h.count == n * dh)
            let a = a.map(Double.init), c = c.map(Double.init), b = b?.map(Double.init)
            var out = [Double](repeating: 0, count: n)
            var x = [Double](repeating: 0, count: dh)
            // raw pointers: this runs for every grid point at every snapshot, in debug builds too
            a.withUnsafeBufferPointer { ap in
                h.withUnsafeBufferPointer { hp in
                    x.withUnsafeMutableBufferPointer { xp in
                        for r in 0 ..< n {
                            for j in 0 ..< dh { xp[j] = Double(hp[r * dh + j]) }
                            var quad = 0.0, lin = 0.0
                            let row = b.map { _ in Int(labels[r]) * dh }
                            for i in 0 ..< dh {
                                // hᵀ A_s h = hᵀ A h: the antisymmetric part adds nothing to the quadratic form
                                var ai = 0.0
                                let base = i * dh
                                for j in 0 ..< dh { ai += ap[base + j] * xp[j] }
                                quad += xp[i] * ai
                                var coef = c[i]
                                if let b, let row { coef += b[row + i] }
                                lin += coef * xp[i]
                            }
                            out[r] = 0.5 * quad + lin
                        }
                    }
                }
            }
            return out
        }
    }

    /// One point in training: per linear interface (bottom first), the
    /// implied loss over the grid and its rank correlation with the true loss.
    public struct Snapshot: Codable, Sendable {
        public struct Layer: Codable, Sendable {
            /// The boundary: after hidden layer `boundary` (layers + 1: on the output).
            public var boundary: Int
            public var spearman: Double
            public var implied: [Float]
        }
        public var step: Int
        public var trueLoss: [Float]
        public var layers: [Layer]
    }

    /// The snapshot of `network` with `dni` on the grid dataset `grid`
    /// (a square number of points, row-major from y = −1).
    public static func snapshot(_ network: Network, _ dni: DNI, grid: Dataset, loss: LossKind, step: Int) throws -> Snapshot {
        let side = Int(Double(grid.count).squareRoot().rounded())
        guard side * side == grid.count else { throw DnicError("\(grid.name): \(grid.count) test points are no square grid") }
        let out = try network.activations(of: grid, layer: network.layerCount - 1)
        let trueLoss = try exampleLosses(outputs: out, labels: grid.labels, classes: network.outputDim, loss: loss)
        var layers = [Snapshot.Layer]()
        for i in dni.boundaries.indices.reversed() {  // bottom first
            guard let sg = Linear(dni, interface: i) else { continue }
            let k = dni.boundaries[i]
            let implied = sg.implied(h: try network.activations(of: grid, layer: k - 1), labels: grid.labels)
            layers.append(.init(boundary: k, spearman: spearman(implied, trueLoss), implied: implied.map(Float.init)))
        }
        return Snapshot(step: step, trueLoss: trueLoss.map(Float.init), layers: layers)
    }

    /// Snapshots of a run in training, each taken right after one of
    /// `steps` (an observer for Trainer.run's afterStep or RunStore.run's
    /// observe): how `dnic analyze loss-surface --at` and Figure 2 take them.
    public final class Recorder {
        public let steps: [Int]
        let grid: Dataset
        let loss: LossKind
        public private(set) var snapshots = [Snapshot]()

        public init(steps: [Int], grid: Dataset, loss: LossKind) {
            self.steps = steps
            self.grid = grid
            self.loss = loss
        }

        public func observe(_ trainer: Trainer) throws {
            let step = trainer.state.step
            if steps.contains(step) { snapshots.append(try snapshot(trainer.network, trainer.dni, grid: grid, loss: loss, step: step)) }
        }
    }

    /// A snapshot's panels: the true loss, then the implied loss at each
    /// interface (bottom first); `outputBoundary` names the interface on p.
    public static func panels(_ s: Snapshot, outputBoundary: Int, prefix: String = "") -> [HeatmapPanel] {
        let side = Int(Double(s.trueLoss.count).squareRoot().rounded())
        // row 0 of a heatmap is its top: the grid's last row (y = +1) goes first
        func image(_ v: [Float]) -> [Double] { (0 ..< side).reversed().flatMap { r in v[r * side ..< (r + 1) * side].map(Double.init) } }
        return [HeatmapPanel(title: "\(prefix)step \(s.step): true loss", rows: side, cols: side, values: image(s.trueLoss))]
            + s.layers.map { l in
                HeatmapPanel(title: "\(prefix)step \(s.step): implied at \(l.boundary == outputBoundary ? "output" : "h\(l.boundary)")",
                             rows: side, cols: side, values: image(l.implied))
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
