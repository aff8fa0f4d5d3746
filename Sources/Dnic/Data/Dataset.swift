// The value types every loader returns. Loaders validate everything before
// building these, so code downstream never re-checks shapes or labels.

/// A labelled dataset held as one row-major block.
///
/// `features` is (count, dim), row-major, so a batch is a contiguous slice that
/// can be handed to the C core without copying. IDX pixels are scaled to
/// [0, 1]; CSV features are kept as written; labels lie in `0..<classes`.
public struct Dataset: Sendable {
    public var name: String
    public var features: [Float]
    public var labels: [Int32]
    public var count: Int
    public var dim: Int
    public var classes: Int

    public init(name: String, features: [Float], labels: [Int32], count: Int, dim: Int, classes: Int) {
        precondition(features.count == count * dim && labels.count == count,
                     "Dataset \(name): features/labels do not match count \(count) x dim \(dim)")
        self.name = name
        self.features = features
        self.labels = labels
        self.count = count
        self.dim = dim
        self.classes = classes
    }

    /// The examples at `indices`, in that order (used by the seeded splits).
    public func subset(_ indices: [Int], name: String? = nil) -> Dataset {
        var x = [Float]()
        x.reserveCapacity(indices.count * dim)
        var y = [Int32]()
        y.reserveCapacity(indices.count)
        for i in indices {
            x.append(contentsOf: features[i * dim ..< (i + 1) * dim])
            y.append(labels[i])
        }
        return Dataset(name: name ?? self.name, features: x, labels: y,
                       count: indices.count, dim: dim, classes: classes)
    }

    /// How many examples carry each label, indexed by class.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classes)
        for y in labels { counts[Int(y)] += 1 }
        return counts
    }
}

/// Train / optional validation / test, as `loadData` returns them.
public struct DataSplit: Sendable {
    public var train: Dataset
    public var validation: Dataset?
    public var test: Dataset
    /// The files it was read from (set by `loadData`; a checkpoint keeps it).
    public var record: DataRecord?

    public init(train: Dataset, validation: Dataset? = nil, test: Dataset, record: DataRecord? = nil) {
        self.train = train
        self.validation = validation
        self.test = test
        self.record = record
    }
}

/// A data problem, as one line that names the file (or spec) and what is
/// wrong with it and, for a missing dataset, how to install it — so the CLI
/// can print it as is. User text in it (paths, --data values, fields) goes
/// through `pathText` / `messageText`, so it never echoes more than about
/// 80 characters of any one of them.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// May name settings as `{data}` (see `renderSettingKeys`).
    public let message: String
    /// The message with setting keys written plainly (`data`).
    public var description: String { renderSettingKeys(message) { $0 } }
    public init(_ message: String) { self.message = message }
}

/// A second file in a message, by its name only: the first is quoted whole
/// (`pathText`) at the head of the message, and the two sit side by side.
func fileName(_ path: String) -> String {
    messageText(path.split(separator: "/").last ?? Substring(path), limit: 60)
}

/// Most classes any loader accepts: the widest output layer the C core
/// builds (2^22). A CSV label past it is almost surely a feature read as
/// the label.
public let maxClasses = 1 << 22

/// Fails unless `classes` is in 2...maxClasses.
func checkClasses(_ classes: Int) throws {
    guard classes >= 2, classes <= maxClasses else {
        throw DataError("classes must be in 2…\(maxClasses), got \(classes)")
    }
}

/// "is outside 0…4 (classes is 5)", the end of every label-range error.
func outsideClasses(_ classes: Int) -> String { "is outside 0…\(classes - 1) (classes is \(classes))" }

/// Knobs shared by every loader. Defaults reproduce the paper's setting.
public struct DataOptions: Sendable {
    /// Seeds synthetic data and every shuffle (validation and test splits).
    public var seed: UInt64 = 1
    /// Fraction of the train set held out as `validation`, in [0, 1).
    public var validationFraction: Double = 0
    /// CSV column holding the label; negative counts from the end (-1 = last).
    public var labelColumn: Int = 0
    /// Fraction held out as test when there is no test file (CSV) and for the
    /// basic synthetic sets; in (0, 1).
    public var testFraction: Double = 0.2
    /// Number of classes, the width of the output layer: 2...maxClasses
    /// (2^22). nil: 10 for IDX (MNIST format), max label + 1 over the train
    /// and test files (at least 2) for CSV, 2 for synthetic sets. When set,
    /// every loader honours it: a label outside 0..<classes is an error
    /// naming the file (and line for CSV) and the label. IDX labels are
    /// bytes, so classes above 256 are accepted and only widen the output;
    /// synthetic labels are 0 and 1 whatever the width.
    public var classes: Int? = nil

    public init() {}
}

extension RunConfig {
    /// How the run's data is loaded and split (train, eval and analyze
    /// load a run's data alike).
    public var dataOptions: DataOptions {
        var options = DataOptions()
        options.seed = training.seed // synthetic data: the same points as in training
        options.validationFraction = training.validation
        options.classes = model.labelClasses
        return options
    }
}
