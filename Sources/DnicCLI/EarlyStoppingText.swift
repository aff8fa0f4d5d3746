import Dnic
import Foundation

/// What `dnic train` says about early stopping: the best evaluation, why a
/// run stopped, and how a resumed run continues the count.
enum EarlyStoppingText {
    /// "best at step 80 (0.1234)"
    static func best(_ best: EarlyStopping.Best) -> String {
        String(format: "best at step %d (%.4f)", best.step, best.value)
    }

    /// "validation_loss has not improved for 3 evaluations; best at step 80 (0.1234)"
    static func stopped(_ stopping: EarlyStopping) -> String {
        let n = stopping.sinceBest
        return "\(stopping.monitor.rawValue) has not improved for \(n) evaluation\(n == 1 ? "" : "s")"
            + (stopping.best.map { "; " + best($0) } ?? "")
    }

    /// The header's line for a resumed run with early stopping: the count
    /// it continues, or that it starts afresh (`kept`: the checkpoint held one).
    static func resumed(_ stopping: EarlyStopping, from resume: String, kept: Bool) -> String {
        guard kept else {
            return "early stopping starts counting afresh: \(pathText(resume)) holds no early-stopping state "
                + "(saved without --early-stop or by an earlier dnic)"
        }
        let n = stopping.sinceBest
        let best = stopping.best.map { String(format: "best %@ %.4f at step %d", stopping.monitor.rawValue, $0.value, $0.step) }
            ?? "no \(stopping.monitor.rawValue) yet"
        return "early stopping continues: \(best), \(n) evaluation\(n == 1 ? "" : "s") since, patience \(stopping.patience)"
    }
}
