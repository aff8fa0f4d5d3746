/* test_optim.c — the optimizer updates (SGD, momentum, Adam) at every
 * instruction-set level the CPU runs: steps computed by hand, and the fast
 * updates vs their _ref twins at 1 and 2 threads. The checked updates the
 * network runs are test_fused's.
 */
#include "harness.h"

/* -------------------------------------------------------------- optimizers */

static void test_optim_by_hand(void) {
    const float p0[3] = {1.0f, -2.0f, 0.5f};
    const float g1[3] = {0.1f, 0.2f, -0.3f}, g2[3] = {0.2f, -0.1f, 0.0f},
                g3[3] = {-0.1f, 0.1f, 0.4f};
    const float *gs[3] = {g1, g2, g3};

    for (int useref = 0; useref < 2; useref++) {
        const char *tag = useref ? " (ref)" : "";
        void (*sgd)(float *, const float *, size_t, float, float) =
            useref ? dnic_sgd_update_ref : dnic_sgd_update;
        void (*mom)(float *, float *, const float *, size_t, float, float, float) =
            useref ? dnic_momentum_update_ref : dnic_momentum_update;
        void (*adam)(float *, float *, float *, const float *, size_t, float, float, float, float,
                     float, int64_t) = useref ? dnic_adam_update_ref : dnic_adam_update;
        float p[3], v[3], m[3], g[3];

        /* SGD lr 0.1: p - 0.1 g */
        memcpy(p, p0, sizeof p);
        memcpy(g, g1, sizeof g);
        sgd(p, g, 3, 0.1f, 0.0f);
        double w_sgd[3] = {0.99, -2.02, 0.53};
        CHECK_CLOSE(MSG("sgd step%s", tag), p, w_sgd, 3, 1e-6, 1e-6);
        CHECK(memcmp(g, g1, sizeof g) == 0, "sgd left g unchanged%s", tag);
        /* SGD lr 0.1, l2 0.5: g' = g + 0.5 p = (0.6, -0.8, -0.05) */
        memcpy(p, p0, sizeof p);
        sgd(p, g, 3, 0.1f, 0.5f);
        double w_sgd_l2[3] = {0.94, -1.92, 0.505};
        CHECK_CLOSE(MSG("sgd step with l2%s", tag), p, w_sgd_l2, 3, 1e-6, 1e-6);

        /* Momentum lr 0.1, mu 0.9 over three steps, worked by hand:
         *   v1 = g1                 = ( 0.1,  0.2,  -0.3 )  p1 = (0.99,  -2.02,   0.53)
         *   v2 = 0.9 v1 + g2        = ( 0.29, 0.08, -0.27)  p2 = (0.961, -2.028,  0.557)
         *   v3 = 0.9 v2 + g3        = ( 0.161,0.172, 0.157) p3 = (0.9449,-2.0452, 0.5413) */
        static const double w_mv[3][3] = {{0.1, 0.2, -0.3}, {0.29, 0.08, -0.27},
                                          {0.161, 0.172, 0.157}};
        static const double w_mp[3][3] = {{0.99, -2.02, 0.53}, {0.961, -2.028, 0.557},
                                          {0.9449, -2.0452, 0.5413}};
        memcpy(p, p0, sizeof p);
        fill_const(v, 3, 0.0f);
        for (int s = 0; s < 3; s++) {
            mom(p, v, gs[s], 3, 0.1f, 0.9f, 0.0f);
            CHECK_CLOSE(MSG("momentum v step %d%s", s + 1, tag), v, w_mv[s], 3, 1e-6, 1e-6);
            CHECK_CLOSE(MSG("momentum p step %d%s", s + 1, tag), p, w_mp[s], 3, 1e-6, 1e-6);
        }
        /* with l2 0.1: g' = g1 + 0.1 p0 = (0.2, 0, -0.25) = v; p = p0 - 0.1 v */
        memcpy(p, p0, sizeof p);
        fill_const(v, 3, 0.0f);
        mom(p, v, g1, 3, 0.1f, 0.9f, 0.1f);
        double w_ml2v[3] = {0.2, 0.0, -0.25}, w_ml2p[3] = {0.98, -2.0, 0.525};
        CHECK_CLOSE(MSG("momentum v with l2%s", tag), v, w_ml2v, 3, 1e-6, 1e-6);
        CHECK_CLOSE(MSG("momentum p with l2%s", tag), p, w_ml2p, 3, 1e-6, 1e-6);

        /* Adam lr 0.1: at t = 1 the bias-corrected step is lr * sign(g), so
         * p1 = p0 - 0.1 sign(g1) = (0.9, -2.1, 0.6) by hand. Steps 1..3
         * (without and with l2) follow the header's formula in double. */
        for (int withl2 = 0; withl2 < 2; withl2++) {
            const float lr = 0.1f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
            const float l2 = withl2 ? 0.01f : 0.0f;
            double dp_[3], dm[3] = {0, 0, 0}, dv[3] = {0, 0, 0};
            for (int i = 0; i < 3; i++) dp_[i] = p0[i];
            memcpy(p, p0, sizeof p);
            fill_const(m, 3, 0.0f);
            fill_const(v, 3, 0.0f);
            for (int t = 1; t <= 3; t++) {
                for (int i = 0; i < 3; i++) {
                    double gg = (double)gs[t - 1][i] + (double)l2 * dp_[i];
                    dm[i] = (double)b1 * dm[i] + (1 - (double)b1) * gg;
                    dv[i] = (double)b2 * dv[i] + (1 - (double)b2) * gg * gg;
                    double mh = dm[i] / (1 - pow(b1, t)), vh = dv[i] / (1 - pow(b2, t));
                    dp_[i] -= (double)lr * mh / (sqrt(vh) + (double)eps);
                }
                adam(p, m, v, gs[t - 1], 3, lr, b1, b2, eps, l2, t);
                CHECK_CLOSE(MSG("adam p t=%d l2=%g%s", t, l2, tag), p, dp_, 3, 1e-6, 1e-5);
                CHECK_CLOSE(MSG("adam m t=%d l2=%g%s", t, l2, tag), m, dm, 3, 1e-7, 1e-5);
                CHECK_CLOSE(MSG("adam v t=%d l2=%g%s", t, l2, tag), v, dv, 3, 1e-9, 1e-5);
                if (t == 1 && !withl2) {
                    double w_a1[3] = {0.9, -2.1, 0.6};
                    CHECK_CLOSE(MSG("adam t=1 is lr*sign(g)%s", tag), p, w_a1, 3, 1e-6, 1e-6);
                }
            }
        }
    }
}

static void optim_vs_ref(size_t n) {
    float *p0 = falloc(n), *g = falloc(n), *m0 = falloc(n), *v0 = falloc(n);
    fill(p0, n, -1, 1);
    fill(g, n, -1, 1);
    fill(m0, n, -0.1, 0.1);
    fill(v0, n, 0, 0.01);
    float *ps = fdup(p0, n), *pm = fdup(p0, n), *vm = fdup(m0, n);
    float *pa = fdup(p0, n), *ma = fdup(m0, n), *va = fdup(v0, n);
    dnic_sgd_update_ref(ps, g, n, 0.05f, 1e-3f);
    dnic_momentum_update_ref(pm, vm, g, n, 0.05f, 0.9f, 1e-3f);
    dnic_adam_update_ref(pa, ma, va, g, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-3f, 7);
    for (int t = 0; t < 2; t++) {
        int th = thread_counts[t];
        dnic_set_num_threads(th);
        float *p = fdup(p0, n), *m = fdup(m0, n), *v = fdup(v0, n);
        dnic_sgd_update(p, g, n, 0.05f, 1e-3f);
        CHECK_SAME(MSG("sgd n=%zu threads=%d", n, th), p, ps, n, 1e-6);
        memcpy(p, p0, n * sizeof *p);
        dnic_momentum_update(p, m, g, n, 0.05f, 0.9f, 1e-3f);
        CHECK_SAME(MSG("momentum p n=%zu threads=%d", n, th), p, pm, n, 1e-6);
        CHECK_SAME(MSG("momentum v n=%zu threads=%d", n, th), m, vm, n, 1e-6);
        memcpy(p, p0, n * sizeof *p);
        memcpy(m, m0, n * sizeof *m);
        dnic_adam_update(p, m, v, g, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-3f, 7);
        CHECK_SAME(MSG("adam p n=%zu threads=%d", n, th), p, pa, n, 1e-6);
        CHECK_SAME(MSG("adam m n=%zu threads=%d", n, th), m, ma, n, 1e-6);
        CHECK_SAME(MSG("adam v n=%zu threads=%d", n, th), v, va, n, 1e-6);
        free(p); free(m); free(v);
    }
    dnic_set_num_threads(1);
    free(p0); free(g); free(m0); free(v0); free(ps); free(pm); free(vm);
    free(pa); free(ma); free(va);
}

int main(void) {
    /* every test starts at one thread (as they did in test_kernels, after
     * its thread test) */
    dnic_set_num_threads(1);
    HARNESS_FOR_EACH_ISA(level) {
        printf("optim at isa %s\n", dnic_isa_name((dnic_isa)level));
        optim_vs_ref(100003);
        optim_vs_ref(784 * 256 + 256);
        test_optim_by_hand();
    }
    return harness_finish("optim");
}
