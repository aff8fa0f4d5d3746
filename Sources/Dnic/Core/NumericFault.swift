/// Where a training step met a NaN or an infinity: what the one line that
/// stops the run names.
public enum NumericFault: Equatable, Sendable {
    /// A tensor, or its optimizer state (Adam's second moment overflows
    /// first: the square of a large gradient), became NaN or infinite in
    /// its update.
    case update(tensor: String)
    /// A tensor's gradient was NaN or infinite (caught before the update).
    case gradient(tensor: String)
    /// The loss of the interface after hidden layer `layer` (1-based) is
    /// NaN or too large for a float.
    case interfaceLoss(layer: Int)

    init(tensor: String, gradient: Int32) {
        self = gradient != 0 ? .gradient(tensor: tensor) : .update(tensor: tensor)
    }

    /// "the gradient of layer1.weight is NaN or infinite", for a message.
    public var description: String {
        switch self {
        case .update(let t): return "\(t) or its optimizer state became NaN or infinite in its update"
        case .gradient(let t): return "the gradient of \(t) is NaN or infinite"
        case .interfaceLoss(let l): return "the loss of the interface after hidden layer \(l) is NaN or infinite"
        }
    }
}
