/* batchnorm.c — batch normalisation over the rows of a (B,C) buffer:
 * training mode (batch statistics, running statistics updated), evaluation
 * mode (running statistics) and the training-mode backward.
 *
 * The per-channel sums run over fixed groups of rows (kernels_internal.h),
 * each group summed in row order with one vector lane per channel, then the
 * groups in order: results do not depend on the thread count or the vector
 * width. Threads take whole groups (contiguous rows). Each pass body is
 * compiled per instruction set (DNIC_ISA_VARIANTS, kernels_internal.h).
 * Not here: the fusion of batch norm with the activation (the network
 * composes kernels).
 */
#include "gemm/threads.h"
#include "kernels/kernels_internal.h"

#include <math.h>

/* (B,C) floats per thread below which a pass stays on one thread: a
 * parallel region costs ~1 us, a streaming pass of 16k floats ~2 us. */
#define PAR_MIN_BN 16384

typedef float (*part_t)[DNIC_GROUP_COLS];

/* acc (n) = sums over rows [r0, r1) of x[., c0 + c], or of (x - center)^2
 * when center (n) is given. */
DNIC_INLINE void bn_sums_body(int L, float *acc, const float *x, const float *center, int C, int r0, int r1, int c0,
                              int n) {
    (void)L;
    for (int c = 0; c < n; c++) acc[c] = 0.0f;
    for (int r = r0; r < r1; r++) {
        const float *row = x + (size_t)r * C + c0;
        if (center) {
#pragma omp simd
            for (int c = 0; c < n; c++) {
                float d = row[c] - center[c];
                acc[c] += d * d;
            }
        } else {
#pragma omp simd
            for (int c = 0; c < n; c++) acc[c] += row[c];
        }
    }
}
DNIC_ISA_VARIANTS(bn_sums, (float *acc, const float *x, const float *center, int C, int r0, int r1, int c0, int n),
                  acc, x, center, C, r0, r1, c0, n);

/* Rows [r0, r1), channels [c0, c0 + n): y = x * scale + shift, and when
 * xhat is given also xhat = (x - mean) * invstd (then scale = gamma invstd
 * is not used: y = gamma xhat + beta, as the reference computes it). */
DNIC_INLINE void bn_affine_body(int L, float *y, float *xhat, const float *x, const float *a, const float *b,
                                const float *gamma, const float *beta, int C, int r0, int r1, int c0, int n) {
    (void)L;
    for (int r = r0; r < r1; r++) {
        size_t o = (size_t)r * C + c0;
        const float *xr = x + o;
        float *yr = y + o;
        if (xhat) { /* a = mean, b = invstd */
            float *hr = xhat + o;
#pragma omp simd
            for (int c = 0; c < n; c++) {
                float v = (xr[c] - a[c]) * b[c];
                hr[c] = v;
                yr[c] = gamma[c] * v + beta[c];
            }
        } else { /* a = scale, b = shift */
#pragma omp simd
            for (int c = 0; c < n; c++) yr[c] = xr[c] * a[c] + b[c];
        }
    }
}
DNIC_ISA_VARIANTS(bn_affine, (float *y, float *xhat, const float *x, const float *a, const float *b,
                              const float *gamma, const float *beta, int C, int r0, int r1, int c0, int n),
                  y, xhat, x, a, b, gamma, beta, C, r0, r1, c0, n);

/* Backward sums over rows [r0, r1): sd (n) = sum dout, sdx (n) = sum dout xhat. */
DNIC_INLINE void bn_bsums_body(int L, float *sd, float *sdx, const float *dout, const float *xhat, int C, int r0,
                               int r1, int c0, int n) {
    (void)L;
    for (int c = 0; c < n; c++) sd[c] = sdx[c] = 0.0f;
    for (int r = r0; r < r1; r++) {
        size_t o = (size_t)r * C + c0;
        const float *d = dout + o, *xh = xhat + o;
#pragma omp simd
        for (int c = 0; c < n; c++) {
            sd[c] += d[c];
            sdx[c] += d[c] * xh[c];
        }
    }
}
DNIC_ISA_VARIANTS(bn_bsums, (float *sd, float *sdx, const float *dout, const float *xhat, int C, int r0, int r1,
                             int c0, int n),
                  sd, sdx, dout, xhat, C, r0, r1, c0, n);

/* din += k (B dout - sd - xhat sdx) over rows [r0, r1), k = gamma invstd / B */
DNIC_INLINE void bn_din_body(int L, float *din, const float *dout, const float *xhat, const float *k,
                             const float *sd, const float *sdx, float fb, int C, int r0, int r1, int c0, int n) {
    (void)L;
    for (int r = r0; r < r1; r++) {
        size_t o = (size_t)r * C + c0;
        const float *d = dout + o, *xh = xhat + o;
        float *di = din + o;
#pragma omp simd
        for (int c = 0; c < n; c++) di[c] += k[c] * (fb * d[c] - sd[c] - xh[c] * sdx[c]);
    }
}
DNIC_ISA_VARIANTS(bn_din, (float *din, const float *dout, const float *xhat, const float *k, const float *sd,
                           const float *sdx, float fb, int C, int r0, int r1, int c0, int n),
                  din, dout, xhat, k, sd, sdx, fb, C, r0, r1, c0, n);

/* How many threads share the rows: whole groups each. */
static int bn_threads(int B, int C) {
    int nt = dnic__par_threads((size_t)B * C, PAR_MIN_BN);
    return nt > dnic__row_groups(B) ? dnic__row_groups(B) : nt;
}

/* sum over the groups' partials of channel c, in group order */
static float gsum(part_t part, int G, int c) {
    float s = part[0][c];
    for (int g = 1; g < G; g++) s += part[g][c];
    return s;
}

/* The passes of each kernel below run either on every thread of a team
 * (worksharing loops hand out the row groups; `single` combines them) or
 * on one thread alone, with no parallel region. */

typedef struct {
    float *out, *xhat, *mean, *invstd, *run_mean, *run_var;
    const float *in, *gamma, *beta;
    int B, C;
    float momentum, eps;
    part_t part;
} train_args;

static void train_passes(const train_args *a) {
    void (*sums)(float *, const float *, const float *, int, int, int, int, int) = bn_sums_isa[dnic__isa()];
    void (*affine)(float *, float *, const float *, const float *, const float *, const float *, const float *, int,
                   int, int, int, int) = bn_affine_isa[dnic__isa()];
    int B = a->B, C = a->C, G = dnic__row_groups(B);
    float unbias = B > 1 ? (float)B / (float)(B - 1) : 1.0f, m = a->momentum;
    for (int c0 = 0; c0 < C; c0 += DNIC_GROUP_COLS) {
        int n = C - c0 < DNIC_GROUP_COLS ? C - c0 : DNIC_GROUP_COLS;
#pragma omp for
        for (int g = 0; g < G; g++)
            sums(a->part[g], a->in, NULL, C, dnic__group_row(B, G, g), dnic__group_row(B, G, g + 1), c0, n);
#pragma omp single
        for (int c = 0; c < n; c++) a->mean[c0 + c] = gsum(a->part, G, c) / (float)B;
        /* two-pass variance: no cancellation when |mean| >> std */
#pragma omp for
        for (int g = 0; g < G; g++)
            sums(a->part[g], a->in, a->mean + c0, C, dnic__group_row(B, G, g), dnic__group_row(B, G, g + 1), c0,
                 n);
#pragma omp single
        for (int c = 0; c < n; c++) {
            int j = c0 + c;
            float var = gsum(a->part, G, c) / (float)B;
            a->invstd[j] = 1.0f / sqrtf(var + a->eps);
            if (a->run_mean) a->run_mean[j] = (1.0f - m) * a->run_mean[j] + m * a->mean[j];
            if (a->run_var) a->run_var[j] = (1.0f - m) * a->run_var[j] + m * var * unbias;
        }
#pragma omp for
        for (int g = 0; g < G; g++)
            affine(a->out, a->xhat, a->in, a->mean + c0, a->invstd + c0, a->gamma + c0, a->beta + c0, C,
                   dnic__group_row(B, G, g), dnic__group_row(B, G, g + 1), c0, n);
    }
}

void dnic_batchnorm_forward_train(float *out, float *xhat, float *mean, float *invstd,
                                  float *run_mean, float *run_var, const float *in,
                                  const float *gamma, const float *beta, int B, int C,
                                  float momentum, float eps) {
    float part[DNIC_ROW_GROUPS][DNIC_GROUP_COLS];
    train_args a = {out, xhat, mean, invstd, run_mean, run_var, in, gamma, beta, B, C, momentum, eps, part};
    int nt = bn_threads(B, C);
    if (nt <= 1 && !dnic__in_parallel()) {
        train_passes(&a);
        return;
    }
#pragma omp parallel num_threads(nt)
    train_passes(&a);
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
    void (*affine)(float *, float *, const float *, const float *, const float *, const float *, const float *, int,
                   int, int, int, int) = bn_affine_isa[dnic__isa()];
    int nt = bn_threads(B, C);
    for (int c0 = 0; c0 < C; c0 += DNIC_GROUP_COLS) {
        int n = C - c0 < DNIC_GROUP_COLS ? C - c0 : DNIC_GROUP_COLS;
        /* one affine map per channel: out = in * scale + shift */
        float scale[DNIC_GROUP_COLS], shift[DNIC_GROUP_COLS];
        for (int c = 0; c < n; c++) {
            scale[c] = gamma[c0 + c] / sqrtf(run_var[c0 + c] + eps);
            shift[c] = beta[c0 + c] - run_mean[c0 + c] * scale[c];
        }
        if (nt <= 1) {
            affine(out, NULL, in, scale, shift, NULL, NULL, C, 0, B, c0, n);
            continue;
        }
#pragma omp parallel for num_threads(nt)
        for (int k = 0; k < nt; k++) {
            size_t lo, hi;
            dnic__share((size_t)B, nt, k, 1, &lo, &hi);
            affine(out, NULL, in, scale, shift, NULL, NULL, C, (int)lo, (int)hi, c0, n);
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

typedef struct {
    float *din, *dgamma, *dbeta;
    const float *dout, *xhat, *invstd, *gamma;
    int B, C;
    part_t sd, sdx;
    float *k, *sdt, *sdxt; /* (DNIC_GROUP_COLS) each: combined sums, din's factor */
} backward_args;

/* din += invstd/B * (B g - sum(g) - xhat sum(g xhat)),  g = dout * gamma */
static void backward_passes(const backward_args *a) {
    void (*bsums)(float *, float *, const float *, const float *, int, int, int, int, int) = bn_bsums_isa[dnic__isa()];
    void (*dinf)(float *, const float *, const float *, const float *, const float *, const float *, float, int, int,
                 int, int, int) = bn_din_isa[dnic__isa()];
    int B = a->B, C = a->C, G = dnic__row_groups(B);
    for (int c0 = 0; c0 < C; c0 += DNIC_GROUP_COLS) {
        int n = C - c0 < DNIC_GROUP_COLS ? C - c0 : DNIC_GROUP_COLS;
#pragma omp for
        for (int g = 0; g < G; g++)
            bsums(a->sd[g], a->sdx[g], a->dout, a->xhat, C, dnic__group_row(B, G, g), dnic__group_row(B, G, g + 1),
                  c0, n);
#pragma omp single
        for (int c = 0; c < n; c++) {
            int j = c0 + c;
            a->sdt[c] = gsum(a->sd, G, c);
            a->sdxt[c] = gsum(a->sdx, G, c);
            if (a->dgamma) a->dgamma[j] += a->sdxt[c];
            if (a->dbeta) a->dbeta[j] += a->sdt[c];
            a->k[c] = a->gamma[j] * a->invstd[j] / (float)B;
        }
        if (!a->din) continue;
#pragma omp for
        for (int g = 0; g < G; g++)
            dinf(a->din, a->dout, a->xhat, a->k, a->sdt, a->sdxt, (float)B, C, dnic__group_row(B, G, g),
                 dnic__group_row(B, G, g + 1), c0, n);
    }
}

void dnic_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                             const float *xhat, const float *invstd, const float *gamma, int B,
                             int C) {
    float sd[DNIC_ROW_GROUPS][DNIC_GROUP_COLS], sdx[DNIC_ROW_GROUPS][DNIC_GROUP_COLS];
    float k[DNIC_GROUP_COLS], sdt[DNIC_GROUP_COLS], sdxt[DNIC_GROUP_COLS];
    backward_args a = {din, dgamma, dbeta, dout, xhat, invstd, gamma, B, C, sd, sdx, k, sdt, sdxt};
    int nt = bn_threads(B, C);
    if (nt <= 1 && !dnic__in_parallel()) {
        backward_passes(&a);
        return;
    }
#pragma omp parallel num_threads(nt)
    backward_passes(&a);
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
