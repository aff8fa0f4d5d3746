import XCTest
import CDnic
@testable import Dnic

final class SmokeTests: XCTestCase {
    func testOpenMPTeamIsLargerThanOne() {
        XCTAssertEqual(dnic_has_openmp(), 1, "the Swift build of CDnic lost OpenMP")
        XCTAssertEqual(dnic_set_num_threads(2), DNIC_OK)
        XCTAssertEqual(dnic_get_num_threads(), 2)
    }
}

/// One OpenMP runtime runs every team. The Swift build of the core uses
/// LLVM's libomp; Debian's oneDNN is linked against libgomp, whose GOMP_* and
/// omp_* entry points libomp also exports, so the loader binds oneDNN to the
/// runtime already in the process and libgomp, though mapped, never starts
/// threads. Were it to, a oneDNN GEMM at 2 threads after a dnic team of 2
/// would add its own worker thread.
final class OpenMPRuntimeTests: XCTestCase {
    func taskCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
    }

    func testOneDNNRunsOnDnicsOpenMPThreads() throws {
        guard dnic_gemm_available(DNIC_GEMM_ONEDNN) != 0 else { throw XCTSkip("oneDNN (libdnnl.so.2) is not installed") }
        let before = dnic_gemm_get_info_backend()
        defer { _ = dnic_set_gemm_backend(before) }
        XCTAssertEqual(dnic_set_num_threads(2), DNIC_OK)
        XCTAssertEqual(dnic_set_gemm_backend(DNIC_GEMM_ONEDNN), DNIC_OK)
        let n = 256
        var a = [Float](repeating: 0.5, count: n * n), b = a, c = a
        func gemm() { dnic_sgemm(0, 0, Int32(n), Int32(n), Int32(n), 1, &a, Int32(n), &b, Int32(n), 0, &c, Int32(n)) }
        dnic_enable_flush_to_zero() // a dnic team of 2
        gemm()
        let settled = taskCount()
        for _ in 0..<5 {
            gemm()
            dnic_enable_flush_to_zero()
        }
        XCTAssertEqual(taskCount(), settled, "a second OpenMP runtime started threads of its own")
        XCTAssertEqual(c[0], Float(n) * 0.25)
    }

    func dnic_gemm_get_info_backend() -> dnic_gemm_backend {
        var info = dnic_gemm_info_t()
        _ = dnic_gemm_get_info(&info)
        return info.backend
    }
}
