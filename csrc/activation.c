/* activation.c — element-wise activations and their derivatives.
 * Backward takes the forward OUTPUT, so the network keeps one buffer per
 * layer and no pre-activation copy is needed for the derivative.
 */
#include "internal.h"

#include <math.h>

/* exp for float in straight-line code, so the loops below vectorise (libm's
 * expf/tanhf are scalar calls): x = n ln2 + r with |r| <= ln2/2, e^r by its
 * degree-6 Taylor polynomial (relative error < 2e-7), 2^n built in the
 * exponent bits. Inputs are clamped to the normal range of float. */
static inline float fast_expf(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.3f ? 88.3f : x);
    /* round to nearest by adding and removing 1.5 * 2^23 (plain SSE2; floorf
     * is a library call on baseline x86-64) */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693145751953125f - n * 1.428606765330187045e-06f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
    union { int32_t i; float f; } two_n;
    two_n.i = ((int32_t)n + 127) << 23;
    return p * two_n.f;
}

static inline float fast_sigmoidf(float x) { return 1.0f / (1.0f + fast_expf(-x)); }

/* tanh|x| = (1 - e^{-2|x|}) / (1 + e^{-2|x|}), which cancels for small |x|:
 * there the odd Taylor series is exact to float precision. */
static inline float fast_tanhf(float x) {
    float a = fabsf(x), t = fast_expf(-2.0f * a);
    float big = (1.0f - t) / (1.0f + t);
    float x2 = x * x;
    float small = a * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315))));
    float y = a < 0.125f ? small : big;
    return x < 0.0f ? -y : y;
}

void dnic_act_forward(dnic_activation act, float *out, const float *in, size_t n) {
    switch (act) {
    case DNIC_ACT_IDENTITY:
        if (out != in)
#pragma omp parallel for if (n > DNIC_PAR_MIN)
            for (size_t i = 0; i < n; i++) out[i] = in[i];
        return;
    case DNIC_ACT_RELU:
#pragma omp parallel for simd if (n > DNIC_PAR_MIN)
        /* written so that NaN passes through, as in PyTorch: faults must surface */
        for (size_t i = 0; i < n; i++) out[i] = in[i] < 0.0f ? 0.0f : in[i];
        return;
    case DNIC_ACT_SIGMOID:
#pragma omp parallel for simd if (n > DNIC_PAR_MIN)
        for (size_t i = 0; i < n; i++) out[i] = fast_sigmoidf(in[i]);
        return;
    case DNIC_ACT_TANH:
#pragma omp parallel for simd if (n > DNIC_PAR_MIN)
        for (size_t i = 0; i < n; i++) out[i] = fast_tanhf(in[i]);
        return;
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

/* din += dout * act'(.) from the forward output `out` */
void dnic_act_backward(dnic_activation act, float *din, const float *dout, const float *out,
                       size_t n) {
    switch (act) {
    case DNIC_ACT_IDENTITY:
#pragma omp parallel for simd if (n > DNIC_PAR_MIN)
        for (size_t i = 0; i < n; i++) din[i] += dout[i];
        return;
    case DNIC_ACT_RELU:
#pragma omp parallel for simd if (n > DNIC_PAR_MIN)
        for (size_t i = 0; i < n; i++) {
            float d = dout[i]; /* an unconditional load lets the loop vectorise */
            din[i] += out[i] > 0.0f ? d : 0.0f;
        }
        return;
    case DNIC_ACT_SIGMOID:
#pragma omp parallel for simd if (n > DNIC_PAR_MIN)
        for (size_t i = 0; i < n; i++) din[i] += dout[i] * out[i] * (1.0f - out[i]);
        return;
    case DNIC_ACT_TANH:
#pragma omp parallel for simd if (n > DNIC_PAR_MIN)
        for (size_t i = 0; i < n; i++) din[i] += dout[i] * (1.0f - out[i] * out[i]);
        return;
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

/* h (B,C) = act(h + b) in place: the dense layer's GEMM writes h, and bias
 * and activation then cost one pass instead of a copy and a pass. */
void dnic__bias_act_forward(dnic_activation act, float *h, const float *b, int B, int C) {
#pragma omp parallel for if ((size_t)B * C > DNIC_PAR_MIN)
    for (int r = 0; r < B; r++) {
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
            for (int c = 0; c < C; c++) row[c] = fast_sigmoidf(row[c] + b[c]);
            break;
        case DNIC_ACT_TANH:
#pragma omp simd
            for (int c = 0; c < C; c++) row[c] = fast_tanhf(row[c] + b[c]);
            break;
        case DNIC_ACT_IDENTITY:
#pragma omp simd
            for (int c = 0; c < C; c++) row[c] += b[c];
            break;
        }
    }
}

/* gz (B,C) = gh * act'(h) (overwritten, no zeroing pass), and, when db is
 * given, db += column sums of gz in the same pass: the bias gradient of a
 * layer without batch norm. Threads own 64-column strips, so each db entry
 * has one writer and one summation order whatever the thread count. */
void dnic__act_backward_colsum(dnic_activation act, float *gz, float *db, const float *gh, const float *h,
                               int B, int C) {
    int strips = (C + 63) / 64;
#pragma omp parallel for if ((size_t)B * C > DNIC_PAR_MIN)
    for (int s = 0; s < strips; s++) {
        int lo = s * 64, n = (lo + 64 < C ? lo + 64 : C) - lo;
        float acc[64] = {0};
        for (int r = 0; r < B; r++) {
            const float *g = gh + (size_t)r * C + lo, *y = h + (size_t)r * C + lo;
            float *o = gz + (size_t)r * C + lo;
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
            if (db) {
#pragma omp simd
                for (int c = 0; c < n; c++) acc[c] += o[c];
            }
        }
        if (db)
            for (int c = 0; c < n; c++) db[lo + c] += acc[c];
    }
}
