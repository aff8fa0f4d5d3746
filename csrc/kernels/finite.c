/* finite.c — checks and norms over flat parameter/gradient blocks, shared by
 * the network and the interfaces: non-finite detection after an update and
 * global-norm gradient clipping. Bodies compiled per instruction set
 * (DNIC_ISA_VARIANTS, kernels_internal.h).
 * Not here: the finiteness check fused into the updates (optim.c).
 */
#include "gemm/threads.h"
#include "kernels/kernels_internal.h"

#include <math.h>

/* x * 0 is 0 for finite x and NaN for NaN or infinity; the sum is a
 * branch-free reduction that vectorises */
DNIC_INLINE void all_finite_body(int L, const float *x, size_t n, int *ok) {
    (void)L;
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (size_t i = 0; i < n; i++) acc += x[i] * 0.0f;
    *ok = acc == 0.0f;
}
DNIC_ISA_VARIANTS(all_finite, (const float *x, size_t n, int *ok), x, n, ok);

int dnic__all_finite(const float *x, size_t n) {
    int ok = 1;
    all_finite_isa[dnic__isa()](x, n, &ok);
    return ok;
}

DNIC_INLINE void sum_squares_body(int L, const float *x, size_t n, double *out) {
    (void)L;
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (size_t i = 0; i < n; i++) acc += (double)x[i] * x[i];
    *out = acc;
}
DNIC_ISA_VARIANTS(sum_squares, (const float *x, size_t n, double *out), x, n, out);

/* Fixed chunks (each summed in order, then the chunks in order): the norm
 * does not depend on the thread count. */
#define CHUNKS 64
#define PAR_MIN_NORM 16384

double dnic__sum_squares(const float *x, size_t n) {
    void (*f)(const float *, size_t, double *) = sum_squares_isa[dnic__isa()];
    int chunks = n < (size_t)CHUNKS * 1024 ? 1 : CHUNKS; /* small blocks: one chunk */
    double part[CHUNKS];
    int nt = dnic__par_threads(n, PAR_MIN_NORM);
    if (nt > chunks) nt = chunks;
    if (nt <= 1) {
        for (int c = 0; c < chunks; c++) {
            size_t lo, hi;
            dnic__share(n, chunks, c, 16, &lo, &hi);
            f(x + lo, hi - lo, &part[c]);
        }
    } else {
#pragma omp parallel for num_threads(nt)
        for (int k = 0; k < nt; k++) {
            size_t clo, chi;
            dnic__share((size_t)chunks, nt, k, 1, &clo, &chi);
            for (size_t c = clo; c < chi; c++) {
                size_t lo, hi;
                dnic__share(n, chunks, (int)c, 16, &lo, &hi);
                f(x + lo, hi - lo, &part[c]);
            }
        }
    }
    double acc = 0.0;
    for (int c = 0; c < chunks; c++) acc += part[c];
    return acc;
}

DNIC_INLINE void scale_body(int L, float *x, size_t n, float s) {
    (void)L;
#pragma omp simd
    for (size_t i = 0; i < n; i++) x[i] *= s;
}
DNIC_ISA_VARIANTS(scale, (float *x, size_t n, float s), x, n, s);

void dnic__scale(float *x, size_t n, float s) {
    void (*f)(float *, size_t, float) = scale_isa[dnic__isa()];
    int nt = dnic__par_threads(n, PAR_MIN_NORM);
    if (nt <= 1) {
        f(x, n, s);
        return;
    }
#pragma omp parallel for num_threads(nt)
    for (int k = 0; k < nt; k++) {
        size_t lo, hi;
        dnic__share_lines(x, n, nt, k, &lo, &hi);
        if (hi > lo) f(x + lo, hi - lo, s);
    }
}
