/* test_data.c — gathering batches by index (fast vs _ref at 1 and 2
 * threads), dnic's explicit-state rng (splitmix64 written out from its
 * definition), shuffling and weight initialisation.
 */
#include "harness.h"

/* ------------------------------------------------------------------ gather */

static void gather_vs_ref(int B, size_t row_len, size_t n_rows) {
    size_t n = (size_t)B * row_len;
    float *src = falloc(n_rows * row_len), *want = falloc(n), *ref = falloc(n);
    int32_t *idx = malloc((size_t)B * sizeof *idx), *lsrc = malloc(n_rows * sizeof *lsrc);
    int32_t *ldst = malloc((size_t)B * sizeof *ldst);
    fill(src, n_rows * row_len, -1, 1);
    for (size_t i = 0; i < n_rows; i++) lsrc[i] = (int32_t)(i * 7 % 10);
    for (int r = 0; r < B; r++) idx[r] = (int32_t)(tr_u01() * (double)n_rows) % (int32_t)n_rows;
    idx[0] = 0;
    idx[B - 1] = (int32_t)n_rows - 1; /* both ends of the valid range */
    for (int r = 0; r < B; r++)
        memcpy(want + (size_t)r * row_len, src + (size_t)idx[r] * row_len, row_len * sizeof(float));
    dnic_status s = dnic_gather_rows_ref(ref, src, idx, B, row_len, n_rows);
    CHECK(s == DNIC_OK && memcmp(ref, want, n * sizeof(float)) == 0,
          "gather_rows_ref %dx%zu: status %d", B, row_len, (int)s);
    for (int t = 0; t < 2; t++) {
        dnic_set_num_threads(thread_counts[t]);
        float *dst = falloc(n);
        s = dnic_gather_rows(dst, src, idx, B, row_len, n_rows);
        CHECK(s == DNIC_OK && memcmp(dst, want, n * sizeof(float)) == 0,
              "gather_rows %dx%zu threads=%d: status %d", B, row_len, thread_counts[t], (int)s);
        free(dst);
    }
    dnic_set_num_threads(1);
    s = dnic_gather_labels(ldst, lsrc, idx, B, n_rows);
    int ok = s == DNIC_OK;
    for (int r = 0; r < B && ok; r++) ok = ldst[r] == lsrc[idx[r]];
    CHECK(ok, "gather_labels B=%d: status %d", B, (int)s);
    /* an index outside [0, n_rows) is refused, by both twins */
    idx[1] = (int32_t)n_rows;
    CHECK(dnic_gather_rows(ref, src, idx, B, row_len, n_rows) != DNIC_OK,
          "gather_rows index = n_rows refused");
    CHECK(dnic_gather_rows_ref(ref, src, idx, B, row_len, n_rows) != DNIC_OK,
          "gather_rows_ref index = n_rows refused");
    CHECK(dnic_gather_labels(ldst, lsrc, idx, B, n_rows) != DNIC_OK,
          "gather_labels index = n_rows refused");
    idx[1] = -1;
    CHECK(dnic_gather_rows(ref, src, idx, B, row_len, n_rows) != DNIC_OK,
          "gather_rows index -1 refused");
    CHECK(dnic_gather_rows(NULL, src, idx, B, row_len, n_rows) == DNIC_ERR_NULL,
          "gather_rows NULL dst is DNIC_ERR_NULL");
    CHECK(dnic_gather_rows(ref, src, idx, 0, row_len, n_rows) != DNIC_OK,
          "gather_rows B = 0 refused");
    free(src); free(want); free(ref); free(idx); free(lsrc); free(ldst);
}

/* --------------------------------------------------------------------- rng */

/* splitmix64 written out from its published definition. */
static uint64_t splitmix64_ref(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void test_rng(void) {
    uint64_t a = 42, b = 42, c = 43, r = 42;
    int same = 1, differs = 0, matches = 1;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = dnic_rng_next(&a), y = dnic_rng_next(&b), z = dnic_rng_next(&c);
        same &= x == y;
        differs |= x != z;
        matches &= x == splitmix64_ref(&r);
    }
    CHECK(same, "rng: same seed gives the same stream");
    CHECK(differs, "rng: a different seed gives a different stream");
    CHECK(matches, "rng_next is splitmix64");
    uint64_t s0 = 0;
    CHECK(dnic_rng_next(&s0) == 0xE220A8397B1DCDAFULL, "splitmix64(0) known first value");

    /* uniform in [0, 1), mean 1/2, variance 1/12; normal mean 0 variance 1 */
    enum { N = 200000 };
    uint64_t su = 7, sn = 7;
    double sum = 0, sum2 = 0, nsum = 0, nsum2 = 0;
    int in_range = 1, finite = 1;
    for (int i = 0; i < N; i++) {
        double u = dnic_rng_uniform(&su), g = dnic_rng_normal(&sn);
        in_range &= u >= 0.0 && u < 1.0;
        finite &= isfinite(g) != 0;
        sum += u;
        sum2 += u * u;
        nsum += g;
        nsum2 += g * g;
    }
    double mu = sum / N, vu = sum2 / N - mu * mu, mn = nsum / N, vn = nsum2 / N - mn * mn;
    CHECK(in_range, "rng_uniform in [0, 1)");
    CHECK(fabs(mu - 0.5) < 0.005 && fabs(vu - 1.0 / 12) < 0.002,
          "rng_uniform mean %g var %g, want 0.5 and 0.0833", mu, vu);
    CHECK(finite, "rng_normal finite");
    CHECK(fabs(mn) < 0.01 && fabs(vn - 1.0) < 0.02, "rng_normal mean %g var %g, want 0 and 1", mn,
          vn);
}

static void test_shuffle(void) {
    enum { N = 1000 };
    int32_t x[N], y[N];
    int count[N];
    for (int i = 0; i < N; i++) x[i] = y[i] = i;
    uint64_t s1 = 99, s2 = 99;
    CHECK(dnic_shuffle(x, N, &s1) == DNIC_OK, "shuffle status");
    dnic_shuffle(y, N, &s2);
    memset(count, 0, sizeof count);
    int perm = 1, moved = 0;
    for (int i = 0; i < N; i++) {
        if (x[i] < 0 || x[i] >= N) perm = 0;
        else count[x[i]]++;
        moved += x[i] != i;
    }
    for (int i = 0; i < N; i++) perm &= count[i] == 1;
    CHECK(perm, "shuffle yields a permutation");
    CHECK(moved > N / 2, "shuffle moved only %d of %d", moved, N);
    CHECK(memcmp(x, y, sizeof x) == 0, "shuffle is seed-deterministic");
    for (int i = 0; i < N; i++) y[i] = i;
    uint64_t s3 = 100;
    dnic_shuffle(y, N, &s3);
    CHECK(memcmp(x, y, sizeof x) != 0, "shuffle with another seed differs");
    CHECK(dnic_shuffle(NULL, 5, &s3) == DNIC_ERR_NULL, "shuffle NULL idx is DNIC_ERR_NULL");
    CHECK(dnic_shuffle(NULL, 0, &s3) == DNIC_OK, "shuffle of nothing is fine");

    /* Uniformity: where element 0 lands among 5 slots over 50000 shuffles.
     * Each slot expects 10000 (sd ~ 90); an off-by-one Fisher-Yates (e.g.
     * Sattolo's, which never leaves an element in place) fails this. */
    int land[5] = {0, 0, 0, 0, 0};
    uint64_t s4 = 5;
    for (int k = 0; k < 50000; k++) {
        int32_t z[5] = {0, 1, 2, 3, 4};
        dnic_shuffle(z, 5, &s4);
        for (int i = 0; i < 5; i++)
            if (z[i] == 0) land[i]++;
    }
    int uniform = 1;
    for (int i = 0; i < 5; i++) uniform &= abs(land[i] - 10000) < 500;
    CHECK(uniform, "shuffle uniform: element 0 landed %d %d %d %d %d times", land[0], land[1],
          land[2], land[3], land[4]);
}

static void test_init(void) {
    enum { FI = 400, FO = 300, N = FI * FO };
    float *W = falloc(N), *W2 = falloc(N);
    static const char *names[4] = {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal"};
    const double var_want[4] = {2.0 / (FI + FO), 2.0 / (FI + FO), 2.0 / FI, 2.0 / FI};
    for (int kind = 0; kind < 4; kind++) {
        uint64_t s = 1234, s2 = 1234;
        fill_const(W, N, 7.0f);
        dnic_status st = dnic_init_weights(W, FI, FO, (dnic_init)kind, &s);
        CHECK(st == DNIC_OK, "init %s status %d", names[kind], (int)st);
        double sum = 0, sum2 = 0, amax = 0;
        for (int i = 0; i < N; i++) {
            sum += W[i];
            sum2 += (double)W[i] * W[i];
            amax = fmax(amax, fabs(W[i]));
        }
        double mean = sum / N, var = sum2 / N - mean * mean, sd = sqrt(var_want[kind]);
        /* the mean's standard error is sd/sqrt(N) ~ 0.003 sd: allow 5 of them */
        CHECK(fabs(mean) < 0.015 * sd, "init %s mean %g (sd %g)", names[kind], mean, sd);
        CHECK(fabs(var / var_want[kind] - 1) < 0.03, "init %s variance %g, want %g", names[kind],
              var, var_want[kind]);
        if (kind == DNIC_INIT_GLOROT_UNIFORM || kind == DNIC_INIT_HE_UNIFORM) {
            double a = sqrt(6.0 / (kind == DNIC_INIT_HE_UNIFORM ? FI : FI + FO));
            CHECK(amax <= a * (1 + 1e-6) && amax > 0.99 * a, "init %s max |w| %g, bound %g",
                  names[kind], amax, a);
        } else {
            /* a normal reaches past 3 sd now and then (~0.27% of draws) */
            CHECK(amax > 3.5 * sd, "init %s max |w| %g looks truncated (sd %g)", names[kind],
                  amax, sd);
        }
        dnic_init_weights(W2, FI, FO, (dnic_init)kind, &s2);
        CHECK(memcmp(W, W2, N * sizeof(float)) == 0, "init %s seed-deterministic", names[kind]);
    }
    uint64_t s = 1;
    fill_const(W, N, 7.0f);
    CHECK(dnic_init_weights(W, FI, FO, DNIC_INIT_ZERO, &s) == DNIC_OK, "init zero status");
    int zero = 1;
    for (int i = 0; i < N; i++) zero &= W[i] == 0.0f;
    CHECK(zero, "init zero is all zeros");
    CHECK(dnic_init_weights(NULL, FI, FO, DNIC_INIT_HE_NORMAL, &s) == DNIC_ERR_NULL,
          "init NULL W is DNIC_ERR_NULL");
    CHECK(dnic_init_weights(W, 0, FO, DNIC_INIT_HE_NORMAL, &s) == DNIC_ERR_SIZE,
          "init fan_in 0 is DNIC_ERR_SIZE");
    CHECK(dnic_init_weights(W, FI, FO, (dnic_init)99, &s) == DNIC_ERR_ARG,
          "init unknown kind is DNIC_ERR_ARG");
    free(W); free(W2);
}

int main(void) {
    /* every test starts at one thread (as they did in test_kernels, after
     * its thread test) */
    dnic_set_num_threads(1);
    gather_vs_ref(37, 53, 101);
    gather_vs_ref(256, 784, 1000);
    test_rng();
    test_shuffle();
    test_init();
    return harness_finish("data");
}
