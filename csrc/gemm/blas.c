/* blas.c — OpenBLAS (or another CBLAS), found at run time on its best
 * kernel: one of the GEMM backends of gemm.c.
 *
 * Why dlopen: Debian's DYNAMIC_ARCH OpenBLAS 0.3.21 picks its kernel when it
 * is loaded and silently uses generic SSE3 ("Prescott") kernels on CPUs it
 * does not know, 4-7x slower. OPENBLAS_CORETYPE fixes that but must be set
 * before the library initialises, which for a -lopenblas link is before any
 * code of ours runs. So libdnic does not link OpenBLAS: at its first use it
 * sets OPENBLAS_CORETYPE from cpuid (only when the user has not set it),
 * dlopen()s OpenBLAS, and restores the environment.
 *
 * DNIC_BLAS in the environment overrides the search: "builtin" loads no
 * BLAS, anything else is a library path or soname to load.
 * Besides sgemm, the same library lends the double-precision dsyrk and
 * LAPACK dposv (OpenBLAS bundles LAPACK) to ridge.c's linear probes:
 * linking liblapacke instead would load a second BLAS through the
 * alternatives (the pthread OpenBLAS when both are installed).
 * Not here: choosing between backends and the built-in sgemm (gemm.c).
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#  undef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 200809L
#endif
#include "gemm/backends.h"

#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#  define DNIC_HAVE_DLOPEN 1
#  include <dlfcn.h>
#  include <pthread.h>
#endif

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#  define DNIC_HAVE_CPUID 1
#  include <cpuid.h>
#endif

/* CBLAS enum values (cblas.h): fixed by the standard interface. */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

typedef void (*cblas_sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                               const float *, int, float, float *, int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*get_string_fn)(void);

static struct {
    cblas_sgemm_fn sgemm;
    set_threads_fn set_threads;
    get_threads_fn get_threads;
    get_string_fn corename;
    get_string_fn config;
    dnic__dsyrk_fn dsyrk;
    dnic__dposv_fn dposv;
    dnic_blas_info_t info;
    int wanted_threads; /* 0 = never set: keep the library's default */
} blas;

/* ------------------------------------------------------------- cpuid pick */

/* The OpenBLAS core type this CPU should use, or NULL to let OpenBLAS
 * decide. Checks that the OS saves the AVX / AVX-512 register state. */
static const char *coretype_from_cpuid(void) {
#ifdef DNIC_HAVE_CPUID
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return NULL;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return NULL;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    (void)xhi;
    int os_avx = (xlo & 0x6) == 0x6, os_avx512 = (xlo & 0xe6) == 0xe6;
    if (!os_avx) return NULL;
    unsigned b7 = 0, a71 = 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) b7 = b;
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) a71 = a;
    int avx2 = (b7 >> 5) & 1;
    int f = (b7 >> 16) & 1, dq = (b7 >> 17) & 1, bw = (b7 >> 30) & 1, vl = (b7 >> 31) & 1;
    int bf16 = (a71 >> 5) & 1;
    if (os_avx512 && f && dq && bw && vl) return bf16 ? "Cooperlake" : "SkylakeX";
    if (avx2 && fma) return "Haswell";
#endif
    return NULL;
}

static void copy_str(char *dst, size_t cap, const char *src) {
    if (!src) src = "";
    strncpy(dst, src, cap - 1);
    dst[cap - 1] = '\0';
}

/* --------------------------------------------------------------- loading */

#ifdef DNIC_HAVE_DLOPEN
static int bind_library(void *h, const char *name, dnic_blas_source source) {
    void *fn = dlsym(h, "cblas_sgemm");
    if (!fn) return 0;
    /* POSIX guarantees object <-> function pointer round trips for dlsym. */
    memcpy(&blas.sgemm, &fn, sizeof fn);
    void *p;
    if ((p = dlsym(h, "openblas_set_num_threads"))) memcpy(&blas.set_threads, &p, sizeof p);
    if ((p = dlsym(h, "openblas_get_num_threads"))) memcpy(&blas.get_threads, &p, sizeof p);
    if ((p = dlsym(h, "openblas_get_corename"))) memcpy(&blas.corename, &p, sizeof p);
    if ((p = dlsym(h, "openblas_get_config"))) memcpy(&blas.config, &p, sizeof p);
    if ((p = dlsym(h, "dsyrk_"))) memcpy(&blas.dsyrk, &p, sizeof p);
    if ((p = dlsym(h, "dposv_"))) memcpy(&blas.dposv, &p, sizeof p);
    if (source == DNIC_BLAS_OPENBLAS && !blas.corename) source = DNIC_BLAS_GENERIC;
    blas.info.source = source;
    copy_str(blas.info.library, sizeof blas.info.library, name);
    return 1;
}

static void load_blas(void) {
    const char *env = getenv("OPENBLAS_CORETYPE");
    copy_str(blas.info.coretype_env, sizeof blas.info.coretype_env, env);
    const char *force = getenv("DNIC_BLAS");
    if (force && strcmp(force, "builtin") == 0) return;

    /* Already in the process (linked -lopenblas, numpy, ...): use it as is. */
    void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD);
    if (h && bind_library(h, "libopenblas.so.0", DNIC_BLAS_PRELOADED)) return;
    void *fn = dlsym(RTLD_DEFAULT, "openblas_get_corename");
    if (fn && bind_library(RTLD_DEFAULT, "(linked into the program)", DNIC_BLAS_PRELOADED)) return;

    const char *pick = (env && *env) ? NULL : coretype_from_cpuid();
    if (pick) {
        setenv("OPENBLAS_CORETYPE", pick, 1);
        copy_str(blas.info.coretype_set, sizeof blas.info.coretype_set, pick);
    }
    /* Debian's OpenMP build first: it shares dnic's OpenMP runtime, while
     * the pthread build (which wins the alternatives when both are
     * installed) keeps its own thread pool. */
    static const char *const openblas_names[] = {
#if defined(__x86_64__)
        "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
#elif defined(__aarch64__)
        "/usr/lib/aarch64-linux-gnu/openblas-openmp/libopenblas.so.0",
#endif
        "libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", NULL};
    static const char *const generic_names[] = {"libcblas.so.3", "libblas.so.3", NULL};
    int done = 0;
    if (force && *force) {
        h = dlopen(force, RTLD_NOW | RTLD_LOCAL);
        done = h && bind_library(h, force, DNIC_BLAS_OPENBLAS);
    }
    for (int i = 0; !done && openblas_names[i]; i++) {
        h = dlopen(openblas_names[i], RTLD_NOW | RTLD_LOCAL);
        done = h && bind_library(h, openblas_names[i], DNIC_BLAS_OPENBLAS);
    }
    for (int i = 0; !done && generic_names[i]; i++) {
        h = dlopen(generic_names[i], RTLD_NOW | RTLD_LOCAL);
        done = h && bind_library(h, generic_names[i], DNIC_BLAS_GENERIC);
    }
    /* OpenBLAS has read the variable by now; leave the environment as found. */
    if (pick) unsetenv("OPENBLAS_CORETYPE");
}

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
#endif

static void init_blas(void) {
    blas.info.source = DNIC_BLAS_BUILTIN;
    blas.info.threads = 1;
#ifdef DNIC_HAVE_DLOPEN
    load_blas();
#endif
    if (blas.sgemm) {
        /* one thread count for both from the start: OpenBLAS's own default
         * can differ from the OpenMP team size (it read 1 here) */
        if (blas.set_threads)
            blas.set_threads(blas.wanted_threads > 0 ? blas.wanted_threads : dnic__omp_max_threads());
        if (blas.corename) copy_str(blas.info.corename, sizeof blas.info.corename, blas.corename());
        if (blas.config) copy_str(blas.info.config, sizeof blas.info.config, blas.config());
    } else {
        blas.info.source = DNIC_BLAS_BUILTIN;
        copy_str(blas.info.corename, sizeof blas.info.corename, "builtin");
    }
}

static void ensure_blas(void) {
#ifdef DNIC_HAVE_DLOPEN
    pthread_once(&blas_once, init_blas);
#else
    static int done;
    if (!done) { init_blas(); done = 1; }
#endif
}

void dnic__blas_set_threads(int n) {
    blas.wanted_threads = n;
    ensure_blas();
    if (blas.set_threads) blas.set_threads(n);
}

int dnic__openblas_load(void) {
    ensure_blas();
    return blas.sgemm != NULL;
}

void dnic__openblas_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc) {
    blas.sgemm(CBLAS_ROW_MAJOR, ta ? CBLAS_TRANS : CBLAS_NO_TRANS, tb ? CBLAS_TRANS : CBLAS_NO_TRANS, M, N, K,
               alpha, A, lda, B, ldb, beta, C, ldc);
}

int dnic__lapack_routines(dnic__dsyrk_fn *dsyrk, dnic__dposv_fn *dposv) {
    ensure_blas();
    *dsyrk = blas.dsyrk;
    *dposv = blas.dposv;
    return blas.dsyrk && blas.dposv;
}

int dnic__openblas_threads(void) { return blas.get_threads ? blas.get_threads() : 1; }

dnic_status dnic_blas_get_info(dnic_blas_info_t *info) {
    if (!info)
        return dnic__fail(DNIC_ERR_NULL, "dnic_blas_get_info: NULL pointer argument (info)");
    ensure_blas();
    *info = blas.info;
    info->threads = blas.get_threads ? blas.get_threads() : 1;
    return DNIC_OK;
}
