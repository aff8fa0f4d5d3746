/* activation.c — element-wise activations and their derivatives, and the
 * network's fused passes (bias + activation; derivative + bias sums).
 * Backward takes the forward OUTPUT, so the network keeps one buffer per
 * layer and no pre-activation copy is needed for the derivative.
 *
 * Every kernel body is written once and compiled per instruction set
 * (DNIC_ISA_VARIANTS, kernels_internal.h); the public functions pick the
 * variant and split the work between threads when it is large enough to pay
 * for a parallel region.
 * Not here: the float exp / tanh themselves (kernels_internal.h, shared with
 * the losses).
 */
#include "gemm/threads.h"
#include "kernels/kernels_internal.h"

#include <math.h>
#include <string.h>

/* Per-thread shares below which a pass stays on one thread (floats).
 * Measured with AVX-512 on 2 cores: a parallel region costs ~1 us; a
 * streaming pass moves 16k floats in ~2 us, an exp-based one computes 4k
 * in about as long; 2 threads pay from about twice these. */
#define PAR_STREAM 16384
#define PAR_EXP 4096

/* ------------------------------------------------------ public kernels */

/* out (n) = act(in); out may equal in */
DNIC_INLINE void act_forward_body(int L, dnic_activation act, float *out, const float *in, size_t n) {
    switch (act) {
    case DNIC_ACT_IDENTITY:
        if (out != in) memcpy(out, in, n * sizeof *out);
        return;
    case DNIC_ACT_RELU:
        /* written so that NaN passes through, as in PyTorch: faults must surface */
#pragma omp simd
        for (size_t i = 0; i < n; i++) out[i] = in[i] < 0.0f ? 0.0f : in[i];
        return;
    case DNIC_ACT_SIGMOID:
#pragma omp simd
        for (size_t i = 0; i < n; i++) out[i] = dnic__sigmoidf(L, in[i]);
        return;
    case DNIC_ACT_TANH:
#pragma omp simd
        for (size_t i = 0; i < n; i++) out[i] = dnic__tanhf(L, in[i]);
        return;
    }
}
DNIC_ISA_VARIANTS(act_forward, (dnic_activation act, float *out, const float *in, size_t n), act, out, in, n);

/* din (n) += dout * act'(.) from the forward output `out` */
DNIC_INLINE void act_backward_body(int L, dnic_activation act, float *din, const float *dout, const float *out,
                                   size_t n) {
    (void)L;
    switch (act) {
    case DNIC_ACT_IDENTITY:
#pragma omp simd
        for (size_t i = 0; i < n; i++) din[i] += dout[i];
        return;
    case DNIC_ACT_RELU:
#pragma omp simd
        for (size_t i = 0; i < n; i++) {
            float d = dout[i]; /* an unconditional load lets the loop vectorise */
            din[i] += out[i] > 0.0f ? d : 0.0f;
        }
        return;
    case DNIC_ACT_SIGMOID:
#pragma omp simd
        for (size_t i = 0; i < n; i++) din[i] += dout[i] * out[i] * (1.0f - out[i]);
        return;
    case DNIC_ACT_TANH:
#pragma omp simd
        for (size_t i = 0; i < n; i++) din[i] += dout[i] * (1.0f - out[i] * out[i]);
        return;
    }
}
DNIC_ISA_VARIANTS(act_backward, (dnic_activation act, float *din, const float *dout, const float *out, size_t n),
                  act, din, dout, out, n);

static size_t par_min(dnic_activation act) {
    return act == DNIC_ACT_SIGMOID || act == DNIC_ACT_TANH ? PAR_EXP : PAR_STREAM;
}

void dnic_act_forward(dnic_activation act, float *out, const float *in, size_t n) {
    void (*f)(dnic_activation, float *, const float *, size_t) = act_forward_isa[dnic__isa()];
    int nt = dnic__par_threads(n, par_min(act));
    if (nt == 1) {
        f(act, out, in, n);
        return;
    }
#pragma omp parallel for num_threads(nt)
    for (int k = 0; k < nt; k++) {
        size_t lo, hi;
        dnic__share_lines(out, n, nt, k, &lo, &hi);
        if (hi > lo) f(act, out + lo, in + lo, hi - lo);
    }
}

void dnic_act_forward_ref(dnic_activation act, float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double x = in[i];
        switch (act) {
        case DNIC_ACT_IDENTITY: out[i] = (float)x; break;
        case DNIC_ACT_RELU: out[i] = (float)(x < 0 ? 0 : x); break;
        case DNIC_ACT_SIGMOID: out[i] = (float)(1.0 / (1.0 + exp(-x))); break;
        case DNIC_ACT_TANH: out[i] = (float)tanh(x); break;
        }
    }
}

void dnic_act_backward(dnic_activation act, float *din, const float *dout, const float *out,
                       size_t n) {
    void (*f)(dnic_activation, float *, const float *, const float *, size_t) = act_backward_isa[dnic__isa()];
    int nt = dnic__par_threads(n, PAR_STREAM);
    if (nt == 1) {
        f(act, din, dout, out, n);
        return;
    }
#pragma omp parallel for num_threads(nt)
    for (int k = 0; k < nt; k++) {
        size_t lo, hi;
        dnic__share_lines(din, n, nt, k, &lo, &hi);
        if (hi > lo) f(act, din + lo, dout + lo, out + lo, hi - lo);
    }
}

void dnic_act_backward_ref(dnic_activation act, float *din, const float *dout, const float *out,
                           size_t n) {
    for (size_t i = 0; i < n; i++) {
        double y = out[i], d = 0;
        switch (act) {
        case DNIC_ACT_IDENTITY: d = 1; break;
        case DNIC_ACT_RELU: d = y > 0 ? 1 : 0; break;
        case DNIC_ACT_SIGMOID: d = y * (1 - y); break;
        case DNIC_ACT_TANH: d = 1 - y * y; break;
        }
        din[i] = (float)(din[i] + (double)dout[i] * d);
    }
}

/* ---------------------------------------------------------- fused kernels */

/* rows [r0, r1) of h (B,C) = act(h + b) in place: the dense layer's GEMM
 * writes h, and bias and activation then cost one pass instead of a copy
 * and a pass. */
DNIC_INLINE void bias_act_rows_body(int L, dnic_activation act, float *h, const float *b, int r0, int r1, int C) {
    for (int r = r0; r < r1; r++) {
        float *row = h + (size_t)r * C;
        switch (act) {
        case DNIC_ACT_RELU:
#pragma omp simd
            for (int c = 0; c < C; c++) {
                float v = row[c] + b[c];
                row[c] = v < 0.0f ? 0.0f : v;
            }
            break;
        case DNIC_ACT_SIGMOID:
#pragma omp simd
            for (int c = 0; c < C; c++) row[c] = dnic__sigmoidf(L, row[c] + b[c]);
            break;
        case DNIC_ACT_TANH:
#pragma omp simd
            for (int c = 0; c < C; c++) row[c] = dnic__tanhf(L, row[c] + b[c]);
            break;
        case DNIC_ACT_IDENTITY:
#pragma omp simd
            for (int c = 0; c < C; c++) row[c] += b[c];
            break;
        }
    }
}
DNIC_ISA_VARIANTS(bias_act_rows, (dnic_activation act, float *h, const float *b, int r0, int r1, int C),
                  act, h, b, r0, r1, C);

void dnic__bias_act_forward(dnic_activation act, float *h, const float *b, int B, int C) {
    void (*f)(dnic_activation, float *, const float *, int, int, int) = bias_act_rows_isa[dnic__isa()];
    int nt = dnic__par_threads((size_t)B * C, par_min(act));
    if (nt > B) nt = B;
    if (nt <= 1) {
        f(act, h, b, 0, B, C);
        return;
    }
#pragma omp parallel for num_threads(nt)
    for (int k = 0; k < nt; k++) {
        size_t lo, hi;
        dnic__share((size_t)B, nt, k, 1, &lo, &hi);
        f(act, h, b, (int)lo, (int)hi, C);
    }
}

/* Rows [r0, r1) and columns [c0, c0 + n) of gz (B,C) = gh * act'(h)
 * (overwritten, no zeroing pass), and, when acc is given, acc (n) = the
 * column sums of those rows of gz, each column summed in row order (one
 * vector lane per column, so the sum does not depend on the vector width). */
DNIC_INLINE void act_colsum_body(int L, dnic_activation act, float *gz, float *acc, const float *gh, const float *h,
                                 int C, int r0, int r1, int c0, int n) {
    (void)L;
    if (acc)
        for (int c = 0; c < n; c++) acc[c] = 0.0f;
    for (int r = r0; r < r1; r++) {
        size_t o0 = (size_t)r * C + c0;
        const float *g = gh + o0, *y = h + o0;
        float *o = gz + o0;
        switch (act) {
        case DNIC_ACT_RELU:
#pragma omp simd
            for (int c = 0; c < n; c++) {
                float d = g[c];
                o[c] = y[c] > 0.0f ? d : 0.0f;
            }
            break;
        case DNIC_ACT_SIGMOID:
#pragma omp simd
            for (int c = 0; c < n; c++) o[c] = g[c] * y[c] * (1.0f - y[c]);
            break;
        case DNIC_ACT_TANH:
#pragma omp simd
            for (int c = 0; c < n; c++) o[c] = g[c] * (1.0f - y[c] * y[c]);
            break;
        case DNIC_ACT_IDENTITY:
#pragma omp simd
            for (int c = 0; c < n; c++) o[c] = g[c];
            break;
        }
        if (acc) {
#pragma omp simd
            for (int c = 0; c < n; c++) acc[c] += o[c];
        }
    }
}
DNIC_ISA_VARIANTS(act_colsum, (dnic_activation act, float *gz, float *acc, const float *gh, const float *h, int C,
                               int r0, int r1, int c0, int n),
                  act, gz, acc, gh, h, C, r0, r1, c0, n);

typedef void (*colsum_fn)(dnic_activation, float *, float *, const float *, const float *, int, int, int, int, int);

/* The pass by fixed row groups (kernels_internal.h): run by every thread of
 * a team (the worksharing loop hands out the groups) or by one thread alone. */
static void colsum_groups(colsum_fn f, dnic_activation act, float *gz, float *db, const float *gh, const float *h,
                          int B, int C, float (*part)[DNIC_GROUP_COLS]) {
    int G = dnic__row_groups(B);
    for (int c0 = 0; c0 < C; c0 += DNIC_GROUP_COLS) {
        int n = C - c0 < DNIC_GROUP_COLS ? C - c0 : DNIC_GROUP_COLS;
#pragma omp for
        for (int g = 0; g < G; g++)
            f(act, gz, part[g], gh, h, C, dnic__group_row(B, G, g), dnic__group_row(B, G, g + 1), c0, n);
#pragma omp single
        for (int c = 0; c < n; c++) {
            float s = part[0][c];
            for (int g = 1; g < G; g++) s += part[g][c];
            db[c0 + c] += s;
        }
    }
}

/* With db (the bias gradient of a layer without batch norm), db += the
 * column sums of gz in the same pass. */
void dnic__act_backward_colsum(dnic_activation act, float *gz, float *db, const float *gh, const float *h,
                               int B, int C) {
    colsum_fn f = act_colsum_isa[dnic__isa()];
    int nt = dnic__par_threads((size_t)B * C, PAR_STREAM);
    if (!db) { /* rows split between threads */
        if (nt > B) nt = B;
        if (nt <= 1) {
            f(act, gz, NULL, gh, h, C, 0, B, 0, C);
            return;
        }
#pragma omp parallel for num_threads(nt)
        for (int k = 0; k < nt; k++) {
            size_t lo, hi;
            dnic__share((size_t)B, nt, k, 1, &lo, &hi);
            f(act, gz, NULL, gh, h, C, (int)lo, (int)hi, 0, C);
        }
        return;
    }
    float part[DNIC_ROW_GROUPS][DNIC_GROUP_COLS];
    if (nt > dnic__row_groups(B)) nt = dnic__row_groups(B);
    if (nt <= 1 && !dnic__in_parallel()) {
        colsum_groups(f, act, gz, db, gh, h, B, C, part);
        return;
    }
#pragma omp parallel num_threads(nt)
    colsum_groups(f, act, gz, db, gh, h, B, C, part);
}
