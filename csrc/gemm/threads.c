/* threads.c — one thread count for dnic's OpenMP loops and the GEMM backends,
 * flush-to-zero in every computing thread, and how many threads a small
 * element-wise pass should use.
 *
 * The count flows one way: dnic_set_num_threads sets OpenMP's and pushes it
 * down to the backends (gemm.c hands it to blas.c and onednn.c), which never
 * ask this file back; before any push they start from OpenMP's count.
 *
 * Why FTZ/DAZ: zero-initialised synthetic-gradient outputs stay tiny early
 * in training, and sgemm on denormal operands was measured 100x slower.
 */
#include "gemm/backends.h"
#include "gemm/threads.h"

#if defined(__SSE__) || defined(__x86_64__) || defined(_M_X64)
#  include <xmmintrin.h>
#  define DNIC_X86_MXCSR 1
#endif

static void ftz_this_thread(void) {
#ifdef DNIC_X86_MXCSR
    /* bit 15 flush-to-zero, bit 6 denormals-are-zero */
    _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
}

void dnic_enable_flush_to_zero(void) {
#ifdef _OPENMP
    /* one thread: the next region would run on this thread alone (every
     * forward calls this: no region is cheaper than an empty one) */
    if (dnic__omp_max_threads() > 1) {
#pragma omp parallel
        ftz_this_thread();
    }
#endif
    ftz_this_thread();
}

int dnic_has_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

dnic_status dnic_set_num_threads(int n) {
    if (n < 1 || n > 4096)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_set_num_threads: n = %d is outside 1..4096", n);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    dnic__gemm_set_threads(n);
    dnic_enable_flush_to_zero();
    return DNIC_OK;
}

int dnic_get_num_threads(void) { return dnic__omp_max_threads(); }

int dnic__in_parallel(void) {
#ifdef _OPENMP
    return omp_in_parallel();
#else
    return 0;
#endif
}

int dnic__par_threads(size_t work, size_t min_per_thread) {
    /* inside a team already (a pipeline's block threads): this thread
     * works alone, with no nested region */
    if (dnic__in_parallel()) return 1;
    int t = dnic_get_num_threads();
    if (t <= 1 || work < 2 * min_per_thread) return 1;
    size_t most = work / min_per_thread;
    return most < (size_t)t ? (int)most : t;
}
