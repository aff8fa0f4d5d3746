// The one entry point: a DataSpec (what --data said), or the record of a
// checkpoint's data files, plus options in; a validated train / validation /
// test split (or the test set alone) and the record of the files read out.

import Foundation

/// Where the named datasets live and how to get them when they do not.
enum KnownDataset {
    static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"
    static let fashionMNISTEnvironment = "DNIC_FASHION_MNIST_DIR"
    static let mnistDirectory = "/usr/share/datasets/mnist"
    static let mnistEnvironment = "DNIC_MNIST_DIR"

    static let fashionMNISTHint =
        "install it with `apt-get install dataset-fashion-mnist` or set \(fashionMNISTEnvironment) to a "
        + "directory holding the four IDX files"
    static let mnistHint =
        "no Debian package provides MNIST: download its four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
        + "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) into a directory and use {data} idx:DIR, or set \(mnistEnvironment)"
    static let idxHint =
        "idx:DIR expects train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
        + "t10k-labels-idx1-ubyte there, each raw or .gz"

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
/// `options.validationFraction` > 0, with the record of the files it read
/// (`DataSplit.record`). Throws a one-line `DataError`.
public func loadData(_ spec: DataSpec, options: DataOptions) throws -> DataSplit {
    try loadData(spec, options: options, environment: ProcessInfo.processInfo.environment)
}

/// As `loadData(_:options:)`, reading the dataset-directory overrides
/// (DNIC_FASHION_MNIST_DIR, DNIC_MNIST_DIR) from `environment`.
public func loadData(_ spec: DataSpec, options: DataOptions, environment: [String: String]) throws -> DataSplit {
    try checkOptions(options)
    return try load(try DataSource(spec, environment: environment), options: options)
}

/// Loads the files a checkpoint recorded (their absolute paths, whatever
/// the working directory), split as the run split them (with the recorded
/// seed, where the record has one).
public func loadData(recorded: DataRecord, options: DataOptions) throws -> DataSplit {
    try checkOptions(options)
    return try load(try DataSource(recorded: recorded), options: recorded.replaying(options))
}

/// The test set of `spec` alone, reading only the files it comes from, and
/// the record of those files. `wholeFiles` (what `dnic eval --data` means: a
/// file given to score is test data): csv:FILE is FILE whole; otherwise a
/// CSV without a test file gives its seeded hold-out, as in training.
/// csv:TRAIN,TEST is TEST whole (TRAIN is not read), IDX data its t10k
/// pair, synthetic data its generated test set, either way.
public func loadTestData(_ spec: DataSpec, options: DataOptions, wholeFiles: Bool,
                         environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (test: Dataset, read: DataRecord) {
    try checkOptions(options)
    return try loadTest(try DataSource(spec, environment: environment), options: options, wholeFiles: wholeFiles)
}

/// The rows `dnic predict` classifies: as `loadTestData` with `wholeFiles`,
/// except that a CSV's rows may come without their label (new data has
/// none): a row of `features` fields is all features, one of `features + 1`
/// has its label, any other width is a `CSVWidthError` naming both. Where
/// `labelled` is false, the dataset's labels are all 0 and stand for none.
public func loadRowsToClassify(_ spec: DataSpec, options: DataOptions, features: Int,
                               environment: [String: String] = ProcessInfo.processInfo.environment)
    throws -> (rows: Dataset, labelled: Bool, read: DataRecord) {
    try checkOptions(options)
    let source = try DataSource(spec, environment: environment)
    if case .npy(let x, nil, _, _) = spec {
        let t = try npyFeatures(path: x)
        let rows = Dataset(name: source.name + "/test", features: t.features, labels: [Int32](repeating: 0, count: t.rows),
                           count: t.rows, dim: t.dim, classes: options.classes ?? 2)
        return (rows, false, try source.record([.trainFeatures], asTest: true, seed: options.seed))
    }
    guard case .csv = spec else {
        let (test, read) = try loadTest(source, options: options, wholeFiles: true)
        return (test, true, read)
    }
    let role: DataRole = source.has(.test) ? .test : .train
    let (rows, labelled) = try loadCSVFile(source.path(role), options: options, name: source.name + "/test", labelsIfWider: features)
    return (rows, labelled, try source.record([role], asTest: role == .train, seed: options.seed))
}

/// The test set a run was tested on, from the files its checkpoint recorded.
public func loadTestData(recorded: DataRecord, options: DataOptions) throws -> (test: Dataset, read: DataRecord) {
    try checkOptions(options)
    return try loadTest(try DataSource(recorded: recorded), options: recorded.replaying(options), wholeFiles: false)
}

/// A dataset's files, found but not read: what `--data` said, and for each
/// part of the dataset the path to open (as the user gave it, or as a
/// checkpoint recorded it).
struct DataSource {
    let spec: DataSpec
    let files: [(role: DataRole, path: String)]

    init(_ spec: DataSpec, environment: [String: String]) throws {
        self.spec = spec
        switch spec {
        case .fashionMNIST, .mnist, .idx:
            let l = try locateIDX(spec, environment: environment)
            files = [(.trainImages, l.trainImages), (.trainLabels, l.trainLabels),
                     (.testImages, l.testImages), (.testLabels, l.testLabels)]
        case .csv(let train, let test):
            files = [(.train, train)] + (test.map { [(.test, $0)] } ?? [])
        case .npy(let x, let y, let testX, let testY):
            files = [(.trainFeatures, x)] + (y.map { [(.trainLabels, $0)] } ?? [])
                + (testX.flatMap { tx in testY.map { [(.testFeatures, tx), (.testLabels, $0)] } } ?? [])
        case .npz(let file):
            files = [(.train, file)]
        case .synthetic:
            files = []
        }
    }

    init(recorded: DataRecord) throws {
        try recorded.check()
        spec = try DataSpec.parse(recorded.data)
        files = recorded.files.map { ($0.role, $0.path) }
    }

    var name: String { spec.description }

    /// The path of the file holding `role` (the roles a kind of data reads
    /// are checked when a source is made).
    func path(_ role: DataRole) -> String { files.first { $0.role == role }!.path }

    func has(_ role: DataRole) -> Bool { files.contains { $0.role == role } }

    /// The files of `roles` measured now (after the loaders' own checks, so
    /// a bad file gets their message), `role` renamed where a file is read
    /// as another part (a CSV given alone to score is test data).
    func record(_ roles: [DataRole], asTest: Bool = false, seed: UInt64) throws -> DataRecord {
        let measured = try files.filter { roles.contains($0.role) }.map {
            try DataFile.measure(role: asTest ? $0.role.asTest : $0.role, path: $0.path)
        }
        return DataRecord(data: name, seed: seed, files: measured)
    }

    func synthetic(_ kind: String) throws -> SyntheticDataset {
        guard let dataset = SyntheticDataset(rawValue: kind) else {
            throw DataError("synth:\(messageText(kind)): unknown synthetic dataset; choose one of \(SyntheticDataset.allNames)")
        }
        return dataset
    }
}

/// Every part of `source`, validation held out as asked.
private func load(_ source: DataSource, options: DataOptions) throws -> DataSplit {
    let name = source.name
    var split: DataSplit
    switch source.spec {
    case .fashionMNIST, .mnist, .idx:
        let location = IDXLocation(directory: "", trainImages: source.path(.trainImages), trainLabels: source.path(.trainLabels),
                                   testImages: source.path(.testImages), testLabels: source.path(.testLabels))
        split = try loadIDXFiles(location, classes: options.classes ?? 10, name: name)
    case .csv:
        split = try loadCSV(train: source.path(.train), test: source.has(.test) ? source.path(.test) : nil,
                            options: options, name: name)
    case .synthetic(let kind):
        split = try makeSynthetic(try source.synthetic(kind), options: options)
    case .npy:
        try requireNpyLabels(source)
        let train = try loadNpyPair(features: source.path(.trainFeatures), labels: source.path(.trainLabels), classes: options.classes)
        let test = source.has(.testFeatures)
            ? try loadNpyPair(features: source.path(.testFeatures), labels: source.path(.testLabels), classes: options.classes) : nil
        split = try splitNpy(train: train, test: test, testName: source.has(.testFeatures) ? pathText(source.path(.testFeatures)) : "",
                             options: options, name: name)
    case .npz:
        let archive = try NpzArchive(path: source.path(.train))
        split = try splitNpy(train: try archive.train(classes: options.classes), test: try archive.test(classes: options.classes),
                             testName: archive.testName, options: options, name: name)
    }
    if options.validationFraction > 0 {
        split.validation = try holdOut(&split.train, fraction: options.validationFraction, seed: options.seed,
                                       stream: .validation, train: name + "/train", part: name + "/validation")
    }
    split.record = try source.record(source.files.map(\.role), seed: options.seed)
    return split
}

/// The test part of `source` alone (see `loadTestData`).
private func loadTest(_ source: DataSource, options: DataOptions, wholeFiles: Bool) throws -> (test: Dataset, read: DataRecord) {
    let name = source.name + "/test"
    switch source.spec {
    case .fashionMNIST, .mnist, .idx:
        let test = try loadIDX(images: source.path(.testImages), labels: source.path(.testLabels),
                               classes: options.classes ?? 10, name: name)
        return (test, try source.record([.testImages, .testLabels], seed: options.seed))
    case .csv:
        if source.has(.test) {
            return (try loadCSVFile(source.path(.test), options: options, name: name).data, try source.record([.test], seed: options.seed))
        }
        if wholeFiles {
            return (try loadCSVFile(source.path(.train), options: options, name: name).data,
                    try source.record([.train], asTest: true, seed: options.seed))
        }
        let split = try loadCSV(train: source.path(.train), test: nil, options: options, name: source.name)
        return (split.test, try source.record([.train], seed: options.seed))
    case .synthetic(let kind):
        return (try makeSynthetic(try source.synthetic(kind), options: options).test, try source.record([], seed: options.seed))
    case .npy:
        try requireNpyLabels(source)
        if source.has(.testFeatures) {
            let t = try loadNpyPair(features: source.path(.testFeatures), labels: source.path(.testLabels), classes: options.classes)
            return (npyDataset(t, options: options, name: name), try source.record([.testFeatures, .testLabels], seed: options.seed))
        }
        let t = try loadNpyPair(features: source.path(.trainFeatures), labels: source.path(.trainLabels), classes: options.classes)
        if wholeFiles {
            return (npyDataset(t, options: options, name: name),
                    try source.record([.trainFeatures, .trainLabels], asTest: true, seed: options.seed))
        }
        let split = try splitNpy(train: t, test: nil, testName: "", options: options, name: source.name)
        return (split.test, try source.record([.trainFeatures, .trainLabels], seed: options.seed))
    case .npz:
        let archive = try NpzArchive(path: source.path(.train))
        if let test = try archive.test(classes: options.classes) {
            return (npyDataset(test, options: options, name: name), try source.record([.train], seed: options.seed))
        }
        let train = try archive.train(classes: options.classes)
        if wholeFiles {
            return (npyDataset(train, options: options, name: name), try source.record([.train], asTest: true, seed: options.seed))
        }
        let split = try splitNpy(train: train, test: nil, testName: "", options: options, name: source.name)
        return (split.test, try source.record([.train], seed: options.seed))
    }
}

/// npy:X.npy alone is rows to classify: training and eval need labels.
private func requireNpyLabels(_ source: DataSource) throws {
    guard source.has(.trainLabels) else {
        throw DataError("{data} \(pathText(source.name)): features without labels; give the labels too (npy:X.npy,y.npy); "
                        + "`dnic predict` classifies unlabelled rows")
    }
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
    case .csv, .synthetic, .npy, .npz:
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
