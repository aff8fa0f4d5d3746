import Dnic
import Foundation

/// Human output of a training run: on a terminal a live progress line on
/// stderr, rewritten in place; one stdout line per evaluation either way,
/// written and checked as it happens (a failed write throws OutputError).
final class Report {
    let quiet: Bool
    let live: Bool
    /// Under async: each block's target staleness beside its busy share.
    var showStaleness = false
    private var lineShown = false

    init(quiet: Bool) {
        self.quiet = quiet
        live = !quiet && isatty(STDERR_FILENO) != 0
    }

    func show(_ event: TrainEvent) throws {
        if quiet { return }
        switch event {
        case let .progress(step, total, epoch, loss, rate, eta, blocks, lr):
            guard live else { return }
            var text = String(format: "step %d/%d  epoch %.2f  loss %.4f  lr %.3g  %.0f samples/s  ETA %@",
                              step, total, epoch, loss, lr, rate, Report.duration(eta))
            if !blocks.isEmpty { text += "  blocks busy " + Report.busy(blocks, separator: "/") }
            if showStaleness { text += Report.staleness(blocks) }
            Console.err("\r\u{1B}[K\(text)")
            lineShown = true
        case let .evaluation(r):
            clearLine()
            var text = String(format: "step %d  epoch %.2f  train loss %.4f  test loss %.4f  test acc %.4f",
                              r.step, r.epoch, r.trainLoss, r.testLoss, r.testAccuracy)
            if let vl = r.validationLoss, let va = r.validationAccuracy {
                text += String(format: "  val loss %.4f  val acc %.4f", vl, va)
            }
            for i in r.interfaces ?? [] {
                text += String(format: "  sg%d loss %.3g", i.layer, i.loss)
                if let a = i.alignment { text += String(format: " cos %.3f", a) }
            }
            if let blocks = r.blocks {
                text += "  blocks busy " + Report.busy(blocks, separator: "/")
                if showStaleness { text += Report.staleness(blocks) }
            }
            text += String(format: "  %.0f samples/s  %.1f s", r.samplesPerSecond, r.seconds)
            try Console.out.write(text)
        }
    }

    func finish() { clearLine() }

    private func clearLine() {
        if lineShown {
            Console.err("\r\u{1B}[K")
            lineShown = false
        }
    }

    /// Each block's busy share, "98%/25%" (bottom first).
    static func busy(_ blocks: [BlockRecord], separator: String) -> String {
        blocks.map { String(format: "%.0f%%", 100 * $0.busyShare) }.joined(separator: separator)
    }

    /// "  staleness 1.4/0.9 (max 3/2)": the blocks with an interface, bottom first; "" if none has trained yet.
    static func staleness(_ blocks: [BlockRecord]) -> String {
        let with = blocks.filter { $0.stalenessMean != nil }
        guard !with.isEmpty else { return "" }
        return "  staleness " + with.map { String(format: "%.1f", $0.stalenessMean!) }.joined(separator: "/")
            + " (max " + with.map { String($0.stalenessMax ?? 0) }.joined(separator: "/") + ")"
    }

    static func duration(_ seconds: Double) -> String {
        // beyond a million hours (a rate near zero) there is nothing to say, and Int() would trap
        guard seconds.isFinite, seconds >= 0, seconds < 3.6e9 else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
