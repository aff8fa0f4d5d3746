// The one entry point: a DataSpec (what --data said) plus options in, a
// validated train / validation / test split out.

import Foundation

/// Where the named datasets live and how to get them when they do not.
enum KnownDataset {
    static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"
    static let fashionMNISTEnvironment = "DNIC_FASHION_MNIST_DIR"
    static let mnistDirectory = "/usr/share/datasets/mnist"
    static let mnistEnvironment = "DNIC_MNIST_DIR"

    static let fashionMNISTHint =
        "install it with `apt-get install dataset-fashion-mnist` or set \(fashionMNISTEnvironment) to a directory holding the four IDX files"
    static let mnistHint =
        "no Debian package provides MNIST: download its four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) into a directory and use {data} idx:DIR, or set \(mnistEnvironment)"
    static let idxHint =
        "idx:DIR expects train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte there, each raw or .gz"

    /// The environment variable wins when set and non-empty.
    static func directory(_ variable: String, default fallback: String, environment: [String: String]) -> String {
        if let value = environment[variable], !value.isEmpty { return value }
        return fallback
    }
}

/// File-system questions asked before opening anything, so a missing path
/// gets a message about the path rather than an errno.
enum FileManagerProbe {
    enum Kind { case missing, file, directory }

    static func kind(_ path: String) -> Kind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .missing }
        return isDirectory.boolValue ? .directory : .file
    }

    static func isFile(_ path: String) -> Bool { kind(path) == .file }
}

/// Loads the dataset `spec` names, holding out a validation part when
/// `options.validationFraction` > 0. Throws a one-line `DataError`.
public func loadData(_ spec: DataSpec, options: DataOptions) throws -> DataSplit {
    try loadData(spec, options: options, environment: ProcessInfo.processInfo.environment)
}

/// As `loadData(_:options:)`, reading the dataset-directory overrides
/// (DNIC_FASHION_MNIST_DIR, DNIC_MNIST_DIR) from `environment`.
public func loadData(_ spec: DataSpec, options: DataOptions, environment: [String: String]) throws -> DataSplit {
    try checkOptions(options)
    let name = spec.description
    var split: DataSplit
    switch spec {
    case .fashionMNIST, .mnist, .idx:
        let location = try locateIDX(spec, environment: environment)
        split = try loadIDXFiles(location, classes: options.classes ?? 10, name: name)
    case .csv(let train, let test):
        split = try loadCSV(train: train, test: test, options: options, name: name)
    case .synthetic(let kind):
        guard let dataset = SyntheticDataset(rawValue: kind) else {
            throw DataError("synth:\(messageText(kind)): unknown synthetic dataset; choose one of \(SyntheticDataset.allNames)")
        }
        split = try makeSynthetic(dataset, options: options)
    }
    if options.validationFraction > 0 {
        split.validation = try holdOut(&split.train, fraction: options.validationFraction, seed: options.seed,
                                       stream: .validation, train: name + "/train", part: name + "/validation")
    }
    return split
}

/// Finds the four IDX files of an IDX-backed spec (fashion-mnist, mnist,
/// idx:DIR) without reading them, e.g. for `dnic info`. The error says where
/// it looked and how to install the dataset.
public func locateIDX(_ spec: DataSpec,
                      environment: [String: String] = ProcessInfo.processInfo.environment) throws -> IDXLocation {
    switch spec {
    case .fashionMNIST:
        let directory = KnownDataset.directory(KnownDataset.fashionMNISTEnvironment,
                                               default: KnownDataset.fashionMNISTDirectory, environment: environment)
        return try locateIDX(directory: directory, hint: KnownDataset.fashionMNISTHint)
    case .mnist:
        let directory = KnownDataset.directory(KnownDataset.mnistEnvironment,
                                               default: KnownDataset.mnistDirectory, environment: environment)
        return try locateIDX(directory: directory, hint: KnownDataset.mnistHint)
    case .idx(let directory):
        return try locateIDX(directory: directory, hint: KnownDataset.idxHint)
    case .csv, .synthetic:
        throw DataError("\(pathText(spec.description)): not an IDX dataset")
    }
}

/// Rejects options no loader could honour, before any file is read.
func checkOptions(_ options: DataOptions) throws {
    let v = options.validationFraction
    guard v >= 0, v < 1 else {
        throw DataError("validation fraction must be in [0, 1), got \(v)")
    }
    let t = options.testFraction
    guard t > 0, t < 1 else {
        throw DataError("test fraction must be in (0, 1), got \(t)")
    }
    if let classes = options.classes { try checkClasses(classes) }
}
