import Dnic
import Foundation

/// The environment variables that choose dnic's kernels. The C core, which
/// never prints, ignores a value naming nothing and says so only in its
/// info structs; the command refuses it, so a typo cannot silently run
/// other kernels than the user asked for.
enum EnvironmentCheck {
    /// One line naming the first bad variable, or nil when all are fine.
    static func problem(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let gemm = environment["DNIC_GEMM"], !gemm.isEmpty, CoreSystem.GemmBackend(rawValue: gemm) == nil {
            let names = CoreSystem.GemmBackend.allCases.map(\.rawValue).joined(separator: ", ")
            return "DNIC_GEMM=\(messageText(gemm)) names no GEMM backend (choose one of \(names), or unset it)"
        }
        if let isa = environment["DNIC_ISA"], !isa.isEmpty, !CoreSystem.kernelISAInfo().environmentValid {
            return "DNIC_ISA=\(messageText(isa)) names no instruction-set level (choose one of baseline, avx2, avx512, or unset it)"
        }
        return nil
    }
}
