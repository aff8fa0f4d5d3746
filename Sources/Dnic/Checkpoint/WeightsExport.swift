import Foundation

/// A checkpoint's network weights alone, as a safetensors file for other
/// tools (`dnic export`): no optimizer state, no interfaces (they only make
/// training signals; a trained network predicts without them), no run state.
///
/// Layouts:
/// - `dnic`: the checkpoint's own tensor names and shapes (layer{l}.weight
///   is (in, out), the transpose of PyTorch's nn.Linear).
/// - `torch`: the state_dict of a `torch.nn.Sequential`, weights (out, in).
///   Hidden layer after hidden layer: Linear, BatchNorm1d (only where the
///   layer has batch norm), the activation (ReLU, Sigmoid, Tanh, or Identity
///   for `linear`); then the output Linear, whose outputs are the logits
///   (the loss's softmax or sigmoid is not a module). So `0.weight`,
///   `0.bias`, then `1.weight`, `1.bias`, `1.running_mean`,
///   `1.running_var`, `1.num_batches_tracked` for a batch-normed first layer.
///   num_batches_tracked is stored as F32 (dnic writes F32 only;
///   load_state_dict converts it) and holds the training steps taken.
///   The metadata's `torch_sequential` is a JSON list of the modules with
///   their arguments, enough to rebuild the Sequential.
public enum WeightsExport {
    public static let format = "dnic-weights-1"

    public enum Layout: String, CaseIterable, Sendable {
        case dnic, torch
    }

    /// The file for `run`'s network in `layout`.
    public static func file(_ run: RunSnapshot, layout: Layout) throws -> SafeTensors {
        let network = run.network, params = network.parameters()
        var stored = [String: SafeTensors.Tensor]()
        var inOrder = [SafeTensors.Tensor]()
        for t in network.tensors {
            let tensor = SafeTensors.Tensor(name: t.name, shape: t.shape, values: Array(params[t.offset..<(t.offset + t.size)]))
            stored[t.name] = tensor
            inOrder.append(tensor)
        }
        var metadata = [
            "format": format, "layout": layout.rawValue, "dnic_version": DnicVersion.core,
            "input_dim": String(network.inputDim), "output_dim": String(network.outputDim), "classes": String(run.classes),
            "loss": network.description.loss.rawValue, "step": String(run.state.step),
        ]
        switch layout {
        case .dnic:
            return SafeTensors(tensors: inOrder, metadata: metadata)
        case .torch:
            let (tensors, modules) = try torchSequential(network, stored: stored, steps: run.state.step)
            let json = try JSONSerialization.data(withJSONObject: modules, options: [.sortedKeys])
            metadata["torch_sequential"] = String(decoding: json, as: UTF8.self)
            return SafeTensors(tensors: tensors, metadata: metadata)
        }
    }

    /// The Sequential's state_dict entries and its modules, in order.
    static func torchSequential(_ network: Network, stored: [String: SafeTensors.Tensor],
                                steps: Int) throws -> ([SafeTensors.Tensor], [[String: Any]]) {
        func tensor(_ name: String) throws -> SafeTensors.Tensor {
            guard let t = stored[name] else { throw DnicError("the network has no tensor '\(name)'") }
            return t
        }
        var tensors = [SafeTensors.Tensor]()
        var modules = [[String: Any]]()
        let hidden = network.description.layers
        for l in 0...hidden.count {
            // dnic's (in, out) row-major weight is nn.Linear's (out, in) transposed
            let w = try tensor("layer\(l).weight")
            let (rows, cols) = (w.shape[0], w.shape[1])
            var transposed = [Float](repeating: 0, count: w.values.count)
            for i in 0..<rows { for o in 0..<cols { transposed[o * rows + i] = w.values[i * cols + o] } }
            let linear = String(modules.count)
            tensors.append(.init(name: "\(linear).weight", shape: [cols, rows], values: transposed))
            tensors.append(.init(name: "\(linear).bias", shape: [cols], values: try tensor("layer\(l).bias").values))
            modules.append(["module": "Linear", "in_features": rows, "out_features": cols, "bias": true])
            guard l < hidden.count else { break }
            if hidden[l].batchnorm {
                let bn = String(modules.count)
                for (theirs, ours) in [("weight", "gamma"), ("bias", "beta"), ("running_mean", "running_mean"), ("running_var", "running_var")] {
                    let t = try tensor("layer\(l).bn.\(ours)")
                    tensors.append(.init(name: "\(bn).\(theirs)", shape: t.shape, values: t.values))
                }
                tensors.append(.init(name: "\(bn).num_batches_tracked", shape: [], values: [Float(steps)]))
                // the core's defaults (dnic_net_desc_defaults), which are BatchNorm1d's too
                modules.append(["module": "BatchNorm1d", "num_features": cols, "eps": 1e-5, "momentum": 0.1])
            }
            modules.append(["module": torchActivation(hidden[l].activation)])
        }
        return (tensors, modules)
    }

    static func torchActivation(_ activation: Activation) -> String {
        switch activation {
        case .relu: return "ReLU"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        case .linear: return "Identity"
        }
    }
}
