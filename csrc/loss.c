/* loss.c — per-example losses averaged over the batch, their gradient with
 * respect to the network output, and accuracy counting.
 * dp is the gradient of the BATCH MEAN (each row scaled by 1/B), which is
 * what the backward pass of a batch update needs.
 */
#include "internal.h"

#include <math.h>

static inline double target_of(const int32_t *labels, const float *targets, int r, int k,
                               int K) {
    if (targets) return targets[(size_t)r * K + k];
    if (K == 1) return (double)labels[r];
    return labels[r] == k ? 1.0 : 0.0;
}

static dnic_status check_args(dnic_loss kind, const float *p, const int32_t *labels,
                              const float *targets, int B, int K) {
    if (!p || (!labels && !targets)) return DNIC_ERR_NULL;
    if (B < 1 || K < 1 || B > DNIC_MAX_DIM || K > DNIC_MAX_DIM) return DNIC_ERR_SIZE;
    if (kind != DNIC_LOSS_MSE && kind != DNIC_LOSS_SOFTMAX_CE && kind != DNIC_LOSS_LOGISTIC)
        return DNIC_ERR_ARG;
    if (kind == DNIC_LOSS_SOFTMAX_CE && K < 2) return DNIC_ERR_ARG;
    if (!targets) {
        int hi = K == 1 ? 1 : K - 1;
        for (int r = 0; r < B; r++)
            if (labels[r] < 0 || labels[r] > hi) return DNIC_ERR_LABEL;
    }
    return DNIC_OK;
}

/* Loss of one row, gradient of that row's loss written to d (unscaled). */
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

dnic_status dnic_loss_forward_backward(dnic_loss kind, float *loss_out, float *dp, const float *p,
                                       const int32_t *labels, const float *targets, int B,
                                       int K) {
    dnic_status st = check_args(kind, p, labels, targets, B, K);
    if (st != DNIC_OK) return st;
    double total = 0;
    float inv_b = 1.0f / (float)B;
#pragma omp parallel for reduction(+ : total) if ((size_t)B * K > DNIC_PAR_MIN / 8)
    for (int r = 0; r < B; r++) {
        float *d = dp ? dp + (size_t)r * K : NULL;
        total += row_loss(kind, p + (size_t)r * K, d, labels, targets, r, K);
        if (d)
            for (int k = 0; k < K; k++) d[k] *= inv_b;
    }
    double mean = total / B;
    if (loss_out) *loss_out = (float)mean;
    return isfinite(mean) ? DNIC_OK : DNIC_ERR_NONFINITE;
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
    return isfinite(total) ? DNIC_OK : DNIC_ERR_NONFINITE;
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
