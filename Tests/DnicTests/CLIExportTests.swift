import Dnic
import Foundation
import XCTest

/// `dnic export`: a checkpoint's network weights alone, in dnic's layout or
/// as a torch.nn.Sequential's state_dict, on a small model trained here
/// (two hidden layers: tanh with batch norm, relu without; sg interfaces,
/// whose tensors and every optimizer state must stay out of the export).
final class CLIExportTests: XCTestCase {
    func fixture() throws -> (dir: String, checkpoint: String) {
        let dir = try Habit.directory(self)
        let config = """
        data: synth:linear-2d
        model:
          layers:
          - {width: 8, activation: tanh, batchnorm: true}
          - {width: 6, activation: relu, batchnorm: false}
        training: {batch: 16, steps: 30, seed: 3}
        """
        try config.write(toFile: dir + "/run.yaml", atomically: true, encoding: .utf8)
        let train = try Habit.run(["train", "--config", "run.yaml", "--rule", "sg", "--save", "model.st", "--quiet"], in: dir)
        XCTAssertEqual(train.status, 0, train.stderr)
        return (dir, dir + "/model.st")
    }

    /// (rows, cols) row-major `values` as (cols, rows).
    func transposed(_ t: SafeTensors.Tensor) -> [Float] {
        let (rows, cols) = (t.shape[0], t.shape[1])
        return (0 ..< cols * rows).map { k in t.values[(k % rows) * cols + k / rows] }
    }

    func testDnicLayoutIsTheCheckpointsNetworkTensorsAlone() throws {
        let f = try fixture()
        let run = try Habit.run(["export", "--checkpoint", "model.st", "--out", "w.safetensors"], in: f.dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "")
        XCTAssertEqual(run.stdout, "10 tensors of model.st written to w.safetensors (layout dnic)\n")
        let checkpoint = try SafeTensors.read(path: f.checkpoint), exported = try SafeTensors.read(path: f.dir + "/w.safetensors")
        XCTAssertTrue(checkpoint.tensors.contains { $0.name.hasPrefix("interface") }, "a fixture with interfaces")
        let network = checkpoint.tensors.filter { $0.name.hasPrefix("layer") }
        XCTAssertEqual(exported.tensors.sorted { $0.name < $1.name }, network.sorted { $0.name < $1.name })
        XCTAssertEqual(exported.metadata["format"], "dnic-weights-1")
        XCTAssertEqual(exported.metadata["layout"], "dnic")
        XCTAssertEqual(Set(Habit.contents(f.dir).keys), ["run.yaml", "model.st", "w.safetensors"])
    }

    func testTorchLayoutIsTheCheckpointsWeightsTransposedUnderSequentialNames() throws {
        let f = try fixture()
        let run = try Habit.run(["export", "--checkpoint", "model.st", "--out", "t.safetensors", "--layout", "torch"], in: f.dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "")
        let c = try SafeTensors.read(path: f.checkpoint), t = try SafeTensors.read(path: f.dir + "/t.safetensors")
        func ours(_ name: String) throws -> SafeTensors.Tensor { try XCTUnwrap(c.tensor(name), name) }
        func theirs(_ name: String) throws -> SafeTensors.Tensor { try XCTUnwrap(t.tensor(name), name) }
        // Linear, BatchNorm1d, Tanh, Linear, ReLU, Linear
        for (position, layer) in [(0, 0), (3, 1), (5, 2)] {
            let w = try ours("layer\(layer).weight")
            XCTAssertEqual(try theirs("\(position).weight").shape, [w.shape[1], w.shape[0]])
            XCTAssertEqual(try theirs("\(position).weight").values, transposed(w))
            XCTAssertEqual(try theirs("\(position).bias").values, try ours("layer\(layer).bias").values)
        }
        XCTAssertEqual(try theirs("1.weight").values, try ours("layer0.bn.gamma").values)
        XCTAssertEqual(try theirs("1.bias").values, try ours("layer0.bn.beta").values)
        XCTAssertEqual(try theirs("1.running_mean").values, try ours("layer0.bn.running_mean").values)
        XCTAssertEqual(try theirs("1.running_var").values, try ours("layer0.bn.running_var").values)
        XCTAssertEqual(try theirs("1.num_batches_tracked").shape, [])
        XCTAssertEqual(try theirs("1.num_batches_tracked").values, [30])
        XCTAssertEqual(Set(t.tensors.map(\.name)), ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                                    "1.num_batches_tracked", "3.weight", "3.bias", "5.weight", "5.bias"])
        let modules = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(XCTUnwrap(t.metadata["torch_sequential"]).utf8))
            as? [[String: Any]])
        XCTAssertEqual(modules.map { $0["module"] as? String }, ["Linear", "BatchNorm1d", "Tanh", "Linear", "ReLU", "Linear"])
        XCTAssertEqual(modules.map { $0["out_features"] as? Int }, [8, nil, nil, 6, nil, 2])
        XCTAssertEqual(t.metadata["layout"], "torch")
    }

    /// A python3 that imports torch and numpy: `DNIC_TEST_TORCH_PYTHON` if
    /// set; else the system's; else a venv with the CPU-only torch wheel
    /// found in $PIP_FIND_LINKS (TestPython). Skips, saying why, where none.
    func torchPython() throws -> String {
        if let python = ProcessInfo.processInfo.environment["DNIC_TEST_TORCH_PYTHON"], !python.isEmpty {
            guard TestPython.imports(python, "torch, numpy") else { throw XCTSkip("DNIC_TEST_TORCH_PYTHON=\(python) cannot import torch") }
            return python
        }
        if TestPython.imports("python3", "torch, numpy") { return "python3" }
        guard let wheel = TestPython.cpuTorchWheel() else {
            throw XCTSkip("torch is not importable and no CPU-only torch wheel is in $PIP_FIND_LINKS (PyPI's x86-64 torch pulls "
                          + "gigabytes of CUDA libraries); set DNIC_TEST_TORCH_PYTHON to a python3 with torch to run it")
        }
        guard let python = TestPython.venv("dnic-tests-torch-venv", imports: "torch, numpy", installing: ["numpy", wheel]) else {
            throw XCTSkip("\(wheel) could not be installed into a virtualenv")
        }
        return python
    }

    /// Exports the fixture in torch layout, writes its test inputs and
    /// dnic's logits for them (through the library) as raw float32, and
    /// runs `body` under `python`: it reads the file into `state` (numpy
    /// arrays) and `modules` (the metadata's list) and must set `got`,
    /// the logits it computes; passes when they are within 1e-5 of dnic's.
    func checkLogits(python: String, _ body: String) throws {
        let f = try fixture()
        let run = try Habit.run(["export", "--checkpoint", "model.st", "--out", "t.safetensors", "--layout", "torch"], in: f.dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        let loaded = try Checkpoint.load(path: f.checkpoint)
        let data = try loadTestData(.synthetic(name: "linear-2d"), options: loaded.config.dataOptions, wholeFiles: true).test
        let logits = try loaded.network.activations(of: data, layer: loaded.network.layerCount - 1)
        func write(_ values: [Float], _ name: String) throws {
            try values.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: f.dir + "/" + name)) }
        }
        try write(data.features, "x.f32")
        try write(logits, "logits.f32")
        // safetensors read with numpy alone; the network from the metadata alone
        let script = """
        import json, struct, sys, numpy as np
        rows, width, classes = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
        raw = open("t.safetensors", "rb").read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        meta = header.pop("__metadata__")
        state = {}
        for name, t in header.items():
            b, e = t["data_offsets"]
            state[name] = np.frombuffer(raw[8 + n + b:8 + n + e], dtype="<f4").reshape(t["shape"]).copy()
        modules = json.loads(meta["torch_sequential"])
        x = np.fromfile("x.f32", dtype="<f4").reshape(rows, width)
        want = np.fromfile("logits.f32", dtype="<f4").reshape(rows, classes)
        \(body)
        worst = float(np.abs(got - want).max())
        print("max difference", worst)
        sys.exit(0 if worst <= 1e-5 else 1)
        """
        try script.write(toFile: f.dir + "/check.py", atomically: true, encoding: .utf8)
        let check = try ProcessRun.launch("/bin/sh", ["-c", "cd \"$1\" && shift && exec \"$@\"", "sh", f.dir, python, "check.py",
                                                      String(data.count), String(data.dim), String(loaded.network.outputDim)])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.hasPrefix("max difference"), check.stdout + check.stderr)
    }

    func testTorchSequentialBuiltFromTheFileGivesDnicsLogits() throws {
        try checkLogits(python: try torchPython(), """
        import torch
        net = torch.nn.Sequential(*[getattr(torch.nn, m.pop("module"))(**m) for m in modules])
        net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
        net.eval()
        with torch.no_grad():
            got = net(torch.from_numpy(x)).numpy()
        """)
    }

    /// The same without torch: each module as PyTorch's documentation
    /// defines it (Linear x W^T + b, BatchNorm1d in eval mode), with numpy.
    func testTheSequentialAsPyTorchDefinesItGivesDnicsLogits() throws {
        try checkLogits(python: "python3", """
        h = x.astype(np.float64)
        for i, m in enumerate(modules):
            kind = m["module"]
            p = lambda name: state["%d.%s" % (i, name)].astype(np.float64)
            if kind == "Linear":
                assert p("weight").shape == (m["out_features"], m["in_features"])
                h = h @ p("weight").T + p("bias")
            elif kind == "BatchNorm1d":
                h = (h - p("running_mean")) / np.sqrt(p("running_var") + m["eps"]) * p("weight") + p("bias")
            elif kind == "ReLU": h = np.maximum(h, 0)
            elif kind == "Tanh": h = np.tanh(h)
            elif kind == "Sigmoid": h = 1 / (1 + np.exp(-h))
            elif kind != "Identity": sys.exit("unknown module " + kind)
        got = h
        """)
    }

    func testExportRefusesInOneLineAndWritesNothing() throws {
        let f = try fixture()
        try Data("kept".utf8).write(to: URL(fileURLWithPath: f.dir + "/old.safetensors"))
        let before = Habit.contents(f.dir)
        let cases: [([String], Int32, String)] = [
            (["--checkpoint", "absent.st", "--out", "w.safetensors"], 1,
             "dnic: error: absent.st: cannot read the checkpoint (missing or unreadable)\n"),
            (["--checkpoint", "model.st", "--out", "old.safetensors"], 2,
             "dnic: error: --out old.safetensors: file exists (pass --overwrite to replace it)\n"),
            (["--checkpoint", "model.st", "--out", "model.st", "--overwrite"], 2,
             "dnic: error: --out model.st is the checkpoint itself; give another file\n"),
        ]
        for (args, status, stderr) in cases {
            let run = try Habit.run(["export"] + args, in: f.dir)
            XCTAssertEqual(run.status, status, args.joined(separator: " "))
            XCTAssertEqual(run.stderr, stderr)
            XCTAssertEqual(run.stdout, "")
            XCTAssertEqual(Habit.contents(f.dir), before, args.joined(separator: " "))
        }
        let layout = try Habit.run(["export", "--checkpoint", "model.st", "--out", "w.safetensors", "--layout", "keras"], in: f.dir)
        XCTAssertEqual(layout.status, 2)
        XCTAssertEqual(Habit.lines(layout.stderr).count, 1, layout.stderr)
        XCTAssertTrue(layout.stderr.hasPrefix("dnic: error: ") && layout.stderr.contains("keras")
                      && layout.stderr.contains("--layout"), layout.stderr)
        XCTAssertEqual(Habit.contents(f.dir), before)
        // --overwrite replaces an existing file
        let replaced = try Habit.run(["export", "--checkpoint", "model.st", "--out", "old.safetensors", "--overwrite"], in: f.dir)
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        XCTAssertNotNil(try SafeTensors.read(path: f.dir + "/old.safetensors").tensor("layer0.weight"))
    }
}
