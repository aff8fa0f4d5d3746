/* ridge.c — closed-form linear probes (the paper's Figure 8): ridge least
 * squares from a layer's activations to one-hot labels.
 *
 * Why least squares rather than softmax regression: it has one answer
 * (no learning rate, epochs or seed to choose), is computed in seconds for
 * 60,000 x 256 activations and ranks layers by linear decodability just
 * the same. The normal equations are formed in double, 256 rows at a time
 * (any dataset size, memory (d+1)^2 doubles), with the bias as a column of
 * ones left out of the penalty, and solved by Cholesky: BLAS dsyrk and
 * LAPACK dposv of the library dnic loaded (blas.c).
 */
#include "gemm/backends.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK 256

dnic_status dnic_ridge_fit(const float *X, size_t n, int d, const int32_t *labels, int k, double lambda, float *W) {
    if (!X || !labels || !W)
        return dnic__fail(DNIC_ERR_NULL, "dnic_ridge_fit: NULL pointer argument (X or labels or W)");
    if (n < 1 || d < 1 || k < 1 || d > (1 << 16) || k > (1 << 22))
        return dnic__fail(DNIC_ERR_SIZE, "dnic_ridge_fit: n = %zu, d = %d, k = %d: need n >= 1, d in 1..65536, k in "
                          "1..%d", n, d, k, 1 << 22);
    if (!(lambda >= 0) || !isfinite(lambda))
        return dnic__fail(DNIC_ERR_ARG, "dnic_ridge_fit: lambda = %g must be finite and >= 0", lambda);
    for (size_t r = 0; r < n; r++)
        if (labels[r] < 0 || labels[r] >= k)
            return dnic__fail(DNIC_ERR_LABEL, "dnic_ridge_fit: labels[%zu] = %d is outside 0..%d", r, (int)labels[r],
                              k - 1);
    dnic__dsyrk_fn dsyrk;
    dnic__dposv_fn dposv;
    if (!dnic__lapack_routines(&dsyrk, &dposv))
        return dnic__fail(DNIC_ERR_UNAVAILABLE, "dnic_ridge_fit: the loaded BLAS has no LAPACK (dsyrk, dposv; e.g. "
                          "DNIC_BLAS=builtin)");
    int m = d + 1;
    double *G = calloc((size_t)m * (size_t)m, sizeof *G);   /* [X 1]^T [X 1], upper triangle */
    double *R = calloc((size_t)m * (size_t)k, sizeof *R);   /* [X 1]^T Y, column-major (m, k) */
    double *A = malloc((size_t)m * CHUNK * sizeof *A);       /* CHUNK rows of [X 1], row-major */
    dnic_status st = G && R && A ? DNIC_OK : DNIC_ERR_NOMEM;
    for (size_t start = 0; st == DNIC_OK && start < n; start += CHUNK) {
        int rows = (int)(n - start < CHUNK ? n - start : CHUNK);
        for (int r = 0; r < rows; r++) {
            const float *x = X + (start + (size_t)r) * (size_t)d;
            double *a = A + (size_t)r * (size_t)m;
            for (int j = 0; j < d; j++) {
                if (!isfinite(x[j])) st = DNIC_ERR_NONFINITE;
                a[j] = x[j];
            }
            a[d] = 1.0;
            double *col = R + (size_t)labels[start + (size_t)r] * (size_t)m;
            for (int j = 0; j < m; j++) col[j] += a[j];
        }
        /* row-major (rows, m) is column-major (m, rows): G += A A^T */
        const double one = 1.0;
        dsyrk("U", "N", &m, &rows, &one, A, &m, &one, G, &m, 1, 1);
    }
    if (st == DNIC_OK) {
        for (int j = 0; j < d; j++) G[(size_t)j * (size_t)m + (size_t)j] += lambda;
        int info = 0;
        dposv("U", &m, &k, G, &m, R, &m, &info, 1);
        /* info > 0: not positive definite (a rank-deficient layer and lambda 0) */
        if (info != 0) st = info > 0 ? DNIC_ERR_ARG : DNIC_ERR_SIZE;
    }
    for (int j = 0; st == DNIC_OK && j < m; j++)
        for (int c = 0; c < k; c++) {
            double w = R[(size_t)c * (size_t)m + (size_t)j];
            if (!isfinite(w)) st = DNIC_ERR_NONFINITE;
            W[(size_t)j * (size_t)k + (size_t)c] = (float)w;
        }
    free(G);
    free(R);
    free(A);
    switch (st) {
    case DNIC_OK: return st;
    case DNIC_ERR_NOMEM: return dnic__fail(st, "dnic_ridge_fit: out of memory for d = %d, k = %d", d, k);
    case DNIC_ERR_NONFINITE: return dnic__fail(st, "dnic_ridge_fit: a feature or the solution is not finite");
    case DNIC_ERR_ARG:
        return dnic__fail(st, "dnic_ridge_fit: the system is singular (lambda = %g on rank-deficient features: raise "
                          "lambda)", lambda);
    default: return dnic__fail(st, "dnic_ridge_fit: LAPACK dposv refused the system");
    }
}

dnic_status dnic_linear_count_correct(const float *X, size_t n, int d, const float *W, int k, const int32_t *labels,
                                      size_t *correct_out) {
    if (!X || !W || !labels || !correct_out)
        return dnic__fail(DNIC_ERR_NULL, "dnic_linear_count_correct: NULL pointer argument (X, W, labels or "
                          "correct_out)");
    if (n < 1 || d < 1 || k < 1)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_linear_count_correct: n = %zu, d = %d, k = %d (need >= 1 each)", n, d,
                          k);
    size_t correct = 0;
    long long rows = (long long)n;
#ifdef _OPENMP
#pragma omp parallel for reduction(+ : correct) schedule(static) if (n * (size_t)d * (size_t)k > 1000000)
#endif
    for (long long r = 0; r < rows; r++) {
        const float *x = X + (size_t)r * (size_t)d;
        int best = 0;
        double best_score = -INFINITY;
        for (int c = 0; c < k; c++) {
            double s = W[(size_t)d * (size_t)k + (size_t)c]; /* bias row */
            for (int j = 0; j < d; j++) s += (double)x[j] * W[(size_t)j * (size_t)k + (size_t)c];
            if (s > best_score) { best_score = s; best = c; }
        }
        correct += best == labels[r];
    }
    *correct_out = correct;
    return DNIC_OK;
}
