import Foundation

/// A network's parameters in a safetensors file, with the run
/// configuration (the text `--print-config` prints) in `__metadata__`.
/// Tensor names are the C core's: layer{l}.weight, layer{l}.bias,
/// layer{l}.bn.{gamma,beta,running_mean,running_var}.
public enum Checkpoint {
    public static let format = "dnic-checkpoint-1"

    public static func save(_ network: Network, interfaces: DNI? = nil, config: RunConfig, step: Int, classes: Int,
                            to path: String) throws {
        let block = network.parameters()
        var tensors = network.tensors.map {
            SafeTensors.Tensor(name: $0.name, shape: $0.shape, values: Array(block[$0.offset..<($0.offset + $0.size)]))
        }
        tensors += (interfaces?.tensors ?? []).map { SafeTensors.Tensor(name: $0.name, shape: $0.shape, values: $0.values) }
        let metadata = [
            "format": format, "dnic_version": DnicVersion.core, "config": try ConfigFile.yaml(config),
            "step": String(step), "input_dim": String(network.inputDim), "output_dim": String(network.outputDim),
            "classes": String(classes),
        ]
        try SafeTensors(tensors: tensors, metadata: metadata).write(to: path)
    }

    public struct Loaded {
        public let config: RunConfig
        public let network: Network
        public let interfaces: DNI?
        public let step: Int
        public let classes: Int
    }

    /// Reads and checks a checkpoint, then builds its network.
    public static func load(path: String, maxBatch: Int = 1024) throws -> Loaded {
        let file = try SafeTensors.read(path: path)
        func bad(_ why: String) -> DnicError { DnicError("\(path): \(why)") }
        guard file.metadata["format"] == format else {
            throw bad("not a dnic checkpoint (metadata format is \(file.metadata["format"].map { "'\($0)'" } ?? "missing"))")
        }
        guard let configText = file.metadata["config"] else { throw bad("no model description in the metadata") }
        let config = try ConfigFile.parse(Data(configText.utf8), name: "\(path) (metadata config)")
        guard let inputDim = file.metadata["input_dim"].flatMap(Int.init), inputDim > 0,
              let outputDim = file.metadata["output_dim"].flatMap(Int.init), outputDim > 0,
              let classes = file.metadata["classes"].flatMap(Int.init), classes > 0,
              let step = file.metadata["step"].flatMap(Int.init) else {
            throw bad("metadata lacks input_dim, output_dim, classes or step")
        }
        let network = try Network(config.model, inputDim: inputDim, outputDim: outputDim, maxBatch: maxBatch,
                                  seed: config.training.seed)
        var block = [Float](repeating: 0, count: network.parameterCount)
        let expected = network.tensors
        for t in expected {
            guard let stored = file.tensor(t.name) else {
                throw bad("tensor '\(t.name)' is missing: the file does not match its own model description")
            }
            guard stored.shape == t.shape else {
                throw bad("tensor '\(t.name)' has shape \(stored.shape), the model description needs \(t.shape)")
            }
            block.replaceSubrange(t.offset..<(t.offset + t.size), with: stored.values)
        }
        var known = Set(expected.map(\.name))
        var interfaces: DNI?
        if try !config.interfaces.boundaries(hidden: config.model.layers.count).isEmpty {
            let dni = try DNI(network: network, spec: config.interfaces, labelWidth: max(classes, 2), seed: 0)
            for t in dni.tensors {
                guard let stored = file.tensor(t.name) else { throw bad("tensor '\(t.name)' is missing") }
                guard stored.shape == t.shape else {
                    throw bad("tensor '\(t.name)' has shape \(stored.shape), the interfaces need \(t.shape)")
                }
                guard stored.values.allSatisfy(\.isFinite) else { throw bad("tensor '\(t.name)' contains NaN or infinity") }
                try dni.setTensor(t.name, stored.values)
                known.insert(t.name)
            }
            interfaces = dni
        }
        if let extra = file.tensors.first(where: { !known.contains($0.name) }) {
            throw bad("tensor '\(extra.name)' is not part of the model description")
        }
        do { try network.setParameters(block) } catch { throw bad("parameters contain NaN or infinity") }
        return Loaded(config: config, network: network, interfaces: interfaces, step: step, classes: classes)
    }
}
