import Dnic
import Foundation

/// The environment variables dnic reads or that decide how it runs, checked
/// in one place.
///
/// dnic's own (DNIC_GEMM, DNIC_ISA) choose its kernels. The C core, which
/// never prints, ignores a value naming nothing and says so only in its
/// info structs; the command refuses it, so a typo cannot silently run
/// other kernels than the user asked for.
///
/// The OpenMP runtimes' (OMP_*, GOMP_*, KMP_*) are checked and fixed by the
/// library's OpenMPEnvironment first thing in `main`, before either runtime
/// reads them; the command prints its warnings.
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

    /// Fixes the OpenMP variables (OpenMPEnvironment.clean); the warnings to print.
    static func cleanOpenMP() -> [String] { OpenMPEnvironment.clean() }
}
