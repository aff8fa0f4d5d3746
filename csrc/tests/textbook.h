/* textbook.h — what the tests of the learning rules (test_rules,
 * test_rules_sg, test_theorem1) share: a TEXTBOOK network in double
 * precision (own forward / backward loops, plain SGD, the rule at each
 * boundary: backprop, FA, DFA or a linear synthetic gradient), started
 * from a library network's parameters and compared with it; small
 * classification batches; DNIs made from interface descriptions. */
#ifndef DNIC_TESTS_TEXTBOOK_H
#define DNIC_TESTS_TEXTBOOK_H

#include "harness.h"

#define MAXL 16

/* A DNI over net with the n interfaces d (checked); iface_lr > 0: their
 * optimizer is SGD at that rate. */
static inline dnic_dni_t *make_dni(dnic_net_t *net, const dnic_iface_desc *d, int n, int n_labels, uint64_t seed,
                                   float iface_lr) {
    dnic_dni_t *dni = NULL;
    dnic_status st = dnic_dni_create(&dni, net, d, n, n_labels, seed);
    CHECK(st == DNIC_OK && dni, "dni create: %s", dnic_status_str(st));
    if (!dni) return NULL;
    CHECK(dnic_dni_num_ifaces(dni) == n, "dni has %d interfaces, want %d", dnic_dni_num_ifaces(dni), n);
    if (iface_lr > 0) {
        dnic_optim_config c = dnic_optim_default(DNIC_OPT_SGD);
        c.lr = iface_lr;
        st = dnic_dni_set_iface_optimizer(dni, &c);
        CHECK(st == DNIC_OK, "iface optimizer: %s", dnic_status_str(st));
    }
    return dni;
}

/* ------------------------------------------------------- the textbook net */

typedef enum { R_BP, R_FA, R_DFA, R_LINSG } rule_t;

typedef struct {
    rule_t rule;
    double *A;      /* FA: (w_l, w_{l+1}); DFA: (w_l, K); LINSG: (w_l, w_l) */
    double *Bm, *C; /* LINSG: (nl, w_l), (w_l) */
    int nl;
    double lr;      /* LINSG: interface learning rate */
    double alpha;   /* LINSG: weight of dL_S/dh in the signal (sgprop) */
    int true_target; /* LINSG: target TRUE (full backprop) instead of BOOTSTRAP */
} boundary_t;

typedef struct {
    int in, n, K;
    int w[MAXL];
    dnic_activation act[MAXL];
    dnic_loss loss;
    double *W[MAXL], *b[MAXL];
    boundary_t bd[MAXL]; /* rule at h_l for hidden layers l < n-1 */
} tnet_t;

static inline void tnet_init(tnet_t *t, dnic_net_t *n, const dnic_layer_desc *layers, dnic_loss loss) {
    memset(t, 0, sizeof *t);
    t->in = dnic_net_input_dim(n);
    t->n = dnic_net_num_layers(n);
    t->loss = loss;
    size_t np;
    float *P = dnic_net_params(n, &np);
    int in = t->in;
    for (int l = 0; l < t->n; l++) {
        t->w[l] = dnic_net_layer_width(n, l);
        t->act[l] = layers[l].act;
        t->W[l] = malloc(sizeof(double) * in * t->w[l]);
        t->b[l] = malloc(sizeof(double) * t->w[l]);
        char name[64];
        snprintf(name, sizeof name, "layer%d.weight", l);
        long oW = net_tensor(n, name);
        snprintf(name, sizeof name, "layer%d.bias", l);
        long ob = net_tensor(n, name);
        for (int k = 0; k < in * t->w[l]; k++) t->W[l][k] = oW >= 0 ? P[oW + k] : 0;
        for (int k = 0; k < t->w[l]; k++) t->b[l][k] = ob >= 0 ? P[ob + k] : 0;
        in = t->w[l];
    }
    t->K = t->w[t->n - 1];
}

static inline void tnet_free(tnet_t *t) {
    for (int l = 0; l < t->n; l++) {
        free(t->W[l]);
        free(t->b[l]);
        free(t->bd[l].A);
        free(t->bd[l].Bm);
        free(t->bd[l].C);
    }
}

/* Copies the matrix "A" of library interface i into boundary l. */
static inline int tnet_take_A(tnet_t *t, int l, dnic_dni_t *dni, int i, int rows, int cols) {
    dnic_iface_t *it = dnic_dni_iface(dni, i);
    CHECK(it != NULL, "dnic_dni_iface(%d) is NULL", i);
    if (!it) return 0;
    long o = iface_tensor(it, "A", rows, cols);
    if (o < 0) return 0;
    size_t np;
    float *P = dnic_iface_params(it, &np);
    free(t->bd[l].A);
    t->bd[l].A = malloc(sizeof(double) * rows * cols);
    for (int k = 0; k < rows * cols; k++) t->bd[l].A[k] = P[o + k];
    return 1;
}

/* One textbook SGD step (lr) on the batch; labels or targets. Gradients of
 * the batch-mean loss. Returns the loss. */
static inline double tnet_step(tnet_t *t, const float *x, const int32_t *labels, const float *targets, int B,
                               double lr) {
    const int n = t->n, K = t->K;
    double *a[MAXL], *h[MAXL], *dW[MAXL], *db[MAXL];
    int in = t->in;
    double *x0 = malloc(sizeof(double) * B * t->in);
    for (int k = 0; k < B * t->in; k++) x0[k] = x[k];
    const double *hin = x0;
    for (int l = 0; l < n; l++) {
        int w = t->w[l];
        a[l] = malloc(sizeof(double) * B * w);
        h[l] = malloc(sizeof(double) * B * w);
        dW[l] = calloc((size_t)in * w, sizeof(double));
        db[l] = calloc((size_t)w, sizeof(double));
        for (int i = 0; i < B; i++)
            for (int j = 0; j < w; j++) {
                double v = t->b[l][j];
                for (int k = 0; k < in; k++) v += hin[i * in + k] * t->W[l][k * w + j];
                a[l][i * w + j] = v;
                h[l][i * w + j] = ref_act(t->act[l], v);
            }
        hin = h[l];
        in = w;
    }
    /* loss and e = dL/dp of the batch mean */
    double *e = malloc(sizeof(double) * B * K), L = 0;
    const double *p = h[n - 1];
    for (int i = 0; i < B; i++) {
        if (t->loss == DNIC_LOSS_SOFTMAX_CE) {
            double mx = p[i * K];
            for (int j = 1; j < K; j++) mx = fmax(mx, p[i * K + j]);
            double z = 0;
            for (int j = 0; j < K; j++) z += exp(p[i * K + j] - mx);
            L += -(p[i * K + labels[i]] - mx - log(z));
            for (int j = 0; j < K; j++) e[i * K + j] = (exp(p[i * K + j] - mx) / z - (j == labels[i])) / B;
        } else {
            for (int j = 0; j < K; j++) {
                double tv = targets ? targets[i * K + j] : (K == 1 ? labels[i] : (labels[i] == j));
                double pv = p[i * K + j];
                if (t->loss == DNIC_LOSS_MSE) {
                    L += 0.5 * (pv - tv) * (pv - tv);
                    e[i * K + j] = (pv - tv) / B;
                } else { /* logistic */
                    L += (pv > 0 ? pv + log1p(exp(-pv)) : log1p(exp(pv))) - tv * pv;
                    e[i * K + j] = (1 / (1 + exp(-pv)) - tv) / B;
                }
            }
        }
    }
    L /= B;
    /* true dL/dh_l by plain backprop (for TRUE targets) */
    double *gtrue[MAXL] = {NULL};
    int need_true = 0;
    for (int l = 0; l < n - 1; l++) need_true |= t->bd[l].rule == R_LINSG && t->bd[l].true_target;
    if (need_true) {
        double *dl = malloc(sizeof(double) * B * K);
        memcpy(dl, e, sizeof(double) * B * K);
        for (int l = n - 1; l > 0; l--) {
            int w = t->w[l], win = t->w[l - 1];
            gtrue[l - 1] = calloc((size_t)B * win, sizeof(double));
            for (int i = 0; i < B; i++)
                for (int k = 0; k < win; k++)
                    for (int j = 0; j < w; j++) gtrue[l - 1][i * win + k] += dl[i * w + j] * t->W[l][k * w + j];
            free(dl);
            dl = malloc(sizeof(double) * B * win);
            for (int k = 0; k < B * win; k++) dl[k] = gtrue[l - 1][k] * ref_act_grad(t->act[l - 1], a[l - 1][k]);
        }
        free(dl);
    }
    /* backward, top down; delta = dL/da_l */
    double *delta = malloc(sizeof(double) * B * K);
    memcpy(delta, e, sizeof(double) * B * K); /* output layer: identity */
    for (int l = n - 1; l >= 0; l--) {
        int w = t->w[l], win = l > 0 ? t->w[l - 1] : t->in;
        const double *hprev = l > 0 ? h[l - 1] : x0;
        for (int i = 0; i < B; i++)
            for (int j = 0; j < w; j++) {
                double dv = delta[i * w + j];
                db[l][j] += dv;
                for (int k = 0; k < win; k++) dW[l][k * w + j] += hprev[i * win + k] * dv;
            }
        if (l == 0) break;
        /* the signal at h_{l-1} */
        boundary_t *bd = &t->bd[l - 1];
        double *sig = calloc((size_t)B * win, sizeof(double));
        for (int i = 0; i < B; i++)
            for (int k = 0; k < win; k++) {
                double v = 0;
                if (bd->rule == R_BP || bd->rule == R_LINSG)
                    for (int j = 0; j < w; j++) v += delta[i * w + j] * t->W[l][k * w + j];
                else if (bd->rule == R_FA)
                    for (int j = 0; j < w; j++) v += delta[i * w + j] * bd->A[k * w + j];
                else /* DFA */
                    for (int j = 0; j < K; j++) v += e[i * K + j] * bd->A[k * K + j];
                sig[i * win + k] = v;
            }
        if (bd->rule == R_LINSG) {
            /* g = the true dL/dh (TRUE) or sig, the gradient from the block
             * above (BOOTSTRAP); s = h A + y Bm + C; L_S = (1/B) sum 1/2
             * |s_i - B g_i|^2; signal s/B + alpha dL_S/dh; SGD on L_S */
            const int D = win, nl = bd->nl;
            const double *g = bd->true_target ? gtrue[l - 1] : sig;
            double *gA = calloc((size_t)D * D, sizeof(double)), *gB = calloc((size_t)(nl ? nl : 1) * D, sizeof(double));
            double *gC = calloc((size_t)D, sizeof(double)), *out = malloc(sizeof(double) * B * D);
            for (int i = 0; i < B; i++) {
                double y[MAXL], sv[MAXL], ds[MAXL];
                for (int c = 0; c < nl; c++)
                    y[c] = targets ? targets[i * nl + c] : (labels[i] == c);
                for (int j = 0; j < D; j++) {
                    double v = bd->C[j];
                    for (int k = 0; k < D; k++) v += h[l - 1][i * D + k] * bd->A[k * D + j];
                    for (int c = 0; c < nl; c++) v += y[c] * bd->Bm[c * D + j];
                    sv[j] = v;
                    ds[j] = (v - B * g[i * D + j]) / B;
                    for (int k = 0; k < D; k++) gA[k * D + j] += h[l - 1][i * D + k] * ds[j];
                    for (int c = 0; c < nl; c++) gB[c * D + j] += y[c] * ds[j];
                    gC[j] += ds[j];
                }
                for (int k = 0; k < D; k++) {
                    double prop = 0;
                    for (int j = 0; j < D; j++) prop += ds[j] * bd->A[k * D + j];
                    out[i * D + k] = sv[k] / B + bd->alpha * prop;
                }
            }
            memcpy(sig, out, sizeof(double) * B * D);
            for (int k = 0; k < D * D; k++) bd->A[k] -= bd->lr * gA[k];
            for (int k = 0; k < nl * D; k++) bd->Bm[k] -= bd->lr * gB[k];
            for (int k = 0; k < D; k++) bd->C[k] -= bd->lr * gC[k];
            free(gA);
            free(gB);
            free(gC);
            free(out);
        }
        free(delta);
        delta = malloc(sizeof(double) * B * win);
        for (int k = 0; k < B * win; k++) delta[k] = sig[k] * ref_act_grad(t->act[l - 1], a[l - 1][k]);
        free(sig);
    }
    /* plain SGD, all at once after the backward */
    in = t->in;
    for (int l = 0; l < n; l++) {
        for (int k = 0; k < in * t->w[l]; k++) t->W[l][k] -= lr * dW[l][k];
        for (int k = 0; k < t->w[l]; k++) t->b[l][k] -= lr * db[l][k];
        in = t->w[l];
    }
    for (int l = 0; l < n; l++) {
        free(gtrue[l]);
        free(a[l]);
        free(h[l]);
        free(dW[l]);
        free(db[l]);
    }
    free(delta);
    free(e);
    free(x0);
    return L;
}

/* Compares a library net's parameters with the textbook's:
 * |got - want| <= atol * scale + rtol |want| with scale = max |want| of
 * the tensor. Returns the worst ratio. */
static inline double compare_net(dnic_net_t *n, const tnet_t *t, double atol, double rtol, const char *what) {
    size_t np;
    float *P = dnic_net_params(n, &np);
    double worst = 0, md = 0;
    int in = t->in;
    for (int l = 0; l < t->n; l++) {
        char name[64];
        for (int q = 0; q < 2; q++) {
            snprintf(name, sizeof name, q ? "layer%d.bias" : "layer%d.weight", l);
            long o = net_tensor(n, name);
            int cnt = q ? t->w[l] : in * t->w[l];
            const double *want = q ? t->b[l] : t->W[l];
            if (o < 0) return INFINITY;
            double scale = 0;
            for (int k = 0; k < cnt; k++) scale = fmax(scale, fabs(want[k]));
            for (int k = 0; k < cnt; k++) {
                double d = fabs(P[o + k] - want[k]);
                if (!(d == d)) d = INFINITY;
                md = fmax(md, d);
                worst = fmax(worst, d / (atol * fmax(scale, 1e-3) + rtol * fabs(want[k])));
            }
        }
        in = t->w[l];
    }
    if (getenv("DNIC_TEST_VERBOSE")) printf("  %-48s maxdiff %.3g worst ratio %.3g\n", what, md, worst);
    CHECK(worst <= 1.0, "%s: parameters differ from the textbook: maxdiff %.3g (worst ratio %.3g, atol %.1g rtol %.1g)",
          what, md, worst, atol, rtol);
    return worst;
}

/* -------------------------------------------------------------- the data */

enum { IN = 7, BATCH = 8, STEPS = 20 };
static const dnic_layer_desc CLS[] = {{6, DNIC_ACT_TANH, 0}, {5, DNIC_ACT_TANH, 0}, {4, DNIC_ACT_TANH, 0},
                                      {3, DNIC_ACT_IDENTITY, 0}};
static const dnic_layer_desc BIN[] = {{6, DNIC_ACT_TANH, 0}, {5, DNIC_ACT_TANH, 0}, {4, DNIC_ACT_TANH, 0},
                                      {1, DNIC_ACT_IDENTITY, 0}};

typedef struct {
    float x[STEPS][BATCH * IN];
    int32_t y[STEPS][BATCH];
} batches_t;

static inline void make_batches(batches_t *d, int classes, uint64_t seed) {
    uint64_t rng = seed;
    for (int s = 0; s < STEPS; s++) {
        fill_normal(d->x[s], BATCH * IN, 1.0f, &rng);
        for (int i = 0; i < BATCH; i++) d->y[s][i] = (int32_t)(dnic_rng_next(&rng) % (uint64_t)classes);
    }
}

static inline dnic_iface_desc iface(int layer, dnic_iface_kind kind, dnic_iface_target target, dnic_iface_loss loss,
                                    dnic_iface_signal signal) {
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, layer);
    d.kind = kind;
    d.target = target;
    d.loss = loss;
    d.signal = signal;
    return d;
}

#endif
