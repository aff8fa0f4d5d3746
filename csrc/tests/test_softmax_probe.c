/* test_softmax_probe.c — softmax probes (softmax_probe.c).
 *
 * - The gradient equals central differences of the objective (across the
 *   1024-row blocks), and the objective equals a textbook loop in double.
 * - The fit reaches the minimiser a textbook full-batch gradient descent
 *   (double, fixed step 1/L, run far past convergence) finds.
 * - Linearly separable clusters are probed with training accuracy 1, by a
 *   converged fit; random labels stay near chance on fresh data.
 * - Bad input: each refusal has its status and a detail naming the fault.
 */
#include "harness.h"

#include <string.h>

/* The objective written out plainly in double: mean cross-entropy plus
 * (l2/2) ||W without the bias row||^2, and its gradient. */
static double textbook_objective(const float *X, size_t n, int d, const int32_t *y, int k, double l2, const double *W,
                                 double *grad) {
    size_t np = ((size_t)d + 1) * (size_t)k;
    double loss = 0, z[16];
    if (grad) memset(grad, 0, np * sizeof *grad);
    for (size_t r = 0; r < n; r++) {
        double top = -INFINITY, sum = 0;
        for (int c = 0; c < k; c++) {
            z[c] = W[(size_t)d * (size_t)k + (size_t)c];
            for (int j = 0; j < d; j++) z[c] += (double)X[r * (size_t)d + (size_t)j] * W[(size_t)j * (size_t)k + (size_t)c];
            top = fmax(top, z[c]);
        }
        for (int c = 0; c < k; c++) sum += exp(z[c] - top);
        loss += top + log(sum) - z[y[r]];
        if (!grad) continue;
        for (int c = 0; c < k; c++) {
            double e = exp(z[c] - top) / sum - (c == y[r]);
            for (int j = 0; j < d; j++) grad[(size_t)j * (size_t)k + (size_t)c] += e * X[r * (size_t)d + (size_t)j] / (double)n;
            grad[(size_t)d * (size_t)k + (size_t)c] += e / (double)n;
        }
    }
    double penalty = 0;
    for (size_t j = 0; j < (size_t)d * (size_t)k; j++) {
        penalty += W[j] * W[j];
        if (grad) grad[j] += l2 * W[j];
    }
    return loss / (double)n + 0.5 * l2 * penalty;
}

static void random_problem(float *X, int32_t *y, size_t n, int d, int k, uint64_t *rng) {
    fill_normal(X, n * (size_t)d, 1.0f, rng);
    for (size_t r = 0; r < n; r++) {
        y[r] = (int32_t)(dnic_rng_next(rng) % (uint64_t)k);
        X[r * (size_t)d + (size_t)y[r] % (size_t)d] += 0.8f; /* some signal */
    }
}

static void test_gradient_and_objective(void) {
    enum { N = 2500, D = 6, K = 4, P = (D + 1) * K };
    float *X = malloc(N * D * sizeof *X);
    int32_t *y = malloc(N * sizeof *y);
    double W[P], grad[P], ref_grad[P], Wp[P], loss = 0, lp = 0, lm = 0, scratch[P];
    uint64_t rng = 3;
    random_problem(X, y, N, D, K, &rng);
    for (int j = 0; j < P; j++) W[j] = 0.5 * ((double)(dnic_rng_next(&rng) % 2001) / 1000.0 - 1.0);
    const double l2 = 0.05;
    CHECK(dnic_softmax_probe_objective(X, N, D, y, K, l2, W, &loss, grad) == DNIC_OK, "objective");
    double ref = textbook_objective(X, N, D, y, K, l2, W, ref_grad);
    CHECK(fabs(loss - ref) <= 1e-6 * fabs(ref), "objective %.9g, textbook %.9g", loss, ref);
    double worst_fd = 0, worst_ref = 0;
    const double h = 1e-3;
    for (int j = 0; j < P; j++) {
        memcpy(Wp, W, sizeof W);
        Wp[j] = W[j] + h;
        CHECK(dnic_softmax_probe_objective(X, N, D, y, K, l2, Wp, &lp, scratch) == DNIC_OK, "objective +h");
        Wp[j] = W[j] - h;
        CHECK(dnic_softmax_probe_objective(X, N, D, y, K, l2, Wp, &lm, scratch) == DNIC_OK, "objective -h");
        double fd = (lp - lm) / (2 * h);
        worst_fd = fmax(worst_fd, fabs(fd - grad[j]) / fmax(fabs(grad[j]), 1e-2));
        worst_ref = fmax(worst_ref, fabs(ref_grad[j] - grad[j]) / fmax(fabs(ref_grad[j]), 1e-2));
    }
    CHECK(worst_fd < 2e-3, "gradient vs central differences: worst relative difference %g", worst_fd);
    CHECK(worst_ref < 1e-4, "gradient vs textbook: worst relative difference %g", worst_ref);
    free(X);
    free(y);
}

static void test_matches_gradient_descent(void) {
    enum { N = 300, D = 3, K = 3, P = (D + 1) * K };
    float X[N * D], W[P];
    int32_t y[N];
    uint64_t rng = 17;
    random_problem(X, y, N, D, K, &rng);
    const double l2 = 1e-2;
    /* L bounds the Hessian: softmax curvature <= 1/2, times the mean ||[x 1]||^2, plus l2 */
    double L = l2, ref[P] = {0}, g[P];
    for (size_t r = 0; r < N; r++) {
        double s = 1;
        for (int j = 0; j < D; j++) s += (double)X[r * D + (size_t)j] * X[r * D + (size_t)j];
        L += 0.5 * s / N;
    }
    double f_ref = 0;
    for (int it = 0; it < 30000; it++) {
        f_ref = textbook_objective(X, N, D, y, K, l2, ref, g);
        for (int j = 0; j < P; j++) ref[j] -= g[j] / L;
    }
    dnic_softmax_probe_config cfg = dnic_softmax_probe_defaults();
    cfg.l2 = l2;
    dnic_softmax_probe_info info;
    CHECK(dnic_softmax_probe_fit(X, N, D, y, K, &cfg, W, &info) == DNIC_OK, "fit: %s", info.detail);
    CHECK(info.stop != DNIC_PROBE_STOP_MAX_ITERATIONS, "converged (stop %d after %d iterations)", (int)info.stop,
          info.iterations);
    double worst = 0;
    for (int j = 0; j < P; j++) worst = fmax(worst, fabs(W[j] - ref[j]));
    CHECK(worst < 1e-3, "fit vs gradient descent: worst weight difference %g", worst);
    CHECK(fabs(info.loss - f_ref) <= 1e-6 * f_ref, "loss %.9g, gradient descent %.9g", info.loss, f_ref);
}

static void test_known_answers(void) {
    enum { N = 3000, D = 12, KC = 5 };
    float *X = malloc(N * D * sizeof *X), *T = malloc(N * D * sizeof *T), W[(D + 1) * KC];
    int32_t *y = malloc(N * sizeof *y), *u = malloc(N * sizeof *u);
    uint64_t rng = 5;
    for (int random = 0; random < 2; random++) {
        fill_clusters(X, y, N, D, KC, random, &rng);
        fill_clusters(T, u, N, D, KC, random, &rng);
        size_t train = 0, test = 0;
        dnic_softmax_probe_info info;
        CHECK(dnic_softmax_probe_fit(X, N, D, y, KC, NULL, W, &info) == DNIC_OK, "fit: %s", info.detail);
        CHECK(info.stop != DNIC_PROBE_STOP_MAX_ITERATIONS && info.iterations > 0, "converged (stop %d, %d iterations)",
              (int)info.stop, info.iterations);
        CHECK(dnic_linear_count_correct(X, N, D, W, KC, y, &train) == DNIC_OK &&
                  dnic_linear_count_correct(T, N, D, W, KC, u, &test) == DNIC_OK,
              "count correct");
        double tr = (double)train / N, te = (double)test / N;
        if (!random)
            CHECK(tr == 1.0 && te == 1.0, "separable clusters: train %.4f test %.4f, want 1", tr, te);
        else
            CHECK(fabs(te - 1.0 / KC) < 0.04 && tr < 0.3, "random labels: train %.4f test %.4f, want chance %.2f", tr,
                  te, 1.0 / KC);
    }
    /* separable with a small margin, where least squares on one-hot targets errs: two classes on a line,
     * a few points of class 0 far out on the side of class 0 pull the least-squares fit, not the softmax one */
    enum { M = 400 };
    float L[M];
    int32_t ly[M];
    for (int r = 0; r < M; r++) {
        ly[r] = r % 2;
        L[r] = ly[r] ? 1.0f + 0.01f * (float)(r % 50) : -1.0f - 0.01f * (float)(r % 50);
        if (r < 40 && !ly[r]) L[r] = -60.0f; /* far out, correctly placed */
    }
    float lw[2 * 2];
    size_t soft = 0, ridge = 0;
    dnic_softmax_probe_config cfg = dnic_softmax_probe_defaults();
    cfg.l2 = 1e-6;
    CHECK(dnic_softmax_probe_fit(L, M, 1, ly, 2, &cfg, lw, NULL) == DNIC_OK, "fit on a line");
    CHECK(dnic_linear_count_correct(L, M, 1, lw, 2, ly, &soft) == DNIC_OK, "count");
    CHECK(dnic_ridge_fit(L, M, 1, ly, 2, 1e-6, lw) == DNIC_OK, "ridge on a line");
    CHECK(dnic_linear_count_correct(L, M, 1, lw, 2, ly, &ridge) == DNIC_OK, "count");
    CHECK(soft == M, "softmax separates the line: %zu of %d", soft, M);
    CHECK(ridge < M, "least squares does not (the reason for softmax probes): %zu of %d", ridge, M);
    free(X);
    free(T);
    free(y);
    free(u);
}

static void test_bad_input(void) {
    float X[6] = {1, 2, 3, 4, 5, 6}, W[3 * 2];
    int32_t y[3] = {0, 1, 1}, bad[3] = {0, 2, 1};
    dnic_softmax_probe_info info;
    dnic_softmax_probe_config cfg = dnic_softmax_probe_defaults();
    CHECK(dnic_softmax_probe_fit(X, 3, 2, bad, 2, NULL, W, &info) == DNIC_ERR_LABEL &&
              strstr(info.detail, "label 2 of row 1"),
          "label out of range: %s", info.detail);
    cfg.l2 = -1;
    CHECK(dnic_softmax_probe_fit(X, 3, 2, y, 2, &cfg, W, &info) == DNIC_ERR_ARG && strstr(info.detail, "l2 -1"),
          "l2 < 0: %s", info.detail);
    cfg.l2 = NAN;
    CHECK(dnic_softmax_probe_fit(X, 3, 2, y, 2, &cfg, W, &info) == DNIC_ERR_ARG, "l2 NaN");
    cfg = dnic_softmax_probe_defaults();
    cfg.max_iterations = 0;
    CHECK(dnic_softmax_probe_fit(X, 3, 2, y, 2, &cfg, W, &info) == DNIC_ERR_ARG && strstr(info.detail, "max_iterations 0"),
          "no iterations: %s", info.detail);
    CHECK(dnic_softmax_probe_fit(X, 0, 2, y, 2, NULL, W, &info) == DNIC_ERR_SIZE && strstr(info.detail, "n 0"),
          "no rows: %s", info.detail);
    CHECK(dnic_softmax_probe_fit(NULL, 3, 2, y, 2, NULL, W, &info) == DNIC_ERR_NULL, "no features");
    CHECK(dnic_softmax_probe_fit(X, 3, 2, y, 2, NULL, NULL, &info) == DNIC_ERR_NULL, "no output");
    X[3] = NAN;
    CHECK(dnic_softmax_probe_fit(X, 3, 2, y, 2, NULL, W, &info) == DNIC_ERR_NONFINITE &&
              strstr(info.detail, "feature 1 of row 1"),
          "NaN feature: %s", info.detail);
    double Wd[6] = {0}, g[6], f;
    CHECK(dnic_softmax_probe_objective(X, 3, 2, y, 2, 0.1, Wd, &f, g) == DNIC_ERR_NONFINITE, "objective: NaN feature");
    X[3] = 4;
    CHECK(dnic_softmax_probe_fit(X, 3, 2, y, 2, NULL, W, NULL) == DNIC_OK, "info may be NULL");
}

int main(void) {
    for (int threads = 1; threads <= 2; threads++) {
        dnic_set_num_threads(threads);
        test_gradient_and_objective();
        test_matches_gradient_descent();
        test_known_answers();
        test_bad_input();
    }
    return harness_finish("softmax_probe");
}
