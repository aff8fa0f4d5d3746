import CDnic

/// The paper's Figure 8: how linearly decodable the classes are from each
/// layer. One probe per layer (the input as layer 0, hidden layers 1 … H),
/// fitted on the layer's evaluation-mode activations on the training set
/// and scored by argmax on the training and the test set. Two kinds:
/// - softmax (the default, the paper's probes after Alain & Bengio): a
///   multinomial logistic regression trained to convergence (SoftmaxProbe);
/// - ridge: least squares to one-hot labels, closed form (the core's
///   dnic_ridge_fit: no iterations), fast; the penalty is `ridge` × (training
///   rows), so one setting fits any dataset size.
public enum LinearProbes {
    public enum Kind: String, CaseIterable, Codable, Sendable {
        case softmax, ridge
    }

    public struct Result: Codable, Equatable, Sendable {
        /// 0 = the input, l = hidden layer l
        public var layer: Int
        public var width: Int
        public var trainAccuracy: Double
        public var testAccuracy: Double
        /// softmax probes: L-BFGS iterations, and whether a convergence
        /// rule (not the iteration cap) stopped them
        public var iterations: Int? = nil
        public var converged: Bool? = nil
    }

    public static let defaultKind = Kind.softmax
    public static let defaultRidge = 1e-3

    public static func run(_ network: Network, train: Dataset, test: Dataset, kind: Kind = defaultKind,
                           ridge: Double = defaultRidge, l2: Double = SoftmaxProbe.defaultL2, inputProbe: Result? = nil,
                           progress: (Int) -> Void = { _ in }) throws -> [Result] {
        guard ridge >= 0, ridge.isFinite else { throw DnicError("probe ridge \(ridge): must be a finite number >= 0") }
        guard l2 >= 0, l2.isFinite else { throw DnicError("probe l2 \(l2): must be a finite number >= 0") }
        let classes = max(train.classes, test.classes, 2)
        var results = [Result]()
        for layer in 0 ..< network.layerCount {  // input, then every hidden layer
            progress(layer)
            if layer == 0, let inputProbe {  // the same data's input, probed already (for another model)
                results.append(inputProbe)
                continue
            }
            let trainX = layer == 0 ? train.features : try network.activations(of: train, layer: layer - 1)
            let testX = layer == 0 ? test.features : try network.activations(of: test, layer: layer - 1)
            let width = layer == 0 ? train.dim : network.width(ofLayer: layer - 1)
            let w: [Float]
            var iterations: Int?, converged: Bool?
            do {
                switch kind {
                case .ridge:
                    w = try fit(trainX, count: train.count, width: width, labels: train.labels, classes: classes,
                                lambda: ridge * Double(train.count))
                case .softmax:
                    let f = try SoftmaxProbe.fit(trainX, count: train.count, width: width, labels: train.labels,
                                                 classes: classes, l2: l2)
                    (w, iterations, converged) = (f.w, f.iterations, f.converged)
                }
            } catch let error as DnicError {
                throw DnicError("\(layer == 0 ? "the input" : "hidden layer \(layer)"): \(error.message)", status: error.status)
            }
            results.append(Result(layer: layer, width: width,
                                  trainAccuracy: try accuracy(trainX, count: train.count, width: width, w: w, classes: classes,
                                                              labels: train.labels),
                                  testAccuracy: try accuracy(testX, count: test.count, width: width, w: w, classes: classes,
                                                             labels: test.labels),
                                  iterations: iterations, converged: converged))
        }
        return results
    }

    /// W ((width + 1) x classes, the last row the bias) by ridge least squares.
    public static func fit(_ x: [Float], count: Int, width: Int, labels: [Int32], classes: Int, lambda: Double) throws -> [Float] {
        var w = [Float](repeating: 0, count: (width + 1) * classes)
        let status = x.withUnsafeBufferPointer { xp in
            labels.withUnsafeBufferPointer { yp in
                w.withUnsafeMutableBufferPointer { wp in
                    dnic_ridge_fit(xp.baseAddress, count, Int32(width), yp.baseAddress, Int32(classes), lambda, wp.baseAddress)
                }
            }
        }
        if status == DNIC_ERR_UNAVAILABLE {
            throw DnicError("linear probes need LAPACK: the BLAS library dnic loaded has none (see `dnic info`; "
                            + "DNIC_BLAS=builtin loads no BLAS)")
        }
        if status == DNIC_ERR_ARG, lambda == 0 {
            // dposv: the normal equations are singular, as they are for a
            // layer with dead (always 0) or constant units or a pixel that
            // never varies; only a penalty makes the answer unique
            throw DnicError("fitting a linear probe: its values are linearly dependent (dead or constant units), "
                            + "so least squares without a penalty has no unique answer; use a positive ridge penalty")
        }
        try DnicError.check(status, "fitting a linear probe")
        return w
    }

    public static func accuracy(_ x: [Float], count: Int, width: Int, w: [Float], classes: Int, labels: [Int32]) throws -> Double {
        var correct = 0
        let status = x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                labels.withUnsafeBufferPointer { yp in
                    dnic_linear_count_correct(xp.baseAddress, count, Int32(width), wp.baseAddress, Int32(classes), yp.baseAddress, &correct)
                }
            }
        }
        try DnicError.check(status, "scoring a linear probe")
        return Double(correct) / Double(max(count, 1))
    }
}
