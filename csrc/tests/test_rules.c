/* test_rules.c — the learning rules of the paper's Table 1 through the
 * locked DNI trainer (dnic_dni_t), each against a TEXTBOOK implementation
 * written out here in double precision (own forward / backward loops,
 * plain SGD), started from the library's initial parameters:
 *   - backprop as a preset (IDENTITY, BOOTSTRAP, INNER, PROP at every
 *     hidden layer) = textbook backprop = dnic_net_train_step on a twin;
 *   - FA (RANDOM, NEXT_ERROR), DFA (RANDOM, OUTPUT_ERROR) and Kickback
 *     (ONES, OUTPUT_ERROR, one logistic output) at every hidden layer =
 *     textbook FA / DFA / DFA with all-ones matrices, using the library's
 *     fixed matrices;
 *   - sg with an ORACLE interface = backprop; sgprop with alpha 0 = sg;
 *   - LINEAR SGs (one, two, at every hidden layer; TRUE or bootstrapped
 *     targets; labels or float ycond; sg and sgprop with alpha > 0): their
 *     own updates = textbook SGD on L_S = (1/B) sum 1/2 |s_i - B g_i|^2,
 *     the blocks below trained from s / B (+ alpha dL_S/dh);
 *   - Theorem 1 (paper Section 3/4): linear regression with a linear SG on
 *     its output converges to the least-squares solution (LAPACKE_dgels);
 *   - a deep linear network (10 hidden layers) with a linear SG in the
 *     middle reaches the least-squares loss;
 *   - determinism: one seed, one thread count, bit-identical parameters.
 * Every comparison runs at 1 and 2 threads.
 */
#include "dnic.h"
#include "harness.h"

#include <lapacke.h>
#include <string.h>

#include "lapacke_ref.h"

#define MAXL 16

static void fill_normal(float *x, size_t n, float scale, uint64_t *rng) {
    for (size_t i = 0; i < n; i++) x[i] = scale * dnic_rng_normal(rng);
}

static dnic_net_t *make_net(int input, int n_layers, const dnic_layer_desc *layers, dnic_loss loss,
                            int max_batch, uint64_t seed) {
    dnic_net_desc d;
    dnic_net_desc_defaults(&d);
    d.input_dim = input;
    d.n_layers = n_layers;
    d.layers = layers;
    d.loss = loss;
    d.max_batch = max_batch;
    d.init = DNIC_INIT_GLOROT_UNIFORM;
    dnic_net_t *n = NULL;
    dnic_status st = dnic_net_create(&n, &d, seed);
    CHECK(st == DNIC_OK, "net create: %s", dnic_status_str(st));
    return n;
}

static void set_sgd(dnic_net_t *n, float lr) {
    dnic_optim_config c = dnic_optim_default(DNIC_OPT_SGD);
    c.lr = lr;
    dnic_status st = dnic_net_set_optimizer(n, 0, &c);
    CHECK(st == DNIC_OK, "net optimizer: %s", dnic_status_str(st));
}

static dnic_dni_t *make_dni(dnic_net_t *net, const dnic_iface_desc *d, int n, int n_labels, uint64_t seed,
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

/* offset of a named tensor of an interface (-1 if missing) */
static long iface_tensor(dnic_iface_t *it, const char *name, int rows, int cols) {
    for (int i = 0; it && i < dnic_iface_num_tensors(it); i++) {
        dnic_tensor_info t;
        dnic_iface_tensor(it, i, &t);
        if (strcmp(t.name, name) == 0) {
            CHECK(t.rows == rows && t.cols == cols, "interface tensor %s is (%d,%d), want (%d,%d)", name,
                  t.rows, t.cols, rows, cols);
            return (t.rows == rows && t.cols == cols) ? (long)t.offset : -1;
        }
    }
    CHECK(0, "interface has no tensor %s", name);
    return -1;
}

static long net_tensor(dnic_net_t *n, const char *name) {
    for (int i = 0; i < dnic_net_num_tensors(n); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(n, i, &t);
        if (strcmp(t.name, name) == 0) return (long)t.offset;
    }
    CHECK(0, "network has no tensor %s", name);
    return -1;
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

static double act_f(dnic_activation a, double v) {
    switch (a) {
    case DNIC_ACT_TANH: return tanh(v);
    case DNIC_ACT_SIGMOID: return 1 / (1 + exp(-v));
    case DNIC_ACT_RELU: return v > 0 ? v : 0;
    default: return v;
    }
}
static double act_d(dnic_activation a, double v) {
    switch (a) {
    case DNIC_ACT_TANH: { double t = tanh(v); return 1 - t * t; }
    case DNIC_ACT_SIGMOID: { double s = 1 / (1 + exp(-v)); return s * (1 - s); }
    case DNIC_ACT_RELU: return v > 0;
    default: return 1;
    }
}

/* Copies the architecture and the current parameters of a library net. */
static void tnet_init(tnet_t *t, dnic_net_t *n, const dnic_layer_desc *layers, dnic_loss loss) {
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

static void tnet_free(tnet_t *t) {
    for (int l = 0; l < t->n; l++) {
        free(t->W[l]);
        free(t->b[l]);
        free(t->bd[l].A);
        free(t->bd[l].Bm);
        free(t->bd[l].C);
    }
}

/* Copies the matrix "A" of library interface i into boundary l. */
static int tnet_take_A(tnet_t *t, int l, dnic_dni_t *dni, int i, int rows, int cols) {
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
static double tnet_step(tnet_t *t, const float *x, const int32_t *labels, const float *targets, int B,
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
                h[l][i * w + j] = act_f(t->act[l], v);
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
            for (int k = 0; k < B * win; k++) dl[k] = gtrue[l - 1][k] * act_d(t->act[l - 1], a[l - 1][k]);
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
        for (int k = 0; k < B * win; k++) delta[k] = sig[k] * act_d(t->act[l - 1], a[l - 1][k]);
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
static double compare_net(dnic_net_t *n, const tnet_t *t, double atol, double rtol, const char *what) {
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

static void make_batches(batches_t *d, int classes, uint64_t seed) {
    uint64_t rng = seed;
    for (int s = 0; s < STEPS; s++) {
        fill_normal(d->x[s], BATCH * IN, 1.0f, &rng);
        for (int i = 0; i < BATCH; i++) d->y[s][i] = (int32_t)(dnic_rng_next(&rng) % (uint64_t)classes);
    }
}

static dnic_iface_desc iface(int layer, dnic_iface_kind kind, dnic_iface_target target, dnic_iface_loss loss,
                             dnic_iface_signal signal) {
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, layer);
    d.kind = kind;
    d.target = target;
    d.loss = loss;
    d.signal = signal;
    return d;
}

/* ------------------------------------------------------------------ tests */

/* backprop as a preset: IDENTITY / BOOTSTRAP / INNER / PROP at every
 * hidden layer = textbook backprop = dnic_net_train_step on a twin net. */
static void test_backprop_preset(void) {
    const float lr = 0.1f;
    batches_t *D = malloc(sizeof *D);
    make_batches(D, 3, 31);
    dnic_net_t *net = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, 5);
    dnic_net_t *twin = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, 5);
    /* plain backprop as the trainer runs it: a DNI with no interfaces */
    dnic_net_t *bare = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, 5);
    if (!net || !twin || !bare) return;
    set_sgd(net, lr);
    set_sgd(twin, lr);
    set_sgd(bare, lr);
    dnic_dni_t *none = make_dni(bare, NULL, 0, 3, 77, 0);
    dnic_iface_desc ds[3];
    for (int l = 0; l < 3; l++)
        ds[l] = iface(l, DNIC_IFACE_IDENTITY, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP);
    dnic_dni_t *dni = make_dni(net, ds, 3, 3, 77, 0);
    tnet_t t;
    tnet_init(&t, net, CLS, DNIC_LOSS_SOFTMAX_CE);
    for (int s = 0; s < STEPS && dni; s++) {
        float L = NAN, L2 = NAN;
        dnic_status st = dnic_dni_train_step(dni, D->x[s], D->y[s], NULL, BATCH, &L);
        CHECK(st == DNIC_OK, "backprop preset step %d: %s", s, dnic_status_str(st));
        dnic_net_train_step(twin, D->x[s], D->y[s], NULL, BATCH, &L2);
        float L0 = NAN;
        CHECK(none && dnic_dni_train_step(none, D->x[s], D->y[s], NULL, BATCH, &L0) == DNIC_OK && L0 == L2,
              "step %d: zero-interface DNI loss %.9g, net_train_step %.9g", s, (double)L0, (double)L2);
        double Lt = tnet_step(&t, D->x[s], D->y[s], NULL, BATCH, lr);
        CHECK(L == L2, "step %d: dni loss %.9g, net_train_step loss %.9g", s, (double)L, (double)L2);
        CHECK(fabs(L - Lt) <= 1e-6 * (1 + Lt), "step %d: dni loss %.9g, textbook %.9g", s, (double)L, Lt);
        if (s == 0) compare_net(net, &t, 1e-6, 1e-6, "backprop preset, 1 step");
    }
    compare_net(net, &t, 1e-6, 1e-6, "backprop preset, 20 steps");
    size_t np;
    float *P = dnic_net_params(net, &np), *Q = dnic_net_params(twin, &np);
    CHECK_SAME("backprop preset vs dnic_net_train_step, 20 steps", P, Q, np, 1e-6);
    float *R = dnic_net_params(bare, &np);
    CHECK(memcmp(R, Q, np * sizeof *R) == 0, "zero-interface DNI vs dnic_net_train_step: not bit-identical after 20 steps");
    dnic_dni_free(none);
    dnic_net_free(bare);
    dnic_dni_free(dni);
    dnic_net_free(net);
    dnic_net_free(twin);
    tnet_free(&t);
    free(D);
}

/* FA, DFA, Kickback at every hidden layer vs textbook. */
static void test_feedback_alignment(rule_t rule, int kickback) {
    const float lr = 0.1f;
    const char *what = kickback ? "kickback" : rule == R_FA ? "FA" : "DFA";
    const dnic_layer_desc *L = kickback ? BIN : CLS;
    dnic_loss loss = kickback ? DNIC_LOSS_LOGISTIC : DNIC_LOSS_SOFTMAX_CE;
    int K = kickback ? 1 : 3;
    batches_t *D = malloc(sizeof *D);
    make_batches(D, kickback ? 2 : 3, 41);
    dnic_net_t *net = make_net(IN, 4, L, loss, BATCH, 6);
    if (!net) return;
    set_sgd(net, lr);
    /* given top first, so interface i is the one on layer 2 - i (the
     * trainer numbers its interfaces top first) */
    dnic_iface_desc ds[3];
    for (int i = 0; i < 3; i++)
        ds[i] = iface(2 - i, kickback ? DNIC_IFACE_ONES : DNIC_IFACE_RANDOM,
                      rule == R_FA ? DNIC_TARGET_NEXT_ERROR : DNIC_TARGET_OUTPUT_ERROR, DNIC_IFACE_LOSS_INNER,
                      DNIC_SIGNAL_PROP);
    dnic_dni_t *dni = make_dni(net, ds, 3, kickback ? 2 : 3, 99, 0);
    tnet_t t;
    tnet_init(&t, net, L, loss);
    int ok = dni != NULL;
    for (int l = 0; l < 3 && ok; l++) {
        int cols = rule == R_FA ? L[l + 1].width : K;
        t.bd[l].rule = rule;
        ok = tnet_take_A(&t, l, dni, 2 - l, L[l].width, cols);
        if (ok && kickback) {
            int ones = 1;
            for (int k = 0; k < L[l].width * cols; k++) ones &= t.bd[l].A[k] == 1.0;
            CHECK(ones, "kickback: interface %d matrix is not all ones", l);
        }
        if (ok && !kickback) {
            /* the documented scale: FA U(+-sqrt(6/dh)), DFA U(+-sqrt(3/dout)) */
            double bound = rule == R_FA ? sqrt(6.0 / L[l].width) : sqrt(3.0 / K), mx = 0, mn = 0;
            for (int k = 0; k < L[l].width * cols; k++) {
                mx = fmax(mx, t.bd[l].A[k]);
                mn = fmin(mn, t.bd[l].A[k]);
            }
            CHECK(mx <= bound && mn >= -bound && mx > 0 && mn < 0, "%s: matrix %d in [%g, %g], bound %g", what, l,
                  mn, mx, bound);
        }
    }
    char w[96];
    for (int s = 0; s < STEPS && ok; s++) {
        float Ll = NAN;
        dnic_status st = dnic_dni_train_step(dni, D->x[s], D->y[s], NULL, BATCH, &Ll);
        CHECK(st == DNIC_OK, "%s step %d: %s", what, s, dnic_status_str(st));
        double Lt = tnet_step(&t, D->x[s], D->y[s], NULL, BATCH, lr);
        CHECK(fabs(Ll - Lt) <= 1e-5 * (1 + Lt), "%s step %d: loss %.9g, textbook %.9g", what, s, (double)Ll, Lt);
        if (s == 0) {
            snprintf(w, sizeof w, "%s, 1 step", what);
            compare_net(net, &t, 1e-5, 1e-5, w);
        }
    }
    if (ok) {
        snprintf(w, sizeof w, "%s, 20 steps", what);
        compare_net(net, &t, 1e-5, 1e-5, w);
        /* the fixed matrices did not move */
        for (int l = 0; l < 3; l++) {
            dnic_iface_t *it = dnic_dni_iface(dni, 2 - l);
            long o = iface_tensor(it, "A", L[l].width, rule == R_FA ? L[l + 1].width : K);
            size_t np;
            float *P = dnic_iface_params(it, &np);
            int same = 1;
            for (int k = 0; o >= 0 && k < L[l].width * (rule == R_FA ? L[l + 1].width : K); k++)
                same &= (double)P[o + k] == t.bd[l].A[k];
            CHECK(same, "%s: fixed matrix %d changed during training", what, l);
        }
    }
    dnic_dni_free(dni);
    dnic_net_free(net);
    tnet_free(&t);
    free(D);
}

/* The trainer numbers its interfaces top (highest layer) first, whatever
 * the order of the descriptions (the Swift shell relies on it; dnic.h does
 * not say so yet). Checked through the shapes of FA matrices. */
static void test_iface_numbering(void) {
    dnic_net_t *net = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, 5);
    if (!net) return;
    dnic_iface_desc ds[3];
    for (int l = 0; l < 3; l++)
        ds[l] = iface(l, DNIC_IFACE_RANDOM, DNIC_TARGET_NEXT_ERROR, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP);
    dnic_dni_t *dni = make_dni(net, ds, 3, 3, 1, 0);
    for (int i = 0; dni && i < 3; i++) {
        dnic_iface_t *it = dnic_dni_iface(dni, i);
        dnic_tensor_info t;
        int ok = it && dnic_iface_num_tensors(it) == 1 && dnic_iface_tensor(it, 0, &t) == DNIC_OK;
        CHECK(ok && t.rows == CLS[2 - i].width && t.cols == CLS[3 - i].width,
              "interface %d should sit on layer %d (top first): A is (%d,%d)", i, 2 - i, ok ? t.rows : -1,
              ok ? t.cols : -1);
    }
    CHECK(dni == NULL || dnic_dni_iface(dni, 3) == NULL, "interface 3 of 3 must be NULL");
    dnic_dni_free(dni);
    dnic_net_free(net);
}

/* sg with an ORACLE interface mid-network = backprop. */
static void test_oracle_sg(void) {
    const float lr = 0.1f;
    batches_t *D = malloc(sizeof *D);
    make_batches(D, 3, 51);
    dnic_net_t *net = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, 8);
    if (!net) return;
    set_sgd(net, lr);
    dnic_iface_desc d = iface(1, DNIC_IFACE_ORACLE, DNIC_TARGET_TRUE, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED);
    dnic_dni_t *dni = make_dni(net, &d, 1, 3, 3, 0.01f);
    tnet_t t;
    tnet_init(&t, net, CLS, DNIC_LOSS_SOFTMAX_CE);
    for (int s = 0; s < STEPS && dni; s++) {
        float L = NAN;
        CHECK(dnic_dni_train_step(dni, D->x[s], D->y[s], NULL, BATCH, &L) == DNIC_OK, "oracle step %d", s);
        tnet_step(&t, D->x[s], D->y[s], NULL, BATCH, lr);
        float Ls = dnic_dni_iface_loss(dni, 0);
        CHECK(fabsf(Ls) < 1e-9f, "oracle interface loss %g, want 0", (double)Ls);
        if (s == 0) compare_net(net, &t, 1e-6, 1e-6, "sg with an oracle, 1 step");
    }
    compare_net(net, &t, 1e-6, 1e-6, "sg with an oracle, 20 steps");
    dnic_dni_free(dni);
    dnic_net_free(net);
    tnet_free(&t);
    free(D);
}

/* sgprop with alpha = 0 is sg, interfaces at every hidden layer. */
static void test_sgprop_alpha0(void) {
    batches_t *D = malloc(sizeof *D);
    make_batches(D, 3, 61);
    float *params[2][4];
    size_t sizes[4] = {0};
    for (int r = 0; r < 2; r++) {
        dnic_net_t *net = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, 9);
        if (!net) return;
        set_sgd(net, 0.1f);
        dnic_iface_desc ds[3];
        for (int l = 0; l < 3; l++) {
            ds[l] = iface(l, DNIC_IFACE_LINEAR, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2,
                          r ? DNIC_SIGNAL_PRED_PROP : DNIC_SIGNAL_PRED);
            ds[l].alpha = 0.0f;
        }
        dnic_dni_t *dni = make_dni(net, ds, 3, 3, 13, 0.05f);
        for (int s = 0; s < STEPS && dni; s++)
            CHECK(dnic_dni_train_step(dni, D->x[s], D->y[s], NULL, BATCH, NULL) == DNIC_OK, "sg step");
        float *P = dnic_net_params(net, &sizes[0]);
        params[r][0] = malloc(sizeof(float) * sizes[0]);
        memcpy(params[r][0], P, sizeof(float) * sizes[0]);
        for (int l = 0; l < 3; l++) {
            dnic_iface_t *it = dni ? dnic_dni_iface(dni, l) : NULL;
            P = it ? dnic_iface_params(it, &sizes[l + 1]) : NULL;
            params[r][l + 1] = malloc(sizeof(float) * (sizes[l + 1] + 1));
            if (P) memcpy(params[r][l + 1], P, sizeof(float) * sizes[l + 1]);
        }
        dnic_dni_free(dni);
        dnic_net_free(net);
    }
    CHECK_SAME("sgprop (alpha 0) vs sg: network", params[1][0], params[0][0], sizes[0], 1e-7);
    for (int l = 0; l < 3; l++) CHECK_SAME("sgprop (alpha 0) vs sg: interface", params[1][l + 1], params[0][l + 1], sizes[l + 1], 1e-7);
    /* and the SGs really trained (not a comparison of zeros) */
    double s = 0;
    for (size_t k = 0; k < sizes[1]; k++) s += fabs(params[0][1][k]);
    CHECK(s > 0, "sg interface parameters are still zero after 20 steps");
    for (int r = 0; r < 2; r++)
        for (int q = 0; q < 4; q++) free(params[r][q]);
    free(D);
}

/* LINEAR SGs at some boundaries (labels or float ycond; TRUE or BOOTSTRAP
 * targets; sg or sgprop): their parameters follow textbook SGD on
 * L_S = (1/B) sum 1/2 |s_i - B g_i|^2, and the blocks below train from
 * s / B (+ alpha dL_S/dh). With several SGs the lower ones bootstrap from
 * the gradient the upper SG's signal drives down. */
static void test_linear_sg(const char *what, int n_sg, const int *layers, dnic_iface_target target,
                           dnic_iface_signal signal, float alpha, int cond_targets) {
    const float lr = 0.1f, lr_sg = 0.05f;
    batches_t *D = malloc(sizeof *D);
    make_batches(D, 3, 71);
    /* regression variant: MSE with float targets, conditioned on them */
    float (*T)[BATCH * 3] = malloc(sizeof(float) * STEPS * BATCH * 3);
    uint64_t rng = 5;
    for (int s = 0; s < STEPS; s++) fill_normal(T[s], BATCH * 3, 1.0f, &rng);
    dnic_loss loss = cond_targets ? DNIC_LOSS_MSE : DNIC_LOSS_SOFTMAX_CE;
    dnic_net_t *net = make_net(IN, 4, CLS, loss, BATCH, 10);
    if (!net) return;
    set_sgd(net, lr);
    dnic_iface_desc d[3];
    for (int q = 0; q < n_sg; q++) { /* layers[] is given top first */
        d[q] = iface(layers[q], DNIC_IFACE_LINEAR, target, DNIC_IFACE_LOSS_L2, signal);
        d[q].alpha = alpha;
    }
    dnic_dni_t *dni = make_dni(net, d, n_sg, 3, 21, lr_sg);
    tnet_t t;
    tnet_init(&t, net, CLS, loss);
    long oA[3], oB[3], oC[3];
    float *P[3];
    int ok = dni != NULL;
    for (int q = 0; q < n_sg && ok; q++) {
        const int bl = layers[q], Dh = CLS[bl].width;
        dnic_iface_t *it = dnic_dni_iface(dni, q);
        oA[q] = iface_tensor(it, "A", Dh, Dh);
        oB[q] = iface_tensor(it, "B", 3, Dh);
        oC[q] = iface_tensor(it, "C", Dh, 1);
        if (!it || oA[q] < 0 || oB[q] < 0 || oC[q] < 0) {
            ok = 0;
            break;
        }
        /* random SG parameters, so that step 1 already uses a nonzero prediction */
        size_t np;
        P[q] = dnic_iface_params(it, &np);
        fill_normal(P[q], np, 0.3f, &rng);
        boundary_t *bd = &t.bd[bl];
        bd->rule = R_LINSG;
        bd->nl = 3;
        bd->lr = lr_sg;
        bd->alpha = signal == DNIC_SIGNAL_PRED_PROP ? alpha : 0.0;
        bd->true_target = target == DNIC_TARGET_TRUE;
        bd->A = malloc(sizeof(double) * Dh * Dh);
        bd->Bm = malloc(sizeof(double) * 3 * Dh);
        bd->C = malloc(sizeof(double) * Dh);
        for (int k = 0; k < Dh * Dh; k++) bd->A[k] = P[q][oA[q] + k];
        for (int k = 0; k < 3 * Dh; k++) bd->Bm[k] = P[q][oB[q] + k];
        for (int k = 0; k < Dh; k++) bd->C[k] = P[q][oC[q] + k];
    }
    char w[160];
    for (int s = 0; s < STEPS && ok; s++) {
        const int32_t *y = cond_targets ? NULL : D->y[s];
        const float *tg = cond_targets ? T[s] : NULL;
        CHECK(dnic_dni_train_step(dni, D->x[s], y, tg, BATCH, NULL) == DNIC_OK, "%s step %d", what, s);
        tnet_step(&t, D->x[s], y, tg, BATCH, lr);
        if (s != 0 && s != STEPS - 1) continue;
        for (int q = 0; q < n_sg; q++) {
            const int bl = layers[q], Dh = CLS[bl].width;
            const boundary_t *bd = &t.bd[bl];
            int np = Dh * Dh + 3 * Dh + Dh;
            double *want = malloc(sizeof(double) * np);
            float *got = malloc(sizeof(float) * np);
            int n = 0;
            for (int k = 0; k < Dh * Dh; k++) { want[n] = bd->A[k]; got[n++] = P[q][oA[q] + k]; }
            for (int k = 0; k < 3 * Dh; k++) { want[n] = bd->Bm[k]; got[n++] = P[q][oB[q] + k]; }
            for (int k = 0; k < Dh; k++) { want[n] = bd->C[k]; got[n++] = P[q][oC[q] + k]; }
            snprintf(w, sizeof w, "%s: SG on layer %d after %d step(s)", what, bl, s + 1);
            CHECK_CLOSE(w, got, want, (size_t)n, 1e-6, 1e-5);
            free(want);
            free(got);
        }
        snprintf(w, sizeof w, "%s: network after %d step(s)", what, s + 1);
        compare_net(net, &t, 1e-5, 1e-5, w);
    }
    tnet_free(&t);
    dnic_dni_free(dni);
    dnic_net_free(net);
    free(D);
    free(T);
}

static void test_linear_sgs(void) {
    static const int mid[1] = {1}, two[2] = {2, 0}, all[3] = {2, 1, 0};
    test_linear_sg("sg (labels)", 1, mid, DNIC_TARGET_BOOTSTRAP, DNIC_SIGNAL_PRED, 0, 0);
    test_linear_sg("sg (MSE, float ycond)", 1, mid, DNIC_TARGET_BOOTSTRAP, DNIC_SIGNAL_PRED, 0, 1);
    test_linear_sg("sg x2 bootstrap", 2, two, DNIC_TARGET_BOOTSTRAP, DNIC_SIGNAL_PRED, 0, 0);
    test_linear_sg("sg x2 true", 2, two, DNIC_TARGET_TRUE, DNIC_SIGNAL_PRED, 0, 0);
    test_linear_sg("sg x3 bootstrap (ycond)", 3, all, DNIC_TARGET_BOOTSTRAP, DNIC_SIGNAL_PRED, 0, 1);
    test_linear_sg("sgprop x3 alpha 0.5", 3, all, DNIC_TARGET_BOOTSTRAP, DNIC_SIGNAL_PRED_PROP, 0.5f, 0);
    test_linear_sg("sgprop x2 true alpha 2", 2, two, DNIC_TARGET_TRUE, DNIC_SIGNAL_PRED_PROP, 2.0f, 1);
}

/* ------------------------------------------------- least squares (LAPACK) */

/* Solves min |[X 1] Wb - Y| in double: Wb (D+1, K), last row the bias.
 * Returns the loss (1/2N) |[X 1] Wb - Y|^2 (the dnic MSE convention). */
static double lstsq(const float *X, const float *Y, int N, int Dx, int K, double *Wb) {
    double *A = malloc(sizeof(double) * N * (Dx + 1)), *Bm = malloc(sizeof(double) * N * K);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < Dx; k++) A[i * (Dx + 1) + k] = X[i * Dx + k];
        A[i * (Dx + 1) + Dx] = 1.0;
        for (int j = 0; j < K; j++) Bm[i * K + j] = Y[i * K + j];
    }
    dgels_fn dgels = find_dgels();
    CHECK(dgels != NULL, "LAPACKE_dgels: neither linked nor loadable (liblapacke.so.3)");
    lapack_int info = dgels ? dgels(LAPACK_ROW_MAJOR, 'N', N, Dx + 1, K, A, Dx + 1, Bm, K) : -1;
    CHECK(info == 0, "LAPACKE_dgels info %d", (int)info);
    for (int k = 0; k < (Dx + 1) * K; k++) Wb[k] = Bm[k];
    double L = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < K; j++) {
            double p = Wb[Dx * K + j];
            for (int k = 0; k < Dx; k++) p += X[i * Dx + k] * Wb[k * K + j];
            L += 0.5 * (p - Y[i * K + j]) * (p - Y[i * K + j]);
        }
    free(A);
    free(Bm);
    return L / N;
}

static void make_regression(float *X, float *Y, int N, int Dx, int K, double noise, uint64_t seed) {
    uint64_t rng = seed;
    double W[16 * 4], b[4];
    for (int k = 0; k < Dx * K; k++) W[k] = dnic_rng_normal(&rng);
    for (int j = 0; j < K; j++) b[j] = dnic_rng_normal(&rng);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < Dx; k++) X[i * Dx + k] = dnic_rng_normal(&rng);
        for (int j = 0; j < K; j++) {
            double v = b[j] + noise * dnic_rng_normal(&rng);
            for (int k = 0; k < Dx; k++) v += X[i * Dx + k] * W[k * K + j];
            Y[i * K + j] = (float)v;
        }
    }
}

/* Theorem 1: linear regression p = xW + b, MSE, a LINEAR SG (conditioned
 * on the float targets) between the output and the loss, full batch SGD:
 * converges to the least-squares solution.
 * Learning rates: SG 0.1, network 0.05 (the SG learns on a faster time
 * scale than the model it serves; both are full-batch gradient steps on
 * well-conditioned quadratics: the SG's inputs [p, y, 1] have covariance
 * eigenvalues up to ~10 here, so its lr must stay below ~0.2). Reaches a
 * relative error ~1e-6 in about 600 steps; the float32 floor is ~1e-6. */
static void test_theorem1(dnic_iface_target target, double *rel_out) {
    enum { N = 64, DX = 4, K = 2 };
    static float X[N * DX], Y[N * K];
    make_regression(X, Y, N, DX, K, 1.0, 1234);
    double Wb[(DX + 1) * K];
    lstsq(X, Y, N, DX, K, Wb);
    const dnic_layer_desc L[] = {{K, DNIC_ACT_IDENTITY, 0}};
    dnic_net_t *net = make_net(DX, 1, L, DNIC_LOSS_MSE, N, 3);
    if (!net) return;
    set_sgd(net, 0.05f);
    dnic_iface_desc d = iface(0, DNIC_IFACE_LINEAR, target, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED);
    dnic_dni_t *dni = make_dni(net, &d, 1, K, 4, 0.1f);
    if (!dni) {
        dnic_net_free(net);
        return;
    }
    int steps = 0;
    double rel = INFINITY;
    long oW = net_tensor(net, "layer0.weight"), ob = net_tensor(net, "layer0.bias");
    size_t np;
    float *P = dnic_net_params(net, &np);
    double nW = 0, nb = 0;
    for (int k = 0; k < DX * K; k++) nW += Wb[k] * Wb[k];
    for (int j = 0; j < K; j++) nb += Wb[DX * K + j] * Wb[DX * K + j];
    double relW = INFINITY, relb = INFINITY;
    for (steps = 1; steps <= 5000; steps++) {
        dnic_status st = dnic_dni_train_step(dni, X, NULL, Y, N, NULL);
        if (st != DNIC_OK) {
            CHECK(0, "theorem 1 step %d: %s", steps, dnic_status_str(st));
            break;
        }
        if (steps % 100 == 0) {
            double eW = 0, eb = 0;
            for (int k = 0; k < DX * K; k++) eW += (P[oW + k] - Wb[k]) * (P[oW + k] - Wb[k]);
            for (int j = 0; j < K; j++) eb += (P[ob + j] - Wb[DX * K + j]) * (P[ob + j] - Wb[DX * K + j]);
            relW = sqrt(eW / nW);
            relb = sqrt(eb / nb);
            rel = fmax(relW, relb);
            if (rel < 2e-6) break;
        }
    }
    if (rel_out) *rel_out = rel;
    CHECK(relW <= 1e-4 && relb <= 1e-4, "theorem 1 (%s target): relative error of W %.3g, of b %.3g after %d steps",
          target == DNIC_TARGET_TRUE ? "true" : "bootstrap", relW, relb, steps);
    if (getenv("DNIC_TEST_VERBOSE"))
        printf("theorem 1 (%s): rel err W %.3g b %.3g after %d steps\n",
               target == DNIC_TARGET_TRUE ? "true" : "bootstrap", relW, relb, steps);
    dnic_dni_free(dni);
    dnic_net_free(net);
}

/* (1/2N) sum |p_i - y_i|^2 of a deep linear library net (identity
 * activations everywhere), my own double forward of its parameters. */
static double deep_loss(dnic_net_t *net, const float *X, const float *Y, int N, int DX, int K, int H, int W) {
    size_t np;
    const float *P = dnic_net_params(net, &np);
    long oW[MAXL], ob[MAXL];
    for (int l = 0; l <= H; l++) {
        char name[64];
        snprintf(name, sizeof name, "layer%d.weight", l);
        oW[l] = net_tensor(net, name);
        snprintf(name, sizeof name, "layer%d.bias", l);
        ob[l] = net_tensor(net, name);
        if (oW[l] < 0 || ob[l] < 0) return INFINITY;
    }
    double L = 0;
    for (int i = 0; i < N; i++) {
        double h[MAXL], hn[MAXL];
        for (int k = 0; k < DX; k++) h[k] = X[i * DX + k];
        int win = DX;
        for (int l = 0; l <= H; l++) {
            int out = l < H ? W : K;
            for (int c = 0; c < out; c++) {
                double v = P[ob[l] + c];
                for (int r = 0; r < win; r++) v += h[r] * P[oW[l] + r * out + c];
                hn[c] = v;
            }
            memcpy(h, hn, sizeof(double) * out);
            win = out;
        }
        for (int j = 0; j < K; j++) L += 0.5 * (h[j] - Y[i * K + j]) * (h[j] - Y[i * K + j]);
    }
    return L / N;
}

/* Deep linear network, 10 hidden identity layers of width 4, MSE, one
 * LINEAR SG in the middle (after hidden layer 5, conditioned on the float
 * targets), full batch from the library's Glorot-uniform init: reaches the
 * loss of the least-squares solution. Network lr 0.01, SG lr 0.1; the gap
 * falls from ~5.6 to < 5e-6 in ~1000-2000 steps (the float32 floor is
 * ~1.5e-6 here). */
static void test_deep_linear(double *gap_out) {
    enum { N = 64, DX = 4, K = 2, H = 10, W = 4 };
    static float X[N * DX], Y[N * K];
    make_regression(X, Y, N, DX, K, 1.0, 4321);
    double Wb[(DX + 1) * K];
    double Lstar = lstsq(X, Y, N, DX, K, Wb);
    dnic_layer_desc L[H + 1];
    for (int l = 0; l < H; l++) L[l] = (dnic_layer_desc){W, DNIC_ACT_IDENTITY, 0};
    L[H] = (dnic_layer_desc){K, DNIC_ACT_IDENTITY, 0};
    dnic_net_t *net = make_net(DX, H + 1, L, DNIC_LOSS_MSE, N, 17);
    if (!net) return;
    set_sgd(net, 0.01f);
    dnic_iface_desc d = iface(H / 2 - 1, DNIC_IFACE_LINEAR, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED);
    dnic_dni_t *dni = make_dni(net, &d, 1, K, 4, 0.1f);
    if (!dni) {
        dnic_net_free(net);
        return;
    }
    double gap = INFINITY, gap0 = deep_loss(net, X, Y, N, DX, K, H, W) - Lstar;
    int steps;
    for (steps = 1; steps <= 30000; steps++) {
        dnic_status st = dnic_dni_train_step(dni, X, NULL, Y, N, NULL);
        if (st != DNIC_OK) {
            CHECK(0, "deep linear step %d: %s", steps, dnic_status_str(st));
            break;
        }
        if (steps % 200 == 0) {
            gap = deep_loss(net, X, Y, N, DX, K, H, W) - Lstar;
            if (gap < 5e-6) break;
        }
    }
    if (gap_out) *gap_out = gap;
    CHECK(gap <= 1e-4 && gap > -1e-6, "deep linear + SG: loss gap to least squares %.3g (L* %.6g) after %d steps",
          gap, Lstar, steps);
    if (getenv("DNIC_TEST_VERBOSE"))
        printf("deep linear: loss gap %.3g (L* %.6g, initial gap %.3g) after %d steps\n", gap, Lstar, gap0, steps);
    /* the lower block really learnt from the SG: its parameters moved */
    dnic_iface_t *it = dnic_dni_iface(dni, 0);
    size_t ni;
    const float *S = it ? dnic_iface_params(it, &ni) : NULL;
    double sn = 0;
    for (size_t k = 0; S && k < ni; k++) sn += fabs(S[k]);
    CHECK(sn > 0.1, "deep linear: the SG parameters are still (near) zero (sum |.| %g)", sn);
    dnic_dni_free(dni);
    dnic_net_free(net);
}

/* Same seed, same thread count: bit-identical parameters (SG everywhere,
 * MLP interfaces with batch norm, Adam). */
static void test_determinism(void) {
    batches_t *D = malloc(sizeof *D);
    make_batches(D, 3, 81);
    float *runs[2] = {NULL, NULL}, *iruns[2] = {NULL, NULL};
    size_t np = 0, ni = 0;
    static const int widths[2] = {8, 8};
    for (int r = 0; r < 2; r++) {
        dnic_net_t *net = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, 42);
        if (!net) return;
        dnic_optim_config c = dnic_optim_default(DNIC_OPT_ADAM);
        dnic_net_set_optimizer(net, 0, &c);
        dnic_iface_desc ds[3];
        ds[0] = iface(0, DNIC_IFACE_MLP, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED_PROP);
        ds[0].alpha = 0.5f;
        ds[0].mlp_layers = 2;
        ds[0].mlp_widths = widths;
        ds[0].mlp_batchnorm = 1;
        ds[1] = iface(1, DNIC_IFACE_RANDOM, DNIC_TARGET_OUTPUT_ERROR, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP);
        ds[2] = iface(2, DNIC_IFACE_LINEAR, DNIC_TARGET_TRUE, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED);
        dnic_dni_t *dni = NULL;
        dnic_status st = dnic_dni_create(&dni, net, ds, 3, 3, 1234);
        CHECK(st == DNIC_OK, "determinism dni create: %s", dnic_status_str(st));
        if (!dni) {
            dnic_net_free(net);
            break;
        }
        dnic_dni_set_iface_optimizer(dni, &c);
        for (int s = 0; s < STEPS; s++) dnic_dni_train_step(dni, D->x[s], D->y[s], NULL, BATCH, NULL);
        float *P = dnic_net_params(net, &np);
        runs[r] = malloc(sizeof(float) * np);
        memcpy(runs[r], P, sizeof(float) * np);
        P = dnic_iface_params(dnic_dni_iface(dni, 0), &ni);
        iruns[r] = malloc(sizeof(float) * ni);
        memcpy(iruns[r], P, sizeof(float) * ni);
        dnic_dni_free(dni);
        dnic_net_free(net);
    }
    if (runs[0] && runs[1]) {
        CHECK(memcmp(runs[0], runs[1], sizeof(float) * np) == 0, "two dni runs with one seed: networks differ");
        CHECK(memcmp(iruns[0], iruns[1], sizeof(float) * ni) == 0, "two dni runs with one seed: interfaces differ");
    }
    for (int r = 0; r < 2; r++) {
        free(runs[r]);
        free(iruns[r]);
    }
    free(D);
}

int main(void) {
    double rel_true[2] = {0}, rel_boot[2] = {0}, gap[2] = {0};
    for (int threads = 1; threads <= 2; threads++) {
        dnic_set_num_threads(threads);
        test_backprop_preset();
        test_feedback_alignment(R_FA, 0);
        test_feedback_alignment(R_DFA, 0);
        test_feedback_alignment(R_DFA, 1);
        test_iface_numbering();
        test_oracle_sg();
        test_sgprop_alpha0();
        test_linear_sgs();
        test_theorem1(DNIC_TARGET_TRUE, &rel_true[threads - 1]);
        test_theorem1(DNIC_TARGET_BOOTSTRAP, &rel_boot[threads - 1]);
        test_deep_linear(&gap[threads - 1]);
        test_determinism();
    }
    printf("theorem 1: relative error of W, b %.2g (true target) %.2g (bootstrap); deep linear: loss gap %.2g\n",
           fmax(rel_true[0], rel_true[1]), fmax(rel_boot[0], rel_boot[1]), fmax(gap[0], gap[1]));
    return harness_finish("rules");
}
