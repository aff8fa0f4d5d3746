/* batchnorm.c — batch normalisation over the rows of a (B,C) buffer:
 * training mode (batch statistics, running statistics updated), evaluation
 * mode (running statistics) and the training-mode backward.
 *
 * Threads own 64-channel strips: rows stream contiguously, each channel is
 * reduced in one fixed order, so results do not depend on the thread count.
 */
#include "internal.h"

#include <math.h>

#define STRIP 64

void dnic_batchnorm_forward_train(float *out, float *xhat, float *mean, float *invstd,
                                  float *run_mean, float *run_var, const float *in,
                                  const float *gamma, const float *beta, int B, int C,
                                  float momentum, float eps) {
    int strips = (C + STRIP - 1) / STRIP;
    float unbias = B > 1 ? (float)B / (float)(B - 1) : 1.0f;
#pragma omp parallel for if ((size_t)B * C > DNIC_PAR_MIN)
    for (int s = 0; s < strips; s++) {
        int lo = s * STRIP, hi = lo + STRIP < C ? lo + STRIP : C;
        float acc[STRIP] = {0};
        for (int r = 0; r < B; r++)
#pragma omp simd
            for (int c = lo; c < hi; c++) acc[c - lo] += in[(size_t)r * C + c];
        for (int c = lo; c < hi; c++) mean[c] = acc[c - lo] / (float)B;
        /* two-pass variance: no cancellation when |mean| >> std */
        for (int c = lo; c < hi; c++) acc[c - lo] = 0.0f;
        for (int r = 0; r < B; r++)
#pragma omp simd
            for (int c = lo; c < hi; c++) {
                float d = in[(size_t)r * C + c] - mean[c];
                acc[c - lo] += d * d;
            }
        for (int c = lo; c < hi; c++) {
            float var = acc[c - lo] / (float)B;
            invstd[c] = 1.0f / sqrtf(var + eps);
            if (run_mean) run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * mean[c];
            if (run_var) run_var[c] = (1.0f - momentum) * run_var[c] + momentum * var * unbias;
        }
        for (int r = 0; r < B; r++)
#pragma omp simd
            for (int c = lo; c < hi; c++) {
                size_t k = (size_t)r * C + c;
                float xh = (in[k] - mean[c]) * invstd[c];
                xhat[k] = xh;
                out[k] = gamma[c] * xh + beta[c];
            }
    }
}

void dnic_batchnorm_forward_train_ref(float *out, float *xhat, float *mean, float *invstd,
                                      float *run_mean, float *run_var, const float *in,
                                      const float *gamma, const float *beta, int B, int C,
                                      float momentum, float eps) {
    for (int c = 0; c < C; c++) {
        double m = 0, v = 0;
        for (int r = 0; r < B; r++) m += in[(size_t)r * C + c];
        m /= B;
        for (int r = 0; r < B; r++) {
            double d = in[(size_t)r * C + c] - m;
            v += d * d;
        }
        v /= B;
        double is = 1.0 / sqrt(v + eps);
        mean[c] = (float)m;
        invstd[c] = (float)is;
        if (run_mean) run_mean[c] = (float)((1.0 - momentum) * run_mean[c] + momentum * m);
        if (run_var)
            run_var[c] = (float)((1.0 - momentum) * run_var[c] +
                                 momentum * v * (B > 1 ? (double)B / (B - 1) : 1.0));
        for (int r = 0; r < B; r++) {
            size_t k = (size_t)r * C + c;
            double xh = (in[k] - m) * is;
            xhat[k] = (float)xh;
            out[k] = (float)(gamma[c] * xh + beta[c]);
        }
    }
}

void dnic_batchnorm_forward_eval(float *out, const float *in, const float *gamma,
                                 const float *beta, const float *run_mean, const float *run_var,
                                 int B, int C, float eps) {
    int strips = (C + STRIP - 1) / STRIP;
#pragma omp parallel for if ((size_t)B * C > DNIC_PAR_MIN)
    for (int s = 0; s < strips; s++) {
        int lo = s * STRIP, n = (lo + STRIP < C ? lo + STRIP : C) - lo;
        /* one affine map per channel: out = in * scale + shift */
        float scale[STRIP], shift[STRIP];
        for (int c = 0; c < n; c++) {
            scale[c] = gamma[lo + c] / sqrtf(run_var[lo + c] + eps);
            shift[c] = beta[lo + c] - run_mean[lo + c] * scale[c];
        }
        for (int r = 0; r < B; r++) {
            const float *x = in + (size_t)r * C + lo;
            float *y = out + (size_t)r * C + lo;
#pragma omp simd
            for (int c = 0; c < n; c++) y[c] = x[c] * scale[c] + shift[c];
        }
    }
}

void dnic_batchnorm_forward_eval_ref(float *out, const float *in, const float *gamma,
                                     const float *beta, const float *run_mean,
                                     const float *run_var, int B, int C, float eps) {
    for (int r = 0; r < B; r++)
        for (int c = 0; c < C; c++) {
            size_t k = (size_t)r * C + c;
            out[k] = (float)(gamma[c] * ((double)in[k] - run_mean[c]) /
                                 sqrt((double)run_var[c] + eps) + beta[c]);
        }
}

/* din += invstd/B * (B g - sum(g) - xhat sum(g xhat)),  g = dout * gamma */
void dnic_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                             const float *xhat, const float *invstd, const float *gamma, int B,
                             int C) {
    int strips = (C + STRIP - 1) / STRIP;
#pragma omp parallel for if ((size_t)B * C > DNIC_PAR_MIN)
    for (int s = 0; s < strips; s++) {
        int lo = s * STRIP, hi = lo + STRIP < C ? lo + STRIP : C;
        float sd[STRIP] = {0}, sdx[STRIP] = {0};
        for (int r = 0; r < B; r++)
#pragma omp simd
            for (int c = lo; c < hi; c++) {
                size_t k = (size_t)r * C + c;
                sd[c - lo] += dout[k];
                sdx[c - lo] += dout[k] * xhat[k];
            }
        for (int c = lo; c < hi; c++) {
            if (dgamma) dgamma[c] += sdx[c - lo];
            if (dbeta) dbeta[c] += sd[c - lo];
        }
        if (!din) continue;
        for (int r = 0; r < B; r++)
#pragma omp simd
            for (int c = lo; c < hi; c++) {
                size_t k = (size_t)r * C + c;
                float g = gamma[c] * invstd[c] / (float)B;
                din[k] += g * ((float)B * dout[k] - sd[c - lo] - xhat[k] * sdx[c - lo]);
            }
    }
}

void dnic_batchnorm_backward_ref(float *din, float *dgamma, float *dbeta, const float *dout,
                                 const float *xhat, const float *invstd, const float *gamma,
                                 int B, int C) {
    for (int c = 0; c < C; c++) {
        double sd = 0, sdx = 0;
        for (int r = 0; r < B; r++) {
            size_t k = (size_t)r * C + c;
            sd += dout[k];
            sdx += (double)dout[k] * xhat[k];
        }
        if (dgamma) dgamma[c] = (float)(dgamma[c] + sdx);
        if (dbeta) dbeta[c] = (float)(dbeta[c] + sd);
        if (!din) continue;
        for (int r = 0; r < B; r++) {
            size_t k = (size_t)r * C + c;
            double v = (double)gamma[c] * invstd[c] / B * ((double)B * dout[k] - sd - xhat[k] * sdx);
            din[k] = (float)(din[k] + v);
        }
    }
}
