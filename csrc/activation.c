/* activation.c — element-wise activations and their derivatives.
 * Backward takes the forward OUTPUT, so the network keeps one buffer per
 * layer and no pre-activation copy is needed for the derivative.
 */
#include "internal.h"

#include <math.h>

static inline float sigmoidf(float x) {
    /* never exponentiate a large positive number */
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
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
#pragma omp parallel for if (n > DNIC_PAR_MIN)
        for (size_t i = 0; i < n; i++) out[i] = sigmoidf(in[i]);
        return;
    case DNIC_ACT_TANH:
#pragma omp parallel for if (n > DNIC_PAR_MIN)
        for (size_t i = 0; i < n; i++) out[i] = tanhf(in[i]);
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
        for (size_t i = 0; i < n; i++) din[i] += out[i] > 0.0f ? dout[i] : 0.0f;
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
