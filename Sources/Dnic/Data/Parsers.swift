// One parser at a time, exactly as the loaders call it, for the fuzz
// harness (DnicFuzz) and the hostile-input tests: both need to reach each
// parser with one file or buffer and no dataset directory around it. The
// loaders' own API (loadData) is unchanged.

import Foundation

/// Each file parser of the data layer on its own. Every function throws the
/// same one-line `DataError` the loaders throw.
public enum DataParsers {
    /// An IDX image file (raw or gzip'd), as `loadIDX` reads it.
    public static func idxImages(path: String) throws -> (count: Int, rows: Int, cols: Int, pixels: [Float]) {
        let images = try readIDXImages(path: path)
        return (images.count, images.rows, images.cols, images.pixels)
    }

    /// An IDX label file (raw or gzip'd); labels must lie in 0..<classes.
    public static func idxLabels(path: String, classes: Int = 10) throws -> [Int32] {
        try readIDXLabels(path: path, classes: classes)
    }

    /// Any data file as a dataset directory or `csv:` would read it (with
    /// the loaders' defaults): the first (gunzip'd) bytes choose IDX images
    /// (magic 0x803), IDX labels (0x801, 10 classes) or else CSV, whose
    /// content is refused past `limit` bytes. Returns the number of examples.
    public static func dataFile(path: String, limit: Int = 1 << 31) throws -> Int {
        var head = [UInt8](repeating: 0, count: 4)
        let got = try head.withUnsafeMutableBytes { try GzipFileReader(path: path).read(into: $0) }
        switch head.prefix(got).reduce(UInt32(0), { $0 << 8 | UInt32($1) }) {
        case idxImageMagic where got == 4: return try readIDXImages(path: path).count
        case idxLabelMagic where got == 4: return try readIDXLabels(path: path, classes: 10).count
        default: return try parseCSVFile(path, labelColumn: 0, width: nil, classes: nil, limit: limit).rows
        }
    }

    /// A CSV file's bytes (already gunzip'd), parsed and split as `loadData`
    /// does for `csv:NAME` without a test file; `name` names it in errors.
    public static func csv(_ bytes: Data, name: String, options: DataOptions = DataOptions()) throws -> DataSplit {
        try checkOptions(options)
        var table = try bytes.withUnsafeBytes { raw in
            try parseCSV(raw.bindMemory(to: UInt8.self), path: name, labelColumn: options.labelColumn, width: nil,
                         classes: options.classes)
        }
        var noTest: CSVTable? = nil
        return try splitCSV(train: &table, test: &noTest, options: options, name: "csv:" + name)
    }

    /// A .npy file's bytes, read as `npy:` reads features and, failing
    /// that, labels; returns the number of rows.
    public static func npy(_ bytes: Data, name: String) throws -> Int {
        try bytes.withUnsafeBytes { p in
            do { return try npyFeatures(p, name: name).rows } catch {
                return try npyLabels(p, name: name, classes: nil).count
            }
        }
    }

    /// A .npz archive as `npz:` reads it (train and test arrays); returns
    /// the number of training rows.
    public static func npz(path: String) throws -> Int {
        let archive = try NpzArchive(path: path)
        _ = try archive.test(classes: nil)
        return try archive.train(classes: nil).features.rows
    }
}
