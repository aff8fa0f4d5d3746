import ArgumentParser
import Dnic
import Foundation

/// `dnic analyze rdm` (Figure 3): RDMs of every hidden layer for a fixed,
/// label-ordered set of test points, models side by side.
struct RDMAnalysis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rdm",
        abstract: "Representational dissimilarity matrices of every hidden layer (the paper's Figure 3).",
        discussion: "--per-class test points of each class (seeded choice, ordered by label); per hidden layer RDM = 1 - corr(h(x_i), h(x_j)). Writes rdm.png / rdm.svg (a row per model, a column per layer), rdm-distance.svg (per layer, the L2 distance between its within-class diagonal blocks and the last hidden layer's, SG positions marked), rdm.json and rdm.csv (those distances, and the mean within- and between-class dissimilarity per layer). Several checkpoints must share one architecture.")

    @OptionGroup var options: AnalysisOptions

    @Option(help: "Dataset (as for train). (default: the checkpoints' own)")
    var data: String?

    @Option(parsing: .unconditional, help: "Test points per class. (default: 40)", transform: ArgumentValue.integer)
    var perClass = 40

    @Option(help: "Seed of the choice of points. (default: 1)", transform: ArgumentValue.seed)
    var seed: UInt64 = 1

    @Option(help: "Hidden layers to draw, e.g. 1,5,10 (the distances cover every layer). (default: all)")
    var layers: String?

    func run() throws {
        guard perClass >= 2, perClass <= 10_000 else { throw UsageError("--per-class \(perClass): must be between 2 and 10000") }
        let models = try options.prepare(files: RDM.files) { try RDM.check($0, data: data, layers: layers) }
        let result = try RDM.analyse(models, data: data, perClass: perClass, seed: seed, layers: layers, into: options.out,
                                     notes: options.notes)
        for r in result.models {
            try Console.out.write("\(r.model): distance to the last layer "
                                  + r.layers.map { String(format: "h%d %.1f", $0.layer, $0.distanceToLast) }.joined(separator: ", "))
        }
        try Console.out.write("wrote \(options.path("rdm.png")) (and .svg), rdm-distance.svg, rdm.json, rdm.csv")
    }
}
