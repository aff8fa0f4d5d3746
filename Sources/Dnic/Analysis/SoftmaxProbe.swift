import CDnic

/// A softmax (multinomial logistic regression) probe, trained to
/// convergence by the core's dnic_softmax_probe_fit: full-batch L-BFGS from
/// W = 0 on the mean cross-entropy plus (l2/2)‖W‖² (bias not penalised),
/// stopping when ‖∇‖∞ falls to 1e-3 of its value at W = 0, when an
/// iteration lowers the loss by less than 1e-9 (relative), when float32
/// precision allows no further decrease, or after 1000 iterations (the
/// only stop that counts as not converged).
public enum SoftmaxProbe {
    /// The small penalty that makes the minimiser unique (and finite on
    /// separable data), on the mean loss: no per-dataset scaling needed.
    public static let defaultL2 = 1e-4
    public static let maxIterations = Int(dnic_softmax_probe_defaults().max_iterations)

    public struct Fit: Sendable {
        /// (width + 1) x classes, the last row the bias (as LinearProbes.fit)
        public var w: [Float]
        public var iterations: Int
        /// false when the iteration cap stopped it
        public var converged: Bool
        public var loss: Double
    }

    public static func fit(_ x: [Float], count: Int, width: Int, labels: [Int32], classes: Int,
                           l2: Double = defaultL2) throws -> Fit {
        var w = [Float](repeating: 0, count: (width + 1) * classes)
        var config = dnic_softmax_probe_defaults()
        config.l2 = l2
        var info = dnic_softmax_probe_info()
        let status = x.withUnsafeBufferPointer { xp in
            labels.withUnsafeBufferPointer { yp in
                w.withUnsafeMutableBufferPointer { wp in
                    dnic_softmax_probe_fit(xp.baseAddress, count, Int32(width), yp.baseAddress, Int32(classes), &config,
                                           wp.baseAddress, &info)
                }
            }
        }
        if status != DNIC_OK {
            let detail = withUnsafeBytes(of: info.detail) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw DnicError("fitting a softmax probe: "
                            + (detail.isEmpty ? String(cString: dnic_status_str(status)) : detail), status: status)
        }
        return Fit(w: w, iterations: Int(info.iterations), converged: info.stop != DNIC_PROBE_STOP_MAX_ITERATIONS,
                   loss: info.loss)
    }
}
