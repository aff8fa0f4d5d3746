/* optim.c — optimizer updates on flat parameter blocks (SGD, momentum,
 * Adam with bias correction) and their configuration.
 * The L2 penalty is coupled (added to the gradient), as in the paper's
 * "small L2 penalty"; the network decides which tensors it applies to.
 * One update body serves the public kernels and the network's checked
 * update, compiled per instruction set (DNIC_ISA_VARIANTS, kernels_internal.h).
 * Not here: gradient clipping's norm and scaling (finite.c).
 */
#include "gemm/threads.h"
#include "kernels/kernels_internal.h"

#include <math.h>

dnic_optim_config dnic_optim_default(dnic_optimizer kind) {
    dnic_optim_config c;
    c.kind = kind;
    c.lr = kind == DNIC_OPT_ADAM ? 1e-3f : 0.01f;
    c.momentum = 0.9f;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = 1e-8f;
    c.l2 = 0.0f;
    return c;
}

dnic_status dnic_optim_validate(const dnic_optim_config *c) {
    /* details name dnic_optim_validate: every set_optimizer call runs it */
    if (!c) return dnic__fail(DNIC_ERR_NULL, "dnic_optim_validate: cfg is NULL");
    if (c->kind != DNIC_OPT_SGD && c->kind != DNIC_OPT_MOMENTUM && c->kind != DNIC_OPT_ADAM)
        return dnic__fail(DNIC_ERR_ARG, "dnic_optim_validate: kind = %d is not a dnic_optimizer (0..2)", (int)c->kind);
    if (!(c->lr > 0.0f) || !isfinite(c->lr))
        return dnic__fail(DNIC_ERR_ARG, "dnic_optim_validate: lr = %g must be finite and > 0", (double)c->lr);
    if (!(c->l2 >= 0.0f) || !isfinite(c->l2))
        return dnic__fail(DNIC_ERR_ARG, "dnic_optim_validate: l2 = %g must be finite and >= 0", (double)c->l2);
    if (c->kind == DNIC_OPT_MOMENTUM && !(c->momentum >= 0.0f && c->momentum < 1.0f))
        return dnic__fail(DNIC_ERR_ARG, "dnic_optim_validate: momentum = %g is outside [0, 1)", (double)c->momentum);
    if (c->kind == DNIC_OPT_ADAM && !(c->beta1 >= 0.0f && c->beta1 < 1.0f))
        return dnic__fail(DNIC_ERR_ARG, "dnic_optim_validate: beta1 = %g is outside [0, 1)", (double)c->beta1);
    if (c->kind == DNIC_OPT_ADAM && !(c->beta2 >= 0.0f && c->beta2 < 1.0f))
        return dnic__fail(DNIC_ERR_ARG, "dnic_optim_validate: beta2 = %g is outside [0, 1)", (double)c->beta2);
    if (c->kind == DNIC_OPT_ADAM && !(c->eps > 0.0f && isfinite(c->eps)))
        return dnic__fail(DNIC_ERR_ARG, "dnic_optim_validate: eps = %g must be finite and > 0", (double)c->eps);
    return DNIC_OK;
}

/* ------------------------------------------------------------- updates */

/* One update rule with its constants, shared by the public kernels and the
 * network's checked update. */
typedef struct {
    dnic_optimizer kind;
    float lr, mu;          /* SGD, momentum */
    float b1, b2, ob1, ob2; /* Adam: beta1, beta2, 1 - beta1, 1 - beta2 */
    float a, e;            /* Adam: step size and eps with the bias corrections folded in */
    float l2;
} rule_t;

static rule_t rule_sgd(float lr, float l2) {
    rule_t u = {DNIC_OPT_SGD, lr, 0, 0, 0, 0, 0, 0, 0, l2};
    return u;
}

static rule_t rule_momentum(float lr, float mu, float l2) {
    rule_t u = {DNIC_OPT_MOMENTUM, lr, mu, 0, 0, 0, 0, 0, 0, l2};
    return u;
}

static rule_t rule_adam(float lr, float beta1, float beta2, float eps, float l2, int64_t t) {
    if (t < 1) t = 1;
    /* bias corrections folded into one step size and one eps scale:
     * lr m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps) = a m / (sqrt(v) + e) */
    double c1 = 1.0 - pow(beta1, (double)t), c2 = 1.0 - pow(beta2, (double)t);
    rule_t u = {DNIC_OPT_ADAM, lr, 0, beta1, beta2, 1.0f - beta1, 1.0f - beta2,
                (float)(lr * sqrt(c2) / c1), (float)(eps * sqrt(c2)), l2};
    return u;
}

/* n values updated; *bad = 0 when every new value (parameter and optimizer
 * moments) is finite, NaN otherwise
 * (x * 0 is NaN exactly when x is NaN or infinite: a branch-free check in
 * the same pass instead of a second one). */
DNIC_INLINE void update_body(int L, const rule_t *u, float *p, float *m, float *v, const float *g, size_t n,
                             float *bad_out) {
    (void)L;
    float bad = 0.0f, l2 = u->l2;
    switch (u->kind) {
    case DNIC_OPT_SGD: {
        float lr = u->lr;
#pragma omp simd reduction(+ : bad)
        for (size_t i = 0; i < n; i++) {
            p[i] -= lr * (g[i] + l2 * p[i]);
            bad += p[i] * 0.0f;
        }
        break;
    }
    case DNIC_OPT_MOMENTUM: {
        float lr = u->lr, mu = u->mu;
#pragma omp simd reduction(+ : bad)
        for (size_t i = 0; i < n; i++) {
            m[i] = mu * m[i] + g[i] + l2 * p[i];
            p[i] -= lr * m[i];
            bad += p[i] * 0.0f; /* an infinite m makes p infinite too */
        }
        break;
    }
    case DNIC_OPT_ADAM: {
        float b1 = u->b1, b2 = u->b2, ob1 = u->ob1, ob2 = u->ob2, a = u->a, e = u->e;
#pragma omp simd reduction(+ : bad)
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] + l2 * p[i];
            m[i] = b1 * m[i] + ob1 * gi;
            v[i] = b2 * v[i] + ob2 * gi * gi;
            p[i] -= a * m[i] / (sqrtf(v[i]) + e);
            /* g^2 overflows long before g does: an infinite v leaves p
             * finite (its step is 0) but the state unusable. m needs no
             * check: it is finite whenever g + l2 p is, and when that is
             * not, v is not either */
            bad += p[i] * 0.0f + v[i] * 0.0f;
        }
        break;
    }
    }
    *bad_out = bad;
}
DNIC_ISA_VARIANTS(update, (const rule_t *u, float *p, float *m, float *v, const float *g, size_t n, float *bad),
                  u, p, m, v, g, n, bad);

/* Values per thread below which an update stays on one thread: a parallel
 * region costs ~1 us, an SGD or momentum step of 16k values ~2 us, an Adam
 * step (a square root and a division a value) of 4k about as long
 * (measured with AVX-512 on 2 cores: 2 threads pay from twice these). */
#define PAR_MIN_UPDATE 16384
#define PAR_MIN_ADAM 4096

/* Runs the rule over n values; returns 1 when every new value is finite. */
static int update(const rule_t *u, float *p, float *m, float *v, const float *g, size_t n) {
    void (*f)(const rule_t *, float *, float *, float *, const float *, size_t, float *) = update_isa[dnic__isa()];
    float bad = 0.0f;
    int nt = dnic__par_threads(n, u->kind == DNIC_OPT_ADAM ? PAR_MIN_ADAM : PAR_MIN_UPDATE);
    if (nt <= 1) {
        f(u, p, m, v, g, n, &bad);
        return bad == 0.0f;
    }
    /* the sum of zeros and NaNs is NaN or 0 in any order */
#pragma omp parallel for num_threads(nt) reduction(+ : bad)
    for (int k = 0; k < nt; k++) {
        size_t lo, hi;
        float b = 0.0f;
        dnic__share_lines(p, n, nt, k, &lo, &hi);
        if (hi > lo) f(u, p + lo, m ? m + lo : NULL, v ? v + lo : NULL, g + lo, hi - lo, &b);
        bad += b;
    }
    return bad == 0.0f;
}

void dnic_sgd_update(float *p, const float *g, size_t n, float lr, float l2) {
    rule_t u = rule_sgd(lr, l2);
    update(&u, p, NULL, NULL, g, n);
}

void dnic_sgd_update_ref(float *p, const float *g, size_t n, float lr, float l2) {
    for (size_t i = 0; i < n; i++) p[i] = (float)(p[i] - (double)lr * (g[i] + (double)l2 * p[i]));
}

void dnic_momentum_update(float *p, float *v, const float *g, size_t n, float lr, float mu,
                          float l2) {
    rule_t u = rule_momentum(lr, mu, l2);
    update(&u, p, v, NULL, g, n);
}

void dnic_momentum_update_ref(float *p, float *v, const float *g, size_t n, float lr, float mu,
                              float l2) {
    for (size_t i = 0; i < n; i++) {
        double vi = (double)mu * v[i] + g[i] + (double)l2 * p[i];
        v[i] = (float)vi;
        p[i] = (float)(p[i] - (double)lr * vi);
    }
}

void dnic_adam_update(float *p, float *m, float *v, const float *g, size_t n, float lr,
                      float beta1, float beta2, float eps, float l2, int64_t t) {
    rule_t u = rule_adam(lr, beta1, beta2, eps, l2, t);
    update(&u, p, m, v, g, n);
}

void dnic_adam_update_ref(float *p, float *m, float *v, const float *g, size_t n, float lr,
                          float beta1, float beta2, float eps, float l2, int64_t t) {
    if (t < 1) t = 1;
    for (size_t i = 0; i < n; i++) {
        double gi = g[i] + (double)l2 * p[i];
        double mi = (double)beta1 * m[i] + (1.0 - beta1) * gi;
        double vi = (double)beta2 * v[i] + (1.0 - beta2) * gi * gi;
        m[i] = (float)mi;
        v[i] = (float)vi;
        double mh = mi / (1.0 - pow(beta1, (double)t)), vh = vi / (1.0 - pow(beta2, (double)t));
        p[i] = (float)(p[i] - lr * mh / (sqrt(vh) + eps));
    }
}

/* ------------------------------------------ updates that check finiteness */

/* The network's update: the public kernels' arithmetic (the same code),
 * with the finiteness of the new values checked in the same pass. Returns
 * 1 when every updated value is finite. */
int dnic__update_checked(const dnic_optim_config *c, float *p, float *m, float *v, const float *g, size_t n,
                         float l2, int64_t t) {
    rule_t u;
    switch (c->kind) {
    case DNIC_OPT_SGD: u = rule_sgd(c->lr, l2); break;
    case DNIC_OPT_MOMENTUM: u = rule_momentum(c->lr, c->momentum, l2); break;
    case DNIC_OPT_ADAM: u = rule_adam(c->lr, c->beta1, c->beta2, c->eps, l2, t); break;
    default: return 1;
    }
    return update(&u, p, m, v, g, n);
}

/* One optimizer step over a table of tensors in flat (params, grads, first
 * and second moment) blocks, shared by the network and the interfaces: optional global-norm
 * clipping of the trainable gradients, the update of each trainable tensor
 * with its group's settings (L2 only where `decay`) at its group's
 * scheduled rate for `step` (sched NULL: the settings' rate), and fault detection.
 * Returns the index of the first tensor that became non-finite (-1 if none). */
int dnic__update_tensors(const dnic_tensor_info *tensors, int n_tensors, float *params, float *grads,
                         float *moment1, float *moment2, const dnic_optim_config *opt,
                         const dnic_lr_schedule *sched, int n_groups, float clip, int64_t step, float *norm_out,
                         int *grad_was_bad) {
    if (clip > 0.0f) {
        double ss = 0;
        for (int i = 0; i < n_tensors; i++)
            if (tensors[i].trainable) ss += dnic__sum_squares(grads + tensors[i].offset, tensors[i].size);
        float norm = (float)sqrt(ss);
        if (norm_out) *norm_out = norm;
        if (norm > clip && isfinite(norm))
            for (int i = 0; i < n_tensors; i++)
                if (tensors[i].trainable) dnic__scale(grads + tensors[i].offset, tensors[i].size, clip / norm);
    }
    int fault = -1;
    *grad_was_bad = 0;
    for (int i = 0; i < n_tensors; i++) {
        const dnic_tensor_info *t = &tensors[i];
        if (!t->trainable) continue;
        int group = t->group < n_groups ? t->group : 0;
        dnic_optim_config c = opt[group]; /* a copy on the stack: the rate of this step */
        if (sched) c.lr = dnic_lr_schedule_rate(&sched[group], step, c.lr);
        float *p = params + t->offset, *m = moment1 + t->offset, *v = moment2 + t->offset;
        const float *g = grads + t->offset;
        int finite = dnic__update_checked(&c, p, m, v, g, t->size, t->decay ? c.l2 : 0.0f, step);
        /* a fault stops training: name the first tensor it reached */
        if (fault < 0 && !finite) {
            fault = i;
            *grad_was_bad = !dnic__all_finite(g, t->size);
        }
    }
    return fault;
}
