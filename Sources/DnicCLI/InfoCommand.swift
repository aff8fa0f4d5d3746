import ArgumentParser
import Dnic
import Foundation

/// `dnic info`: version, CPU features, GEMM backend and BLAS kernel, threads, datasets found.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show the version, CPU features, GEMM backend, BLAS kernel, threads and datasets found.")

    func run() throws {
        let blas = CoreSystem.blasInfo()
        try Console.out.write("dnic \(DnicVersion.core)")
        try Console.out.write("cpu: \(CPUInfo.modelName) (\(ProcessInfo.processInfo.activeProcessorCount) cores); features: \(CPUInfo.features.joined(separator: " "))")
        try Console.out.write("openmp: \(CoreSystem.hasOpenMP ? "yes" : "no"), threads \(CoreSystem.threads)")
        let gemm = CoreSystem.gemmInfo()
        try Console.out.write("gemm: \(gemm.summary) \(gemm.library); threads \(gemm.threads); chosen because: \(gemm.reason)")
        let kernels = CoreSystem.kernelISAInfo()
        try Console.out.write("kernels: \(kernels.active) (cpu \(kernels.cpu); cap: \(kernels.reason))")
        try Console.out.write("blas: \(blas.source) \(blas.library); kernel \(blas.corename); threads \(blas.threads)")
        let env = blas.coretypeFromEnvironment.isEmpty ? "unset" : blas.coretypeFromEnvironment
        let chose = blas.coretypeChosenByDnic.isEmpty ? "nothing (respected the environment or no match)" : blas.coretypeChosenByDnic
        try Console.out.write("OPENBLAS_CORETYPE: \(env); dnic chose \(chose)")
        if !blas.config.isEmpty { try Console.out.write("openblas config: \(blas.config)") }
        for (name, spec) in [("fashion-mnist", DataSpec.fashionMNIST), ("mnist", DataSpec.mnist)] {
            do {
                _ = try locateIDX(spec)
                try Console.out.write("data \(name): found")
            } catch let error as DataError {
                let namer = SettingNamer(arguments: CommandLine.arguments, source: nil)
                try Console.out.write("data \(name): not found (\(namer.render(error.message)))")
            }
        }
    }
}

enum CPUInfo {
    /// /proc/cpuinfo read with POSIX calls: Foundation's String(contentsOfFile:)
    /// can return /proc files truncated.
    static let cpuinfo: String = {
        guard let f = fopen("/proc/cpuinfo", "r") else { return "" }
        defer { fclose(f) }
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }()

    static func field(_ name: String) -> String {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix(name) {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    static var modelName: String { field("model name") }

    static var features: [String] {
        let flags = Set(field("flags").split(separator: " ").map(String.init))
        return ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"]
            .filter { flags.contains($0) }
    }
}
