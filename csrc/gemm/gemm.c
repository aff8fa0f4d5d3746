/* gemm.c — the GEMM backend layer: one dnic_sgemm, computed by oneDNN,
 * OpenBLAS (or another CBLAS) or a portable built-in loop.
 *
 * The choice is made once, at the first GEMM (or dnic_gemm_get_info):
 * $DNIC_GEMM if it names a backend that loads, else oneDNN if it loads,
 * else a CBLAS, else the built-in sgemm; DNIC_BLAS=builtin without
 * DNIC_GEMM keeps its old meaning (the built-in sgemm). Why oneDNN first:
 * it runs the CPU's widest kernels (AVX-512 here) whatever
 * OPENBLAS_CORETYPE says, and measured 2x OpenBLAS-Haswell's sgemm on the
 * training shapes. dnic_set_gemm_backend switches later, e.g. for benchmarks
 * and for tests that run each backend.
 * Not here: loading each library (onednn.c, blas.c).
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#  undef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 200809L
#endif
#include "gemm/backends.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#  include <pthread.h>
#  define DNIC_HAVE_PTHREAD 1
#endif

static struct {
    dnic_gemm_backend active;
    char reason[256];
    int wanted_threads; /* 0 = never set */
} gemm;

static const char *backend_name(dnic_gemm_backend b) {
    switch (b) {
    case DNIC_GEMM_ONEDNN: return "onednn";
    case DNIC_GEMM_OPENBLAS: return "openblas";
    case DNIC_GEMM_BUILTIN: return "builtin";
    }
    return "?";
}

static int load(dnic_gemm_backend b) {
    switch (b) {
    case DNIC_GEMM_ONEDNN:
        if (!dnic__onednn_load()) return 0;
        dnic__onednn_set_threads(gemm.wanted_threads > 0 ? gemm.wanted_threads : dnic__omp_max_threads());
        return 1;
    case DNIC_GEMM_OPENBLAS: return dnic__openblas_load();
    case DNIC_GEMM_BUILTIN: return 1;
    }
    return 0;
}

static void choose(void) {
    const char *env = getenv("DNIC_GEMM");
    const char *blas_env = getenv("DNIC_BLAS");
    if (env && *env) {
        for (int b = DNIC_GEMM_ONEDNN; b <= DNIC_GEMM_BUILTIN; b++) {
            if (strcmp(env, backend_name((dnic_gemm_backend)b)) != 0) continue;
            if (load((dnic_gemm_backend)b)) {
                gemm.active = (dnic_gemm_backend)b;
                snprintf(gemm.reason, sizeof gemm.reason, "DNIC_GEMM=%s", env);
                return;
            }
            snprintf(gemm.reason, sizeof gemm.reason, "DNIC_GEMM=%.40s asked for a backend that cannot load (%.150s); ",
                     env, b == DNIC_GEMM_ONEDNN ? dnic__onednn_error() : "no CBLAS found");
            break;
        }
        if (!gemm.reason[0])
            snprintf(gemm.reason, sizeof gemm.reason, "DNIC_GEMM=%.40s is not onednn, openblas or builtin; ", env);
    } else if (blas_env && strcmp(blas_env, "builtin") == 0) {
        gemm.active = DNIC_GEMM_BUILTIN;
        snprintf(gemm.reason, sizeof gemm.reason, "DNIC_BLAS=builtin");
        return;
    }
    size_t used = strlen(gemm.reason);
    char *rest = gemm.reason + used;
    size_t room = sizeof gemm.reason - used;
    if (load(DNIC_GEMM_ONEDNN)) {
        gemm.active = DNIC_GEMM_ONEDNN;
        snprintf(rest, room, "oneDNN loaded (preferred: it picks kernels by the CPU's instruction sets)");
    } else if (load(DNIC_GEMM_OPENBLAS)) {
        gemm.active = DNIC_GEMM_OPENBLAS;
        snprintf(rest, room, "no oneDNN (%.120s); OpenBLAS loaded", dnic__onednn_error());
    } else {
        gemm.active = DNIC_GEMM_BUILTIN;
        snprintf(rest, room, "neither oneDNN nor a CBLAS loads; the built-in sgemm runs");
    }
}

#ifdef DNIC_HAVE_PTHREAD
static pthread_once_t gemm_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t gemm_lock = PTHREAD_MUTEX_INITIALIZER;
#endif

static void ensure_gemm(void) {
#ifdef DNIC_HAVE_PTHREAD
    pthread_once(&gemm_once, choose);
#else
    static int done;
    if (!done) { choose(); done = 1; }
#endif
}

/* threads.c pushes the count down through here (never the other way) */
void dnic__gemm_set_threads(int n) {
    gemm.wanted_threads = n;
    dnic__blas_set_threads(n);
    /* a oneDNN not loaded yet gets the count when it loads (load()) */
    if (dnic__onednn_loaded()) dnic__onednn_set_threads(n);
}

int dnic_gemm_available(dnic_gemm_backend backend) {
    if (backend < DNIC_GEMM_ONEDNN || backend > DNIC_GEMM_BUILTIN) return 0;
    ensure_gemm();
#ifdef DNIC_HAVE_PTHREAD
    pthread_mutex_lock(&gemm_lock);
#endif
    int ok = load(backend);
#ifdef DNIC_HAVE_PTHREAD
    pthread_mutex_unlock(&gemm_lock);
#endif
    return ok;
}

dnic_status dnic_set_gemm_backend(dnic_gemm_backend backend) {
    if (backend < DNIC_GEMM_ONEDNN || backend > DNIC_GEMM_BUILTIN)
        return dnic__fail(DNIC_ERR_ARG, "dnic_set_gemm_backend: backend = %d is not a dnic_gemm_backend "
                          "(0..2)", (int)backend);
    if (!dnic_gemm_available(backend))
        return dnic__fail(DNIC_ERR_UNAVAILABLE, "dnic_set_gemm_backend: backend %d's library cannot be loaded here "
                          "(the current backend stays)", (int)backend);
    gemm.active = backend;
    snprintf(gemm.reason, sizeof gemm.reason, "dnic_set_gemm_backend(%s)", backend_name(backend));
    return DNIC_OK;
}

dnic_status dnic_gemm_get_info(dnic_gemm_info_t *info) {
    if (!info)
        return dnic__fail(DNIC_ERR_NULL, "dnic_gemm_get_info: NULL pointer argument (info)");
    ensure_gemm();
    memset(info, 0, sizeof *info);
    info->backend = gemm.active;
    snprintf(info->name, sizeof info->name, "%s", backend_name(gemm.active));
    snprintf(info->reason, sizeof info->reason, "%s", gemm.reason);
    switch (gemm.active) {
    case DNIC_GEMM_ONEDNN:
        snprintf(info->library, sizeof info->library, "%s", dnic__onednn_library());
        snprintf(info->version, sizeof info->version, "%s", dnic__onednn_version());
        snprintf(info->isa, sizeof info->isa, "%s", dnic__onednn_isa());
        info->threads = gemm.wanted_threads > 0 ? gemm.wanted_threads : dnic__omp_max_threads();
        break;
    case DNIC_GEMM_OPENBLAS: {
        dnic_blas_info_t b;
        dnic_blas_get_info(&b);
        snprintf(info->library, sizeof info->library, "%s", b.library);
        snprintf(info->isa, sizeof info->isa, "%s", b.corename);
        info->threads = b.threads;
        break;
    }
    case DNIC_GEMM_BUILTIN:
        snprintf(info->isa, sizeof info->isa, "portable C");
        info->threads = dnic__omp_max_threads();
        break;
    }
    return DNIC_OK;
}

/* ----------------------------------------------------------------- sgemm */

static inline float at(const float *X, int ld, int trans, int r, int c) {
    return trans ? X[(size_t)c * ld + r] : X[(size_t)r * ld + c];
}

/* Portable fallback: rows of C in parallel, k-outer so the inner loop
 * streams a row of B and vectorises when B is not transposed. */
static void sgemm_builtin(int ta, int tb, int M, int N, int K, float alpha, const float *A,
                          int lda, const float *B, int ldb, float beta, float *C, int ldc) {
#pragma omp parallel for if ((double)M * N * K > 1e5)
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        for (int j = 0; j < N; j++) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
        for (int k = 0; k < K; k++) {
            float a = alpha * at(A, lda, ta, i, k);
            if (a == 0.0f) continue;
            if (!tb) {
                const float *b = B + (size_t)k * ldb;
                for (int j = 0; j < N; j++) c[j] += a * b[j];
            } else {
                for (int j = 0; j < N; j++) c[j] += a * B[(size_t)j * ldb + k];
            }
        }
    }
}

void dnic_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    ensure_gemm();
    if (K <= 0) { /* C = beta C: BLAS implementations disagree here, so do it ourselves */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
    switch (gemm.active) {
    case DNIC_GEMM_ONEDNN:
        /* a refusal (it checks its arguments) falls through to a backend that computes it */
        if (dnic__onednn_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) == 0) return;
        break;
    case DNIC_GEMM_OPENBLAS:
        dnic__openblas_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    case DNIC_GEMM_BUILTIN: break;
    }
    sgemm_builtin(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void dnic_sgemm_ref(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                    int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)at(A, lda, trans_a, i, k) * at(B, ldb, trans_b, k, j);
            double c0 = beta == 0.0f ? 0.0 : (double)beta * C[(size_t)i * ldc + j];
            C[(size_t)i * ldc + j] = (float)(alpha * s + c0);
        }
}
