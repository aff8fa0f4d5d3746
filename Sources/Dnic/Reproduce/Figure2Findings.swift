import Foundation

/// Figure 2's findings. The rules were fixed before the runs they judge;
/// every number is a mean over the seeds unless a rule says per seed.
extension Figure2 {
    static func addFindings(_ outcomes: [Outcome], settings: Settings, report: inout ResultReport) {
        let seedCount = settings.seeds.count
        let seedsText = seedCount == 1 ? "1 seed" : "\(seedCount) seeds"
        func range(_ v: [Double]) -> String {
            v.count < 2 ? fixed(v.first ?? .nan, 2) : "\(fixed(v.min()!, 2))…\(fixed(v.max()!, 2))"
        }
        let first = settings.snapshots[0], lastIndex = settings.snapshots.count - 1
        let late = settings.late, earlyIndex = settings.snapshots.firstIndex(of: settings.earlyStep) ?? 0
        let earlyStep = settings.snapshots[earlyIndex]
        let singles = outcomes.filter { !$0.planned.every }, everyRuns = outcomes.filter { $0.planned.every }

        // 1. better near the loss: SG every, earliest step snapshot, top > bottom
        let nearer = everyRuns.filter { mean($0.atStep(0, top: true)) > mean($0.atStep(0, top: false)) }
        report.findings.append(.init(
            paper: "the loss approximation is better in layers closer to the true loss (the lower SGs bootstrap their targets).",
            ours: "with an SG after every hidden layer, at step \(first) the top SG's ρ exceeds the bottom one's in \(nearer.count) of "
                  + "\(everyRuns.count) runs (" + everyRuns.map { o in
                      "\(o.planned.short): \(fixed(mean(o.atStep(0, top: true)), 2)) vs \(fixed(mean(o.atStep(0, top: false)), 2))"
                  }.joined(separator: "; ") + ").",
            verdict: Verdict.counting(nearer.count, of: everyRuns.count),
            rule: "reproduced when the top interface's ρ (mean over \(seedsText)) exceeds the bottom one's at the first snapshot "
                  + "(step \(first)) in every SG-everywhere run",
            baseline: "chance ρ = 0; the seeds' range of the top and bottom ρ at step \(first): " + everyRuns.map { o in
                "\(o.planned.short) \(range(o.atStep(0, top: true))) and \(range(o.atStep(0, top: false)))"
            }.joined(separator: "; ")))

        // 2. better early, worse late: step 1000 against the late loss level; every seed must reach it, and ρ fall there
        func fell(_ o: Outcome) -> Bool {
            guard let l = o.atLevel(late, top: true) else { return false }
            return zip(o.atStep(earlyIndex, top: true), l).allSatisfy { $1 < $0 }
        }
        let fallen = singles.filter(fell)
        report.findings.append(.init(
            paper: "the loss is approximated better at the very beginning of training and the approximation degrades slowly towards "
                   + "the end (it dropped significantly when the true loss was around 0.001).",
            ours: "the single SG's ρ falls from step \(earlyStep) to training loss \(fraction(late)) of its initial value in every "
                  + "seed in \(fallen.count) of \(singles.count) runs (" + singles.map { o in
                      "\(o.planned.short): " + fixed(mean(o.atStep(earlyIndex, top: true)), 2) + " → "
                          + (o.atLevel(late, top: true).map { fixed(mean($0), 2) }
                             ?? "\(fraction(late)) reached by \(o.reached(late)) of \(seedCount) seeds")
                  }.joined(separator: "; ") + ").",
            verdict: Verdict.counting(fallen.count, of: singles.count),
            rule: "early: step \(earlyStep) (the zero-initialised SG has fitted); late: when the training loss first falls to "
                  + "\(fraction(late)) of its initial value; a single-SG run holds when every seed reaches the late level and its ρ "
                  + "there is below its early ρ (a run that never gets to the late level cannot show it, and counts against); "
                  + "reproduced when every single-SG run holds",
            baseline: "the seeds' range of the early ρ: " + singles.map { o in "\(o.planned.short) \(range(o.atStep(earlyIndex, top: true)))" }
                .joined(separator: "; ")))

        // 3. the same claim by step (the earlier form): first vs last step snapshot
        let earlyByStep = singles.filter { mean($0.atStep(0, top: true)) > mean($0.atStep(lastIndex, top: true)) }
        report.findings.append(.init(
            paper: "the loss is approximated better at the very beginning of training and the approximation degrades slowly towards "
                   + "the end (judged by step).",
            ours: "the single SG's ρ at step \(first) exceeds its ρ at step \(settings.snapshots[lastIndex]) in \(earlyByStep.count) "
                  + "of \(singles.count) runs (" + singles.map { o in
                      "\(o.planned.short): \(fixed(mean(o.atStep(0, top: true)), 2)) → \(fixed(mean(o.atStep(lastIndex, top: true)), 2))"
                  }.joined(separator: "; ") + ").",
            verdict: Verdict.counting(earlyByStep.count, of: singles.count),
            rule: "reproduced when ρ (mean over \(seedsText)) falls from the first to the last step snapshot in every single-SG run",
            baseline: "the seeds' range of ρ at step \(first): " + singles.map { o in "\(o.planned.short) \(range(o.atStep(0, top: true)))" }
                .joined(separator: "; ")))

        // 4. good for the majority of learning: ρ > 0 early and at the levels on the way to the late one
        let before = settings.during
        func tracks(_ o: Outcome) -> Bool {
            mean(o.atStep(earlyIndex, top: true)) > 0 && before.allSatisfy { f in o.atLevel(f, top: true).map { mean($0) > 0 } ?? false }
        }
        let tracking = outcomes.filter(tracks)
        report.findings.append(.init(
            paper: "linear SGs create good approximations of the loss for the majority of learning (the implied loss tracks the true one).",
            ours: "the top SG's implied loss correlates positively with the true loss at step \(earlyStep) and at training loss "
                  + before.map(fraction).joined(separator: " and ") + " of its initial value in \(tracking.count) of "
                  + "\(outcomes.count) runs (" + outcomes.map { o in
                      "\(o.planned.short) \(o.planned.every ? "every" : "single"): \(fixed(mean(o.atStep(earlyIndex, top: true)), 2)), "
                          + before.map { f in o.atLevel(f, top: true).map { fixed(mean($0), 2) } ?? "—" }.joined(separator: ", ")
                  }.joined(separator: "; ") + ").",
            verdict: Verdict.counting(tracking.count, of: outcomes.count),
            rule: "reproduced when, in every run, the top interface's ρ (mean over \(seedsText)) is above 0 at step \(earlyStep) "
                  + "and at the loss level on the way to the late one (" + before.map(fraction).joined(separator: ", ")
                  + " of the initial loss; a level a seed never reaches counts against)",
            baseline: "chance ρ = 0"))

        // 5. log loss on nearly separable data struggles late, MSE does not
        if let mse = singles.first(where: { $0.planned.grid == "grid" && $0.planned.loss == .mse }),
           let log = singles.first(where: { $0.planned.grid == "grid" && $0.planned.loss == .logistic }) {
            let m = mse.atLevel(late, top: true), g = log.atLevel(late, top: true)
            let held = m.map { mean($0) > 0 } ?? false && (m.flatMap { m in g.map { g in mean(m) > mean(g) } } ?? false)
            report.findings.append(.init(
                paper: "with log loss on nearly separable data a linear SG has problems modelling the loss close to the end of training, "
                       + "while there is no such problem for MSE.",
                ours: "single SG on the 10%-random grid at training loss \(fraction(late)) of its initial value: ρ "
                      + (m.map { fixed(mean($0), 2) } ?? "not reached") + " for MSE, " + (g.map { fixed(mean($0), 2) } ?? "not reached")
                      + " for log loss.",
                verdict: held ? .reproduced : .not,
                rule: "reproduced when, at the late level (\(fraction(late)) of the initial loss, reached by every seed of both runs), "
                      + "MSE's ρ (mean over \(seedsText)) is above 0 and above log loss's",
                baseline: "chance ρ = 0; the seeds' range: MSE " + (m.map(range) ?? "—") + ", log " + (g.map(range) ?? "—")))
        }
    }
}
