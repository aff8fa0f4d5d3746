import Foundation
import XCTest
@testable import Dnic

/// The settings table (Dnic/Model/Settings.swift) walked row by row: every
/// setting reads back as --print-config writes it, has a flag or says why
/// not; `dnic train --help` lists exactly the table's flags, and each flag
/// reaches its setting.
final class SettingsTableTests: XCTestCase {
    /// Configurations the samples are set into: the defaults, and one whose
    /// interfaces have their own optimizer and a non-default schedule.
    private var bases: [RunConfig] {
        var sg = RunConfig(interfaces: InterfaceSpec(rule: .sg))
        sg.interfaces.optimizer = OptimizerSpec(kind: .momentum, lr: 0.02)
        sg.training.schedule = .async
        return [RunConfig(), sg]
    }

    /// Each sample value of each setting: YAML and JSON read back as the
    /// configuration printed (learning rates resolved, as printing does),
    /// and printing again writes the same text.
    func testEverySettingReadsBackAsPrinted() throws {
        for entry in RunConfig.settingTable {
            for base in bases {
                let variants = entry.variants(base)
                XCTAssertFalse(variants.isEmpty, "\(entry.key): no samples")
                XCTAssertTrue(variants.contains { $0 != base }, "\(entry.key): no sample changes the configuration")
                for config in variants {
                    let yaml = try ConfigFile.yaml(config)
                    let fromYAML = try ConfigFile.parse(Data(yaml.utf8), name: "run.yaml")
                    XCTAssertEqual(fromYAML, config.resolvedForPrinting, "\(entry.key):\n\(yaml)")
                    XCTAssertEqual(try ConfigFile.yaml(fromYAML), yaml, entry.key)
                    let json = try ConfigFile.json(config)
                    let fromJSON = try ConfigFile.parse(Data(json.utf8), name: "run.json")
                    XCTAssertEqual(fromJSON, config.resolvedForPrinting, "\(entry.key):\n\(json)")
                }
            }
        }
    }

    func testEverySettingHasAFlagOrSaysWhyNot() {
        var flags = Set<String>()
        for entry in RunConfig.settingTable {
            if let flag = entry.flag {
                XCTAssertNil(entry.noFlag, entry.key)
                XCTAssertTrue(flags.insert(flag).inserted, "\(flag) sets two settings")
                XCTAssertFalse(entry.flagSamples.isEmpty, "\(entry.key): no sample arguments for \(flag)")
            } else {
                XCTAssertFalse(entry.noFlag?.isEmpty ?? true, "\(entry.key): no flag, and no reason why not")
            }
            XCTAssertFalse(entry.help.isEmpty, "\(entry.key): no help")
            XCTAssertTrue(settingKeys.contains(entry.key), entry.key)
        }
        XCTAssertEqual(settingKeys.count, RunConfig.settingTable.count, "a key listed twice")
    }
}

extension CLITests {
    /// Flags of `dnic train` that are not settings: where a run reads and
    /// writes, how the command runs.
    static let trainRunFlags: Set<String> = ["--config", "--log", "--tensorboard", "--save", "--save-best", "--checkpoint-every", "--resume", "--mpi",
                                             "--mpi-timeout", "--link", "--latency", "--overwrite", "--quiet", "--print-config", "--help",
                                             "--version"]

    /// Every flag `dnic train --help` lists is a setting's flag in the
    /// table or one of the run flags, and every flag in the table is listed.
    func testTrainHelpListsTheSettingsTablesFlags() throws {
        let r = try dnic(["train", "--help"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var listed = Set<String>()
        for line in r.stdout.split(separator: "\n") where line.hasPrefix("  -") {
            // the names end where the help starts: two spaces, or (a long
            // name pushes the help over) the first word that is neither a
            // name nor a <value>
            let names = line.dropFirst(2).components(separatedBy: "  ")[0]
            for name in names.split(whereSeparator: { " /,".contains($0) }) {
                if !name.hasPrefix("-") && !name.hasPrefix("<") { break }
                guard name.hasPrefix("--") else { continue }
                listed.insert(name.hasPrefix("--no-") ? "--" + name.dropFirst(5) : String(name))
            }
        }
        let table = Set(RunConfig.settingTable.compactMap(\.flag))
        XCTAssertEqual(listed.subtracting(Self.trainRunFlags), table, "help: \(listed.sorted()), table: \(table.sorted())")
    }

    /// Each setting flag, given some of its sample values, either prints a
    /// configuration or is refused in one line naming the flag, never an
    /// internal error; at least one value changes what is printed.
    func testEverySettingFlagReachesItsSetting() throws {
        let defaults = try dnic(["train", "--print-config"])
        XCTAssertEqual(defaults.status, 0, defaults.stderr)
        for entry in RunConfig.settingTable {
            guard let flag = entry.flag else { continue }
            var changed = false
            for arguments in entry.flagSamples.prefix(3) {
                let r = try dnic(["train", "--print-config"] + arguments)
                XCTAssertFalse(r.stderr.contains("internal"), "\(arguments): \(r.stderr)")
                XCTAssertLessThanOrEqual(r.stderr.split(separator: "\n").count, 1, "\(arguments): \(r.stderr)")
                if r.status == 0 {
                    changed = changed || r.stdout != defaults.stdout
                } else {
                    XCTAssertEqual(r.status, 2, "\(arguments): \(r.stderr)")
                    XCTAssertTrue(r.stderr.contains(flag), "\(arguments): names \(flag): \(r.stderr)")
                    changed = true
                }
            }
            XCTAssertTrue(changed, "\(flag): no sample value changed the printed configuration")
        }
    }
}
