import Foundation

/// `dnic plot`: the curves of one or several runs from their JSON Lines
/// logs (MetricsLogReader), as one LinePlot over the steps, in SVG or PNG.
/// One colour per run; train solid, validation dashed, test dotted.
public enum RunCurves {
    /// What is plotted. Loss by default: it is logged for training,
    /// validation and test alike (accuracy only for validation and test).
    public enum Metric: String, CaseIterable, Sendable {
        case loss, accuracy
    }

    public enum Format: String, Sendable {
        case svg, png
    }

    /// One run's evaluations and the label it is plotted under.
    public struct Run {
        public var path: String
        public var label: String
        /// The run id its records carry (nil: a log of `dnic reproduce`, which has none).
        public var id: String?
        public var evaluations: [EvaluationRecord]
    }

    /// The format `out` names by its extension; refused for any other.
    public static func format(of out: String) throws -> Format {
        let name = PathName.lastComponent(of: out)
        guard let dot = name.lastIndex(of: "."), let format = Format(rawValue: name[name.index(after: dot)...].lowercased()) else {
            throw UsageError("{option:out} \(out): must end in .svg or .png")
        }
        return format
    }

    /// The evaluations of the log at `path`; refused when it cannot be read,
    /// holds a line that is not a record dnic wrote, or no evaluation. A last
    /// line cut short (a run killed mid-write) is left out, as a resumed run would.
    public static func read(_ path: String) throws -> Run {
        guard let log = MetricsLogReader(path: path) else { throw UsageError("\(path): cannot read it") }
        var evaluations = [EvaluationRecord](), id: String?
        var lines = log.lines
        if let last = log.unterminated, log.object(last) != nil { lines.append(last) }
        for (n, line) in lines.enumerated() where !line.isEmpty {
            guard let object = log.object(line) else { throw UsageError("\(path): line \(n + 1) is not a JSON object; is it a log of dnic train --log?") }
            guard object["event"] as? String == "eval" else { continue }
            guard let record = log.decode(EvaluationRecord.self, line) else {
                throw UsageError("\(path): line \(n + 1) is an evaluation without its step, losses or accuracy")
            }
            evaluations.append(record)
            if id == nil { id = object["run"] as? String }
        }
        guard !evaluations.isEmpty else { throw UsageError("\(path): no evaluations in it (nothing to plot)") }
        return Run(path: path, label: PathName.lastComponent(of: path), id: id, evaluations: evaluations)
    }

    /// Labels the runs by file name; runs whose names clash by run id as
    /// well, and by the path as given where that clashes too.
    public static func labelled(_ runs: [Run]) -> [Run] {
        var out = runs
        for i in out.indices where runs.filter({ $0.label == runs[i].label }).count > 1 {
            let withID = runs[i].id.map { "\(runs[i].label) (run \($0))" }
            let clash = withID == nil || runs.filter { $0.label == runs[i].label && $0.id == runs[i].id }.count > 1
            out[i].label = clash ? runs[i].path : withID!
        }
        return out
    }

    /// The plot: per run, in its colour, the training (loss only),
    /// validation (when logged) and test curves over the steps.
    public static func plot(_ runs: [Run], metric: Metric) -> LinePlot {
        var series = [LinePlot.Series]()
        for (r, run) in runs.enumerated() {
            let e = run.evaluations
            func curve(_ kind: String, _ value: (EvaluationRecord) -> Double?, dash: String?) {
                let points = e.compactMap { v in value(v).map { (x: Double(v.step), y: $0) } }
                guard !points.isEmpty else { return }
                var s = LinePlot.Series(label: "\(run.label) \(kind)", points: points, colour: r)
                s.dashPattern = dash
                series.append(s)
            }
            switch metric {
            case .loss:
                curve("train", { $0.trainLoss }, dash: nil)
                curve("validation", { $0.validationLoss }, dash: "6 4")
                curve("test", { $0.testLoss }, dash: "2 3")
            case .accuracy:
                curve("validation", { $0.validationAccuracy }, dash: "6 4")
                curve("test", { $0.testAccuracy }, dash: "2 3")
            }
        }
        let title = metric == .loss ? "Loss over training" : "Accuracy over training"
        return LinePlot(title: title, xLabel: "step", yLabel: metric.rawValue, series: series)
    }

    /// Writes the plot to `out` in `format`, atomically.
    public static func write(_ plot: LinePlot, format: Format, to out: String) throws {
        let bytes = format == .svg ? Data(plot.svg().utf8) : try plot.png()
        try AtomicFile.write(bytes, to: out, what: "the plot")
    }

    /// A run's colour as the plot draws it.
    public static func colour(ofRun index: Int) -> String { LinePlot.palette[index % LinePlot.palette.count] }
}
