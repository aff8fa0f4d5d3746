import Foundation

/// How well a claim of the paper held here; decided by each result's code
/// from its numbers (a stated rule), never written by hand.
public enum Verdict: String, Codable, Sendable, Comparable {
    case reproduced, partly, not

    /// All reproduced → reproduced; none → not; else partly.
    public static func combined(_ parts: [Verdict]) -> Verdict {
        if parts.isEmpty { return .not }
        if parts.allSatisfy({ $0 == .reproduced }) { return .reproduced }
        if parts.allSatisfy({ $0 == .not }) { return .not }
        return .partly
    }

    /// reproduced when `held` of `of` checks hold, not when none, else partly.
    public static func counting(_ held: Int, of: Int) -> Verdict {
        of == 0 || held == 0 ? .not : held == of ? .reproduced : .partly
    }

    public static func < (a: Verdict, b: Verdict) -> Bool {
        let order: [Verdict] = [.not, .partly, .reproduced]
        return order.firstIndex(of: a)! < order.firstIndex(of: b)!
    }
}

/// One result of the paper as dnic reproduced it: what the paper claims,
/// what we measured, the verdict, and the tables and pictures. Rendered as
/// summary.md and as a section of index.html.
public struct ResultReport: Codable, Sendable {
    /// One claim: the paper's sentence, the rule that decides it (fixed in
    /// code before any outcome was seen), the baseline the rule compares
    /// against (measured in the same run: backprop of other seeds, chance,
    /// the model at init), ours with the numbers, and the verdict.
    public struct Finding: Codable, Sendable {
        public var paper: String
        public var ours: String
        public var verdict: Verdict
        public var rule: String
        /// What the numbers are compared with, as measured in this run; nil
        /// where the rule needs none (a closed-form optimum, a sign).
        public var baseline: String?
        public init(paper: String, ours: String, verdict: Verdict, rule: String, baseline: String? = nil) {
            self.paper = paper
            self.ours = ours
            self.verdict = verdict
            self.rule = rule
            self.baseline = baseline
        }
    }

    public struct Table: Codable, Sendable {
        public var caption: String
        public var header: [String]
        public var rows: [[String]]
        public init(caption: String, header: [String], rows: [[String]]) {
            self.caption = caption
            self.header = header
            self.rows = rows
        }
    }

    /// A picture in the result's directory, captioned like the paper's figures.
    public struct Figure: Codable, Sendable {
        public var file: String
        public var caption: String
        public init(file: String, caption: String) {
            self.file = file
            self.caption = caption
        }
    }

    public var id: String
    public var title: String
    /// Which data ran, said in every output.
    public var data: String
    public var command: String
    public var quick: Bool
    public var findings: [Finding]
    public var tables: [Table]
    public var figures: [Figure]
    /// Choices of ours where the paper's supplement would decide.
    public var setup: String
    public var notes: [String]
    /// Runs planned, and how many were complete in DIR already.
    public var runs: Int
    public var skippedRuns: Int
    /// Seconds of training and measuring summed over the runs (the same
    /// whether or not the result was interrupted), and this invocation's
    /// wall time.
    public var computeSeconds: Double
    public var wallSeconds: Double
    public var dnicVersion: String
    public var verdict: Verdict { Verdict.combined(findings.map(\.verdict)) }

    public init(id: String, title: String, data: String, command: String, quick: Bool, setup: String) {
        self.id = id
        self.title = title
        self.data = data
        self.command = command
        self.quick = quick
        self.setup = setup
        findings = []
        tables = []
        figures = []
        notes = []
        runs = 0
        skippedRuns = 0
        computeSeconds = 0
        wallSeconds = 0
        dnicVersion = DnicVersion.core
    }

    enum CodingKeys: String, CodingKey {
        case id, title, data, command, quick, findings, tables, figures, setup, notes, runs, verdict
        case skippedRuns = "skipped_runs", computeSeconds = "compute_seconds", wallSeconds = "wall_seconds"
        case dnicVersion = "dnic_version"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        title = try c.decode(String.self, forKey: .title)
        data = try c.decode(String.self, forKey: .data)
        command = try c.decode(String.self, forKey: .command)
        quick = try c.decode(Bool.self, forKey: .quick)
        findings = try c.decode([Finding].self, forKey: .findings)
        tables = try c.decode([Table].self, forKey: .tables)
        figures = try c.decode([Figure].self, forKey: .figures)
        setup = try c.decode(String.self, forKey: .setup)
        notes = try c.decode([String].self, forKey: .notes)
        runs = try c.decode(Int.self, forKey: .runs)
        skippedRuns = try c.decode(Int.self, forKey: .skippedRuns)
        computeSeconds = try c.decode(Double.self, forKey: .computeSeconds)
        wallSeconds = try c.decode(Double.self, forKey: .wallSeconds)
        dnicVersion = try c.decode(String.self, forKey: .dnicVersion)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(title, forKey: .title)
        try c.encode(data, forKey: .data)
        try c.encode(command, forKey: .command)
        try c.encode(quick, forKey: .quick)
        try c.encode(findings, forKey: .findings)
        try c.encode(tables, forKey: .tables)
        try c.encode(figures, forKey: .figures)
        try c.encode(setup, forKey: .setup)
        try c.encode(notes, forKey: .notes)
        try c.encode(runs, forKey: .runs)
        try c.encode(skippedRuns, forKey: .skippedRuns)
        try c.encode(computeSeconds, forKey: .computeSeconds)
        try c.encode(wallSeconds, forKey: .wallSeconds)
        try c.encode(dnicVersion, forKey: .dnicVersion)
        try c.encode(verdict, forKey: .verdict)
    }

    /// summary.md: the verdict first, then each claim beside ours, the
    /// tables, the pictures and how they were made.
    public func markdown() -> String {
        var s = "# \(title) — \(verdict.rawValue)\n\n"
        s += "Data: \(data)\(quick ? " · quick sizes (--quick): the qualitative checks only" : "").\n\n"
        // the rule (and its baseline) before the numbers, as a reviewer reads them
        for f in findings {
            s += "- **\(f.verdict.rawValue)** — *Paper:* \(f.paper) *Rule:* \(sentence(f.rule))"
            if let b = f.baseline { s += " *Baseline:* \(sentence(b))" }
            s += " *Ours:* \(f.ours)\n"
        }
        s += "\n"
        for t in tables {
            s += "**\(t.caption)**\n\n| " + t.header.joined(separator: " | ") + " |\n|"
                + t.header.map { _ in "---" }.joined(separator: "|") + "|\n"
            for r in t.rows { s += "| " + r.joined(separator: " | ") + " |\n" }
            s += "\n"
        }
        for f in figures { s += "![\(f.caption)](\(f.file))\n\n*\(f.caption)*\n\n" }
        s += "Setup: \(setup)\n\n"
        for n in notes { s += "Note: \(n)\n\n" }
        s += "Command: `\(command)` — \(runs) runs (\(skippedRuns) found complete), \(Self.duration(computeSeconds)) of compute, "
             + "\(Self.duration(wallSeconds)) wall time this invocation; dnic \(dnicVersion).\n"
        return s
    }

    /// A phrase closed with a full stop, so the next label reads as a new sentence.
    func sentence(_ text: String) -> String { text.hasSuffix(".") ? text : text + "." }

    /// "41 s", "6.2 min", "1.3 h".
    public static func duration(_ s: Double) -> String {
        if s < 90 { return String(format: "%.0f s", s) }
        if s < 5400 { return String(format: "%.1f min", s / 60) }
        return String(format: "%.1f h", s / 3600)
    }
}
