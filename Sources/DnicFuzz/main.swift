// DnicFuzz: one fuzz target per file parser dnic has, in one executable;
// DNIC_FUZZ_TARGET picks the parser:
//
//   idx-images   IDX image file (raw or gzip)      DataParsers.idxImages
//   idx-labels   IDX label file (raw or gzip)      DataParsers.idxLabels
//   gzip         any data file as a .gz: gunzip, then the IDX or CSV parser
//   csv          CSV bytes, parsed and split       DataParsers.csv
//   npy          .npy bytes (features, then labels) DataParsers.npy
//   npz          .npz archive (zip of .npy)         DataParsers.npz
//   config-yaml  --config FILE.yaml                ConfigFile.parse + validate
//   config-json  --config FILE.json                ConfigFile.parse + validate
//   checkpoint   dnic eval --checkpoint FILE       SafeTensors.decode + Checkpoint.load
//
// Built with `-sanitize=fuzzer -DDNIC_FUZZING` (`make fuzz`) this is a
// libFuzzer binary: a thrown error is the parser doing its job; a crash,
// trap, hang, leak, sanitizer report, or an error message of more than one
// line (dnic promises one-line errors; DNIC_FUZZ_ONE_LINE=0 turns that
// check off) is a finding. Built normally it is a
// regression runner that replays the files named on its command line:
//
//   DNIC_FUZZ_TARGET=csv .build/debug/DnicFuzz build/fuzz/crashes/csv/*

import Dnic
import Foundation

enum FuzzTarget: String, CaseIterable, Sendable {
    case idxImages = "idx-images"
    case idxLabels = "idx-labels"
    case gzip
    case csv
    case npy
    case npz
    case configYAML = "config-yaml"
    case configJSON = "config-json"
    case checkpoint

    /// DNIC_FUZZ_ONE_LINE=0 stops treating a multi-line error message as a
    /// finding (to look for crashes alone while such messages are known).
    static let checkOneLine = ProcessInfo.processInfo.environment["DNIC_FUZZ_ONE_LINE"] != "0"

    /// Decompressed bytes the gzip target accepts (the hostile tests use it too).
    static let gzipLimit = 1 << 24

    static var names: String { allCases.map(\.rawValue).joined(separator: " | ") }

    /// The target DNIC_FUZZ_TARGET names; exits with a usage line otherwise.
    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["DNIC_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("DnicFuzz: set DNIC_FUZZ_TARGET to one of \(names) (got '\(name)')\n".utf8))
            exit(2)
        }
        return target
    }()

    /// Runs one input through the parser; throws what the parser throws.
    func run(_ data: Data) throws {
        switch self {
        case .idxImages:
            _ = try DataParsers.idxImages(path: Scratch.shared.write(data, name: "images-idx3-ubyte"))
        case .idxLabels:
            _ = try DataParsers.idxLabels(path: Scratch.shared.write(data, name: "labels-idx1-ubyte"), classes: 10)
        case .gzip:
            // What the stream decompresses to goes on to the parser its first
            // bytes ask for; a 16 MiB cap (the loaders allow 2 GiB) keeps
            // each run fast while still exercising the cap.
            _ = try DataParsers.dataFile(path: Scratch.shared.write(data, name: "data.gz"), limit: FuzzTarget.gzipLimit)
        case .csv:
            _ = try DataParsers.csv(data, name: "fuzz.csv")
        case .npy:
            _ = try DataParsers.npy(data, name: "fuzz.npy")
        case .npz:
            _ = try DataParsers.npz(path: Scratch.shared.write(data, name: "fuzz.npz"))
        case .configYAML, .configJSON:
            let config = try ConfigFile.parse(data, name: self == .configJSON ? "fuzz.json" : "fuzz.yaml")
            try config.validate()
        case .checkpoint:
            // Parse from memory first (fast); a file that parses goes on to
            // the full load `dnic eval` does, which needs a path.
            _ = try SafeTensors.decode(data, name: "fuzz.safetensors")
            _ = try Checkpoint.load(path: Scratch.shared.write(data, name: "fuzz.safetensors"))
        }
    }

    /// Runs one input; nil when it parsed, else the error's text. Traps when
    /// that text is not one line, so the fuzzer reports it.
    func check(_ data: Data) -> String? {
        do {
            try run(data)
            return nil
        } catch {
            let text = "\(error)"
            precondition(!FuzzTarget.checkOneLine || isOneLine(text), "\(rawValue): error message is not one line: \(text)")
            return text
        }
    }
}

// MARK: seeds

/// Small valid inputs for the corpus, written by dnic's own code where it
/// has a writer (configs, checkpoints), so they follow the formats as they
/// evolve. The gzip target's seeds are these, gzip'd by `make fuzz`.
extension FuzzTarget {
    func seeds() throws -> [(name: String, data: Data)] {
        switch self {
        case .idxImages:
            return [("2x2x3", idx(magic: 0x803, dims: [2, 2, 3], payload: [0, 1, 2, 127, 128, 255, 9, 8, 7, 6, 5, 4])),
                    ("1x28x28", idx(magic: 0x803, dims: [1, 28, 28], payload: (0 ..< 784).map { UInt8($0 % 256) }))]
        case .idxLabels:
            return [("5", idx(magic: 0x801, dims: [5], payload: [0, 9, 3, 1, 2])),
                    ("1", idx(magic: 0x801, dims: [1], payload: [7]))]
        case .gzip:
            return try FuzzTarget.idxImages.seeds() + FuzzTarget.idxLabels.seeds() + FuzzTarget.csv.seeds()
        case .csv:
            return [("header", Data("label,x1,x2\n0,0.5,1\n1,-2.25,3e-3\n2,7,+8\n".utf8)),
                    ("plain", Data("1,0,0,0\r\n0,255,128,1\r\n\r\n1,1.5, 2 ,3.25\r\n".utf8)),
                    ("bom", Data([0xEF, 0xBB, 0xBF] + Array("3,1e10,-0.0\n0,123456789,.5".utf8)))]
        case .npy:
            return [("f4-2x3", Data(npyFile("<f4", "(2, 3)", (0 ..< 6).flatMap { f32(Float($0) / 4) }))),
                    ("u1-2x2x2", Data(npyFile("|u1", "(2, 2, 2)", [0, 1, 2, 3, 250, 251, 252, 255]))),
                    ("i8-3", Data(npyFile("<i8", "(3,)", [0, 1, 2].flatMap { [UInt8($0)] + [UInt8](repeating: 0, count: 7) }))),
                    ("f8-1x1-v2", Data(npyFile("<f8", "(1, 1)", [0, 0, 0, 0, 0, 0, 0xF0, 0x3F], version: 2)))]
        case .npz:
            // a stored zip of two members, as np.savez writes them
            return [("stored", zipArchive([("x_train.npy", npyFile("<f4", "(2, 1)", f32(0.5) + f32(1))),
                                    ("y_train.npy", npyFile("|u1", "(2,)", [0, 1]))]))]
        case .configYAML:
            return try sampleConfigs().enumerated().map { ("c\($0.offset).yaml", Data(try ConfigFile.yaml($0.element).utf8)) }
                + [("flow.yaml", Data(flowYAML.utf8))]
        case .configJSON:
            return try sampleConfigs().enumerated().map { ("c\($0.offset).json", Data(try ConfigFile.json($0.element).utf8)) }
        case .checkpoint:
            return try sampleCheckpoints()
        }
    }

    /// Byte strings worth splicing in (libFuzzer -dict): the formats'
    /// keywords and, for text formats, every word of the seeds.
    func dictionary() throws -> [String] {
        var words: [String]
        switch self {
        case .idxImages, .idxLabels, .gzip:
            words = ["\u{0}\u{0}\u{8}\u{3}", "\u{0}\u{0}\u{8}\u{1}", "\u{1f}\u{8b}\u{8}\u{0}"]
        case .csv:
            words = ["nan", "NaN", "inf", "-inf", "infinity", "1e39", "0x1p3", "\r\n", "\u{FEFF}", "-", "2147483648"]
        case .npy, .npz:
            words = ["\u{93}NUMPY", "'descr'", "'fortran_order'", "'shape'", "True", "False", "'<f4'", "'<f8'", "'|u1'", "'<i8'",
                     "'|O'", "'>f4'", "'<c8'", "(", ")", ",)", "4294967296", "PK\u{3}\u{4}", "PK\u{1}\u{2}", "PK\u{5}\u{6}",
                     "x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy"]
        case .configYAML:
            words = ["&a ", "*a", "<<: ", "!!str ", "!!int ", "!!float ", "!!binary ", "---", "...", "? ", "- ", "{", "}", "[", "]",
                     ".nan", ".inf", "-.inf", "~", "null", "0x", "0o", "1e400", "9223372036854775808"]
        case .configJSON:
            words = ["{", "}", "[", "]", "\"", ":", ",", "null", "true", "false", "1e400", "-0", "9223372036854775808", "\\u0000"]
        case .checkpoint:
            words = ["__metadata__", "dtype", "F32", "F64", "F16", "BF16", "I64", "shape", "data_offsets", "format",
                     "dnic-checkpoint-1", "config", "step", "input_dim", "output_dim", "classes", "dnic_version",
                     "\u{0}\u{0}\u{c0}\u{7f}", "\u{0}\u{0}\u{80}\u{7f}"]  // NaN and +inf as little-endian f32
        }
        if [.configYAML, .configJSON, .checkpoint].contains(self) {
            for seed in try seeds() {
                let text = String(decoding: seed.data, as: UTF8.self)
                words += text.split(whereSeparator: { !($0.isLetter || $0.isNumber || "-+_.".contains($0)) }).map(String.init)
            }
        }
        var seen = Set<String>()
        return words.filter { $0.utf8.count <= 64 && seen.insert($0).inserted }
    }
}

/// An IDX file: big-endian magic and dimensions, then the payload.
func idx(magic: UInt32, dims: [UInt32], payload: [UInt8]) -> Data {
    var out = Data()
    for word in [magic] + dims { out.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: word >> $0) }) }
    out.append(contentsOf: payload)
    return out
}

/// A .npy file: magic, version, padded header dict, payload.
func npyFile(_ descr: String, _ shape: String, _ payload: [UInt8], version: UInt8 = 1) -> [UInt8] {
    var text = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
    let prefix = version == 1 ? 10 : 12
    while (prefix + text.count + 1) % 64 != 0 { text.append(32) }
    text.append(10)
    let n = text.count
    let length: [UInt8] = version == 1 ? [UInt8(n & 255), UInt8(n >> 8)] : [UInt8(n & 255), UInt8(n >> 8), 0, 0]
    return [0x93] + Array("NUMPY".utf8) + [version, 0] + length + text + payload
}

func f32(_ v: Float) -> [UInt8] { withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }

/// A zip archive of stored members (no compression), CRCs and all.
func zipArchive(_ members: [(name: String, data: [UInt8])]) -> Data {
    func le(_ v: Int, _ n: Int) -> [UInt8] { (0 ..< n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    func crc(_ d: [UInt8]) -> Int {
        var c: UInt32 = 0xFFFF_FFFF
        for b in d {
            c ^= UInt32(b)
            for _ in 0 ..< 8 { c = c & 1 == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return Int(~c)
    }
    var out = [UInt8]()
    var central = [UInt8]()
    for m in members {
        let name = Array(m.name.utf8)
        let common = le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc(m.data), 4) + le(m.data.count, 4) + le(m.data.count, 4)
            + le(name.count, 2) + le(0, 2)
        central += [0x50, 0x4B, 1, 2] + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(out.count, 4) + name
        out += [0x50, 0x4B, 3, 4] + common + name + m.data
    }
    let end = [0x50, 0x4B, 5, 6] + le(0, 4) + le(members.count, 2) + le(members.count, 2) + le(central.count, 4)
        + le(out.count, 4) + le(0, 2)
    return Data(out + central + end)
}

/// One small configuration per rule, plus a few non-default settings.
func sampleConfigs() -> [RunConfig] {
    var configs = Rule.allCases.map { rule -> RunConfig in
        var c = RunConfig(model: RunConfig.defaultModel(for: rule), interfaces: InterfaceSpec(rule: rule))
        c.model.layers = c.model.layers.map { var l = $0; l.width = 4; return l }
        return c
    }
    var c = RunConfig(data: "synth:xor-2d")
    c.model.layers = [LayerSpec(width: 8, activation: .tanh, batchnorm: true), LayerSpec(width: 3, activation: .sigmoid)]
    c.model.loss = .logistic
    c.optimizer = OptimizerSpec(kind: .momentum, lr: 0.05, l2: 1e-4)
    c.interfaces = InterfaceSpec(rule: .sgprop)
    c.interfaces.at = .list([1])
    c.interfaces.kind = .mlp
    c.interfaces.hidden = [5]
    c.interfaces.optimizer = OptimizerSpec(kind: .sgd)
    c.training = TrainingSpec(batch: 16, epochs: 2, steps: 100, evalEvery: 10, seed: 7, threads: 1, validation: 0.1)
    configs.append(c)
    return configs
}

/// The README's example (with a second layer, which rule sg at mid needs).
let flowYAML = """
    data: fashion-mnist
    model:
      layers:
      - width: 256
        activation: relu
        batchnorm: false
      - {width: 128, activation: tanh, batchnorm: true}
      loss: ce
      init: he-uniform
    interfaces: {rule: sg, at: mid, kind: linear, target: bootstrap, loss: l2, signal: pred, alpha: 0.0,
                 hidden: [], batchnorm: false, warmup: 0, track-alignment: false}
    optimizer: {kind: adam, lr: 0.001, l2: 0.0, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-08}
    training: {batch: 64, epochs: 1, seed: 1, validation: 0.0, schedule: locked}

    """

/// Checkpoints of tiny networks (with and without interfaces, batch norm)
/// as `dnic train --save` writes them, and a bare safetensors file.
func sampleCheckpoints() throws -> [(name: String, data: Data)] {
    var out: [(name: String, data: Data)] = []
    for (i, config) in sampleConfigs().enumerated() where i < 3 || i == 6 {
        var c = config
        c.model.layers = c.model.layers.map { var l = $0; l.width = 3; return l }
        if c.interfaces.kind == .mlp { c.interfaces.hidden = [2] }
        let network = try Network(c.model, inputDim: 2, outputDim: c.model.outputWidth(classes: 2), maxBatch: 4, seed: 1)
        let dni = try DNI(network: network, spec: c.interfaces, labelWidth: 2, seed: 1)
        let path = Scratch.shared.directory + "/seed.safetensors"
        var state = TrainerState()
        state.step = 3
        try Checkpoint.save(RunSnapshot(config: c, network: network, interfaces: dni, state: state, classes: 2, stepsPerEpoch: 2), to: path)
        guard let data = FileManager.default.contents(atPath: path) else { throw DnicError("\(path): not written") }
        out.append(("ckpt\(i).safetensors", data))
    }
    let bare = SafeTensors(tensors: [.init(name: "w", shape: [2, 2], values: [1, -2, 0.5, 0]),
                                     .init(name: "b", shape: [2], values: [0, 1])], metadata: ["k": "v"])
    out.append(("bare.safetensors", try bare.encoded()))
    return out
}

/// Writes the seeds to `directory` and, if asked, the dictionary to `dict`.
func writeSeeds(_ target: FuzzTarget, to directory: String, dict: String?) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for seed in try target.seeds() {
        try seed.data.write(to: URL(fileURLWithPath: directory + "/seed-" + seed.name))
    }
    if let dict {
        // libFuzzer dictionary syntax: one "quoted" entry per line, \xNN escapes
        let lines = try target.dictionary().map { word -> String in
            "\"" + word.utf8.map { b -> String in
                b >= 0x20 && b < 0x7F && b != 0x22 && b != 0x5C ? String(UnicodeScalar(b)) : String(format: "\\x%02X", b)
            }.joined() + "\""
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dict, atomically: true, encoding: .utf8)
    }
}

/// `DnicFuzz --seeds DIR [--dict FILE]`, in either build; nil otherwise.
func seedCommand(_ arguments: [String]) -> Int32? {
    guard arguments.count >= 3, arguments[1] == "--seeds" else { return nil }
    let dict = arguments.count >= 5 && arguments[3] == "--dict" ? arguments[4] : nil
    do {
        try writeSeeds(FuzzTarget.selected, to: arguments[2], dict: dict)
        return 0
    } catch {
        FileHandle.standardError.write(Data("DnicFuzz --seeds: \(error)\n".utf8))
        return 1
    }
}

// MARK: running

/// Non-empty, and no character that would break the line on a terminal
/// (newline, carriage return, other control characters, U+2028/2029).
func isOneLine(_ text: String) -> Bool {
    !text.isEmpty && !text.unicodeScalars.contains {
        $0 != "\t" && [.control, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory)
    }
}

/// A private directory for the parsers that read from a path: each input is
/// written to one reused file there. DNIC_FUZZ_TMPDIR chooses the parent
/// (default: the system temporary directory).
final class Scratch: Sendable {
    static let shared = Scratch()
    let directory: String

    private init() {
        var parent = ProcessInfo.processInfo.environment["DNIC_FUZZ_TMPDIR"] ?? NSTemporaryDirectory()
        while parent.count > 1, parent.hasSuffix("/") { parent.removeLast() }
        try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        var template = Array((parent + "/dnic-fuzz-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            fatalError("DnicFuzz: cannot create a scratch directory in \(parent)")
        }
        directory = String(cString: made)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.shared.directory) }
    }

    /// Writes `data` to `name` in the scratch directory; returns its path.
    func write(_ data: Data, name: String) -> String {
        let path = directory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "DnicFuzz: cannot write \(path)")
        defer { close(fd) }
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                precondition(n > 0, "DnicFuzz: short write to \(path)")
                done += n
            }
        }
        return path
    }
}

#if DNIC_FUZZING
/// libFuzzer's entry point: one input per call; 0 = keep it if it adds coverage.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let data = count > 0 && bytes != nil ? Data(bytes: bytes!, count: count) : Data()
    _ = FuzzTarget.selected.check(data)
    return 0
}

/// libFuzzer's driver, for a program that keeps its own main.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// The program's main hands over to libFuzzer (SwiftPM links the module's
/// top-level code as main, so libFuzzer's own main cannot be used).
func runFuzzer() -> Never {
    if let status = seedCommand(CommandLine.arguments) { exit(status) }
    _ = FuzzTarget.selected  // a missing or unknown target fails before fuzzing starts
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
}

let fuzzed: Never = runFuzzer()
#else
/// Replays each file named on the command line and prints what the parser
/// said; exits 0 unless a file cannot be read (a crash ends the process).
func replay(_ arguments: [String]) -> Never {
    if let status = seedCommand(arguments) { exit(status) }
    let files = arguments.dropFirst()
    if files.isEmpty || files.contains("-h") || files.contains("--help") {
        print("usage: DNIC_FUZZ_TARGET=<\(FuzzTarget.names)> DnicFuzz FILE... | --seeds DIR [--dict FILE]")
        print("replays inputs (e.g. build/fuzz/crashes/<target>/*) through one parser; `make fuzz` fuzzes them")
        exit(files.isEmpty ? 2 : 0)
    }
    let target = FuzzTarget.selected
    var unreadable = 0
    for file in files {
        guard let data = FileManager.default.contents(atPath: file) else {
            print("\(file): cannot read")
            unreadable += 1
            continue
        }
        print("\(file): \(target.check(data).map { "error: " + $0 } ?? "ok")")
    }
    exit(unreadable == 0 ? 0 : 1)
}

// A declaration, not a statement, so the file also parses under
// -parse-as-library (the fuzz build, where libFuzzer owns main and this
// inactive branch is still parsed); as top-level code it runs at start.
let replayed: Never = replay(CommandLine.arguments)
#endif
