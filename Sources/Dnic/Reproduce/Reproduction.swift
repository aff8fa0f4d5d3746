import Foundation

/// One `dnic reproduce` invocation: where results go, at which size, on
/// which data, and how progress and stops are reported. Each result
/// (`PaperResult`) plans its runs, runs them through a `RunStore` (skipping
/// the complete ones), writes its numbers and pictures, and returns a
/// `ResultReport`; `finish` writes the report's summary.md and the page.
public final class Reproduction {
    public struct Options: Sendable {
        public var out: String
        /// Reduced sizes (fewer steps, depths, seeds), for tests.
        public var quick = false
        /// The image data of table1, fig3–fig8 (Fashion-MNIST stands in for MNIST).
        public var data = DataSpec.fashionMNIST
        /// Seeds per configuration of table1 and fig4; nil: 3 (quick: 1).
        public var seeds: Int?
        /// fig4's depths; nil: 3, 5, 10, 20, 50 (quick: 3, 5).
        public var depths: [Int]?
        /// Keep each run's final checkpoint (interrupted runs always continue from theirs).
        public var checkpoints = true
        /// Run again what DIR holds, even when it was run with other settings.
        public var overwrite = false
        /// Threads, as given (recorded in the reports: numbers depend on them).
        public var threads: Int?
        public init(out: String) { self.out = out }
    }

    /// A stop (SIGINT/SIGTERM) honoured: `step` is where the interrupted
    /// run's checkpoint stands (nil: between runs).
    public struct Stopped: Error {
        public var step: Int?
        public var run: String
    }

    public let options: Options
    public let progress: ProgressTracker
    public let shouldStop: () -> Bool
    private var splits: [String: DataSplit] = [:]

    public init(options: Options, progress: ProgressTracker, shouldStop: @escaping () -> Bool = { false }) {
        self.options = options
        self.progress = progress
        self.shouldStop = shouldStop
    }

    /// `DIR/<result>`, created with its parent `DIR` when absent.
    public func directory(_ result: String) throws -> String {
        let dir = PathName.joining(options.out, result)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    public func path(_ result: String, _ file: String) throws -> String {
        PathName.joining(try directory(result), file)
    }

    /// The runs of `result` (in `DIR/<result>/runs`).
    public func store(_ result: String) throws -> RunStore {
        RunStore(directory: PathName.joining(try directory(result), "runs"), reproduction: self)
    }

    /// A dataset, loaded once per invocation (seed 1: every result sees the same splits).
    public func data(_ spec: DataSpec) throws -> DataSplit {
        if let s = splits[spec.description] { return s }
        var o = DataOptions()
        o.seed = 1
        let split = try loadData(spec, options: o)
        splits[spec.description] = split
        return split
    }

    /// How the data that ran is named in the reports.
    public var imageDataName: String {
        switch options.data {
        case .fashionMNIST: return "Fashion-MNIST (standing in for the paper's MNIST)"
        case .mnist: return "MNIST"
        default: return options.data.description
        }
    }

    /// The command that makes `result` as this invocation was asked.
    public func command(_ result: String) -> String {
        var parts = ["dnic reproduce", result, "--out", shellWord(options.out)]
        if options.quick { parts.append("--quick") }
        if options.data != .fashionMNIST { parts += ["--data", shellWord(options.data.description)] }
        if let s = options.seeds { parts += ["--seeds", "\(s)"] }
        if let d = options.depths { parts += ["--depths", d.map(String.init).joined(separator: ",")] }
        if !options.checkpoints { parts.append("--no-checkpoints") }
        // always: the numbers depend on the thread count
        parts += ["--threads", "\(options.threads ?? CoreSystem.threads)"]
        return parts.joined(separator: " ")
    }

    /// Writes the result's summary.md and result.json, then the page of
    /// every result DIR holds.
    public func finish(_ report: ResultReport) throws {
        let dir = try directory(report.id)
        try AtomicFile.write(Data(report.markdown().utf8), to: PathName.joining(dir, "summary.md"), what: "the summary")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(try encoder.encode(report) + Data("\n".utf8),
                             to: PathName.joining(dir, "result.json"), what: "the result")
        try ReportPage.write(directory: options.out)
    }
}

/// A word for a POSIX shell command line, quoted when it needs it, so a
/// printed command can be pasted as is.
public func shellWord(_ text: String) -> String {
    let plain = !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0)) }
    return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// The runs a result plans and how far they have come: which run of how
/// many, and an ETA from the work done so far in this invocation (work =
/// training samples × parameters, so a deep run counts more than a shallow
/// one). Lines go to `display`.
public final class ProgressTracker {
    public struct Line: Sendable {
        public enum Kind: Sendable { case step, finished, skipped, note }
        public var kind: Kind
        public var result: String
        public var run: String
        /// 1-based position of the run in the plan, and the plan's size.
        public var index: Int
        public var count: Int
        public var step: Int?
        public var steps: Int?
        /// Seconds left for the result's planned runs (nil until measurable).
        public var eta: Double?
        public var final: EvaluationRecord?
        public var text: String?
    }

    private let display: (Line) -> Void
    private var result = ""
    private var plan: [(name: String, work: Double, stepsTotal: Int)] = []
    private var done = Set<String>()
    private var current: (name: String, from: Int)?
    private var workDone = 0.0
    private var workStart = Date()
    private var secondsBefore = 0.0

    public init(display: @escaping (Line) -> Void) { self.display = display }

    /// A result starts: its runs by name, each with its steps and work per step.
    public func begin(_ result: String, runs: [(name: String, steps: Int, workPerStep: Double)]) {
        self.result = result
        plan = runs.map { ($0.name, Double($0.steps) * $0.workPerStep, $0.steps) }
        done = []
        current = nil
        workDone = 0
        secondsBefore = 0
    }

    public func note(_ text: String) {
        display(Line(kind: .note, result: result, run: "", index: done.count, count: plan.count, text: text))
    }

    private func position(_ name: String) -> Int { (plan.firstIndex { $0.name == name } ?? plan.count) + 1 }

    private var computedSeconds: Double { secondsBefore + (current == nil ? 0 : Date().timeIntervalSince(workStart)) }

    private func eta(extra: Double) -> Double? {
        let work = workDone + extra
        guard work > 0, computedSeconds > 0.5 else { return nil }
        let remaining = plan.filter { !done.contains($0.name) }.reduce(0.0) { $0 + $1.work } - extra
        return max(remaining, 0) * computedSeconds / work
    }

    private func workPerStep(_ name: String) -> Double {
        plan.first { $0.name == name }.map { $0.work / Double(max($0.stepsTotal, 1)) } ?? 0
    }

    func started(_ name: String, steps: Int, from: Int) {
        current = (name, from)
        workStart = Date()
        display(Line(kind: .step, result: result, run: name, index: position(name), count: plan.count, step: from, steps: steps,
                     eta: eta(extra: 0)))
    }

    func step(_ step: Int, of steps: Int) {
        guard let c = current else { return }
        let extra = Double(step - c.from) * workPerStep(c.name)
        display(Line(kind: .step, result: result, run: c.name, index: position(c.name), count: plan.count, step: step, steps: steps,
                     eta: eta(extra: extra)))
    }

    func finished(_ name: String, final: EvaluationRecord) {
        if let c = current, c.name == name {
            workDone += Double(final.step - c.from) * workPerStep(name)
            secondsBefore += Date().timeIntervalSince(workStart)
        }
        current = nil
        done.insert(name)
        display(Line(kind: .finished, result: result, run: name, index: position(name), count: plan.count, step: final.step,
                     eta: eta(extra: 0), final: final))
    }

    func skipped(_ name: String, final: EvaluationRecord) {
        done.insert(name)
        display(Line(kind: .skipped, result: result, run: name, index: position(name), count: plan.count, step: final.step,
                     final: final))
    }
}
