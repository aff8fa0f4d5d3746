/* sg_passes.c — the element-wise passes of a linear synthetic-gradient
 * interface (train/iface.c): its prediction's bias and label rows, its L2
 * (or inner-product) loss with dL_S/ds, the bias and label-row gradients
 * and the signal it delivers, compiled per instruction set
 * (DNIC_ISA_VARIANTS) like the network's kernels. Each is called on a share of the work; the interface
 * decides the threads. Every level computes the same floats: no product
 * is fused into an add that the baseline rounds twice, and the column
 * sums add rows in row order (one vector lane per column).
 * Not here: the interface's GEMMs and its state (iface.c).
 */
#include "kernels/kernels_internal.h"

/* Rows [r0, r1) of s (B, dout) += bias, then the label's row of Bm;
 * either may be NULL. */
DNIC_INLINE void add_rows_body(int L, float *s, const float *bias, const float *Bm, const int32_t *labels, int r0,
                               int r1, int dout) {
    (void)L;
    for (int r = r0; r < r1; r++) {
        float *o = s + (size_t)r * dout;
        const float *row = labels ? Bm + (size_t)labels[r] * dout : NULL;
        if (bias && row) {
#pragma omp simd
            for (int c = 0; c < dout; c++) o[c] = (o[c] + bias[c]) + row[c];
        } else if (bias) {
#pragma omp simd
            for (int c = 0; c < dout; c++) o[c] += bias[c];
        } else if (row) {
#pragma omp simd
            for (int c = 0; c < dout; c++) o[c] += row[c];
        }
    }
}
DNIC_ISA_VARIANTS(add_rows, (float *s, const float *bias, const float *Bm, const int32_t *labels, int r0, int r1,
                             int dout),
                  s, bias, Bm, labels, r0, r1, dout);

void dnic__sg_add_rows(float *s, const float *bias, const float *Bm, const int32_t *labels, int r0, int r1, int dout) {
    add_rows_isa[dnic__isa()](s, bias, Bm, labels, r0, r1, dout);
}

/* Values [lo, hi): L2 e = s - fb g, the sum of e^2 / 2 (in double) and
 * delta = e inv_b; or the inner product g.s and delta = g. The sum's
 * lanes add in an order of their own (the loss is reported, never
 * differentiated); delta is the same float at every level. */
DNIC_INLINE void loss_body(int L, int l2, float *delta, const float *s, const float *g, size_t lo, size_t hi, float fb,
                           float inv_b, double *out) {
    (void)L;
    double total = 0;
    if (l2) {
#pragma omp simd reduction(+ : total)
        for (size_t k = lo; k < hi; k++) {
            float t = fb * g[k]; /* its own statement: never fused into the subtraction */
            float e = s[k] - t;
            total += 0.5 * (double)e * e;
            delta[k] = e * inv_b;
        }
    } else {
#pragma omp simd reduction(+ : total)
        for (size_t k = lo; k < hi; k++) {
            total += (double)g[k] * s[k];
            delta[k] = g[k];
        }
    }
    *out = total;
}
DNIC_ISA_VARIANTS(loss, (int l2, float *delta, const float *s, const float *g, size_t lo, size_t hi, float fb,
                         float inv_b, double *out),
                  l2, delta, s, g, lo, hi, fb, inv_b, out);

double dnic__sg_loss(int l2, float *delta, const float *s, const float *g, size_t lo, size_t hi, float fb,
                     float inv_b) {
    double total = 0;
    loss_isa[dnic__isa()](l2, delta, s, g, lo, hi, fb, inv_b, &total);
    return total;
}

/* Columns [c0, c1) of the gradients of the bias, dC += colsum(delta), and
 * of the label rows, dB[labels[r]] += delta[r] (either may be NULL), in
 * one pass over delta's rows, in row order: the floats of two separate
 * passes. */
DNIC_INLINE void bias_label_grads_body(int L, float *dC, float *dB, const int32_t *labels, const float *delta, int B,
                                       int dout, int c0, int c1) {
    (void)L;
    for (int r = 0; r < B; r++) {
        const float *d = delta + (size_t)r * dout;
        float *row = dB ? dB + (size_t)labels[r] * dout : NULL;
        if (dC && row) {
#pragma omp simd
            for (int c = c0; c < c1; c++) {
                dC[c] += d[c];
                row[c] += d[c];
            }
        } else if (dC) {
#pragma omp simd
            for (int c = c0; c < c1; c++) dC[c] += d[c];
        } else if (row) {
#pragma omp simd
            for (int c = c0; c < c1; c++) row[c] += d[c];
        }
    }
}
DNIC_ISA_VARIANTS(bias_label_grads, (float *dC, float *dB, const int32_t *labels, const float *delta, int B, int dout,
                                     int c0, int c1),
                  dC, dB, labels, delta, B, dout, c0, c1);

void dnic__sg_bias_label_grads(float *dC, float *dB, const int32_t *labels, const float *delta, int B, int dout,
                               int c0, int c1) {
    bias_label_grads_isa[dnic__isa()](dC, dB, labels, delta, B, dout, c0, c1);
}

/* Values [lo, hi) of the delivered signal: dst = s inv_b. */
DNIC_INLINE void scale_body(int L, float *dst, const float *s, size_t lo, size_t hi, float inv_b) {
    (void)L;
#pragma omp simd
    for (size_t k = lo; k < hi; k++) dst[k] = s[k] * inv_b;
}
DNIC_ISA_VARIANTS(scale, (float *dst, const float *s, size_t lo, size_t hi, float inv_b), dst, s, lo, hi, inv_b);

void dnic__sg_scale(float *dst, const float *s, size_t lo, size_t hi, float inv_b) {
    scale_isa[dnic__isa()](dst, s, lo, hi, inv_b);
}
