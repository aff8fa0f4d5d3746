import Foundation

/// A python3 for tests that check dnic's files with another project's own
/// reader (TensorBoard's event loader, PyTorch's nn.Sequential): the
/// system's if it imports what is needed, else a virtualenv made once under
/// the temporary directory and reused by later runs. Nil when neither can
/// be had (no pip, no registry): the caller skips, saying why.
enum TestPython {
    /// Whether `python` runs `import <modules>` without an error.
    static func imports(_ python: String, _ modules: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", "import \(modules)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// The python that imports `modules`: the system's, or the venv `name`
    /// after `pip install <requirements>` (a requirement may be a wheel's path).
    static func venv(_ name: String, imports modules: String, installing requirements: [String]) -> String? {
        if imports("python3", modules) { return "python3" }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        let python = dir + "/bin/python3"
        if imports(python, modules) { return python }
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/bin/sh")
        install.arguments = ["-c", "python3 -m venv \"$1\" && shift && timeout 900 \"$0/bin/pip\" install -q --retries 1 --timeout 30 \"$@\"",
                             dir, dir] + requirements
        install.standardOutput = FileHandle.nullDevice
        install.standardError = FileHandle.nullDevice
        guard (try? install.run()) != nil else { return nil }
        install.waitUntilExit()
        return imports(python, modules) ? python : nil
    }

    /// A CPU-only PyTorch wheel for this python in $PIP_FIND_LINKS (the
    /// directories pip is told to look in), newest name last; nil if none.
    /// PyPI's own torch for x86-64 Linux pulls gigabytes of CUDA libraries,
    /// too much for a test to fetch on every fresh machine.
    static func cpuTorchWheel() -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PIP_FIND_LINKS"] ?? "").split(separator: " ").map(String.init)
        let tag = "cp\(pythonVersion() ?? "311")"
        let wheels = dirs.flatMap { dir in
            ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { $0.hasPrefix("torch-") && $0.contains("+cpu-") && $0.contains("-\(tag)-") && $0.hasSuffix(".whl") }
                .map { dir + "/" + $0 }
        }
        return wheels.sorted().last
    }

    /// "311" for the system's Python 3.11.
    static func pythonVersion() -> String? {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sys; print('%d%d' % sys.version_info[:2])"]
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
