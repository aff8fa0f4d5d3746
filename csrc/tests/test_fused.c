/* test_fused.c — the network's internal element-wise kernels against plain
 * loops in double: bias + activation in place, activation derivative with
 * the bias gradient's column sums in one pass, the checked optimizer
 * updates, and the gradient-clipping helpers. At every instruction-set
 * level the CPU runs, at 1 and 2 threads, on odd shapes and a training
 * shape.
 */
#include "harness.h"

#include <math.h>
#include <string.h>

/* internal to libdnic (not in dnic.h); the static library exposes them */
#include "kernels/kernels_internal.h"

/* The network's checked updates equal the public reference updates and
 * report non-finite results. */
static void check_updates(size_t n, uint64_t *rng) {
    float *p = malloc(n * sizeof(float)), *m = malloc(n * sizeof(float)), *v = malloc(n * sizeof(float));
    float *g = malloc(n * sizeof(float)), *rp = malloc(n * sizeof(float)), *rm = malloc(n * sizeof(float));
    float *rv = malloc(n * sizeof(float));
    for (int kind = 0; kind < 3; kind++) {
        dnic_optim_config c = dnic_optim_default((dnic_optimizer)kind);
        for (size_t k = 0; k < n; k++) {
            p[k] = rp[k] = dnic_rng_normal(rng);
            m[k] = rm[k] = 0.1f * dnic_rng_normal(rng);
            v[k] = rv[k] = 0.01f * dnic_rng_uniform(rng);
            g[k] = dnic_rng_normal(rng);
        }
        int finite = dnic__update_checked(&c, p, m, v, g, n, 0.01f, 3);
        if (kind == 0) dnic_sgd_update_ref(rp, g, n, c.lr, 0.01f);
        if (kind == 1) dnic_momentum_update_ref(rp, rm, g, n, c.lr, c.momentum, 0.01f);
        if (kind == 2) dnic_adam_update_ref(rp, rm, rv, g, n, c.lr, c.beta1, c.beta2, c.eps, 0.01f, 3);
        char what[64];
        snprintf(what, sizeof what, "checked update kind %d n %zu", kind, n);
        CHECK(finite, "%s: finite values reported as non-finite", what);
        CHECK_SAME(what, p, rp, n, 1e-5);
        if (kind > 0) CHECK_SAME("optimizer state m", m, rm, n, 1e-5);
        if (kind == 2) CHECK_SAME("optimizer state v", v, rv, n, 1e-5);
        g[n / 2] = NAN;
        CHECK(!dnic__update_checked(&c, p, m, v, g, n, 0.0f, 4), "%s: a NaN gradient must be reported", what);
    }
    free(p); free(m); free(v); free(g); free(rp); free(rm); free(rv);
}

static double deriv_from_out(dnic_activation a, double y) {
    switch (a) {
    case DNIC_ACT_RELU: return y > 0 ? 1 : 0;
    case DNIC_ACT_SIGMOID: return y * (1 - y);
    case DNIC_ACT_TANH: return 1 - y * y;
    default: return 1;
    }
}

static void check_shape(int B, int C, uint64_t *rng) {
    size_t n = (size_t)B * C;
    float *h = malloc(n * sizeof(float)), *b = malloc(C * sizeof(float)), *gh = malloc(n * sizeof(float));
    float *gz = malloc(n * sizeof(float)), *db = malloc(C * sizeof(float));
    double *want = malloc(n * sizeof(double)), *wdb = malloc(C * sizeof(double));
    const dnic_activation acts[] = {DNIC_ACT_IDENTITY, DNIC_ACT_RELU, DNIC_ACT_SIGMOID, DNIC_ACT_TANH};
    for (int a = 0; a < 4; a++) {
        char what[96];
        for (size_t k = 0; k < n; k++) h[k] = 2.0f * dnic_rng_normal(rng);
        for (int c = 0; c < C; c++) b[c] = dnic_rng_normal(rng);
        for (size_t k = 0; k < n; k++) want[k] = ref_act(acts[a], (double)h[k] + b[k % C]);
        dnic__bias_act_forward(acts[a], h, b, B, C);
        snprintf(what, sizeof what, "bias+act %d forward %dx%d", a, B, C);
        CHECK_CLOSE(what, h, want, n, 1e-6, 1e-5);

        /* h now holds a forward output; backward from it */
        for (size_t k = 0; k < n; k++) { gh[k] = dnic_rng_normal(rng); gz[k] = 1e9f; }
        for (int c = 0; c < C; c++) { db[c] = 0.25f; wdb[c] = 0.25; }
        for (size_t k = 0; k < n; k++) {
            want[k] = gh[k] * deriv_from_out(acts[a], h[k]);
            wdb[k % C] += want[k];
        }
        dnic__act_backward_colsum(acts[a], gz, db, gh, h, B, C);
        snprintf(what, sizeof what, "act %d backward (overwrites) %dx%d", a, B, C);
        CHECK_CLOSE(what, gz, want, n, 1e-6, 1e-5);
        snprintf(what, sizeof what, "act %d bias gradient (accumulates) %dx%d", a, B, C);
        CHECK_CLOSE(what, db, wdb, (size_t)C, 1e-4, 1e-4);
        dnic__act_backward_colsum(acts[a], gz, NULL, gh, h, B, C); /* db optional */
        CHECK_CLOSE("backward without db", gz, want, n, 1e-6, 1e-5);
    }
    free(h); free(b); free(gh); free(gz); free(db); free(want); free(wdb);
}

/* The gradient-clipping helpers: sum of squares (in double) and scaling,
 * and the finiteness check. */
static void check_norms(size_t n, uint64_t *rng) {
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    double want = 0;
    for (size_t k = 0; k < n; k++) {
        x[k] = dnic_rng_normal(rng);
        want += (double)x[k] * x[k];
    }
    double got = dnic__sum_squares(x, n);
    CHECK(fabs(got - want) <= 1e-12 * want, "sum of squares n %zu: %.17g, want %.17g", n, got, want);
    memcpy(y, x, n * sizeof(float));
    dnic__scale(y, n, 0.37f);
    int same = 1;
    for (size_t k = 0; k < n; k++) same &= y[k] == x[k] * 0.37f;
    CHECK(same, "scale n %zu: not x * s exactly", n);
    CHECK(dnic__all_finite(x, n), "all_finite n %zu: finite values reported non-finite", n);
    x[n - 1] = INFINITY;
    CHECK(!dnic__all_finite(x, n), "all_finite n %zu: an infinity at the end missed", n);
    x[n - 1] = 0.0f;
    x[n / 3] = NAN;
    CHECK(!dnic__all_finite(x, n), "all_finite n %zu: a NaN missed", n);
    free(x); free(y);
}

int main(void) {
    uint64_t rng = 11;
    HARNESS_FOR_EACH_ISA(level) {
        for (int threads = 1; threads <= 2; threads++) {
            dnic_set_num_threads(threads);
            check_shape(37, 29, &rng);
            check_shape(211, 203, &rng); /* odd, and split between threads */
            check_shape(70, 1100, &rng); /* columns in several blocks */
            check_shape(256, 256, &rng);
            check_shape(3, 130, &rng);
            check_updates(37, &rng);
            check_updates(200003, &rng);
            check_norms(37, &rng);
            check_norms(300007, &rng);
        }
    }
    return harness_finish("fused");
}
