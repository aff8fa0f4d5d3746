import Foundation
import XCTest
@testable import Dnic

/// Every file in Tests/DnicTests/Hostile/ (truncated, lying, corrupt,
/// malformed inputs for each file dnic reads) goes through its parser and
/// must be refused with a one-line error naming the file and saying what is
/// wrong; manifest.json lists each file, its parser and the expected words.
/// The directories are named after the DnicFuzz targets, whose crash inputs
/// end up here once fixed; generate.py writes the files and the manifest.
final class HostileInputTests: XCTestCase {
    struct Entry: Decodable {
        let file: String
        let parser: String
        let expect: String
        let why: String
        /// A documented defect still present: the message is expected to
        /// break the one-line rule (the test fails once it no longer does).
        let known: String?
        /// Not run at all (it would hang or take gigabytes) until fixed.
        let skip: String?
    }

    struct Manifest: Decodable {
        let files: [Entry]
    }

    /// Found next to this source file, so no SwiftPM resources are needed.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Hostile")

    static func manifest() throws -> [Entry] {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode(Manifest.self, from: data).files
    }

    /// A validation error of a config that parsed: it is about a setting,
    /// which may come from a flag, so it does not name the file.
    struct ValidationFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `path` through the parser `parser` names, as dnic reads such a file.
    static func run(_ parser: String, _ path: String) throws {
        switch parser {
        case "idx-images": _ = try DataParsers.idxImages(path: path)
        case "idx-labels": _ = try DataParsers.idxLabels(path: path, classes: 10)
        // the fuzz target's cap (FuzzTarget.gzipLimit), so a 17 KiB bomb is enough
        case "gzip": _ = try DataParsers.dataFile(path: path, limit: 1 << 24)
        case "csv": _ = try loadData(.csv(train: path, test: nil), options: DataOptions())
        case "npy": _ = try DataParsers.npy(try Data(contentsOf: URL(fileURLWithPath: path)), name: pathText(path))
        case "config-yaml", "config-json":
            let config = try ConfigFile.load(path: path)
            do { try config.validate() } catch { throw ValidationFailure(description: "\(error)") }
        case "checkpoint": _ = try Checkpoint.load(path: path)
        default: XCTFail("unknown parser '\(parser)'")
        }
    }

    /// True when no character would break the line on a terminal.
    static func isOneLine(_ text: String) -> Bool {
        !text.isEmpty && !text.unicodeScalars.contains {
            $0 != "\t" && [.control, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory)
        }
    }

    func testManifestListsEveryFile() throws {
        let listed = Set(try Self.manifest().map(\.file))
        var onDisk = Set<String>()
        let root = Self.directory.path
        for dir in try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        where FileManagerProbe.kind(root + "/" + dir) == .directory {  // not manifest.json, generate.py
            for file in try FileManager.default.contentsOfDirectory(atPath: root + "/" + dir) {
                onDisk.insert(dir + "/" + file)
            }
        }
        XCTAssertEqual(onDisk.subtracting(listed).sorted(), [], "files missing from manifest.json")
        XCTAssertEqual(listed.subtracting(onDisk).sorted(), [], "manifest.json lists files that do not exist")
        for entry in try Self.manifest() {
            XCTAssertEqual(entry.parser, String(entry.file.prefix { $0 != "/" }), "\(entry.file): parser is its directory")
            XCTAssertFalse(entry.expect.isEmpty, entry.file)
        }
    }

    func testEveryHostileFileIsRefusedWithOneLine() throws {
        var skipped = [String]()
        for entry in try Self.manifest() {
            if let reason = entry.skip {
                skipped.append("\(entry.file) (\(reason))")
                continue
            }
            let path = Self.directory.appendingPathComponent(entry.file).path
            do {
                try Self.run(entry.parser, path)
                XCTFail("\(entry.file) (\(entry.why)): accepted")
            } catch {
                let message = "\(error)"
                XCTAssertTrue(message.contains(entry.expect),
                              "\(entry.file) (\(entry.why)): expected '\(entry.expect)' in: \(message)")
                if !(error is ValidationFailure) {
                    // as messages quote paths: elided in the middle past 80 characters
                    XCTAssertTrue(message.contains(pathText(path)), "\(entry.file): the message does not name the file: \(message)")
                }
                if let known = entry.known {
                    XCTAssertFalse(Self.isOneLine(message),
                                   "\(entry.file): now one line, so the defect seems fixed: remove its 'known' mark (\(known))")
                } else {
                    XCTAssertTrue(Self.isOneLine(message), "\(entry.file): not one line: \(message)")
                }
            }
        }
        if !skipped.isEmpty { print("HostileInputTests: not run (known defects):\n  " + skipped.joined(separator: "\n  ")) }
    }

    // MARK: the dnic command

    struct Run {
        let status: Int32
        let stderr: String
    }

    func dnic(_ args: [String]) throws -> Run {
        let r = try ProcessRun.launch(CLITests.executable.path, args)
        return Run(status: r.status, stderr: r.stderr)
    }

    func hostile(_ file: String) -> String { Self.directory.appendingPathComponent(file).path }

    /// Exit status 2 for a bad config (usage), 1 for bad data or checkpoint
    /// (runtime), and one line on stderr naming the file and the problem.
    func testCLIRefusesHostileFilesWithOneLine() throws {
        let idxDir = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: idxDir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: idxDir) }
        // a dataset directory whose train images lie about their size
        for (name, source) in [(IDXFileNames.trainImages, "idx-images/lying-2GiB"),
                               (IDXFileNames.trainLabels, "idx-labels/label-10"),
                               (IDXFileNames.testImages, "idx-images/trailing-bytes"),
                               (IDXFileNames.testLabels, "idx-labels/label-10")] {
            try FileManager.default.copyItem(atPath: hostile(source), toPath: idxDir.appendingPathComponent(name).path)
        }
        // and one whose train images are a gzip bomb under a header claiming more
        let bombDir = idxDir.appendingPathComponent("bomb")
        try FileManager.default.createDirectory(at: bombDir, withIntermediateDirectories: true)
        for (name, source) in [(IDXFileNames.trainImages + ".gz", "idx-images/bomb-claims-more.gz"),
                               (IDXFileNames.trainLabels, "idx-labels/label-10"),
                               (IDXFileNames.testImages, "idx-images/trailing-bytes"),
                               (IDXFileNames.testLabels, "idx-labels/label-10")] {
            try FileManager.default.copyItem(atPath: hostile(source), toPath: bombDir.appendingPathComponent(name).path)
        }
        let cases: [(args: [String], status: Int32, mentions: [String])] = [
            (["train", "--config", hostile("config-yaml/duplicate-key-nested.yaml")], 2,
             ["duplicate-key-nested.yaml:4:3: duplicate key 'training.steps' (first at 2:3)"]),
            (["train", "--config", hostile("config-json/duplicate-key-nested.json")], 2,
             ["duplicate-key-nested.json:5:5: duplicate key 'training.steps' (first at 3:5)"]),
            (["train", "--config", hostile("config-yaml/tab-indent.yaml")], 2, ["tab-indent.yaml:", "a tab character"]),
            (["train", "--config", hostile("config-yaml/huge-steps.yaml")], 2, ["huge-steps.yaml: training.steps 9223372036854775807:"]),
            (["train", "--config", hostile("config-yaml/huge-value.yaml")], 2, ["huge-value.yaml:1:7: 'data': a 1000000-byte value"]),
            (["train", "--data", "idx:" + bombDir.path, "--steps", "1"], 1,
             [IDXFileNames.trainImages, "header declares 10000 images of 28x28 (7840000 bytes) but the gzip file holds only 4000000"]),
            (["train", "--config", hostile("config-yaml/unknown-key.yaml")], 2, ["unknown-key.yaml", "eval_every"]),
            (["train", "--config", hostile("config-json/bad-enum.json")], 2, ["bad-enum.json", "lbfgs"]),
            (["train", "--config", hostile("config-yaml/invalid-utf8.yaml")], 2, ["invalid-utf8.yaml", "UTF-8"]),
            (["train", "--data", "csv:" + hostile("csv/ragged.csv"), "--steps", "1"], 1, ["ragged.csv:3", "expected 3 fields"]),
            (["train", "--data", "csv:" + hostile("csv/cr-in-field.csv"), "--steps", "1"], 1, ["cr-in-field.csv:2:3", "2\\r3"]),
            (["train", "--data", "csv:" + hostile("csv/label-too-many-classes.csv"), "--steps", "1"], 1, ["too large"]),
            (["train", "--data", "idx:" + idxDir.path, "--steps", "1"], 1, [IDXFileNames.trainImages, "holds only 0"]),
            (["eval", "--checkpoint", hostile("checkpoint/huge-shape.safetensors")], 1, ["huge-shape.safetensors", "too many bytes"]),
            (["eval", "--checkpoint", hostile("checkpoint/newline-in-name.safetensors")], 1, ["layer0\\nweight"]),
            (["eval", "--checkpoint", hostile("checkpoint/wrong-model.safetensors")], 1, ["wrong-model.safetensors", "layer0.weight"]),
            (["eval", "--checkpoint", hostile("checkpoint/zero-length.safetensors")], 1, ["zero-length.safetensors", "0 bytes"]),
        ]
        for c in cases {
            let r = try dnic(c.args)
            let what = c.args.joined(separator: " ")
            XCTAssertEqual(r.status, c.status, "\(what): stderr: \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(what): expected one line on stderr, got: \(r.stderr)")
            XCTAssertTrue(Self.isOneLine(r.stderr.trimmingCharacters(in: .newlines)), "\(what): \(r.stderr)")
            for needle in c.mentions {
                XCTAssertTrue(r.stderr.contains(needle), "\(what): stderr lacks '\(needle)': \(r.stderr)")
            }
        }
    }
}
