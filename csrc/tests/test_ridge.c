/* test_ridge.c — linear probes (ridge.c).
 *
 * - dnic_ridge_fit (normal equations, Cholesky) equals an independent
 *   least-squares solution of the augmented system [X 1; sqrt(lambda) I 0]
 *   W = [Y; 0] by QR (LAPACKE_dgels), for several n (across the 256-row
 *   chunks), d, k and lambda.
 * - Known answers: well-separated clusters are probed with accuracy 1;
 *   random labels give chance accuracy on fresh data.
 * - Bad input: labels out of range, NaN features, lambda < 0 or singular.
 */
#include "harness.h"

#include <lapacke.h>
#include <string.h>

#include "lapacke_ref.h"

static void test_matches_qr(void) {
    dgels_fn dgels = find_dgels();
    CHECK(dgels != NULL, "LAPACKE_dgels not found: no reference");
    if (!dgels) return;
    const struct { size_t n; int d, k; double lambda; } cases[] = {
        {40, 3, 2, 0.0}, {300, 7, 4, 0.5}, {1000, 20, 10, 3.0}, {513, 1, 3, 1e-3}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        size_t n = cases[c].n;
        int d = cases[c].d, k = cases[c].k, m = d + 1;
        double lambda = cases[c].lambda;
        float *X = malloc(n * (size_t)d * sizeof *X), *W = malloc((size_t)m * (size_t)k * sizeof *W);
        int32_t *y = malloc(n * sizeof *y);
        uint64_t rng = 11 + c;
        fill_normal(X, n * (size_t)d, 1.0f, &rng);
        for (size_t r = 0; r < n; r++) {
            y[r] = (int32_t)(dnic_rng_next(&rng) % (uint64_t)k);
            X[r * (size_t)d] += 0.7f * (float)y[r]; /* some signal */
        }
        CHECK(dnic_ridge_fit(X, n, d, y, k, lambda, W) == DNIC_OK, "ridge fit n %zu d %d k %d", n, d, k);
        /* the augmented system, rows n + d, row-major */
        size_t rows = n + (size_t)d;
        double *A = calloc(rows * (size_t)m, sizeof *A), *Y = calloc(rows * (size_t)k, sizeof *Y);
        for (size_t r = 0; r < n; r++) {
            for (int j = 0; j < d; j++) A[r * (size_t)m + (size_t)j] = X[r * (size_t)d + (size_t)j];
            A[r * (size_t)m + (size_t)d] = 1.0;
            Y[r * (size_t)k + (size_t)y[r]] = 1.0;
        }
        for (int j = 0; j < d; j++) A[(n + (size_t)j) * (size_t)m + (size_t)j] = sqrt(lambda);
        lapack_int info = dgels(LAPACK_ROW_MAJOR, 'N', (lapack_int)rows, m, k, A, m, Y, k);
        CHECK(info == 0, "dgels info %d", (int)info);
        double worst = 0, scale = 0;
        for (int j = 0; j < m; j++)
            for (int q = 0; q < k; q++) {
                worst = fmax(worst, fabs(W[j * k + q] - Y[(size_t)j * (size_t)k + (size_t)q]));
                scale = fmax(scale, fabs(Y[(size_t)j * (size_t)k + (size_t)q]));
            }
        CHECK(worst <= 1e-5 * fmax(scale, 1.0), "n %zu d %d k %d lambda %g: Cholesky vs QR differ by %g (scale %g)", n,
              d, k, lambda, worst, scale);
        free(A);
        free(Y);
        free(X);
        free(W);
        free(y);
    }
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
        CHECK(dnic_ridge_fit(X, N, D, y, KC, 1e-3, W) == DNIC_OK, "fit");
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
    free(X);
    free(T);
    free(y);
    free(u);
}

static void test_bad_input(void) {
    float X[6] = {1, 2, 3, 4, 5, 6}, W[3 * 2];
    int32_t y[3] = {0, 1, 1}, bad[3] = {0, 2, 1};
    CHECK(dnic_ridge_fit(X, 3, 2, bad, 2, 0.1, W) == DNIC_ERR_LABEL, "label out of range");
    CHECK(dnic_ridge_fit(X, 3, 2, y, 2, -1.0, W) == DNIC_ERR_ARG, "lambda < 0");
    CHECK(dnic_ridge_fit(X, 3, 2, y, 2, NAN, W) == DNIC_ERR_ARG, "lambda NaN");
    CHECK(dnic_ridge_fit(X, 0, 2, y, 2, 0.1, W) == DNIC_ERR_SIZE, "no rows");
    CHECK(dnic_ridge_fit(NULL, 3, 2, y, 2, 0.1, W) == DNIC_ERR_NULL, "no features");
    float same[6] = {1, 1, 2, 2, 3, 3}; /* two equal columns: singular without a penalty */
    CHECK(dnic_ridge_fit(same, 3, 2, y, 2, 0.0, W) == DNIC_ERR_ARG, "singular system, lambda 0");
    CHECK(dnic_ridge_fit(same, 3, 2, y, 2, 0.1, W) == DNIC_OK, "the same with a penalty");
    X[3] = NAN;
    CHECK(dnic_ridge_fit(X, 3, 2, y, 2, 0.1, W) == DNIC_ERR_NONFINITE, "NaN feature");
}

int main(void) {
    for (int threads = 1; threads <= 2; threads++) {
        dnic_set_num_threads(threads);
        test_matches_qr();
        test_known_answers();
        test_bad_input();
    }
    return harness_finish("ridge");
}
