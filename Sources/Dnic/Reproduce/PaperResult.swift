import Foundation

/// One of the paper's results as `dnic reproduce` runs it.
public protocol PaperResult: SendableMetatype {
    /// The name on the command line and of its directory: table1, fig3, …
    static var id: String { get }
    /// One line for --help.
    static var summary: String { get }
    /// Runs (or finds) its runs, writes its numbers and pictures into
    /// DIR/<id>/ and returns its report (written by `Reproduction.finish`).
    static func run(_ r: Reproduction) throws -> ResultReport
}

/// A result as a value (its id, summary and run), for lists of them.
public struct PaperResultEntry: Sendable {
    public let id: String
    public let summary: String
    let body: @Sendable (Reproduction) throws -> ResultReport

    init<R: PaperResult>(_ type: R.Type) {
        id = R.id
        summary = R.summary
        body = { try R.run($0) }
    }
}

/// Every result, in the order `all` runs them (cheapest first, so a short
/// session sees the most results).
public let paperResults: [PaperResultEntry] = [
    .init(Theorem1.self), .init(Table2.self), .init(Figure2.self), .init(Table1.self),
    .init(Figure4.self), .init(Figure3.self), .init(Figure5.self), .init(Figure8.self),
]

/// A run that measures nothing beyond its evaluations.
public struct NoMeasurement: Codable, Sendable { public init() {} }

extension Reproduction {
    /// Runs one result, timing it, and writes its report and the page.
    @discardableResult
    public func run(_ result: PaperResultEntry) throws -> ResultReport {
        let start = Date()
        var report = try result.body(self)
        report.wallSeconds = Date().timeIntervalSince(start)
        try finish(report)
        return report
    }

    /// A feed-forward network of `hidden` layers of `width` units.
    static func layers(_ hidden: Int, width: Int, activation: Activation = .relu, batchnorm: Bool = false) -> [LayerSpec] {
        Array(repeating: LayerSpec(width: width, activation: activation, batchnorm: batchnorm), count: hidden)
    }

    /// Multiply-adds of one training example through `config`'s network
    /// (weights only): the unit of work for ETAs.
    static func workPerExample(_ config: RunConfig, inputs: Int, outputs: Int) -> Double {
        var d = inputs, total = 0
        for l in config.model.layers { total += d * l.width; d = l.width }
        return Double(total + d * outputs)
    }

    /// `(name, steps, work per step)` of a run, for `ProgressTracker.begin`.
    static func planned(_ name: String, _ config: RunConfig, split: DataSplit) -> (name: String, steps: Int, workPerStep: Double) {
        let batch = min(config.training.batch, split.train.count)
        let steps = config.training.steps ?? config.training.epochs * ((split.train.count + batch - 1) / batch)
        let outputs = config.model.outputWidth(classes: config.model.classes ?? split.train.classes)
        // plus a fixed cost per step (a few tens of µs of bookkeeping), which
        // dominates the tiny full-batch models of table2 and thm1
        return (name, steps, Double(batch) * workPerExample(config, inputs: split.train.dim, outputs: outputs) + 4e5)
    }
}

/// "0.8512 ± 0.0031" (standard deviation over seeds; ± 0 for one seed).
func meanSpread(_ values: [Double], digits: Int = 4) -> String {
    let n = Double(values.count)
    guard n > 0 else { return "–" }
    let mean = values.reduce(0, +) / n
    let sd = n > 1 ? (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot() : 0
    return String(format: "%.\(digits)f ± %.\(digits)f", mean, sd)
}

func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }

func fixed(_ v: Double, _ digits: Int = 4) -> String { v.isFinite ? String(format: "%.\(digits)f", v) : "diverged" }

func scientific(_ v: Double) -> String { v.isFinite ? String(format: "%.2e", v) : "diverged" }
