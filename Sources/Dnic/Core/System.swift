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

    public static func blasInfo() -> BlasInfo {
        var info = dnic_blas_info_t()
        _ = dnic_blas_get_info(&info)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let source: String
        switch info.source {
        case DNIC_BLAS_OPENBLAS: source = "OpenBLAS (loaded by dnic)"
        case DNIC_BLAS_PRELOADED: source = "OpenBLAS (already in the process)"
        case DNIC_BLAS_GENERIC: source = "generic CBLAS"
        default: source = "built-in sgemm (no BLAS found)"
        }
        return BlasInfo(source: source, library: text(info.library), corename: text(info.corename),
                        config: text(info.config), coretypeFromEnvironment: text(info.coretype_env),
                        coretypeChosenByDnic: text(info.coretype_set), threads: Int(info.threads))
    }
}
