/* test_iface.c — one decoupled neural interface in isolation, what the
 * model of test_iface_model does not cover:
 *   - initial values of every kind's parameters;
 *   - fixed matrices stay fixed, trainable ones move;
 *   - a LINEAR interface's update is plain SGD on its loss;
 *   - warm-up (the target for the first warmup_steps updates);
 *   - ORACLE and IDENTITY pass the target on (identity = backprop);
 *   - the boundary operation equals the steps it is made of;
 *   - a loss that overflows is flagged, a finite one clears the flag;
 *   - a boundary step stopped at its loss leaves zero gradients;
 *   - its passes split between threads give the same floats as one.
 * Runs at every instruction-set level the CPU has, at 1 and 2 threads.
 */
#include "harness.h"

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
        CHECK(st == DNIC_OK, "%s create -> %s", iface_kind_name(d.kind), dnic_status_str(st));
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
                CHECK(mn == 0 && mx == 0, "%s: %s must start at zero (range %g..%g)", iface_kind_name(d.kind), t.name, mn, mx);
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
        CHECK(st == DNIC_OK, "%s create -> %s", iface_kind_name(d.kind), dnic_status_str(st));
        if (!it) continue;
        dnic_optim_config oc = dnic_optim_default(DNIC_OPT_SGD);
        oc.lr = 0.5f;
        CHECK(dnic_iface_set_optimizer(it, &oc) == DNIC_OK, "%s: set optimizer", iface_kind_name(d.kind));
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
            CHECK(dnic_iface_forward(it, h, y, NULL, 8) == DNIC_OK, "%s forward", iface_kind_name(d.kind));
            CHECK(dnic_iface_set_target(it, g, 8) == DNIC_OK, "%s target", iface_kind_name(d.kind));
            CHECK(dnic_iface_loss_value(it, 8, NULL) == DNIC_OK, "%s loss", iface_kind_name(d.kind));
            CHECK(dnic_iface_backward(it, 8) == DNIC_OK, "%s backward", iface_kind_name(d.kind));
            CHECK(dnic_iface_update(it) == DNIC_OK, "%s update", iface_kind_name(d.kind));
            CHECK(dnic_iface_step(it) == step + 1, "%s: step counter %lld after %d updates", iface_kind_name(d.kind),
                  (long long)dnic_iface_step(it), step + 1);
        }
        int same = memcmp(before, P, sizeof(float) * np) == 0;
        if (fixed) CHECK(same, "%s: fixed matrix changed by update", iface_kind_name(d.kind));
        else CHECK(!same, "%s: trainable parameters did not move", iface_kind_name(d.kind));
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
    long oA = iface_tensor(it, "A", DH, DH), oB = iface_tensor(it, "B", NL, DH), oC = iface_tensor(it, "C", DH, 1);
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
    long oA = iface_tensor(it, "A", DH, DH), oB = iface_tensor(it, "B", NL, DH), oC = iface_tensor(it, "C", DH, 1);
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
              "%s: boundary step differs from the manual sequence (loss %g vs %g)", iface_kind_name(d.kind), lb, la);
        EXPECT(dnic_iface_backward(b, B), DNIC_ERR_STATE);
        float again[B * DH];
        EXPECT(dnic_iface_boundary_step(b, h, y, NULL, target, again, B, NULL), DNIC_OK);
        CHECK(memcmp(again, sig_a, sizeof again) == 0, "%s: a second boundary step differs", iface_kind_name(d.kind));
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

/* A boundary step zeroes the gradients before its backward writes them
 * (dA lazily: the backward's GEMM overwrites it). One that stops at its
 * loss leaves them zero as the manual sequence's zero_grad does, whether
 * they are read (dnic_iface_grads) or used by an update that follows
 * (plain SGD, no L2: zero gradients move nothing). */
static void test_failed_boundary_step_zeroes(void) {
    enum { B = 2, DH = 3, NL = 2 };
    for (int read_first = 0; read_first < 2; read_first++) {
        dnic_iface_desc d;
        dnic_iface_desc_defaults(&d, 0);
        dnic_iface_t *it = NULL;
        EXPECT(dnic_iface_create(&it, &d, DH, DH, NL, B, 0.0f, 3), DNIC_OK);
        if (!it) return;
        size_t np = 0, ng = 0;
        float *P = dnic_iface_params(it, &np);
        uint64_t rng = 21;
        fill_normal(P, np, 0.3f, &rng);
        float h[B * DH], small[B * DH], huge[B * DH], sig[B * DH], before[64];
        int32_t y[B] = {0, 1};
        for (int k = 0; k < B * DH; k++) { h[k] = 1.0f + 0.1f * k; small[k] = 0.5f; huge[k] = 1e19f; }
        EXPECT(dnic_iface_boundary_step(it, h, y, NULL, small, sig, B, NULL), DNIC_OK);
        const float *G = dnic_iface_grads(it, &ng);
        double moved = 0;
        for (size_t k = 0; k < ng; k++) moved += fabs(G[k]);
        CHECK(moved > 0, "a boundary step writes gradients");
        EXPECT(dnic_iface_boundary_step(it, h, y, NULL, huge, sig, B, NULL), DNIC_ERR_NONFINITE);
        if (read_first) {
            G = dnic_iface_grads(it, &ng);
            int zero = 1;
            for (size_t k = 0; k < ng; k++) zero &= G[k] == 0.0f;
            CHECK(zero, "after a boundary step stopped at its loss every gradient reads 0");
        }
        memcpy(before, P, np * sizeof *P);
        EXPECT(dnic_iface_update(it), DNIC_OK);
        CHECK(memcmp(before, P, np * sizeof *P) == 0, "an update after a boundary step stopped at its loss moves "
              "nothing (gradients %s first)", read_first ? "read" : "not read");
        dnic_iface_free(it);
    }
}

/* On a batch large enough for the interface's passes to split between
 * threads (the prediction's bias and label rows, the loss, dC and dB, the
 * signal), 2 threads compute the same prediction, gradients and signal as
 * 1, bit for bit (the reported loss's double sum may round apart). The
 * built-in GEMM, whose rows do not depend on the thread count (OpenBLAS's
 * do), so that only the interface's own passes are compared. */
static void test_threads_same_floats(void) {
    enum { B = 160, DH = 256, NL = 10 };
    static float h[B * DH], target[B * DH], sig[2][B * DH], s[2][B * DH], grads[2][DH * DH + NL * DH + DH];
    int32_t y[B];
    uint64_t rng = 77;
    fill_normal(h, B * DH, 1.0f, &rng);
    fill_normal(target, B * DH, 0.01f, &rng);
    for (int r = 0; r < B; r++) y[r] = (r * 7) % NL;
    int before = dnic_get_num_threads();
    dnic_gemm_info_t gemm;
    dnic_gemm_get_info(&gemm);
    EXPECT(dnic_set_gemm_backend(DNIC_GEMM_BUILTIN), DNIC_OK);
    size_t ng = 0;
    for (int t = 0; t < 2; t++) {
        dnic_set_num_threads(t + 1);
        dnic_iface_desc d;
        dnic_iface_desc_defaults(&d, 0);
        dnic_iface_t *it = NULL;
        EXPECT(dnic_iface_create(&it, &d, DH, DH, NL, B, 0.0f, 3), DNIC_OK);
        if (!it) break;
        size_t np = 0;
        float *P = dnic_iface_params(it, &np);
        uint64_t prng = 5;
        fill_normal(P, np, 0.05f, &prng);
        EXPECT(dnic_iface_boundary_step(it, h, y, NULL, target, sig[t], B, NULL), DNIC_OK);
        memcpy(s[t], dnic_iface_prediction(it), sizeof s[t]);
        const float *G = dnic_iface_grads(it, &ng);
        CHECK(ng == sizeof grads[t] / sizeof(float), "%zu gradients", ng);
        if (ng == sizeof grads[t] / sizeof(float)) memcpy(grads[t], G, sizeof grads[t]);
        dnic_iface_free(it);
    }
    dnic_set_num_threads(before);
    EXPECT(dnic_set_gemm_backend(gemm.backend), DNIC_OK);
    CHECK(memcmp(s[0], s[1], sizeof s[0]) == 0, "prediction at 2 threads differs from 1");
    CHECK(memcmp(grads[0], grads[1], sizeof grads[0]) == 0, "gradients at 2 threads differ from 1");
    CHECK(memcmp(sig[0], sig[1], sizeof sig[0]) == 0, "signal at 2 threads differs from 1");
}

int main(void) {
    HARNESS_FOR_EACH_ISA(level) {
        for (int threads = 1; threads <= 2; threads++) {
            dnic_set_num_threads(threads);
            test_initial_values();
            test_fixed_vs_trainable();
            test_linear_update_is_sgd();
            test_warmup();
            test_oracle();
            test_identity_is_backprop();
            test_boundary_step();
            test_loss_overflow();
            test_failed_boundary_step_zeroes();
        }
        test_threads_same_floats();
    }
    return harness_finish("iface");
}
