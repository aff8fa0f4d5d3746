/* peak.c — the machine's FMA peak, measured: independent chains of fused
 * multiply-adds on the widest vectors the CPU has, on every thread. A
 * benchmark reference (dnic bench), not part of training.
 *
 * Baseline x86-64 code has no FMA, so the kernels carry target attributes
 * and are chosen at run time.
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#  undef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 200809L
#endif
#include "base/internal.h"

#include <time.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#  include <immintrin.h>
#  define DNIC_X86_FMA 1
#endif

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Each kernel runs `iters` rounds of 12 independent FMA chains (enough to
 * cover FMA latency x ports) and returns a value so nothing is optimised
 * away. FLOPs per round: 12 chains x lanes x 2. */
#ifdef DNIC_X86_FMA
/* Twelve named accumulators, not an array: they must live in registers. */
#define DNIC_FMA_CHAINS(T, FMA, SET1)                                                 \
    T b = SET1(0.999999f), c = SET1(1e-7f);                                          \
    T a0 = SET1(0), a1 = SET1(1), a2 = SET1(2), a3 = SET1(3), a4 = SET1(4), a5 = SET1(5); \
    T a6 = SET1(6), a7 = SET1(7), a8 = SET1(8), a9 = SET1(9), a10 = SET1(10), a11 = SET1(11); \
    for (long it = 0; it < iters; it++) {                                            \
        a0 = FMA(a0, b, c); a1 = FMA(a1, b, c); a2 = FMA(a2, b, c); a3 = FMA(a3, b, c); \
        a4 = FMA(a4, b, c); a5 = FMA(a5, b, c); a6 = FMA(a6, b, c); a7 = FMA(a7, b, c); \
        a8 = FMA(a8, b, c); a9 = FMA(a9, b, c); a10 = FMA(a10, b, c); a11 = FMA(a11, b, c); \
    }

__attribute__((target("avx512f"))) static float fma_avx512(long iters) {
    DNIC_FMA_CHAINS(__m512, _mm512_fmadd_ps, _mm512_set1_ps)
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float fma_avx2(long iters) {
    DNIC_FMA_CHAINS(__m256, _mm256_fmadd_ps, _mm256_set1_ps)
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}
#endif

/* Scalar multiply-add chains: what a CPU without FMA vectors can do. */
static float fma_scalar(long iters) {
    float a[12];
    for (int i = 0; i < 12; i++) a[i] = (float)i;
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < 12; i++) a[i] = a[i] * 0.999999f + 1e-7f;
    float s = 0;
    for (int i = 0; i < 12; i++) s += a[i];
    return s;
}

double dnic_measure_fma_peak(double seconds, const char **isa) {
    int lanes = 1;
    float (*kernel)(long) = fma_scalar;
    const char *name = "scalar";
#ifdef DNIC_X86_FMA
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) { kernel = fma_avx512; lanes = 16; name = "avx512"; }
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) { kernel = fma_avx2; lanes = 8; name = "avx2+fma"; }
#endif
    if (isa) *isa = name;
    if (!(seconds > 0)) seconds = 0.2;
    /* calibrate the round count on one thread, then run every thread */
    long iters = 1 << 16;
    double t = 0;
    volatile float sink = 0;
    for (;;) {
        double t0 = now_seconds();
        sink += kernel(iters);
        t = now_seconds() - t0;
        if (t > 0.02 || iters > (1L << 40)) break;
        iters *= 2;
    }
    iters = (long)((double)iters * seconds / (t > 0 ? t : 1e-3)) + 1;
    int threads = dnic_get_num_threads();
    double t0 = now_seconds();
#pragma omp parallel
    {
        float r = kernel(iters);
#pragma omp atomic
        sink += r;
    }
    double elapsed = now_seconds() - t0;
    (void)sink;
    return (double)iters * 12.0 * lanes * 2.0 * threads / elapsed / 1e9;
}
