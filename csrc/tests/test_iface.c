/* test_iface.c — one decoupled neural interface in isolation
 * (dnic_iface_create / forward / set_target / loss_value / backward /
 * write_signal), against a double-precision model of the header's formulas
 * written out here:
 *   - the prediction s of every kind (LINEAR hA + yB + C, NOLABEL hA + C,
 *     SIGMOID d*sigmoid(hA) + yB + C, MLP on [h, y] with relu hidden layers
 *     and optional batch norm, IDENTITY, RANDOM / ONES hA, ORACLE B g);
 *   - the interface loss (L2: (1/B) sum 1/2 |s_i - B g_i|^2, INNER:
 *     sum <g_i, s_i>) and, by central differences of that double model,
 *     dL_S/dh and dL_S/dtheta for every trainable tensor, with one-hot
 *     label conditioning and with float ycond; backward accumulates;
 *   - the signals (PRED s/B, PROP dL_S/dh, PRED_PROP s/B + alpha dL_S/dh)
 *     and warm-up (the target for the first warmup_steps updates);
 *   - fixed matrices stay fixed, trainable ones move;
 *   - the boundary operation equals the steps it is made of;
 *   - bad calls get status codes.
 * Runs at every instruction-set level the CPU has, at 1 and 2 threads.
 */
#include "dnic.h"
#include "harness.h"

#include <string.h>

#define EXPECT(call, want)                                                             \
    do {                                                                               \
        dnic_status got_ = (call);                                                     \
        CHECK(got_ == (want), "%s -> %s, want %s", #call, dnic_status_str(got_),       \
              dnic_status_str(want));                                                  \
    } while (0)

#define MAXL 4 /* MLP hidden layers at most */

static const char *kind_name(dnic_iface_kind k) {
    static const char *n[] = {"linear", "nolabel", "sigmoid", "mlp", "identity", "random", "ones", "oracle"};
    return (k >= 0 && k <= DNIC_IFACE_ORACLE) ? n[k] : "?";
}

/* ------------------------------------------------ the double-precision model */

typedef struct {
    dnic_iface_kind kind;
    dnic_iface_loss loss;
    int dh, dout, nl, B;
    int mlp_layers, mlp_w[MAXL], mlp_bn;
    /* offsets of the tensors in the parameter block (-1 if absent) */
    long oA, oB, oC, od;
    long oW[MAXL + 1], ob[MAXL + 1], og[MAXL], obeta[MAXL];
} model_t;

static long find_tensor(dnic_iface_t *it, const char *name, int rows, int cols) {
    for (int i = 0; i < dnic_iface_num_tensors(it); i++) {
        dnic_tensor_info t;
        if (dnic_iface_tensor(it, i, &t) != DNIC_OK) continue;
        if (strcmp(t.name, name) == 0) {
            CHECK((size_t)rows * cols == t.size && t.rows == rows && t.cols == cols,
                  "tensor %s is (%d,%d) size %zu, want (%d,%d)", name, t.rows, t.cols, t.size, rows, cols);
            return (long)t.offset;
        }
    }
    CHECK(0, "interface has no tensor named %s", name);
    return -1;
}

static int model_bind(model_t *m, dnic_iface_t *it) {
    m->oA = m->oB = m->oC = m->od = -1;
    switch (m->kind) {
    case DNIC_IFACE_LINEAR:
    case DNIC_IFACE_SIGMOID:
        m->oA = find_tensor(it, "A", m->dh, m->dout);
        if (m->nl > 0) m->oB = find_tensor(it, "B", m->nl, m->dout);
        m->oC = find_tensor(it, "C", m->dout, 1);
        if (m->kind == DNIC_IFACE_SIGMOID) m->od = find_tensor(it, "d", m->dout, 1);
        break;
    case DNIC_IFACE_NOLABEL:
        m->oA = find_tensor(it, "A", m->dh, m->dout);
        m->oC = find_tensor(it, "C", m->dout, 1);
        break;
    case DNIC_IFACE_RANDOM:
    case DNIC_IFACE_ONES:
        m->oA = find_tensor(it, "A", m->dh, m->dout);
        break;
    case DNIC_IFACE_MLP: {
        int in = m->dh + m->nl;
        char name[64];
        for (int l = 0; l <= m->mlp_layers; l++) {
            int out = l < m->mlp_layers ? m->mlp_w[l] : m->dout;
            snprintf(name, sizeof name, "mlp.layer%d.weight", l);
            m->oW[l] = find_tensor(it, name, in, out);
            snprintf(name, sizeof name, "mlp.layer%d.bias", l);
            m->ob[l] = find_tensor(it, name, out, 1);
            if (l < m->mlp_layers && m->mlp_bn) {
                snprintf(name, sizeof name, "mlp.layer%d.bn.gamma", l);
                m->og[l] = find_tensor(it, name, out, 1);
                snprintf(name, sizeof name, "mlp.layer%d.bn.beta", l);
                m->obeta[l] = find_tensor(it, name, out, 1);
            }
            in = out;
        }
        for (int l = 0; l <= m->mlp_layers; l++)
            if (m->oW[l] < 0 || m->ob[l] < 0) return 0;
        return 1;
    }
    default:
        break;
    }
    return !((m->oA == -1 && m->kind != DNIC_IFACE_IDENTITY && m->kind != DNIC_IFACE_ORACLE) ||
             (m->nl > 0 && (m->kind == DNIC_IFACE_LINEAR || m->kind == DNIC_IFACE_SIGMOID) && m->oB < 0) ||
             ((m->kind == DNIC_IFACE_LINEAR || m->kind == DNIC_IFACE_SIGMOID || m->kind == DNIC_IFACE_NOLABEL) && m->oC < 0) ||
             (m->kind == DNIC_IFACE_SIGMOID && m->od < 0));
}

/* s (B, dout) from h (B, dh), y (B, nl) or NULL, g (B, dout). Records the
 * sign of every relu input into signs (if given) so callers can see a
 * finite difference crossing a kink. */
static void model_forward(const model_t *m, const double *P, const double *h, const double *y,
                          const double *g, double *s, unsigned char *signs) {
    const int B = m->B, dh = m->dh, D = m->dout, nl = m->nl;
    switch (m->kind) {
    case DNIC_IFACE_LINEAR:
    case DNIC_IFACE_NOLABEL:
    case DNIC_IFACE_SIGMOID:
    case DNIC_IFACE_RANDOM:
    case DNIC_IFACE_ONES:
        for (int i = 0; i < B; i++)
            for (int j = 0; j < D; j++) {
                double a = 0;
                for (int k = 0; k < dh; k++) a += h[i * dh + k] * P[m->oA + k * D + j];
                if (m->kind == DNIC_IFACE_SIGMOID) a = P[m->od + j] / (1.0 + exp(-a));
                if (m->oB >= 0 && y)
                    for (int k = 0; k < nl; k++) a += y[i * nl + k] * P[m->oB + k * D + j];
                if (m->oC >= 0) a += P[m->oC + j];
                s[i * D + j] = a;
            }
        break;
    case DNIC_IFACE_IDENTITY:
        memcpy(s, h, sizeof(double) * B * dh);
        break;
    case DNIC_IFACE_ORACLE:
        for (int k = 0; k < B * D; k++) s[k] = B * g[k];
        break;
    case DNIC_IFACE_MLP: {
        int in = dh + nl;
        double *z = malloc(sizeof(double) * B * 64), *a = malloc(sizeof(double) * B * 64);
        for (int i = 0; i < B; i++) {
            for (int k = 0; k < dh; k++) z[i * in + k] = h[i * dh + k];
            for (int k = 0; k < nl; k++) z[i * in + dh + k] = y ? y[i * nl + k] : 0.0;
        }
        int nsign = 0;
        for (int l = 0; l <= m->mlp_layers; l++) {
            int out = l < m->mlp_layers ? m->mlp_w[l] : D;
            for (int i = 0; i < B; i++)
                for (int j = 0; j < out; j++) {
                    double v = P[m->ob[l] + j];
                    for (int k = 0; k < in; k++) v += z[i * in + k] * P[m->oW[l] + k * out + j];
                    a[i * out + j] = v;
                }
            if (l == m->mlp_layers) {
                memcpy(s, a, sizeof(double) * B * D);
                break;
            }
            if (m->mlp_bn)
                for (int j = 0; j < out; j++) {
                    double mean = 0, var = 0;
                    for (int i = 0; i < B; i++) mean += a[i * out + j];
                    mean /= B;
                    for (int i = 0; i < B; i++) var += (a[i * out + j] - mean) * (a[i * out + j] - mean);
                    var /= B;
                    double inv = 1.0 / sqrt(var + 1e-5);
                    for (int i = 0; i < B; i++)
                        a[i * out + j] = P[m->og[l] + j] * (a[i * out + j] - mean) * inv + P[m->obeta[l] + j];
                }
            for (int k = 0; k < B * out; k++) {
                if (signs) signs[nsign++] = a[k] > 0;
                z[k] = a[k] > 0 ? a[k] : 0.0;
            }
            in = out;
        }
        free(z);
        free(a);
        break;
    }
    }
}

static double model_loss(const model_t *m, const double *s, const double *g) {
    double L = 0;
    const int n = m->B * m->dout;
    if (m->loss == DNIC_IFACE_LOSS_L2) {
        for (int k = 0; k < n; k++) L += 0.5 * (s[k] - m->B * g[k]) * (s[k] - m->B * g[k]);
        L /= m->B;
    } else {
        for (int k = 0; k < n; k++) L += g[k] * s[k];
    }
    return L;
}

static int model_nsigns(const model_t *m) {
    int n = 0;
    if (m->kind == DNIC_IFACE_MLP)
        for (int l = 0; l < m->mlp_layers; l++) n += m->B * m->mlp_w[l];
    return n;
}

/* L_S at (P, h); *kink set if the relu sign pattern differs from ref. */
static double model_eval(const model_t *m, const double *P, const double *h, const double *y,
                         const double *g, const unsigned char *ref_signs, int *kink) {
    double *s = malloc(sizeof(double) * m->B * m->dout);
    int ns = model_nsigns(m);
    unsigned char *sg = ns ? malloc((size_t)ns) : NULL;
    model_forward(m, P, h, y, g, s, sg);
    if (ref_signs && ns && memcmp(sg, ref_signs, (size_t)ns) != 0) *kink = 1;
    double L = model_loss(m, s, g);
    free(s);
    free(sg);
    return L;
}

/* -------------------------------------------------------------- the checks */

typedef struct {
    dnic_iface_kind kind;
    dnic_iface_loss loss;
    dnic_iface_signal signal;
    float alpha;
    int dh, dout, nl;
    int cond; /* 0: none, 1: labels, 2: float ycond */
    int mlp_layers, mlp_w[MAXL], mlp_bn;
} config_t;

static void fill_normal(float *x, size_t n, float scale, uint64_t *rng) {
    for (size_t i = 0; i < n; i++) x[i] = scale * dnic_rng_normal(rng);
}

static int is_trainable_kind(dnic_iface_kind k) {
    return k == DNIC_IFACE_LINEAR || k == DNIC_IFACE_NOLABEL || k == DNIC_IFACE_SIGMOID ||
           k == DNIC_IFACE_MLP;
}

static dnic_iface_desc desc_of(const config_t *c) {
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, 0);
    d.kind = c->kind;
    d.loss = c->loss;
    d.signal = c->signal;
    d.alpha = c->alpha;
    d.mlp_layers = c->mlp_layers;
    d.mlp_widths = c->mlp_layers ? c->mlp_w : NULL;
    d.mlp_batchnorm = c->mlp_bn;
    return d;
}

/* Full check of one configuration: forward, loss, dL_S/dh and parameter
 * gradients by central differences, accumulation, signal. */
static void check_config(const config_t *c, uint64_t seed) {
    const int B = 6, dh = c->dh, D = c->dout, nl = c->nl;
    char what[128];
    snprintf(what, sizeof what, "%s/%s/%s%s%s", kind_name(c->kind),
             c->loss == DNIC_IFACE_LOSS_L2 ? "l2" : "inner",
             c->cond == 1 ? "labels" : c->cond == 2 ? "ycond" : "nocond",
             c->kind == DNIC_IFACE_MLP ? (c->mlp_bn ? "/bn" : "/mlp") : "",
             c->kind == DNIC_IFACE_MLP ? (c->mlp_layers == 1 ? "1" : "2") : "");
    dnic_iface_desc d = desc_of(c);
    dnic_iface_t *it = NULL;
    dnic_status st = dnic_iface_create(&it, &d, dh, D, nl, 8, 0.5f, seed);
    CHECK(st == DNIC_OK && it, "%s: create -> %s", what, dnic_status_str(st));
    if (!it) return;
    CHECK(dnic_iface_out_dim(it) == D, "%s: out_dim %d want %d", what, dnic_iface_out_dim(it), D);
    CHECK(dnic_iface_trainable(it) == is_trainable_kind(c->kind), "%s: trainable flag %d", what,
          dnic_iface_trainable(it));

    model_t m;
    memset(&m, 0, sizeof m);
    m.kind = c->kind;
    m.loss = c->loss;
    m.dh = dh;
    m.dout = D;
    /* width of y in the model: n_labels for the label-conditioned kinds
     * (their B / MLP input are shaped by it), none for the others */
    m.nl = 0;
    m.B = B;
    m.mlp_layers = c->mlp_layers;
    memcpy(m.mlp_w, c->mlp_w, sizeof m.mlp_w);
    m.mlp_bn = c->mlp_bn;
    if (c->kind == DNIC_IFACE_MLP || c->kind == DNIC_IFACE_LINEAR || c->kind == DNIC_IFACE_SIGMOID)
        m.nl = nl;
    if (!model_bind(&m, it)) {
        dnic_iface_free(it);
        return;
    }

    /* random values for every trainable parameter (zero init would make
     * many gradients trivially zero) */
    uint64_t rng = seed * 7 + 1;
    size_t np = 0, ng = 0;
    float *P = dnic_iface_params(it, &np);
    float *G = dnic_iface_grads(it, &ng);
    CHECK(ng == np, "%s: grads block %zu floats, params %zu", what, ng, np);
    for (int i = 0; i < dnic_iface_num_tensors(it); i++) {
        dnic_tensor_info t;
        dnic_iface_tensor(it, i, &t);
        if (!t.trainable) continue;
        float base = strstr(t.name, "gamma") ? 1.0f : 0.0f;
        for (size_t k = 0; k < t.size; k++) P[t.offset + k] = base + 0.5f * dnic_rng_normal(&rng);
    }

    float *h = malloc(sizeof(float) * B * dh), *g = malloc(sizeof(float) * B * D);
    float *yc = malloc(sizeof(float) * B * (nl ? nl : 1));
    int32_t labels[8];
    fill_normal(h, (size_t)B * dh, 1.0f, &rng);
    fill_normal(g, (size_t)B * D, 1.0f / B, &rng); /* batch-mean units: B g is O(1) */
    fill_normal(yc, (size_t)B * (nl ? nl : 1), 1.0f, &rng);
    for (int i = 0; i < B; i++) labels[i] = nl ? (int32_t)(dnic_rng_next(&rng) % (uint64_t)nl) : 0;

    /* double copies; y is the one-hot of the labels or ycond */
    double *Pd = malloc(sizeof(double) * (np ? np : 1)), *hd = malloc(sizeof(double) * B * dh);
    double *gd = malloc(sizeof(double) * B * D), *yd = NULL;
    for (size_t k = 0; k < np; k++) Pd[k] = P[k];
    for (int k = 0; k < B * dh; k++) hd[k] = h[k];
    for (int k = 0; k < B * D; k++) gd[k] = g[k];
    if (c->cond && nl) {
        yd = calloc((size_t)B * nl, sizeof(double));
        for (int i = 0; i < B; i++)
            for (int k = 0; k < nl; k++)
                yd[i * nl + k] = c->cond == 1 ? (labels[i] == k) : yc[i * nl + k];
    }
    const int32_t *lab = c->cond == 1 ? labels : NULL;
    const float *ycond = c->cond == 2 ? yc : NULL;

    /* the library; dL_S/dh is checked whatever the signal, so ask for it */
    dnic_iface_set_input_grad(it, 1);
    dnic_iface_zero_grad(it);
    if (c->kind == DNIC_IFACE_ORACLE) {
        st = dnic_iface_set_target(it, g, B);
        CHECK(st == DNIC_OK, "%s: set_target -> %s", what, dnic_status_str(st));
    }
    st = dnic_iface_forward(it, h, lab, ycond, B);
    CHECK(st == DNIC_OK, "%s: forward -> %s", what, dnic_status_str(st));
    st = dnic_iface_set_target(it, g, B);
    CHECK(st == DNIC_OK, "%s: set_target -> %s", what, dnic_status_str(st));
    float Ls = NAN;
    st = dnic_iface_loss_value(it, B, &Ls);
    CHECK(st == DNIC_OK, "%s: loss_value -> %s", what, dnic_status_str(st));
    /* backward accumulates: pre-fill the gradient block */
    float *prefill = malloc(sizeof(float) * (np ? np : 1));
    for (size_t k = 0; k < np; k++) prefill[k] = G[k] = 0.25f * (float)((k % 7) + 1);
    st = dnic_iface_backward(it, B);
    CHECK(st == DNIC_OK, "%s: backward -> %s", what, dnic_status_str(st));
    float *sig = malloc(sizeof(float) * B * dh);
    st = dnic_iface_write_signal(it, sig, B);
    CHECK(st == DNIC_OK, "%s: signal -> %s", what, dnic_status_str(st));

    /* forward and loss value */
    int ns = model_nsigns(&m);
    unsigned char *signs = ns ? malloc((size_t)ns) : NULL;
    double *s = malloc(sizeof(double) * B * D);
    model_forward(&m, Pd, hd, yd, gd, s, signs);
    double smax = 0;
    for (int k = 0; k < B * D; k++) smax = fmax(smax, fabs(s[k]));
    const float *pred = dnic_iface_prediction(it);
    char w2[192];
    snprintf(w2, sizeof w2, "%s: prediction s", what);
    if (pred) CHECK_CLOSE(w2, pred, s, (size_t)B * D, 2e-5 * (1 + smax), 1e-4);
    else CHECK(0, "%s: prediction is NULL", what);
    const float *tb = dnic_iface_target_buf(it);
    CHECK(tb && memcmp(tb, g, sizeof(float) * B * D) == 0, "%s: target buffer differs from g", what);
    double Lwant = model_loss(&m, s, gd);
    CHECK(fabs(Ls - Lwant) <= 1e-5 * (1 + fabs(Lwant)), "%s: loss %.8g want %.8g", what, (double)Ls, Lwant);

    /* dL_S/dh by central differences of the double model */
    const double eps = 1e-6;
    double *dh_num = malloc(sizeof(double) * B * dh);
    int skipped = 0;
    unsigned char *valid_h = malloc((size_t)B * dh);
    for (int k = 0; k < B * dh; k++) {
        double keep = hd[k];
        int kink = 0;
        hd[k] = keep + eps;
        double lp = model_eval(&m, Pd, hd, yd, gd, signs, &kink);
        hd[k] = keep - eps;
        double lm = model_eval(&m, Pd, hd, yd, gd, signs, &kink);
        hd[k] = keep;
        dh_num[k] = (lp - lm) / (2 * eps);
        valid_h[k] = !kink;
        skipped += kink;
    }
    double gmax = 0;
    for (int k = 0; k < B * dh; k++) gmax = fmax(gmax, fabs(dh_num[k]));
    const float *ig = dnic_iface_input_grad(it);
    if (!ig) {
        CHECK(0, "%s: input grad is NULL", what);
    } else {
        double worst = 0, md = 0;
        for (int k = 0; k < B * dh; k++) {
            if (!valid_h[k]) continue;
            double dd = fabs(ig[k] - dh_num[k]);
            if (!(dd == dd)) dd = INFINITY;
            md = fmax(md, dd);
            worst = fmax(worst, dd / (1e-5 * (1e-3 + gmax) + 1e-4 * fabs(dh_num[k])));
        }
        CHECK(worst <= 1.0, "%s: dL_S/dh maxdiff %.3g (max |grad| %.3g, %d kinks skipped)", what, md,
              gmax, skipped);
    }

    /* parameter gradients (trainable tensors), on top of the pre-fill */
    for (int i = 0; i < dnic_iface_num_tensors(it); i++) {
        dnic_tensor_info t;
        dnic_iface_tensor(it, i, &t);
        if (!t.trainable) continue;
        double *want = malloc(sizeof(double) * t.size);
        unsigned char *valid = malloc(t.size);
        double wmax = 0;
        for (size_t k = 0; k < t.size; k++) {
            size_t o = t.offset + k;
            double keep = Pd[o];
            int kink = 0;
            Pd[o] = keep + eps;
            double lp = model_eval(&m, Pd, hd, yd, gd, signs, &kink);
            Pd[o] = keep - eps;
            double lm = model_eval(&m, Pd, hd, yd, gd, signs, &kink);
            Pd[o] = keep;
            want[k] = (lp - lm) / (2 * eps);
            valid[k] = !kink;
            wmax = fmax(wmax, fabs(want[k]));
        }
        double worst = 0, md = 0;
        for (size_t k = 0; k < t.size; k++) {
            if (!valid[k]) continue;
            double got = (double)G[t.offset + k] - prefill[t.offset + k];
            double dd = fabs(got - want[k]);
            if (!(dd == dd)) dd = INFINITY;
            md = fmax(md, dd);
            /* the pre-fill (<= 1.75) costs float resolution ~1e-7 */
            worst = fmax(worst, dd / (2e-6 + 1e-5 * wmax + 1e-4 * fabs(want[k])));
        }
        CHECK(worst <= 1.0, "%s: gradient of %s (accumulated on a pre-fill): maxdiff %.3g (max |grad| %.3g)",
              what, t.name, md, wmax);
        free(want);
        free(valid);
    }
    /* fixed tensors: never marked trainable */
    if (!is_trainable_kind(c->kind))
        for (int i = 0; i < dnic_iface_num_tensors(it); i++) {
            dnic_tensor_info t;
            dnic_iface_tensor(it, i, &t);
            CHECK(!t.trainable, "%s: fixed tensor %s is marked trainable", what, t.name);
        }

    /* the signal */
    double *want_sig = malloc(sizeof(double) * B * dh);
    for (int k = 0; k < B * dh; k++) {
        double pr = (c->signal != DNIC_SIGNAL_PROP) ? s[k] / B : 0.0; /* dout == dh here */
        double pp = c->signal == DNIC_SIGNAL_PROP ? dh_num[k]
                  : c->signal == DNIC_SIGNAL_PRED_PROP ? c->alpha * dh_num[k] : 0.0;
        want_sig[k] = pr + pp;
    }
    double sm = 0;
    for (int k = 0; k < B * dh; k++) sm = fmax(sm, fabs(want_sig[k]));
    snprintf(w2, sizeof w2, "%s: signal %s", what,
             c->signal == DNIC_SIGNAL_PRED ? "pred" : c->signal == DNIC_SIGNAL_PROP ? "prop" : "pred+prop");
    if (!skipped) CHECK_CLOSE(w2, sig, want_sig, (size_t)B * dh, 1e-5 * (1e-3 + sm), 1e-4);

    free(want_sig);
    free(dh_num);
    free(valid_h);
    free(s);
    free(signs);
    free(sig);
    free(prefill);
    free(Pd);
    free(hd);
    free(gd);
    free(yd);
    free(h);
    free(g);
    free(yc);
    dnic_iface_free(it);
}

static void test_gradients_all_kinds(void) {
    const config_t cfgs[] = {
        /* kind, loss, signal, alpha, dh, dout, nl, cond, mlp_layers, widths, bn */
        {DNIC_IFACE_LINEAR, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, 0, 5, 5, 3, 1, 0, {0}, 0},
        {DNIC_IFACE_LINEAR, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED_PROP, 0.7f, 5, 5, 2, 2, 0, {0}, 0},
        {DNIC_IFACE_LINEAR, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PROP, 0, 4, 4, 0, 0, 0, {0}, 0},
        {DNIC_IFACE_LINEAR, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, 0, 5, 5, 3, 1, 0, {0}, 0},
        {DNIC_IFACE_NOLABEL, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PROP, 0, 5, 5, 3, 0, 0, {0}, 0},
        {DNIC_IFACE_NOLABEL, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED_PROP, 1.5f, 4, 4, 0, 0, 0, {0}, 0},
        {DNIC_IFACE_SIGMOID, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, 0, 5, 5, 3, 1, 0, {0}, 0},
        {DNIC_IFACE_SIGMOID, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED_PROP, 0.3f, 4, 4, 2, 2, 0, {0}, 0},
        {DNIC_IFACE_SIGMOID, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, 0, 4, 4, 3, 1, 0, {0}, 0},
        {DNIC_IFACE_MLP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, 0, 5, 5, 3, 1, 1, {7}, 0},
        {DNIC_IFACE_MLP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED_PROP, 0.5f, 5, 5, 2, 2, 2, {6, 4}, 0},
        {DNIC_IFACE_MLP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PROP, 0, 4, 4, 3, 1, 2, {6, 5}, 1},
        {DNIC_IFACE_MLP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, 0, 4, 4, 2, 2, 1, {5}, 1},
        {DNIC_IFACE_MLP, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, 0, 4, 4, 3, 1, 2, {5, 6}, 0},
        {DNIC_IFACE_IDENTITY, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, 0, 5, 5, 0, 0, 0, {0}, 0},
        {DNIC_IFACE_RANDOM, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, 0, 5, 3, 0, 0, 0, {0}, 0},
        {DNIC_IFACE_RANDOM, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, 0, 4, 7, 0, 0, 0, {0}, 0},
        {DNIC_IFACE_ONES, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, 0, 5, 2, 0, 0, 0, {0}, 0},
        {DNIC_IFACE_ONES, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, 0, 3, 1, 0, 0, 0, {0}, 0},
        {DNIC_IFACE_ORACLE, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, 0, 5, 5, 0, 0, 0, {0}, 0},
    };
    for (size_t i = 0; i < sizeof cfgs / sizeof *cfgs; i++) check_config(&cfgs[i], 100 + i);
}

/* Initial values documented in the header: LINEAR / NOLABEL all zero;
 * SIGMOID A Glorot-uniform, d B C zero; MLP output layer zero; ONES all
 * ones; RANDOM in [-rand_scale, rand_scale] and not constant. */
static void test_initial_values(void) {
    struct { dnic_iface_kind kind; int dout; } ks[] = {
        {DNIC_IFACE_LINEAR, 6}, {DNIC_IFACE_NOLABEL, 6}, {DNIC_IFACE_SIGMOID, 6},
        {DNIC_IFACE_MLP, 6}, {DNIC_IFACE_RANDOM, 4}, {DNIC_IFACE_ONES, 3}};
    const int widths[1] = {8};
    for (size_t q = 0; q < sizeof ks / sizeof *ks; q++) {
        dnic_iface_desc d;
        dnic_iface_desc_defaults(&d, 0);
        d.kind = ks[q].kind;
        if (!is_trainable_kind(d.kind)) {
            d.loss = DNIC_IFACE_LOSS_INNER;
            d.signal = DNIC_SIGNAL_PROP;
        }
        if (d.kind == DNIC_IFACE_MLP) {
            d.mlp_layers = 1;
            d.mlp_widths = widths;
        }
        dnic_iface_t *it = NULL;
        dnic_status st = dnic_iface_create(&it, &d, 6, ks[q].dout, 3, 4, 0.25f, 9);
        CHECK(st == DNIC_OK, "%s create -> %s", kind_name(d.kind), dnic_status_str(st));
        if (!it) continue;
        size_t np;
        float *P = dnic_iface_params(it, &np);
        for (int i = 0; i < dnic_iface_num_tensors(it); i++) {
            dnic_tensor_info t;
            dnic_iface_tensor(it, i, &t);
            double mn = INFINITY, mx = -INFINITY;
            for (size_t k = 0; k < t.size; k++) {
                mn = fmin(mn, P[t.offset + k]);
                mx = fmax(mx, P[t.offset + k]);
            }
            if (d.kind == DNIC_IFACE_LINEAR || d.kind == DNIC_IFACE_NOLABEL ||
                (d.kind == DNIC_IFACE_SIGMOID && strcmp(t.name, "A") != 0) ||
                (d.kind == DNIC_IFACE_MLP && strncmp(t.name, "mlp.layer1.", 11) == 0))
                CHECK(mn == 0 && mx == 0, "%s: %s must start at zero (range %g..%g)", kind_name(d.kind), t.name, mn, mx);
            if (d.kind == DNIC_IFACE_SIGMOID && strcmp(t.name, "A") == 0) {
                double a = sqrt(6.0 / (6 + 6));
                CHECK(mn >= -a && mx <= a && mx > mn, "sigmoid A: Glorot-uniform range %g..%g, bound %g", mn, mx, a);
            }
            if (d.kind == DNIC_IFACE_MLP && strcmp(t.name, "mlp.layer0.weight") == 0)
                CHECK(mx > mn, "mlp: hidden weights must not be constant");
            if (d.kind == DNIC_IFACE_ONES)
                CHECK(mn == 1 && mx == 1, "ones: %s range %g..%g", t.name, mn, mx);
            if (d.kind == DNIC_IFACE_RANDOM)
                CHECK(mn >= -0.25 && mx <= 0.25 && mx > mn, "random: %s range %g..%g (rand_scale 0.25)",
                      t.name, mn, mx);
        }
        dnic_iface_free(it);
    }
}

/* Fixed matrices are unchanged by update, trainable ones move; the step
 * counter counts updates. */
static void test_fixed_vs_trainable(void) {
    dnic_iface_kind kinds[] = {DNIC_IFACE_RANDOM, DNIC_IFACE_ONES, DNIC_IFACE_LINEAR, DNIC_IFACE_SIGMOID,
                               DNIC_IFACE_NOLABEL, DNIC_IFACE_MLP};
    const int widths[2] = {6, 5};
    for (size_t q = 0; q < sizeof kinds / sizeof *kinds; q++) {
        dnic_iface_desc d;
        dnic_iface_desc_defaults(&d, 0);
        d.kind = kinds[q];
        int fixed = !is_trainable_kind(d.kind);
        int dout = fixed ? 3 : 4;
        if (fixed) {
            d.loss = DNIC_IFACE_LOSS_INNER;
            d.signal = DNIC_SIGNAL_PROP;
        }
        if (d.kind == DNIC_IFACE_MLP) {
            d.mlp_layers = 2;
            d.mlp_widths = widths;
        }
        dnic_iface_t *it = NULL;
        dnic_status st = dnic_iface_create(&it, &d, 4, dout, 2, 8, 0.5f, 5);
        CHECK(st == DNIC_OK, "%s create -> %s", kind_name(d.kind), dnic_status_str(st));
        if (!it) continue;
        dnic_optim_config oc = dnic_optim_default(DNIC_OPT_SGD);
        oc.lr = 0.5f;
        CHECK(dnic_iface_set_optimizer(it, &oc) == DNIC_OK, "%s: set optimizer", kind_name(d.kind));
        size_t np;
        float *P = dnic_iface_params(it, &np);
        float *before = malloc(sizeof(float) * np);
        memcpy(before, P, sizeof(float) * np);
        uint64_t rng = 17;
        float h[8 * 4], g[8 * 4];
        int32_t y[8];
        for (int step = 0; step < 3; step++) {
            fill_normal(h, 32, 1.0f, &rng);
            fill_normal(g, 8 * (size_t)dout, 0.2f, &rng);
            for (int i = 0; i < 8; i++) y[i] = i % 2;
            dnic_iface_zero_grad(it);
            CHECK(dnic_iface_forward(it, h, y, NULL, 8) == DNIC_OK, "%s forward", kind_name(d.kind));
            CHECK(dnic_iface_set_target(it, g, 8) == DNIC_OK, "%s target", kind_name(d.kind));
            CHECK(dnic_iface_loss_value(it, 8, NULL) == DNIC_OK, "%s loss", kind_name(d.kind));
            CHECK(dnic_iface_backward(it, 8) == DNIC_OK, "%s backward", kind_name(d.kind));
            CHECK(dnic_iface_update(it) == DNIC_OK, "%s update", kind_name(d.kind));
            CHECK(dnic_iface_step(it) == step + 1, "%s: step counter %lld after %d updates", kind_name(d.kind),
                  (long long)dnic_iface_step(it), step + 1);
        }
        int same = memcmp(before, P, sizeof(float) * np) == 0;
        if (fixed) CHECK(same, "%s: fixed matrix changed by update", kind_name(d.kind));
        else CHECK(!same, "%s: trainable parameters did not move", kind_name(d.kind));
        free(before);
        dnic_iface_free(it);
    }
}

/* One update of a LINEAR interface is a textbook SGD step on L_S. */
static void test_linear_update_is_sgd(void) {
    enum { B = 5, DH = 3, NL = 2 };
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, 0);
    dnic_iface_t *it = NULL;
    if (dnic_iface_create(&it, &d, DH, DH, NL, B, 0.5f, 3) != DNIC_OK || !it) {
        CHECK(0, "linear create");
        return;
    }
    dnic_optim_config oc = dnic_optim_default(DNIC_OPT_SGD);
    oc.lr = 0.3f;
    dnic_iface_set_optimizer(it, &oc);
    size_t np;
    float *P = dnic_iface_params(it, &np);
    uint64_t rng = 4;
    fill_normal(P, np, 0.5f, &rng);
    long oA = find_tensor(it, "A", DH, DH), oB = find_tensor(it, "B", NL, DH), oC = find_tensor(it, "C", DH, 1);
    if (oA < 0 || oB < 0 || oC < 0) {
        dnic_iface_free(it);
        return;
    }
    float h[B * DH], g[B * DH];
    int32_t y[B] = {0, 1, 1, 0, 1};
    fill_normal(h, B * DH, 1.0f, &rng);
    fill_normal(g, B * DH, 0.2f, &rng);
    double *want = malloc(sizeof(double) * np);
    for (size_t k = 0; k < np; k++) want[k] = P[k];
    /* dL_S/ds_i = (1/B)(s_i - B g_i); dA = h^T dS, dB = y^T dS, dC = sum dS */
    for (int i = 0; i < B; i++) {
        double ds[DH];
        for (int j = 0; j < DH; j++) {
            double s = P[oC + j] + P[oB + y[i] * DH + j];
            for (int k = 0; k < DH; k++) s += h[i * DH + k] * P[oA + k * DH + j];
            ds[j] = (s - B * (double)g[i * DH + j]) / B;
        }
        for (int j = 0; j < DH; j++) {
            for (int k = 0; k < DH; k++) want[oA + k * DH + j] -= 0.3 * h[i * DH + k] * ds[j];
            want[oB + y[i] * DH + j] -= 0.3 * ds[j];
            want[oC + j] -= 0.3 * ds[j];
        }
    }
    dnic_iface_zero_grad(it);
    dnic_iface_forward(it, h, y, NULL, B);
    dnic_iface_set_target(it, g, B);
    dnic_iface_loss_value(it, B, NULL);
    dnic_iface_backward(it, B);
    CHECK(dnic_iface_update(it) == DNIC_OK, "linear update");
    CHECK_CLOSE("linear interface: one SGD step on L_S", P, want, np, 1e-6, 1e-5);
    free(want);
    dnic_iface_free(it);
}

/* Warm-up: the signal is exactly the target g while step < warmup_steps,
 * then the prediction s / B. */
static void test_warmup(void) {
    enum { B = 4, DH = 3, NL = 2 };
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, 0);
    d.warmup_steps = 2;
    dnic_iface_t *it = NULL;
    if (dnic_iface_create(&it, &d, DH, DH, NL, B, 0.5f, 3) != DNIC_OK || !it) {
        CHECK(0, "warmup create");
        return;
    }
    dnic_optim_config oc = dnic_optim_default(DNIC_OPT_SGD);
    oc.lr = 0.5f;
    dnic_iface_set_optimizer(it, &oc);
    size_t np;
    float *P = dnic_iface_params(it, &np);
    long oA = find_tensor(it, "A", DH, DH), oB = find_tensor(it, "B", NL, DH), oC = find_tensor(it, "C", DH, 1);
    if (oA < 0 || oB < 0 || oC < 0) {
        dnic_iface_free(it);
        return;
    }
    uint64_t rng = 12;
    float h[B * DH], g[B * DH], sig[B * DH];
    int32_t y[B] = {1, 0, 0, 1};
    for (int step = 0; step < 5; step++) {
        fill_normal(h, B * DH, 1.0f, &rng);
        fill_normal(g, B * DH, 0.3f, &rng);
        double want[B * DH];
        for (int i = 0; i < B; i++)
            for (int j = 0; j < DH; j++) {
                double s = P[oC + j] + P[oB + y[i] * DH + j];
                for (int k = 0; k < DH; k++) s += h[i * DH + k] * P[oA + k * DH + j];
                want[i * DH + j] = s / B;
            }
        dnic_iface_zero_grad(it);
        dnic_iface_forward(it, h, y, NULL, B);
        dnic_iface_set_target(it, g, B);
        dnic_iface_loss_value(it, B, NULL);
        dnic_iface_backward(it, B);
        CHECK(dnic_iface_write_signal(it, sig, B) == DNIC_OK, "warmup signal");
        if (step < 2) {
            CHECK(memcmp(sig, g, sizeof sig) == 0, "warm-up step %d: the signal must be the target g", step);
        } else {
            double sm = 0;
            for (int k = 0; k < B * DH; k++) sm = fmax(sm, fabs(want[k]));
            CHECK(sm > 0, "after warm-up the prediction is nonzero (the interface trained during warm-up)");
            char w[64];
            snprintf(w, sizeof w, "after warm-up (step %d): signal = s/B", step);
            CHECK_CLOSE(w, sig, want, B * DH, 1e-6 * (1 + sm), 1e-5);
        }
        dnic_iface_update(it);
    }
    dnic_iface_free(it);
}

/* ORACLE: s = B g whatever h is; L2 loss zero; PRED signal = g. */
static void test_oracle(void) {
    enum { B = 5, DH = 4 };
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, 0);
    d.kind = DNIC_IFACE_ORACLE;
    d.target = DNIC_TARGET_TRUE;
    dnic_iface_t *it = NULL;
    if (dnic_iface_create(&it, &d, DH, DH, 0, B, 0.5f, 3) != DNIC_OK || !it) {
        CHECK(0, "oracle create");
        return;
    }
    uint64_t rng = 2;
    float h[B * DH], g[B * DH], sig[B * DH];
    fill_normal(h, B * DH, 1.0f, &rng);
    fill_normal(g, B * DH, 0.1f, &rng);
    double want[B * DH], wg[B * DH];
    for (int k = 0; k < B * DH; k++) {
        want[k] = (double)B * g[k];
        wg[k] = g[k];
    }
    EXPECT(dnic_iface_set_target(it, g, B), DNIC_OK);
    EXPECT(dnic_iface_forward(it, h, NULL, NULL, B), DNIC_OK);
    float L = -1;
    EXPECT(dnic_iface_loss_value(it, B, &L), DNIC_OK);
    EXPECT(dnic_iface_backward(it, B), DNIC_OK);
    EXPECT(dnic_iface_write_signal(it, sig, B), DNIC_OK);
    const float *s = dnic_iface_prediction(it);
    if (s) CHECK_CLOSE("oracle: s = B g", s, want, B * DH, 1e-7, 1e-6);
    CHECK(fabsf(L) < 1e-10f, "oracle: l2 loss %g, want 0", (double)L);
    CHECK_CLOSE("oracle: pred signal = g", sig, wg, B * DH, 1e-8, 1e-6);
    CHECK(dnic_iface_trainable(it) == 0, "oracle is not trainable");
    dnic_iface_free(it);
}

/* IDENTITY + INNER + PROP is exactly backprop: the signal is g, bit for bit. */
static void test_identity_is_backprop(void) {
    enum { B = 7, DH = 6 };
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, 0);
    d.kind = DNIC_IFACE_IDENTITY;
    d.loss = DNIC_IFACE_LOSS_INNER;
    d.signal = DNIC_SIGNAL_PROP;
    dnic_iface_t *it = NULL;
    if (dnic_iface_create(&it, &d, DH, DH, 0, B, 0.5f, 3) != DNIC_OK || !it) {
        CHECK(0, "identity create");
        return;
    }
    uint64_t rng = 21;
    float h[B * DH], g[B * DH], sig[B * DH];
    fill_normal(h, B * DH, 1.0f, &rng);
    fill_normal(g, B * DH, 0.1f, &rng);
    dnic_iface_forward(it, h, NULL, NULL, B);
    dnic_iface_set_target(it, g, B);
    dnic_iface_loss_value(it, B, NULL);
    dnic_iface_backward(it, B);
    dnic_iface_write_signal(it, sig, B);
    CHECK(memcmp(sig, g, sizeof sig) == 0, "identity/inner/prop signal must equal g exactly");
    dnic_iface_free(it);
}

/* dnic_iface_boundary_step is the manual sequence zero_grad, set_target,
 * forward, loss_value, backward, write_signal, bit for bit (also when the
 * target is read from the signal buffer it overwrites), and keeps no
 * pointer: a backward after it needs a new forward. */
static void test_boundary_step(void) {
    static const struct { dnic_iface_kind kind; dnic_iface_loss loss; dnic_iface_signal signal; int mlp; } cases[] = {
        {DNIC_IFACE_LINEAR, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, 0},
        {DNIC_IFACE_LINEAR, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED_PROP, 0},
        {DNIC_IFACE_SIGMOID, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PROP, 0},
        {DNIC_IFACE_MLP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, 1},
        {DNIC_IFACE_RANDOM, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, 0},
        {DNIC_IFACE_IDENTITY, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, 0},
    };
    enum { B = 7, DH = 6, NL = 3 };
    int widths[1] = {5};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        dnic_iface_desc d;
        dnic_iface_desc_defaults(&d, 0);
        d.kind = cases[c].kind;
        d.loss = cases[c].loss;
        d.signal = cases[c].signal;
        d.alpha = 0.5f;
        d.mlp_layers = cases[c].mlp;
        d.mlp_widths = cases[c].mlp ? widths : NULL;
        dnic_iface_t *a = NULL, *b = NULL;
        EXPECT(dnic_iface_create(&a, &d, DH, DH, NL, 8, 0.5f, 11), DNIC_OK);
        EXPECT(dnic_iface_create(&b, &d, DH, DH, NL, 8, 0.5f, 11), DNIC_OK);
        if (!a || !b) { dnic_iface_free(a); dnic_iface_free(b); continue; }
        size_t np = 0;
        float *pa = dnic_iface_params(a, &np), *pb = dnic_iface_params(b, &np);
        uint64_t rng = 5 + c;
        fill_normal(pa, np, 0.3f, &rng);
        if (np) memcpy(pb, pa, np * sizeof *pa); /* IDENTITY has no parameters */
        float h[B * DH], target[B * DH], sig_a[B * DH], sig_b[B * DH], la = 0, lb = 0;
        int32_t y[B];
        fill_normal(h, B * DH, 1.0f, &rng);
        fill_normal(target, B * DH, 0.1f, &rng);
        for (int r = 0; r < B; r++) y[r] = r % NL;
        dnic_iface_zero_grad(a);
        EXPECT(dnic_iface_set_target(a, target, B), DNIC_OK);
        EXPECT(dnic_iface_forward(a, h, y, NULL, B), DNIC_OK);
        EXPECT(dnic_iface_loss_value(a, B, &la), DNIC_OK);
        EXPECT(dnic_iface_backward(a, B), DNIC_OK);
        EXPECT(dnic_iface_write_signal(a, sig_a, B), DNIC_OK);
        memcpy(sig_b, target, sizeof target); /* bootstrapped: the target sits where the signal goes */
        EXPECT(dnic_iface_boundary_step(b, h, y, NULL, sig_b, sig_b, B, &lb), DNIC_OK);
        size_t ng = 0;
        const float *ga = dnic_iface_grads(a, &ng), *gb = dnic_iface_grads(b, &ng);
        CHECK(memcmp(sig_a, sig_b, sizeof sig_a) == 0 && memcmp(&la, &lb, sizeof la) == 0 &&
                  (ng == 0 || memcmp(ga, gb, ng * sizeof *ga) == 0),
              "%s: boundary step differs from the manual sequence (loss %g vs %g)", kind_name(d.kind), lb, la);
        EXPECT(dnic_iface_backward(b, B), DNIC_ERR_STATE);
        float again[B * DH];
        EXPECT(dnic_iface_boundary_step(b, h, y, NULL, target, again, B, NULL), DNIC_OK);
        CHECK(memcmp(again, sig_a, sizeof again) == 0, "%s: a second boundary step differs", kind_name(d.kind));
        EXPECT(dnic_iface_boundary_step(b, NULL, y, NULL, target, again, B, NULL), DNIC_ERR_NULL);
        EXPECT(dnic_iface_boundary_step(b, h, y, NULL, NULL, again, B, NULL), DNIC_ERR_NULL);
        EXPECT(dnic_iface_boundary_step(b, h, y, NULL, target, NULL, B, NULL), DNIC_ERR_NULL);
        EXPECT(dnic_iface_boundary_step(NULL, h, y, NULL, target, again, B, NULL), DNIC_ERR_NULL);
        EXPECT(dnic_iface_boundary_step(b, h, y, NULL, target, again, 9, NULL), DNIC_ERR_BATCH_TOO_LARGE);
        dnic_iface_free(a);
        dnic_iface_free(b);
    }
}

/* An interface loss finite in double but beyond float is reported as
 * DNIC_ERR_NONFINITE and flagged (dnic_iface_loss_faulted), so a trainer
 * can name the interface; the next finite loss clears the flag. */
static void test_loss_overflow(void) {
    enum { B = 2, DH = 3, NL = 2 };
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, 0);
    dnic_iface_t *it = NULL;
    EXPECT(dnic_iface_create(&it, &d, DH, DH, NL, B, 0.0f, 3), DNIC_OK);
    if (!it) return;
    float h[B * DH], huge[B * DH], small[B * DH], loss = 0;
    int32_t y[B] = {0, 1};
    for (int k = 0; k < B * DH; k++) { h[k] = 1.0f; huge[k] = 1e19f; small[k] = 0.5f; }
    CHECK(dnic_iface_loss_faulted(it) == 0, "no fault before any loss");
    EXPECT(dnic_iface_set_target(it, huge, B), DNIC_OK);
    EXPECT(dnic_iface_forward(it, h, y, NULL, B), DNIC_OK);
    EXPECT(dnic_iface_loss_value(it, B, &loss), DNIC_ERR_NONFINITE);
    CHECK(isinf(loss) && dnic_iface_loss_faulted(it) == 1, "loss %g (beyond float) flagged %d", loss,
          dnic_iface_loss_faulted(it));
    EXPECT(dnic_iface_set_target(it, small, B), DNIC_OK);
    EXPECT(dnic_iface_forward(it, h, y, NULL, B), DNIC_OK);
    EXPECT(dnic_iface_loss_value(it, B, &loss), DNIC_OK);
    CHECK(isfinite(loss) && dnic_iface_loss_faulted(it) == 0, "a finite loss %g clears the flag", loss);
    CHECK(dnic_iface_loss_faulted(NULL) == 0, "NULL has no fault");
    dnic_iface_free(it);
}

static void test_bad_calls(void) {
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, 0);
    CHECK(d.kind == DNIC_IFACE_LINEAR && d.target == DNIC_TARGET_BOOTSTRAP && d.loss == DNIC_IFACE_LOSS_L2 &&
              d.signal == DNIC_SIGNAL_PRED && d.alpha == 0.0f && d.layer == 0,
          "dnic_iface_desc_defaults");
    dnic_iface_desc_defaults(&d, 3);
    CHECK(d.layer == 3, "defaults keep the layer");
    dnic_iface_t *it = (dnic_iface_t *)&it;
    EXPECT(dnic_iface_create(NULL, &d, 4, 4, 2, 8, 0.5f, 1), DNIC_ERR_NULL);
    EXPECT(dnic_iface_create(&it, NULL, 4, 4, 2, 8, 0.5f, 1), DNIC_ERR_NULL);
    CHECK(it == NULL, "*out must be NULL after a failed create");

    dnic_iface_desc b;
#define BAD(mod, dh, dout, want)                                                              \
    do {                                                                                      \
        dnic_iface_desc_defaults(&b, 0);                                                      \
        mod;                                                                                  \
        it = (dnic_iface_t *)&it;                                                             \
        dnic_status s_ = dnic_iface_create(&it, &b, dh, dout, 2, 8, 0.5f, 1);                 \
        CHECK((want) == DNIC_OK ? s_ != DNIC_OK : s_ == (want), "%s (dh %d dout %d) -> %s",  \
              #mod, dh, dout, dnic_status_str(s_));                                           \
        CHECK(it == NULL, "%s: *out must be NULL", #mod);                                     \
        if (s_ == DNIC_OK) dnic_iface_free(it);                                               \
    } while (0)
    /* want DNIC_OK here means "any error" */
    BAD(b.alpha = -0.5f, 4, 4, DNIC_ERR_ARG);
    BAD(b.alpha = NAN, 4, 4, DNIC_ERR_ARG);
    BAD((void)0, 4, 5, DNIC_OK);                         /* dout != dh, trainable */
    BAD(b.kind = DNIC_IFACE_SIGMOID, 4, 3, DNIC_OK);
    BAD(b.kind = DNIC_IFACE_IDENTITY; b.loss = DNIC_IFACE_LOSS_INNER; b.signal = DNIC_SIGNAL_PROP, 4, 3, DNIC_OK);
    BAD(b.kind = DNIC_IFACE_RANDOM; b.loss = DNIC_IFACE_LOSS_INNER, 4, 3, DNIC_OK); /* PRED on fixed */
    BAD(b.kind = DNIC_IFACE_ONES; b.loss = DNIC_IFACE_LOSS_INNER, 4, 3, DNIC_OK);
    BAD(b.kind = (dnic_iface_kind)8, 4, 4, DNIC_ERR_ARG);
    BAD(b.kind = (dnic_iface_kind)-1, 4, 4, DNIC_ERR_ARG);
    BAD(b.target = (dnic_iface_target)4, 4, 4, DNIC_ERR_ARG);
    BAD(b.loss = (dnic_iface_loss)2, 4, 4, DNIC_ERR_ARG);
    BAD(b.signal = (dnic_iface_signal)3, 4, 4, DNIC_ERR_ARG);
    BAD(b.signal = (dnic_iface_signal)-1, 4, 4, DNIC_ERR_ARG);
    BAD(b.kind = DNIC_IFACE_MLP; b.mlp_layers = 2; b.mlp_widths = NULL, 4, 4, DNIC_ERR_NULL);
    BAD(b.kind = DNIC_IFACE_MLP; b.mlp_layers = -1, 4, 4, DNIC_OK);
    static const int zero_w[2] = {5, 0}, neg_w[1] = {-3}, good_w[1] = {5};
    BAD(b.kind = DNIC_IFACE_MLP; b.mlp_layers = 2; b.mlp_widths = zero_w, 4, 4, DNIC_ERR_SIZE);
    BAD(b.kind = DNIC_IFACE_MLP; b.mlp_layers = 1; b.mlp_widths = neg_w, 4, 4, DNIC_ERR_SIZE);
    BAD(b.kind = DNIC_IFACE_MLP; b.mlp_batchnorm = 2; b.mlp_layers = 1; b.mlp_widths = good_w, 4, 4, DNIC_OK);
    BAD((void)0, 0, 0, DNIC_ERR_SIZE);
    BAD((void)0, -2, -2, DNIC_ERR_SIZE);
#undef BAD
    it = (dnic_iface_t *)&it;
    EXPECT(dnic_iface_create(&it, &d, 4, 4, 2, 0, 0.5f, 1), DNIC_ERR_SIZE); /* max_batch 0 */
    CHECK(it == NULL, "*out NULL");
    EXPECT(dnic_iface_create(&it, &d, 4, 4, -1, 8, 0.5f, 1), DNIC_ERR_SIZE); /* n_labels < 0 */
    CHECK(it == NULL, "*out NULL");

    /* calls on a good interface */
    dnic_iface_desc_defaults(&d, 0);
    it = NULL;
    if (dnic_iface_create(&it, &d, 4, 4, 3, 8, 0.5f, 1) != DNIC_OK || !it) {
        CHECK(0, "good create");
        return;
    }
    float h[9 * 4] = {0}, g[9 * 4] = {0}, sig[9 * 4];
    int32_t y[9] = {0}, ybad[8] = {0, 1, 2, 3, 0, 0, 0, 0}, yneg[8] = {0, -1, 0, 0, 0, 0, 0, 0};
    EXPECT(dnic_iface_backward(it, 8), DNIC_ERR_STATE);          /* before any forward */
    EXPECT(dnic_iface_loss_value(it, 8, NULL), DNIC_ERR_STATE);
    EXPECT(dnic_iface_forward(NULL, h, y, NULL, 8), DNIC_ERR_NULL);
    EXPECT(dnic_iface_forward(it, NULL, y, NULL, 8), DNIC_ERR_NULL);
    EXPECT(dnic_iface_forward(it, h, y, NULL, 9), DNIC_ERR_BATCH_TOO_LARGE);
    EXPECT(dnic_iface_forward(it, h, y, NULL, 0), DNIC_ERR_SIZE);
    EXPECT(dnic_iface_forward(it, h, y, NULL, -1), DNIC_ERR_SIZE);
    EXPECT(dnic_iface_forward(it, h, ybad, NULL, 8), DNIC_ERR_LABEL);
    EXPECT(dnic_iface_forward(it, h, yneg, NULL, 8), DNIC_ERR_LABEL);
    EXPECT(dnic_iface_set_target(NULL, g, 8), DNIC_ERR_NULL);
    EXPECT(dnic_iface_set_target(it, NULL, 8), DNIC_ERR_NULL);
    EXPECT(dnic_iface_set_target(it, g, 9), DNIC_ERR_BATCH_TOO_LARGE);
    EXPECT(dnic_iface_forward(it, h, y, NULL, 8), DNIC_OK);
    EXPECT(dnic_iface_set_target(it, g, 8), DNIC_OK);
    EXPECT(dnic_iface_loss_value(NULL, 8, NULL), DNIC_ERR_NULL);
    {   /* B above max_batch (and different from the forward's B) */
        dnic_status s_ = dnic_iface_loss_value(it, 9, NULL);
        CHECK(s_ == DNIC_ERR_BATCH_TOO_LARGE || s_ == DNIC_ERR_STATE, "dnic_iface_loss_value(it, 9, NULL) -> %s", dnic_status_str(s_));
    }
    EXPECT(dnic_iface_loss_value(it, 8, NULL), DNIC_OK);
    EXPECT(dnic_iface_backward(NULL, 8), DNIC_ERR_NULL);
    {   /* B above max_batch (and different from the forward's B) */
        dnic_status s_ = dnic_iface_backward(it, 9);
        CHECK(s_ == DNIC_ERR_BATCH_TOO_LARGE || s_ == DNIC_ERR_STATE, "dnic_iface_backward(it, 9) -> %s", dnic_status_str(s_));
    }
    EXPECT(dnic_iface_backward(it, 8), DNIC_OK);
    EXPECT(dnic_iface_write_signal(NULL, sig, 8), DNIC_ERR_NULL);
    EXPECT(dnic_iface_write_signal(it, NULL, 8), DNIC_ERR_NULL);
    {   /* B above max_batch (and different from the forward's B) */
        dnic_status s_ = dnic_iface_write_signal(it, sig, 9);
        CHECK(s_ == DNIC_ERR_BATCH_TOO_LARGE || s_ == DNIC_ERR_STATE, "dnic_iface_write_signal(it, sig, 9) -> %s", dnic_status_str(s_));
    }
    EXPECT(dnic_iface_write_signal(it, sig, 8), DNIC_OK);
    EXPECT(dnic_iface_set_optimizer(NULL, NULL), DNIC_ERR_NULL);
    EXPECT(dnic_iface_set_optimizer(it, NULL), DNIC_ERR_NULL);
    dnic_optim_config oc = dnic_optim_default(DNIC_OPT_SGD);
    oc.lr = -1;
    CHECK(dnic_iface_set_optimizer(it, &oc) != DNIC_OK, "negative lr accepted");
    oc = dnic_optim_default(DNIC_OPT_SGD);
    oc.kind = (dnic_optimizer)9;
    CHECK(dnic_iface_set_optimizer(it, &oc) != DNIC_OK, "bad optimizer kind accepted");
    EXPECT(dnic_iface_update(NULL), DNIC_ERR_NULL);
    dnic_tensor_info t;
    EXPECT(dnic_iface_tensor(it, -1, &t), DNIC_ERR_ARG);
    EXPECT(dnic_iface_tensor(it, dnic_iface_num_tensors(it), &t), DNIC_ERR_ARG);
    EXPECT(dnic_iface_tensor(it, 0, NULL), DNIC_ERR_NULL);
    CHECK(dnic_iface_prediction(NULL) == NULL && dnic_iface_input_grad(NULL) == NULL &&
              dnic_iface_target_buf(NULL) == NULL && dnic_iface_params(NULL, NULL) == NULL,
          "NULL interface queries return NULL");
    dnic_iface_free(it);
    dnic_iface_free(NULL);

    /* ORACLE forward before its target was ever set */
    dnic_iface_desc_defaults(&d, 0);
    d.kind = DNIC_IFACE_ORACLE;
    it = NULL;
    if (dnic_iface_create(&it, &d, 4, 4, 0, 8, 0.5f, 1) == DNIC_OK && it) {
        EXPECT(dnic_iface_forward(it, h, NULL, NULL, 8), DNIC_ERR_STATE);
        dnic_iface_free(it);
    } else {
        CHECK(0, "oracle create");
    }
}

int main(void) {
    HARNESS_FOR_EACH_ISA(level) {
        for (int threads = 1; threads <= 2; threads++) {
            dnic_set_num_threads(threads);
            test_gradients_all_kinds();
            test_initial_values();
            test_fixed_vs_trainable();
            test_linear_update_is_sgd();
            test_warmup();
            test_oracle();
            test_identity_is_backprop();
            test_boundary_step();
            test_loss_overflow();
            test_bad_calls();
        }
    }
    return harness_finish("iface");
}
