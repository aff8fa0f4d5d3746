/* softmax_probe.c — softmax (multinomial logistic regression) probes, the
 * classifiers the paper's Figure 8 uses after Alain & Bengio, trained to
 * convergence on a layer's activations.
 *
 * Objective (W (d + 1) x k, its last row the bias b):
 *   f(W) = (1/n) sum_i [ logsumexp(z_i) - z_i[y_i] ] + (l2/2) ||W without b||^2,
 *   z_i = x_i W[0:d] + b.
 * Strictly convex for l2 > 0, so it has one minimiser whatever the start;
 * the small l2 is there for that (on separable data the unpenalised loss
 * has no minimum: the weights grow without bound).
 *
 * Optimiser: full-batch L-BFGS (10 pairs, two-loop recursion, backtracking
 * line search on the Armijo condition), from W = 0. No library for it is
 * installed here (no liblbfgs, no GSL), and the method is 60 lines.
 * Stopping rule, the first that holds:
 *   - gradient: ||grad f||_inf <= grad_tol * ||grad f(0)||_inf;
 *   - loss change: (f_prev - f) / max(|f_prev|, |f|, 1) <= loss_tol over
 *     one iteration;
 *   - precision: the line search cannot lower f any more (f is computed
 *     from float32 scores, so near the optimum its changes drown in
 *     rounding);
 *   - the cap: max_iterations.
 * The first three count as converged.
 *
 * Arithmetic: the two products per evaluation (scores X W and gradient
 * X^T (P - Y)) go through dnic_sgemm (float32, the GEMM backend); the
 * softmax, the loss and the bias gradient are per row in double, summed
 * per fixed block of rows and then in block order, so the result does not
 * depend on the thread count beyond what the GEMM does. All memory is
 * allocated once before the first evaluation.
 */
#include "base/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_PER_BLOCK 1024
#define HISTORY 10
#define ARMIJO 1e-4
#define MAX_BACKTRACKS 40

dnic_softmax_probe_config dnic_softmax_probe_defaults(void) {
    dnic_softmax_probe_config c;
    c.l2 = 1e-4;
    c.max_iterations = 1000;
    c.grad_tol = 1e-3;
    c.loss_tol = 1e-9;
    return c;
}

typedef struct {
    const float *X;
    const int32_t *y;
    size_t n;
    int d, k;
    double l2;
    float *Wf;        /* (d + 1, k) float copy of the parameters for the GEMM */
    float *Z;         /* (n, k): scores, then P - Y */
    float *G;         /* (d, k): X^T (P - Y) */
    double *blocks;   /* per row block: loss, then the k bias-gradient sums */
    size_t nblocks;
} probe_work;

/* What was wrong, into info->detail (when given) and, after the public
 * function's name `fn`, into the thread's dnic_last_error(). */
static void detail(dnic_softmax_probe_info *info, const char *fn, const char *fmt, ...) {
    char text[sizeof info->detail];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (info) snprintf(info->detail, sizeof info->detail, "%s", text);
    dnic__fail(DNIC_OK, "%s: %s", fn, text);
}

/* f and grad f at W (double, (d + 1) x k). DNIC_ERR_NONFINITE if a score overflowed. */
static dnic_status evaluate(probe_work *w, const double *W, double *f_out, double *grad) {
    const int d = w->d, k = w->k;
    const size_t nw = (size_t)d * (size_t)k, np = nw + (size_t)k;
    for (size_t j = 0; j < np; j++) w->Wf[j] = (float)W[j];
    dnic_sgemm(0, 0, (int)w->n, k, d, 1.0f, w->X, d, w->Wf, k, 0.0f, w->Z, k);
    const float *bias = w->Wf + nw;
    long long nblocks = (long long)w->nblocks;
    int bad = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) reduction(| : bad) if (w->n * (size_t)k > DNIC_PAR_MIN)
#endif
    for (long long blk = 0; blk < nblocks; blk++) {
        double *acc = w->blocks + (size_t)blk * (size_t)(k + 1);
        for (int c = 0; c <= k; c++) acc[c] = 0;
        size_t end = ((size_t)blk + 1) * ROWS_PER_BLOCK;
        if (end > w->n) end = w->n;
        for (size_t r = (size_t)blk * ROWS_PER_BLOCK; r < end; r++) {
            float *z = w->Z + r * (size_t)k;
            double top = -INFINITY;
            for (int c = 0; c < k; c++) {
                z[c] += bias[c];
                if (z[c] > top) top = z[c];
            }
            if (!isfinite(top)) { bad = 1; continue; }
            double sum = 0;
            for (int c = 0; c < k; c++) sum += exp((double)z[c] - top);
            int label = w->y[r];
            acc[0] += top + log(sum) - (double)z[label];
            for (int c = 0; c < k; c++) {
                double p = exp((double)z[c] - top) / sum - (c == label ? 1.0 : 0.0);
                z[c] = (float)p;
                acc[1 + c] += p;
            }
        }
    }
    if (bad) return DNIC_ERR_NONFINITE;
    dnic_sgemm(1, 0, d, k, (int)w->n, 1.0f / (float)w->n, w->X, d, w->Z, k, 0.0f, w->G, k);
    double loss = 0;
    for (int c = 0; c < k; c++) grad[nw + (size_t)c] = 0;
    for (size_t blk = 0; blk < w->nblocks; blk++) {
        const double *acc = w->blocks + blk * (size_t)(k + 1);
        loss += acc[0];
        for (int c = 0; c < k; c++) grad[nw + (size_t)c] += acc[1 + c];
    }
    loss /= (double)w->n;
    for (int c = 0; c < k; c++) grad[nw + (size_t)c] /= (double)w->n;
    double penalty = 0;
    for (size_t j = 0; j < nw; j++) {
        penalty += W[j] * W[j];
        grad[j] = (double)w->G[j] + w->l2 * W[j];
    }
    *f_out = loss + 0.5 * w->l2 * penalty;
    return isfinite(*f_out) ? DNIC_OK : DNIC_ERR_NONFINITE;
}

static dnic_status check_inputs(const float *X, size_t n, int d, const int32_t *labels, int k, double l2,
                                dnic_softmax_probe_info *info, const char *fn) {
    if (!X || !labels) return dnic__fail(DNIC_ERR_NULL, "%s: %s is NULL", fn, !X ? "X" : "labels");
    if (n < 1 || d < 1 || k < 1 || d > (1 << 16) || k > (1 << 16) || n > (size_t)DNIC_MAX_DIM * 64) {
        detail(info, fn, "sizes n %zu, d %d, k %d: each must be at least 1 (d and k at most 65536)", n, d, k);
        return DNIC_ERR_SIZE;
    }
    if (!(l2 >= 0) || !isfinite(l2)) {
        detail(info, fn, "l2 %g: must be a finite number >= 0", l2);
        return DNIC_ERR_ARG;
    }
    for (size_t r = 0; r < n; r++)
        if (labels[r] < 0 || labels[r] >= k) {
            detail(info, fn, "label %d of row %zu is outside [0, %d)", (int)labels[r], r, k);
            return DNIC_ERR_LABEL;
        }
    size_t total = n * (size_t)d, first_bad = total;
    long long count = (long long)total;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) reduction(min : first_bad) if (total > DNIC_PAR_MIN)
#endif
    for (long long i = 0; i < count; i++)
        if (!isfinite(X[i]) && (size_t)i < first_bad) first_bad = (size_t)i;
    if (first_bad < total) {
        detail(info, fn, "feature %zu of row %zu is not finite", first_bad % (size_t)d, first_bad / (size_t)d);
        return DNIC_ERR_NONFINITE;
    }
    return DNIC_OK;
}

static void work_free(probe_work *w) {
    free(w->Wf);
    free(w->Z);
    free(w->G);
    free(w->blocks);
}

static dnic_status work_init(probe_work *w, const float *X, size_t n, int d, const int32_t *labels, int k, double l2) {
    memset(w, 0, sizeof *w);
    w->X = X;
    w->y = labels;
    w->n = n;
    w->d = d;
    w->k = k;
    w->l2 = l2;
    w->nblocks = (n + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    w->Wf = malloc(((size_t)d + 1) * (size_t)k * sizeof *w->Wf);
    w->Z = malloc(n * (size_t)k * sizeof *w->Z);
    w->G = malloc((size_t)d * (size_t)k * sizeof *w->G);
    w->blocks = malloc(w->nblocks * (size_t)(k + 1) * sizeof *w->blocks);
    if (w->Wf && w->Z && w->G && w->blocks) return DNIC_OK;
    work_free(w);
    return dnic__fail(DNIC_ERR_NOMEM, "dnic_softmax_probe: out of memory for %zu rows", n);
}

dnic_status dnic_softmax_probe_objective(const float *X, size_t n, int d, const int32_t *labels, int k, double l2,
                                         const double *W, double *loss, double *grad) {
    if (!W || !loss || !grad)
        return dnic__fail(DNIC_ERR_NULL, "dnic_softmax_probe_objective: NULL pointer argument (W or loss or grad)");
    dnic_status st = check_inputs(X, n, d, labels, k, l2, NULL, "dnic_softmax_probe_objective");
    if (st != DNIC_OK) return st;
    probe_work w;
    if ((st = work_init(&w, X, n, d, labels, k, l2)) != DNIC_OK) return st;
    st = evaluate(&w, W, loss, grad);
    work_free(&w);
    if (st != DNIC_OK) return dnic__fail(st, "dnic_softmax_probe_objective: the loss is not finite at this W");
    return st;
}

static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

/* p = -H g by the two-loop recursion over the `used` newest pairs (ring at `newest`). */
static void lbfgs_direction(const double *g, size_t np, const double *S, const double *Yh, const double *rho, int used,
                            int newest, double *alpha, double *p) {
    for (size_t j = 0; j < np; j++) p[j] = -g[j];
    for (int i = 0; i < used; i++) {
        int h = (newest - i + HISTORY) % HISTORY;
        alpha[h] = rho[h] * dot(S + (size_t)h * np, p, np);
        const double *y = Yh + (size_t)h * np;
        for (size_t j = 0; j < np; j++) p[j] -= alpha[h] * y[j];
    }
    if (used > 0) { /* initial Hessian: s^T y / y^T y of the newest pair */
        const double *s = S + (size_t)newest * np, *y = Yh + (size_t)newest * np;
        double gamma = dot(s, y, np) / dot(y, y, np);
        for (size_t j = 0; j < np; j++) p[j] *= gamma;
    }
    for (int i = used - 1; i >= 0; i--) {
        int h = (newest - i + HISTORY) % HISTORY;
        double beta = rho[h] * dot(Yh + (size_t)h * np, p, np);
        const double *s = S + (size_t)h * np;
        for (size_t j = 0; j < np; j++) p[j] += (alpha[h] - beta) * s[j];
    }
}

dnic_status dnic_softmax_probe_fit(const float *X, size_t n, int d, const int32_t *labels, int k,
                                   const dnic_softmax_probe_config *config, float *W, dnic_softmax_probe_info *info) {
    if (info) memset(info, 0, sizeof *info);
    if (!W)
        return dnic__fail(DNIC_ERR_NULL, "dnic_softmax_probe_fit: NULL pointer argument (W)");
    dnic_softmax_probe_config cfg = config ? *config : dnic_softmax_probe_defaults();
    dnic_status st = check_inputs(X, n, d, labels, k, cfg.l2, info, "dnic_softmax_probe_fit");
    if (st != DNIC_OK) return st;
    if (cfg.max_iterations < 1 || !(cfg.grad_tol >= 0) || !(cfg.loss_tol >= 0) || !isfinite(cfg.grad_tol) ||
        !isfinite(cfg.loss_tol)) {
        detail(info, "dnic_softmax_probe_fit", "max_iterations %d, grad_tol %g, loss_tol %g: need at least 1 iteration and tolerances >= 0",
               cfg.max_iterations, cfg.grad_tol, cfg.loss_tol);
        return DNIC_ERR_ARG;
    }
    probe_work w;
    if ((st = work_init(&w, X, n, d, labels, k, cfg.l2)) != DNIC_OK) return st;
    const size_t np = ((size_t)d + 1) * (size_t)k;
    /* theta, grad, trial theta, trial grad, direction, history S and Y */
    double *mem = calloc(np * (5 + 2 * (size_t)HISTORY), sizeof *mem);
    if (!mem) {
        work_free(&w);
        return dnic__fail(DNIC_ERR_NOMEM, "dnic_softmax_probe_fit: out of memory");
    }
    double *theta = mem, *g = theta + np, *theta_new = g + np, *g_new = theta_new + np, *p = g_new + np;
    double *S = p + np, *Yh = S + (size_t)HISTORY * np;
    double rho[HISTORY], alpha[HISTORY];
    int used = 0, newest = HISTORY - 1, iter = 0, evals = 1;
    dnic_probe_stop stop = DNIC_PROBE_STOP_MAX_ITERATIONS;
    double f, f_new;
    st = evaluate(&w, theta, &f, g);
    const double g0 = max_abs(g, np), g_target = cfg.grad_tol * g0;
    if (st == DNIC_OK && max_abs(g, np) <= g_target) stop = DNIC_PROBE_STOP_GRADIENT;
    while (st == DNIC_OK && stop == DNIC_PROBE_STOP_MAX_ITERATIONS && iter < cfg.max_iterations) {
        lbfgs_direction(g, np, S, Yh, rho, used, newest, alpha, p);
        double slope = dot(g, p, np);
        if (!(slope < 0)) { /* not a descent direction (rounding): restart from steepest descent */
            used = 0;
            for (size_t j = 0; j < np; j++) p[j] = -g[j];
            slope = dot(g, p, np);
        }
        /* the first step has no curvature to scale it: at most unit length */
        double t = used == 0 ? fmin(1.0, 1.0 / sqrt(-slope)) : 1.0;
        int accepted = 0;
        for (int tries = 0; tries < MAX_BACKTRACKS && st == DNIC_OK; tries++, t *= 0.5) {
            for (size_t j = 0; j < np; j++) theta_new[j] = theta[j] + t * p[j];
            st = evaluate(&w, theta_new, &f_new, g_new);
            evals++;
            if (st == DNIC_ERR_NONFINITE) st = DNIC_OK; /* overflowed: shorter step */
            else if (st == DNIC_OK && f_new <= f + ARMIJO * t * slope) { accepted = 1; break; }
        }
        if (st != DNIC_OK) break;
        if (!accepted) {
            stop = DNIC_PROBE_STOP_PRECISION;
            break;
        }
        iter++;
        int slot = (newest + 1) % HISTORY;
        double *s = S + (size_t)slot * np, *yv = Yh + (size_t)slot * np;
        for (size_t j = 0; j < np; j++) {
            s[j] = theta_new[j] - theta[j];
            yv[j] = g_new[j] - g[j];
        }
        double sy = dot(s, yv, np);
        if (sy > 1e-12 * dot(yv, yv, np)) { /* curvature positive: keep the pair */
            rho[slot] = 1.0 / sy;
            newest = slot;
            if (used < HISTORY) used++;
        }
        double change = (f - f_new) / fmax(fmax(fabs(f), fabs(f_new)), 1.0);
        memcpy(theta, theta_new, np * sizeof *theta);
        memcpy(g, g_new, np * sizeof *g);
        f = f_new;
        if (max_abs(g, np) <= g_target) stop = DNIC_PROBE_STOP_GRADIENT;
        else if (change <= cfg.loss_tol) stop = DNIC_PROBE_STOP_LOSS_CHANGE;
    }
    if (st == DNIC_OK) {
        for (size_t j = 0; j < np; j++) W[j] = (float)theta[j];
        if (info) {
            info->iterations = iter;
            info->evaluations = evals;
            info->stop = stop;
            info->loss = f;
            info->grad_norm = max_abs(g, np);
            info->grad_norm0 = g0;
        }
    } else {
        detail(info, "dnic_softmax_probe_fit", "the loss became non-finite at iteration %d", iter);
    }
    free(mem);
    work_free(&w);
    return st;
}
