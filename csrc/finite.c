/* finite.c — checks and norms over flat parameter/gradient blocks, shared by
 * the network and the interfaces: non-finite detection after an update and
 * global-norm gradient clipping.
 */
#include "internal.h"

#include <math.h>

int dnic__all_finite(const float *x, size_t n) {
    /* x * 0 is 0 for finite x and NaN for NaN or infinity; the sum is a
     * branch-free reduction that vectorises */
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (size_t i = 0; i < n; i++) acc += x[i] * 0.0f;
    return acc == 0.0f;
}

double dnic__sum_squares(const float *x, size_t n) {
    double acc = 0.0;
#pragma omp parallel for simd reduction(+ : acc) if (n > DNIC_PAR_MIN)
    for (size_t i = 0; i < n; i++) acc += (double)x[i] * x[i];
    return acc;
}

void dnic__scale(float *x, size_t n, float s) {
#pragma omp parallel for simd if (n > DNIC_PAR_MIN)
    for (size_t i = 0; i < n; i++) x[i] *= s;
}
