import Foundation
import Yams

/// Reading and printing run configurations: YAML (the default, and what
/// `--print-config` prints) or JSON (files ending in .json).
public enum ConfigFile {
    public static func load(path: String) throws -> RunConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DnicError("config \(path): cannot read the file (missing or unreadable)")
        }
        return try parse(data, name: path)
    }

    /// Parses configuration text; `name` ends in .json for JSON, and names
    /// the source in errors.
    public static func parse(_ data: Data, name path: String) throws -> RunConfig {
        guard let text = String(data: data, encoding: .utf8) else {
            throw DnicError("config \(path): not UTF-8 text")
        }
        do {
            if path.lowercased().hasSuffix(".json") {
                return try JSONDecoder().decode(RunConfig.self, from: data)
            }
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return RunConfig() }
            // anchors and aliases let a few bytes expand (or hash) into 2^40
            // nodes inside Yams; a run configuration never needs them
            if text.range(of: #"(^|[\s\[\{,:-])[&*][A-Za-z0-9_-]"#, options: .regularExpression) != nil {
                throw DnicError("YAML anchors and aliases (&name, *name) are not supported in a run configuration")
            }
            return try YAMLDecoder().decode(RunConfig.self, from: text)
        } catch let error as DnicError {
            throw DnicError("config \(path): \(error.message)")
        } catch let error as DecodingError {
            // our own one-line errors come back wrapped by the decoder
            if let inner = underlyingDnicError(error) { throw DnicError("config \(path): \(inner.message)") }
            throw DnicError("config \(path): \(describe(error))")
        } catch {
            let line = "\(error)".split(separator: "\n").first.map(String.init) ?? "parse error"
            throw DnicError("config \(path): not valid \(path.lowercased().hasSuffix(".json") ? "JSON" : "YAML"): \(line)")
        }
    }

    /// The effective configuration as YAML, with every default written out.
    /// Written by hand rather than by Yams's encoder, which spells 0.9 as
    /// "9e-1"; the result is read back by `load` (a test checks).
    public static func yaml(_ config: RunConfig) throws -> String {
        let o = config.optimizer, t = config.training
        var lines = ["data: \(quoted(config.data))", "model:", "  layers:"]
        if config.model.layers.isEmpty { lines[lines.count - 1] += " []" }
        for layer in config.model.layers {
            lines += ["  - width: \(layer.width)", "    activation: \(layer.activation.rawValue)",
                      "    batchnorm: \(layer.batchnorm)"]
        }
        lines += ["  loss: \(config.model.loss.rawValue)", "  init: \(config.model.initializer.rawValue)"]
        let i = config.interfaces
        let at: String
        if case .list(let l) = i.at { at = "[\(l.map(String.init).joined(separator: ", "))]" } else { at = i.at.text }
        lines += ["interfaces:", "  rule: \(i.rule.rawValue)", "  at: \(at)", "  kind: \(i.kind.rawValue)",
                  "  target: \(i.target.rawValue)", "  loss: \(i.loss.rawValue)", "  signal: \(i.signal.rawValue)",
                  "  alpha: \(i.alpha)", "  hidden: [\(i.hidden.map(String.init).joined(separator: ", "))]",
                  "  batchnorm: \(i.batchnorm)", "  warmup: \(i.warmup)", "  track-alignment: \(i.trackAlignment)"]
        if let io = i.optimizer { lines += ["  optimizer:"] + optimizerLines(io).map { "  " + $0 } }
        lines += ["optimizer:"] + optimizerLines(o)
        lines += ["training:", "  batch: \(t.batch)", "  epochs: \(t.epochs)"]
        if let steps = t.steps { lines.append("  steps: \(steps)") }
        if let every = t.evalEvery { lines.append("  eval-every: \(every)") }
        lines.append("  seed: \(t.seed)")
        if let threads = t.threads { lines.append("  threads: \(threads)") }
        lines += ["  validation: \(t.validation)", "  schedule: \(t.schedule.rawValue)"]
        if let clip = t.clipGrad { lines.append("  clip-grad: \(clip)") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func optimizerLines(_ o: OptimizerSpec) -> [String] {
        ["  kind: \(o.kind.rawValue)", "  lr: \(o.learningRate)", "  l2: \(o.l2)", "  momentum: \(o.momentum)",
         "  beta1: \(o.beta1)", "  beta2: \(o.beta2)", "  eps: \(o.eps)"]
    }

    /// A YAML double-quoted scalar (JSON string syntax is valid YAML).
    static func quoted(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
    }

    public static func json(_ config: RunConfig) throws -> String {
        var resolved = config
        resolved.optimizer.lr = config.optimizer.learningRate
        if let io = resolved.interfaces.optimizer { resolved.interfaces.optimizer?.lr = io.learningRate }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(resolved), as: UTF8.self)
    }
}

private func underlyingDnicError(_ error: Error) -> DnicError? {
    if let error = error as? DnicError { return error }
    if case .dataCorrupted(let context)? = error as? DecodingError, let inner = context.underlyingError {
        return underlyingDnicError(inner)
    }
    return nil
}
