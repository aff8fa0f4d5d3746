/* test_rules.c — the learning rules of the paper's Table 1 through the
 * locked DNI trainer (dnic_dni_t), each against the TEXTBOOK
 * implementation of textbook.h, started from the library's initial
 * parameters:
 *   - backprop as a preset (IDENTITY, BOOTSTRAP, INNER, PROP at every
 *     hidden layer) = textbook backprop = dnic_net_train_step on a twin;
 *   - FA (RANDOM, NEXT_ERROR), DFA (RANDOM, OUTPUT_ERROR) and Kickback
 *     (ONES, OUTPUT_ERROR, one logistic output) at every hidden layer =
 *     textbook FA / DFA / DFA with all-ones matrices, using the library's
 *     fixed matrices;
 *   - interfaces numbered top first;
 *   - sg with an ORACLE interface = backprop; sgprop with alpha 0 = sg.
 * Linear SGs are test_rules_sg's; Theorem 1, test_theorem1's.
 * Every comparison runs at 1 and 2 threads.
 */
#include "textbook.h"

/* ------------------------------------------------------------------ tests */

/* backprop as a preset: IDENTITY / BOOTSTRAP / INNER / PROP at every
 * hidden layer = textbook backprop = dnic_net_train_step on a twin net. */
static void test_backprop_preset(void) {
    const float lr = 0.1f;
    batches_t *D = malloc(sizeof *D);
    make_batches(D, 3, 31);
    dnic_net_t *net = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, DNIC_INIT_GLOROT_UNIFORM, 5);
    dnic_net_t *twin = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, DNIC_INIT_GLOROT_UNIFORM, 5);
    /* plain backprop as the trainer runs it: a DNI with no interfaces */
    dnic_net_t *bare = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, DNIC_INIT_GLOROT_UNIFORM, 5);
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
    dnic_net_t *net = make_net(IN, 4, L, loss, BATCH, DNIC_INIT_GLOROT_UNIFORM, 6);
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
    dnic_net_t *net = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, DNIC_INIT_GLOROT_UNIFORM, 5);
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
    dnic_net_t *net = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, DNIC_INIT_GLOROT_UNIFORM, 8);
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
        dnic_net_t *net = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, DNIC_INIT_GLOROT_UNIFORM, 9);
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


int main(void) {
    for (int threads = 1; threads <= 2; threads++) {
        dnic_set_num_threads(threads);
        test_backprop_preset();
        test_feedback_alignment(R_FA, 0);
        test_feedback_alignment(R_DFA, 0);
        test_feedback_alignment(R_DFA, 1);
        test_iface_numbering();
        test_oracle_sg();
        test_sgprop_alpha0();
    }
    return harness_finish("rules");
}
