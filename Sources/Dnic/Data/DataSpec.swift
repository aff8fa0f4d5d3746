// What --data accepts, as a value: parsed once, printed back the same way
// (description round-trips through parse), so runs can record their data.

/// A data source as named on the command line.
public enum DataSpec: Equatable, Sendable, CustomStringConvertible {
    /// "fashion-mnist": /usr/share/datasets/fashion-mnist (Debian package
    /// dataset-fashion-mnist); DNIC_FASHION_MNIST_DIR overrides the directory.
    case fashionMNIST
    /// "mnist": DNIC_MNIST_DIR or /usr/share/datasets/mnist (no Debian package).
    case mnist
    /// "idx:DIR": the four standard IDX files in DIR, each raw or .gz.
    case idx(directory: String)
    /// "csv:TRAIN[,TEST]": label in the first column (DataOptions.labelColumn).
    case csv(train: String, test: String?)
    /// "synth:NAME": one of SyntheticDataset's names.
    case synthetic(name: String)
    /// "npy:X.npy,y.npy[,Xtest.npy,ytest.npy]": NumPy features and labels;
    /// "npy:X.npy" (labels nil): features alone, rows for `dnic predict`
    /// to classify (training and eval refuse it).
    case npy(features: String, labels: String?, testFeatures: String?, testLabels: String?)
    /// "npz:FILE.npz": x_train, y_train [, x_test, y_test] (or x, y) in one archive.
    case npz(file: String)

    /// The accepted forms, for --help.
    public static let forms = kinds + " (NAME: \(SyntheticDataset.allNames))"

    /// The forms without the synthetic names: errors list those only when
    /// the value was a synth: one, which keeps every message one short line.
    static let kinds = "fashion-mnist, mnist, idx:DIR, csv:TRAIN.csv[,TEST.csv], npy:X.npy,y.npy[,XTEST.npy,YTEST.npy], npz:FILE.npz, synth:NAME"

    /// The data of a run trained on arrays in memory (the Python package's
    /// checkpoints without files): nothing dnic can read again, so `eval`
    /// and `train --resume` need --data naming the same data as files.
    public static let inMemory = "python:arrays"

    /// Parses a --data value; throws a DataError listing the accepted forms
    /// that quotes at most about 80 characters of the value (it may come
    /// from a config file, and be megabytes long).
    public static func parse(_ text: String) throws -> DataSpec {
        func fail(_ problem: String) -> DataError {
            DataError("{data} '\(pathText(text))': \(problem); expected one of \(kinds)")
        }
        switch text {
        case "fashion-mnist": return .fashionMNIST
        case "mnist": return .mnist
        default: break
        }
        guard let colon = text.firstIndex(of: ":") else { throw fail("unknown data source") }
        let kind = text[..<colon]
        let rest = String(text[text.index(after: colon)...])
        switch kind {
        case "idx":
            guard !rest.isEmpty else { throw fail("idx: needs a directory") }
            return .idx(directory: rest)
        case "csv":
            let parts = rest.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2, !parts.contains(where: \.isEmpty) else {
                throw fail("csv: takes one or two non-empty file names separated by a comma")
            }
            return .csv(train: parts[0], test: parts.count == 2 ? parts[1] : nil)
        case "npy":
            let parts = rest.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard [1, 2, 4].contains(parts.count), !parts.contains(where: \.isEmpty) else {
                throw fail("npy: takes one, two or four non-empty file names separated by commas (X.npy[,y.npy[,XTEST.npy,YTEST.npy]])")
            }
            return .npy(features: parts[0], labels: parts.count >= 2 ? parts[1] : nil, testFeatures: parts.count == 4 ? parts[2] : nil,
                        testLabels: parts.count == 4 ? parts[3] : nil)
        case "npz":
            guard !rest.isEmpty else { throw fail("npz: needs a file name") }
            return .npz(file: rest)
        case "synth":
            guard SyntheticDataset(rawValue: rest) != nil else {
                throw DataError("{data} '\(pathText(text))': unknown synthetic dataset; choose one of \(SyntheticDataset.allNames)")
            }
            return .synthetic(name: rest)
        default:
            throw fail("unknown data source kind '\(messageText(kind))'")
        }
    }

    public var description: String {
        switch self {
        case .fashionMNIST: return "fashion-mnist"
        case .mnist: return "mnist"
        case .idx(let directory): return "idx:" + directory
        case .csv(let train, let test): return "csv:" + train + (test.map { "," + $0 } ?? "")
        case .synthetic(let name): return "synth:" + name
        case .npy(let x, let y, let tx, let ty):
            return "npy:" + [x, y, tx, ty].compactMap { $0 }.joined(separator: ",")
        case .npz(let file): return "npz:" + file
        }
    }
}
