/* loss.c — per-example losses averaged over the batch, their gradient with
 * respect to the network output, and accuracy counting.
 * dp is the gradient of the BATCH MEAN (each row scaled by 1/B), which is
 * what the backward pass of a batch update needs.
 *
 * The fast kernel works in float with straight-line exp / log1p
 * (kernels_internal.h) so its loops vectorise, compiled per instruction set
 * (DNIC_ISA_VARIANTS); the terms that must stay accurate near a zero loss
 * are summed in double, in groups of rows fixed by (B, K), so the mean does
 * not depend on the thread count. The _ref twin works in double with libm.
 * Not here: the activations' own exp (activation.c uses the same one).
 */
#include "gemm/threads.h"
#include "kernels/kernels_internal.h"

#include <float.h>
#include <math.h>

static inline double target_of(const int32_t *labels, const float *targets, int r, int k,
                               int K) {
    if (targets) return targets[(size_t)r * K + k];
    if (K == 1) return (double)labels[r];
    return labels[r] == k ? 1.0 : 0.0;
}

/* Float targets each loss is a loss for (dnic.h): MSE any (a NaN or
 * infinity makes the loss non-finite, refused after it); logistic
 * probabilities in [0, 1]; softmax CE finite weights >= 0 (probability
 * rows; a row's sum scales its loss). Outside, the loss has no minimum:
 * it falls without bound (negative values) and training diverges. One
 * flat pass over the targets; labels cost nothing more. */
static int targets_fit(dnic_loss kind, const float *t, int B, int K) {
    if (kind == DNIC_LOSS_MSE) return 1;
    size_t n = (size_t)B * K;
    float hi = kind == DNIC_LOSS_LOGISTIC ? 1.0f : FLT_MAX;
    int bad = 0;
#pragma omp simd reduction(| : bad)
    for (size_t i = 0; i < n; i++) bad |= !(t[i] >= 0.0f && t[i] <= hi);
    return !bad;
}

static dnic_status check_args(dnic_loss kind, const float *p, const int32_t *labels,
                              const float *targets, int B, int K) {
#define FN "dnic_loss_forward_backward: "
    if (!p) return dnic__fail(DNIC_ERR_NULL, FN "p is NULL");
    if (!labels && !targets) return dnic__fail(DNIC_ERR_NULL, FN "labels and targets are both NULL (give one)");
    if (B < 1 || B > DNIC_MAX_DIM) return dnic__fail(DNIC_ERR_SIZE, FN "B = %d is outside 1..%d", B, DNIC_MAX_DIM);
    if (K < 1 || K > DNIC_MAX_DIM) return dnic__fail(DNIC_ERR_SIZE, FN "K = %d is outside 1..%d", K, DNIC_MAX_DIM);
    if (kind != DNIC_LOSS_MSE && kind != DNIC_LOSS_SOFTMAX_CE && kind != DNIC_LOSS_LOGISTIC)
        return dnic__fail(DNIC_ERR_ARG, FN "kind = %d is not a dnic_loss (0..2)", (int)kind);
    if (kind == DNIC_LOSS_SOFTMAX_CE && K < 2)
        return dnic__fail(DNIC_ERR_ARG, FN "softmax cross-entropy needs K >= 2 outputs, not %d", K);
    if (!targets) {
        int hi = K == 1 ? 1 : K - 1;
        for (int r = 0; r < B; r++)
            if (labels[r] < 0 || labels[r] > hi)
                return dnic__fail(DNIC_ERR_LABEL, FN "labels[%d] = %d is outside 0..%d (%d outputs)", r, (int)labels[r],
                                  hi, K);
        return DNIC_OK;
    }
    if (targets_fit(kind, targets, B, K)) return DNIC_OK;
    return dnic__fail(DNIC_ERR_LABEL, FN "a target is one loss %d does not take (MSE: finite; logistic: in [0, 1]; "
                      "softmax CE: finite and >= 0)", (int)kind);
#undef FN
}

/* The _ref twin's loss of one row, in double; the gradient of that row's
 * loss written to d (unscaled). */
static double row_loss(dnic_loss kind, const float *p, float *d, const int32_t *labels,
                       const float *targets, int r, int K) {
    double L = 0;
    if (kind == DNIC_LOSS_MSE) {
        for (int k = 0; k < K; k++) {
            double e = p[k] - target_of(labels, targets, r, k, K);
            L += 0.5 * e * e;
            if (d) d[k] = (float)e;
        }
    } else if (kind == DNIC_LOSS_LOGISTIC) {
        for (int k = 0; k < K; k++) {
            double x = p[k], t = target_of(labels, targets, r, k, K);
            /* softplus(x) - t x, with softplus = max(x,0) + log1p(e^-|x|) */
            L += (x > 0 ? x : 0) + log1p(exp(-fabs(x))) - t * x;
            double s = x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
            if (d) d[k] = (float)(s - t);
        }
    } else { /* softmax cross-entropy via log-sum-exp */
        double mx = p[0];
        for (int k = 1; k < K; k++) if (p[k] > mx) mx = p[k];
        double z = 0;
        for (int k = 0; k < K; k++) z += exp(p[k] - mx);
        double lse = mx + log(z), tsum = 0;
        for (int k = 0; k < K; k++) {
            double t = target_of(labels, targets, r, k, K);
            L -= t * (p[k] - lse);
            tsum += t;
        }
        if (d)
            for (int k = 0; k < K; k++)
                d[k] = (float)(exp(p[k] - lse) * tsum - target_of(labels, targets, r, k, K));
    }
    return L;
}

/* Where the targets come from; a constant at each call of the kernels
 * below, so each loop is compiled for one of them. */
enum {
    TGT_FLOAT,  /* targets (B,K) */
    TGT_ONEHOT, /* labels (B), K >= 2: the loops run with t = 0 and each row's
                   label entry is fixed up afterwards */
    TGT_VALUE   /* labels (B), K == 1: t = label */
};

/* The target of flat element i of a block (0 for TGT_ONEHOT, see above). */
DNIC_INLINE float tflat(int mode, const float *t, const int32_t *lab, size_t i) {
    return mode == TGT_FLOAT ? t[i] : mode == TGT_VALUE ? (float)lab[i] : 0.0f;
}

/* The kernels below take a block of nb rows: x (nb,K) outputs, d (nb,K)
 * gradient (NULL: not wanted), t (nb,K) float targets or lab (nb) labels,
 * s = 1/B; they return the block's summed loss. Rows of a block are
 * contiguous, so element-wise work runs as one flat loop of nb K values
 * whatever K is (K = 10 outputs would fill no AVX-512 vector row by row);
 * sums that must stay accurate near a zero loss are taken in double. */

/* 1/2 (x - t)^2; for one-hot targets sum x^2 and fix the label entries
 * up: in double, where the square of a float is exact and replacing a
 * label's x^2 by (x - 1)^2 loses only ~1e-16 of the block's sum. */
DNIC_INLINE double mse_block(int L, int mode, const float *x, float *d, const float *t, const int32_t *lab, int nb,
                             int K, float s) {
    (void)L;
    size_t n = (size_t)nb * K;
    double acc = 0;
    if (d) {
#pragma omp simd reduction(+ : acc)
        for (size_t i = 0; i < n; i++) {
            float e = x[i] - tflat(mode, t, lab, i);
            acc += (double)e * e;
            d[i] = e * s;
        }
    } else {
#pragma omp simd reduction(+ : acc)
        for (size_t i = 0; i < n; i++) {
            float e = x[i] - tflat(mode, t, lab, i);
            acc += (double)e * e;
        }
    }
    if (mode == TGT_ONEHOT)
        for (int r = 0; r < nb; r++) {
            size_t k = (size_t)r * K + lab[r];
            double xy = x[k];
            acc += (xy - 1.0) * (xy - 1.0) - xy * xy;
            if (d) d[k] = (x[k] - 1.0f) * s;
        }
    return 0.5 * acc;
}

/* softplus(x) - t x per output, softplus = max(x,0) + log1p(e^-|x|): the
 * log1p term and max(x,0) - t x summed apart in double, so a confident
 * output's tiny loss is not lost in max(x,0) - t x = 0. */
DNIC_INLINE double logistic_block(int L, int mode, const float *x, float *d, const float *t, const int32_t *lab,
                                  int nb, int K, float s) {
    size_t n = (size_t)nb * K;
    double acc = 0;
    if (d) {
#pragma omp simd reduction(+ : acc)
        for (size_t i = 0; i < n; i++) {
            float v = x[i], tk = tflat(mode, t, lab, i);
            float e = dnic__expf(L, -fabsf(v));
            acc += (double)dnic__log1pf(L, e) + ((double)(v > 0.0f ? v : 0.0f) - (double)tk * v);
            float sg = (v >= 0.0f ? 1.0f : e) / (1.0f + e); /* sigmoid(v) */
            d[i] = (sg - tk) * s;
        }
    } else {
#pragma omp simd reduction(+ : acc)
        for (size_t i = 0; i < n; i++) {
            float v = x[i], tk = tflat(mode, t, lab, i);
            float e = dnic__expf(L, -fabsf(v));
            acc += (double)dnic__log1pf(L, e) + ((double)(v > 0.0f ? v : 0.0f) - (double)tk * v);
        }
    }
    if (mode == TGT_ONEHOT)
        for (int r = 0; r < nb; r++) {
            size_t k = (size_t)r * K + lab[r];
            acc -= x[k];
            if (d) d[k] -= s;
        }
    return acc;
}

/* Softmax cross-entropy by log-sum-exp: with m = max x and z' the sum of
 * e^(x_k - m) over the outputs below the max (plus one per extra tie),
 * lse = m + log1p(z'), so a confident row's small loss keeps its relative
 * precision: L = sum_k t_k (lse - x_k) = tsum log1p(z') + sum_k t_k (m - x_k).
 * u (nb,K) holds e^(x - m) (d itself when the gradient is wanted); the
 * exponentials and logarithms run as flat loops over the block. */
#define SOFTMAX_ROWS 512

/* max of a row (K >= 1) in four independent chains: short rows (10
 * classes) are latency-bound, and with NaN semantics no compiler vectorises
 * a max. NaN is skipped here but reaches the loss through e^(x - m). */
DNIC_INLINE float row_max(const float *v, int K) {
    float m0 = v[0], m1 = m0, m2 = m0, m3 = m0;
    int k = 1;
    for (; k + 3 < K; k += 4) {
        m0 = v[k] > m0 ? v[k] : m0;
        m1 = v[k + 1] > m1 ? v[k + 1] : m1;
        m2 = v[k + 2] > m2 ? v[k + 2] : m2;
        m3 = v[k + 3] > m3 ? v[k + 3] : m3;
    }
    for (; k < K; k++) m0 = v[k] > m0 ? v[k] : m0;
    m0 = m1 > m0 ? m1 : m0;
    m2 = m3 > m2 ? m3 : m2;
    return m2 > m0 ? m2 : m0;
}

/* sum of a row in four chains (a fixed order for a given K), and the
 * number of its zeros */
DNIC_INLINE float row_sum_zeros(const float *v, int K, float *zeros) {
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, z = 0.0f;
    int k = 0;
    for (; k + 3 < K; k += 4) {
        s0 += v[k];
        s1 += v[k + 1];
        s2 += v[k + 2];
        s3 += v[k + 3];
        z += (v[k] == 0.0f) + (v[k + 1] == 0.0f) + (v[k + 2] == 0.0f) + (v[k + 3] == 0.0f);
    }
    for (; k < K; k++) {
        s0 += v[k];
        z += v[k] == 0.0f;
    }
    *zeros = z;
    return (s0 + s1) + (s2 + s3);
}

DNIC_INLINE double softmax_block(int L, int mode, const float *x, float *d, float *u, const float *t,
                                 const int32_t *lab, int nb, int K, float s) {
    size_t n = (size_t)nb * K;
    float mx[SOFTMAX_ROWS], zr[SOFTMAX_ROWS], lz[SOFTMAX_ROWS];
    for (int r = 0; r < nb; r++) {
        const float *row = x + (size_t)r * K;
        float m = row_max(row, K), *ur = u + (size_t)r * K;
        mx[r] = m;
#pragma omp simd
        for (int k = 0; k < K; k++) ur[k] = row[k] - m;
    }
    /* u = e^(x - m), except 0 where x == m (e^0 = 1 is counted apart, so z'
     * excludes it; e^(x - m) > 0 elsewhere: the argument is clamped) */
#pragma omp simd
    for (size_t i = 0; i < n; i++) u[i] = u[i] == 0.0f ? 0.0f : dnic__expf(L, u[i]);
    for (int r = 0; r < nb; r++) {
        float ties;
        float z = row_sum_zeros(u + (size_t)r * K, K, &ties);
        zr[r] = z + (ties - 1.0f); /* ties >= 1 unless x holds NaN, which then propagates */
    }
#pragma omp simd
    for (int r = 0; r < nb; r++) lz[r] = dnic__log1pf(L, zr[r]);
    double acc = 0;
    for (int r = 0; r < nb; r++) {
        const float *row = x + (size_t)r * K;
        float *dr = d ? d + (size_t)r * K : NULL;
        if (mode == TGT_ONEHOT) {
            int y = lab[r];
            acc += (double)lz[r] + ((double)mx[r] - row[y]);
            if (dr) {
                float q = s / (1.0f + zr[r]); /* softmax_k = e_k / z */
#pragma omp simd
                for (int k = 0; k < K; k++) dr[k] = (dr[k] == 0.0f ? 1.0f : dr[k]) * q;
                dr[y] -= s;
            }
        } else {
            const float *tr = t + (size_t)r * K;
            double tsum = 0, tdx = 0;
            for (int k = 0; k < K; k++) {
                tsum += tr[k];
                tdx += (double)tr[k] * ((double)mx[r] - row[k]);
            }
            acc += tsum * lz[r] + tdx;
            if (dr) {
                float q = (float)tsum / (1.0f + zr[r]);
#pragma omp simd
                for (int k = 0; k < K; k++) dr[k] = ((dr[k] == 0.0f ? 1.0f : dr[k]) * q - tr[k]) * s;
            }
        }
    }
    return acc;
}

/* Softmax loss alone of rows too long for the scratch block: one pass. */
DNIC_INLINE double softmax_row_loss(int L, int mode, const float *x, const float *t, int y, int K) {
    float m = row_max(x, K);
    float z = 0.0f, ties = 0.0f;
    double tsum = 0, tdx = 0;
#pragma omp simd reduction(+ : z, ties)
    for (int k = 0; k < K; k++) {
        float e = dnic__expf(L, x[k] - m);
        z += x[k] == m ? 0.0f : e;
        ties += x[k] == m ? 1.0f : 0.0f;
    }
    if (mode == TGT_ONEHOT) return (double)dnic__log1pf(L, z + (ties - 1.0f)) + ((double)m - x[y]);
    for (int k = 0; k < K; k++) {
        tsum += t[k];
        tdx += (double)t[k] * ((double)m - x[k]);
    }
    return tsum * dnic__log1pf(L, z + (ties - 1.0f)) + tdx;
}

/* Scratch for the exponentials when no gradient is wanted (floats). */
#define SCRATCH 2048

DNIC_INLINE double block_loss(int L, int mode, dnic_loss kind, const float *x, float *d, const float *t,
                              const int32_t *lab, int nb, int K, float s) {
    switch (kind) {
    case DNIC_LOSS_MSE: return mse_block(L, mode, x, d, t, lab, nb, K, s);
    case DNIC_LOSS_LOGISTIC: return logistic_block(L, mode, x, d, t, lab, nb, K, s);
    case DNIC_LOSS_SOFTMAX_CE: {
        double acc = 0;
        float scratch[SCRATCH];
        int per = d ? SOFTMAX_ROWS : SCRATCH / K; /* rows per pass */
        if (per > SOFTMAX_ROWS) per = SOFTMAX_ROWS;
        if (per < 1) { /* rows longer than the scratch, and no gradient */
            for (int r = 0; r < nb; r++)
                acc += softmax_row_loss(L, mode, x + (size_t)r * K, t ? t + (size_t)r * K : NULL, lab ? lab[r] : 0, K);
            return acc;
        }
        for (int r = 0; r < nb; r += per) {
            int m = nb - r < per ? nb - r : per;
            size_t o = (size_t)r * K;
            acc += softmax_block(L, mode, x + o, d ? d + o : NULL, d ? d + o : scratch, t ? t + o : NULL,
                                 lab ? lab + r : NULL, m, K, s);
        }
        return acc;
    }
    }
    return 0;
}

/* Rows [r0, r1): the sum of their losses into *total, dp rows written
 * (scaled by s = 1/B) when dp is not NULL. */
DNIC_INLINE void loss_rows_body(int L, dnic_loss kind, double *total, float *dp, const float *p,
                                const int32_t *labels, const float *targets, int K, float s, int r0, int r1) {
    size_t o = (size_t)r0 * K;
    const float *x = p + o;
    float *d = dp ? dp + o : NULL;
    int nb = r1 - r0;
    if (targets) *total = block_loss(L, TGT_FLOAT, kind, x, d, targets + o, NULL, nb, K, s);
    else if (K == 1) *total = block_loss(L, TGT_VALUE, kind, x, d, NULL, labels + r0, nb, K, s);
    else *total = block_loss(L, TGT_ONEHOT, kind, x, d, NULL, labels + r0, nb, K, s);
}
DNIC_ISA_VARIANTS(loss_rows, (dnic_loss kind, double *total, float *dp, const float *p, const int32_t *labels,
                              const float *targets, int K, float s, int r0, int r1),
                  kind, total, dp, p, labels, targets, K, s, r0, r1);

/* Rows are summed in at most CHUNKS groups fixed by (B, K), each in row
 * order, then the groups in order: the same sum whatever the thread count.
 * A group holds at least CHUNK_MIN values so its flat loops are long. */
#define CHUNKS 64
#define CHUNK_MIN 2048
/* (B,K) values per thread below which the loss stays on one thread: its
 * exp and log1p cost ~0.5 ns a value, a parallel region ~1 us. */
#define PAR_MIN_LOSS 4096

dnic_status dnic_loss_forward_backward(dnic_loss kind, float *loss_out, float *dp, const float *p,
                                       const int32_t *labels, const float *targets, int B,
                                       int K) {
    dnic_status st = check_args(kind, p, labels, targets, B, K);
    if (st != DNIC_OK) return st;
    void (*f)(dnic_loss, double *, float *, const float *, const int32_t *, const float *, int, float, int, int) =
        loss_rows_isa[dnic__isa()];
    float inv_b = 1.0f / (float)B;
    int rows = (B + CHUNKS - 1) / CHUNKS, rows_min = (CHUNK_MIN + K - 1) / K;
    if (rows < rows_min) rows = rows_min;
    int chunks = (B + rows - 1) / rows;
    double part[CHUNKS];
    int nt = dnic__par_threads((size_t)B * K, PAR_MIN_LOSS);
    if (nt > chunks) nt = chunks;
    if (nt <= 1) {
        for (int c = 0; c < chunks; c++)
            f(kind, &part[c], dp, p, labels, targets, K, inv_b, c * rows, c * rows + rows < B ? c * rows + rows : B);
    } else {
#pragma omp parallel for num_threads(nt)
        for (int k = 0; k < nt; k++) {
            size_t lo, hi;
            dnic__share((size_t)chunks, nt, k, 1, &lo, &hi);
            for (int c = (int)lo; c < (int)hi; c++)
                f(kind, &part[c], dp, p, labels, targets, K, inv_b, c * rows,
                  c * rows + rows < B ? c * rows + rows : B);
        }
    }
    double total = 0;
    for (int c = 0; c < chunks; c++) total += part[c];
    double mean = total / B;
    /* finite in double is not enough: the caller gets a float */
    if (loss_out) *loss_out = (float)mean;
    if (isfinite((float)mean)) return DNIC_OK;
    return dnic__fail(DNIC_ERR_NONFINITE, "dnic_loss_forward_backward: the mean loss of %d rows is %g: NaN or beyond "
                      "a float", B, mean);
}

dnic_status dnic_loss_forward_backward_ref(dnic_loss kind, float *loss_out, float *dp,
                                           const float *p, const int32_t *labels,
                                           const float *targets, int B, int K) {
    dnic_status st = check_args(kind, p, labels, targets, B, K);
    if (st != DNIC_OK) return st;
    double total = 0;
    for (int r = 0; r < B; r++) {
        float *d = dp ? dp + (size_t)r * K : NULL;
        total += row_loss(kind, p + (size_t)r * K, d, labels, targets, r, K);
        if (d)
            for (int k = 0; k < K; k++) d[k] = (float)((double)d[k] / B);
    }
    if (loss_out) *loss_out = (float)(total / B);
    if (isfinite((float)(total / B))) return DNIC_OK;
    return dnic__fail(DNIC_ERR_NONFINITE, "dnic_loss_forward_backward_ref: the mean loss of %d rows is %g: NaN or "
                      "beyond a float", B, total / B);
}

size_t dnic_count_correct(dnic_loss kind, const float *p, const int32_t *labels, int B, int K) {
    if (!p || !labels || B < 1 || K < 1) return 0;
    size_t correct = 0;
    for (int r = 0; r < B; r++) {
        const float *row = p + (size_t)r * K;
        int guess;
        if (K == 1) {
            /* logistic: sigmoid(p) > 1/2 <=> p > 0; MSE regresses the label itself */
            float cut = kind == DNIC_LOSS_MSE ? 0.5f : 0.0f;
            guess = row[0] > cut;
        } else {
            guess = 0;
            for (int k = 1; k < K; k++) if (row[k] > row[guess]) guess = k;
        }
        correct += guess == labels[r];
    }
    return correct;
}

/* The loss's link, in double: the one definition of a prediction's
 * probabilities (dnic_net_predict, the Swift library's `dnic predict
 * --proba`). */
dnic_status dnic_loss_probabilities(dnic_loss kind, const float *p, size_t n, int K, float *out) {
#define FN "dnic_loss_probabilities: "
    if (kind != DNIC_LOSS_SOFTMAX_CE && kind != DNIC_LOSS_LOGISTIC)
        return dnic__fail(DNIC_ERR_ARG, FN "kind = %d: only softmax CE (1) and logistic (2) outputs are "
                          "probabilities", (int)kind);
    if (K < 1 || K > DNIC_MAX_DIM || (kind == DNIC_LOSS_SOFTMAX_CE && K < 2))
        return dnic__fail(DNIC_ERR_SIZE, FN "K = %d is outside %d..%d", K, kind == DNIC_LOSS_SOFTMAX_CE ? 2 : 1,
                          DNIC_MAX_DIM);
    if (n == 0) return DNIC_OK;
    if (!p || !out) return dnic__fail(DNIC_ERR_NULL, FN "%s is NULL (n = %zu)", !p ? "p" : "out", n);
#undef FN
    for (size_t r = 0; r < n; r++) {
        const float *x = p + r * (size_t)K;
        float *o = out + r * (size_t)K;
        if (kind == DNIC_LOSS_LOGISTIC) {
            for (int k = 0; k < K; k++) {
                double v = x[k];
                o[k] = (float)(v >= 0 ? 1 / (1 + exp(-v)) : exp(v) / (1 + exp(v)));
            }
            continue;
        }
        float top = x[0];
        for (int k = 1; k < K; k++) top = x[k] > top ? x[k] : top;
        double total = 0;
        for (int k = 0; k < K; k++) total += exp((double)(x[k] - top));
        for (int k = 0; k < K; k++) o[k] = (float)(exp((double)(x[k] - top)) / total);
    }
    return DNIC_OK;
}
