/* test_iface_model.c — one decoupled neural interface in isolation
 * (dnic_iface_create / forward / set_target / loss_value / backward /
 * write_signal) against a double-precision model of the header's formulas
 * written out here:
 *   - the prediction s of every kind (LINEAR hA + yB + C, NOLABEL hA + C,
 *     SIGMOID d*sigmoid(hA) + yB + C, MLP on [h, y] with relu hidden layers
 *     and optional batch norm, IDENTITY, RANDOM / ONES hA, ORACLE B g);
 *   - the interface loss (L2: (1/B) sum 1/2 |s_i - B g_i|^2, INNER:
 *     sum <g_i, s_i>) and, by central differences of that double model,
 *     dL_S/dh and dL_S/dtheta for every trainable tensor, with one-hot
 *     label conditioning and with float ycond; backward accumulates;
 *   - the signals (PRED s/B, PROP dL_S/dh, PRED_PROP s/B + alpha dL_S/dh).
 * The interface's other behaviours are test_iface's, its bad calls
 * test_iface_badcalls'.
 * Runs at every instruction-set level the CPU has, at 1 and 2 threads.
 */
#include "harness.h"

#define MAXL 4 /* MLP hidden layers at most */

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

static int model_bind(model_t *m, dnic_iface_t *it) {
    m->oA = m->oB = m->oC = m->od = -1;
    switch (m->kind) {
    case DNIC_IFACE_LINEAR:
    case DNIC_IFACE_SIGMOID:
        m->oA = iface_tensor(it, "A", m->dh, m->dout);
        if (m->nl > 0) m->oB = iface_tensor(it, "B", m->nl, m->dout);
        m->oC = iface_tensor(it, "C", m->dout, 1);
        if (m->kind == DNIC_IFACE_SIGMOID) m->od = iface_tensor(it, "d", m->dout, 1);
        break;
    case DNIC_IFACE_NOLABEL:
        m->oA = iface_tensor(it, "A", m->dh, m->dout);
        m->oC = iface_tensor(it, "C", m->dout, 1);
        break;
    case DNIC_IFACE_RANDOM:
    case DNIC_IFACE_ONES:
        m->oA = iface_tensor(it, "A", m->dh, m->dout);
        break;
    case DNIC_IFACE_MLP: {
        int in = m->dh + m->nl;
        char name[64];
        for (int l = 0; l <= m->mlp_layers; l++) {
            int out = l < m->mlp_layers ? m->mlp_w[l] : m->dout;
            snprintf(name, sizeof name, "mlp.layer%d.weight", l);
            m->oW[l] = iface_tensor(it, name, in, out);
            snprintf(name, sizeof name, "mlp.layer%d.bias", l);
            m->ob[l] = iface_tensor(it, name, out, 1);
            if (l < m->mlp_layers && m->mlp_bn) {
                snprintf(name, sizeof name, "mlp.layer%d.bn.gamma", l);
                m->og[l] = iface_tensor(it, name, out, 1);
                snprintf(name, sizeof name, "mlp.layer%d.bn.beta", l);
                m->obeta[l] = iface_tensor(it, name, out, 1);
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
    snprintf(what, sizeof what, "%s/%s/%s%s%s", iface_kind_name(c->kind),
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

int main(void) {
    HARNESS_FOR_EACH_ISA(level) {
        for (int threads = 1; threads <= 2; threads++) {
            dnic_set_num_threads(threads);
            test_gradients_all_kinds();
        }
    }
    return harness_finish("iface_model");
}
