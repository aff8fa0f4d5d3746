/* test_rules_sg.c — linear synthetic gradients through the locked DNI
 * trainer against the TEXTBOOK implementation of textbook.h: LINEAR SGs
 * (one, two, at every hidden layer; TRUE or bootstrapped targets; labels
 * or float ycond; sg and sgprop with alpha > 0): their own updates =
 * textbook SGD on L_S = (1/B) sum 1/2 |s_i - B g_i|^2, the blocks below
 * trained from s / B (+ alpha dL_S/dh); and determinism: one seed, one
 * thread count, bit-identical parameters.
 * Every comparison runs at 1 and 2 threads.
 */
#include "textbook.h"

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
    dnic_net_t *net = make_net(IN, 4, CLS, loss, BATCH, DNIC_INIT_GLOROT_UNIFORM, 10);
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


/* Same seed, same thread count: bit-identical parameters (SG everywhere,
 * MLP interfaces with batch norm, Adam). */
static void test_determinism(void) {
    batches_t *D = malloc(sizeof *D);
    make_batches(D, 3, 81);
    float *runs[2] = {NULL, NULL}, *iruns[2] = {NULL, NULL};
    size_t np = 0, ni = 0;
    static const int widths[2] = {8, 8};
    for (int r = 0; r < 2; r++) {
        dnic_net_t *net = make_net(IN, 4, CLS, DNIC_LOSS_SOFTMAX_CE, BATCH, DNIC_INIT_GLOROT_UNIFORM, 42);
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
    for (int threads = 1; threads <= 2; threads++) {
        dnic_set_num_threads(threads);
        test_linear_sgs();
        test_determinism();
    }
    return harness_finish("rules_sg");
}
