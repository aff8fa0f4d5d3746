import CDnic

/// Process-wide settings of the C core: threads and BLAS.
public enum CoreSystem {
    /// Sets dnic's OpenMP loops and OpenBLAS together.
    public static func setThreads(_ n: Int) throws {
        try DnicError.check(dnic_set_num_threads(Int32(clamping: n)), "{training.threads} \(n)")
    }

    public static var threads: Int { Int(dnic_get_num_threads()) }
    public static var hasOpenMP: Bool { dnic_has_openmp() != 0 }

    public struct BlasInfo: Sendable {
        public let source: String
        public let library: String
        public let corename: String
        public let config: String
        public let coretypeFromEnvironment: String
        public let coretypeChosenByDnic: String
        public let threads: Int
    }

    /// The GEMM backend computing every matrix product.
    public struct GemmInfo: Sendable {
        public let name: String
        public let library: String
        public let version: String
        /// The instruction set its kernels use ("avx512_core_bf16", "Haswell").
        public let isa: String
        /// Why it was chosen (or why a preferred one was passed over).
        public let reason: String
        public let threads: Int

        /// "onednn 2.6.3 (avx512_core_bf16)".
        public var summary: String { "\(name)\(version.isEmpty ? "" : " " + version) (\(isa))" }
    }

    public enum GemmBackend: String, CaseIterable, Sendable {
        case onednn, openblas, builtin

        var core: dnic_gemm_backend {
            switch self {
            case .onednn: return DNIC_GEMM_ONEDNN
            case .openblas: return DNIC_GEMM_OPENBLAS
            case .builtin: return DNIC_GEMM_BUILTIN
            }
        }
    }

    public static func gemmInfo() -> GemmInfo {
        var info = dnic_gemm_info_t()
        _ = dnic_gemm_get_info(&info)
        return GemmInfo(name: cString(info.name), library: cString(info.library), version: cString(info.version),
                        isa: cString(info.isa), reason: cString(info.reason), threads: Int(info.threads))
    }

    /// Switches every later GEMM to `backend`; throws when its library does not load here.
    public static func setGemmBackend(_ backend: GemmBackend) throws {
        let status = dnic_set_gemm_backend(backend.core)
        if status == DNIC_ERR_UNAVAILABLE {
            throw DnicError("the \(backend.rawValue) GEMM backend cannot be loaded here"
                            + (backend == .onednn ? " (install libdnnl-dev, Debian's oneDNN)" : ""), status: status)
        }
        try DnicError.check(status, "choosing the GEMM backend \(backend.rawValue)")
    }

    /// The instruction set dnic's own element-wise kernels run (activations,
    /// batch norm, losses, optimizer updates): the CPU's, capped by $DNIC_ISA.
    public struct KernelISAInfo: Sendable {
        /// "baseline", "avx2" or "avx512".
        public let active: String
        public let cpu: String
        /// Where the cap comes from ("none", "DNIC_ISA=avx2", or why $DNIC_ISA was ignored).
        public let reason: String
        /// False when $DNIC_ISA names no level (the core then ignores it).
        public let environmentValid: Bool
    }

    public static func kernelISAInfo() -> KernelISAInfo {
        var info = dnic_isa_info_t()
        _ = dnic_isa_get_info(&info)
        return KernelISAInfo(active: String(cString: dnic_isa_name(info.active)),
                             cpu: String(cString: dnic_isa_name(info.cpu)), reason: cString(info.reason),
                             environmentValid: info.env_status == DNIC_OK)
    }

    public static func blasInfo() -> BlasInfo {
        var info = dnic_blas_info_t()
        _ = dnic_blas_get_info(&info)
        let source: String
        switch info.source {
        case DNIC_BLAS_OPENBLAS: source = "OpenBLAS (loaded by dnic)"
        case DNIC_BLAS_PRELOADED: source = "OpenBLAS (already in the process)"
        case DNIC_BLAS_GENERIC: source = "generic CBLAS"
        default: source = "built-in sgemm (no BLAS found)"
        }
        return BlasInfo(source: source, library: cString(info.library), corename: cString(info.corename),
                        config: cString(info.config), coretypeFromEnvironment: cString(info.coretype_env),
                        coretypeChosenByDnic: cString(info.coretype_set), threads: Int(info.threads))
    }
}

/// A fixed-size C char array (a tuple in Swift) as a String.
func cString<T>(_ field: T) -> String {
    withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}
