/* test_gemm.c — every GEMM backend against the plain reference: all four
 * transposes, odd shapes, padded strides, alpha/beta, at 1 and 2 threads;
 * each backend bit-identical with itself run twice; switching, info and
 * bad calls. A backend whose library is absent is skipped with a message.
 * With DNIC_GEMM set (make check runs the suite once per backend) only that
 * backend is loaded and tested, so a pass never maps another library.
 */
#include "dnic.h"
#include "harness.h"

#include <string.h>

static const char *name(dnic_gemm_backend b) {
    return b == DNIC_GEMM_ONEDNN ? "onednn" : b == DNIC_GEMM_OPENBLAS ? "openblas" : "builtin";
}

/* op(A) (M,K), op(B) (K,N), C (M,N), each with `pad` extra columns of stride */
static void check_shape(dnic_gemm_backend b, int threads, int M, int N, int K, int pad) {
    uint64_t rng = (uint64_t)(M * 7919 + N * 131 + K + pad);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
            size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
            float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
            float *C = malloc(nc * sizeof *C), *R = malloc(nc * sizeof *R), *C2 = malloc(nc * sizeof *C2);
            for (size_t i = 0; i < na; i++) A[i] = dnic_rng_normal(&rng);
            for (size_t i = 0; i < nb; i++) B[i] = dnic_rng_normal(&rng);
            for (size_t i = 0; i < nc; i++) C[i] = R[i] = C2[i] = dnic_rng_normal(&rng);
            for (int beta_zero = 0; beta_zero < 2; beta_zero++) {
                float beta = beta_zero ? 0.0f : 0.3f;
                if (beta_zero) /* beta 0 must ignore C, even NaN there */
                    for (size_t i = 0; i < nc; i++) C[i] = C2[i] = NAN;
                dnic_sgemm(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, beta, C, ldc);
                dnic_sgemm_ref(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, beta, R, ldc);
                dnic_sgemm(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, beta, C2, ldc);
                int finite = 1, pad_kept = 1;
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < ldc; j++) {
                        size_t at = (size_t)i * ldc + j;
                        if (j < N) finite &= isfinite(C[at]) != 0;
                        else pad_kept &= beta_zero ? isnan(C[at]) != 0 : C[at] == R[at];
                    }
                char what[128];
                snprintf(what, sizeof what, "%s %dx%dx%d pad %d ta=%d tb=%d beta=%g threads=%d", name(b), M, N, K,
                         pad, ta, tb, beta, threads);
                CHECK(finite, "%s: non-finite result", what);
                CHECK(pad_kept, "%s: wrote outside the N columns of C", what);
                /* compare the N used columns only */
                double worst = 0, md = 0;
                for (int i = 0; i < M; i++) {
                    double w;
                    double d = harness_maxdiff_f(C + (size_t)i * ldc, R + (size_t)i * ldc, (size_t)N, 1e-4, &w);
                    if (w > worst) worst = w;
                    if (d > md) md = d;
                }
                /* K terms of unit variance: float rounding grows like sqrt(K) */
                CHECK(worst <= 1.0 || md <= 2e-6 * K, "%s: maxdiff %.3g vs reference", what, md);
                CHECK(memcmp(C, C2, nc * sizeof *C) == 0, "%s: two runs differ (not deterministic)", what);
                for (size_t i = 0; i < nc; i++) R[i] = C[i];
            }
            free(A); free(B); free(C); free(R); free(C2);
        }
}

int main(void) {
    dnic_gemm_info_t info;
    CHECK(dnic_gemm_get_info(&info) == DNIC_OK, "info");
    printf("default backend: %s (%s), isa %s, %s\n", info.name, info.library, info.isa, info.reason);
    dnic_gemm_info_t chosen = info;
    int ran = 0;
    const char *only = getenv("DNIC_GEMM");
    for (int b = DNIC_GEMM_ONEDNN; b <= DNIC_GEMM_BUILTIN; b++) {
        if (only && *only && strcmp(only, name((dnic_gemm_backend)b)) != 0) continue;
        if (!dnic_gemm_available((dnic_gemm_backend)b)) {
            printf("gemm %s: skipped, its library does not load here\n", name((dnic_gemm_backend)b));
            CHECK(dnic_set_gemm_backend((dnic_gemm_backend)b) == DNIC_ERR_UNAVAILABLE, "unavailable backend accepted");
            continue;
        }
        CHECK(dnic_set_gemm_backend((dnic_gemm_backend)b) == DNIC_OK, "switch to %s", name((dnic_gemm_backend)b));
        CHECK(dnic_gemm_get_info(&info) == DNIC_OK && (int)info.backend == b && strcmp(info.name, name((dnic_gemm_backend)b)) == 0,
              "info after switching to %s says %s", name((dnic_gemm_backend)b), info.name);
        ran++;
        for (int threads = 1; threads <= 2; threads++) {
            dnic_set_num_threads(threads);
            static const int shapes[][3] = {{1, 1, 1}, {37, 29, 53}, {5, 100, 3}, {64, 10, 256}, {256, 256, 784},
                                            {17, 1, 33}, {1, 64, 9}};
            for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
                for (int pad = 0; pad <= 3; pad += 3)
                    check_shape((dnic_gemm_backend)b, threads, shapes[s][0], shapes[s][1], shapes[s][2], pad);
        }
    }
    CHECK(ran >= 1, "no backend ran");
    if (only && *only)
        CHECK(strcmp(chosen.name, only) == 0 || ran == 0, "DNIC_GEMM=%s ignored: %s ran", only, chosen.name);
    CHECK(dnic_gemm_available(DNIC_GEMM_BUILTIN), "the built-in sgemm is always available");
    CHECK(dnic_set_gemm_backend((dnic_gemm_backend)7) == DNIC_ERR_ARG, "unknown backend accepted");
    CHECK(!dnic_gemm_available((dnic_gemm_backend)-1), "unknown backend available");
    CHECK(dnic_gemm_get_info(NULL) == DNIC_ERR_NULL, "NULL info");
    return harness_finish("gemm");
}
