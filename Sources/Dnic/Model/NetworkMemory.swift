import Foundation

/// How much memory a network of a model takes in the C core, checked
/// before it is built, so `--width 1000000` is refused naming the setting
/// (the core's own refusal, DNIC_ERR_SIZE, cannot say which setting) and a
/// network larger than the machine is refused rather than swapped or killed.
extension ModelDescription {
    /// The core's bound on a network's floats (net.c's MAX_FLOATS).
    static let coreMaxFloats = 68_719_476_736.0

    /// Floats the core allocates, as net.c counts them: per dense layer 4
    /// per weight and 6 more per unit (parameters, gradients, optimizer
    /// moments, batch-norm buffers), and 7 activation buffers per unit and
    /// batch row. `weights` and `activations` are the two parts.
    func floats(inputDim: Int, outputDim: Int, maxBatch: Int) -> (weights: Double, activations: Double) {
        var weights = 0.0, activations = 0.0
        var previous = Double(inputDim)
        for width in layers.map(\.width) + [outputDim] {
            weights += 4 * (previous * Double(width) + 6 * Double(width))
            activations += 7 * Double(maxBatch) * Double(width)
            previous = Double(width)
        }
        return (weights, activations)
    }

    /// Refuses a network that would not fit the core's bound or this
    /// machine's memory, naming the setting that makes it large: the batch
    /// when activations dominate, else the widest hidden layer.
    func checkFits(inputDim: Int, outputDim: Int, maxBatch: Int) throws {
        let f = floats(inputDim: inputDim, outputDim: outputDim, maxBatch: maxBatch)
        let bytes = 4 * (f.weights + f.activations)
        let physical = Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
        let limit = min(4 * Self.coreMaxFloats, physical > 0 ? physical : .infinity)
        guard bytes > limit else { return }
        let room = limit < 4 * Self.coreMaxFloats ? "this machine has \(byteText(physical)) of memory"
            : "dnic's networks are limited to \(byteText(4 * Self.coreMaxFloats))"
        let need = "the network would need \(byteText(bytes)) (parameters, gradients, optimizer state and activations for batches of \(maxBatch)); \(room)"
        if f.activations > f.weights {
            throw SettingError("training.batch", maxBatch, need)
        }
        let widest = layers.indices.max { layers[$0].width < layers[$1].width }
        guard let widest else { throw SettingError("model.layers", layers.count, need) }
        throw SettingError("model.layers[\(widest)].width", layers[widest].width, need)
    }
}

/// "23.4 GiB", "14.6 TiB": a size for a message.
func byteText(_ bytes: Double) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = bytes, unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(Int(value)) bytes" : String(format: "%.1f %@", value, units[unit])
}
