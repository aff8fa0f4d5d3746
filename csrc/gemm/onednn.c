/* onednn.c — oneDNN's sgemm, loaded at run time.
 *
 * Why: the environment may pin OpenBLAS to its AVX2 kernels
 * (OPENBLAS_CORETYPE=Haswell), half of an AVX-512 CPU's peak; oneDNN picks
 * its JIT kernels from the instruction sets the CPU reports, whatever that
 * variable says (measured here: 254-273 GFLOP/s on one core against
 * OpenBLAS-Haswell's 118-135 on the training shapes). dlopen keeps
 * libdnic usable where libdnnl.so.2 is absent.
 *
 * Threads: Debian's oneDNN is built on OpenMP (libgomp). In a gcc build of
 * libdnic that is dnic's own runtime. In the Swift build dnic runs LLVM's
 * libomp, which exports the GOMP_* and omp_* entry points too; the loader
 * binds oneDNN's calls to the copy already in the process, so one OpenMP
 * runtime runs every team (the Swift tests count the threads to check).
 * dnnl_sgemm takes its thread count from the calling thread's
 * omp_get_max_threads(); for a build of libdnic without OpenMP it is set
 * through the omp_set_num_threads oneDNN itself binds.
 * Not here: choosing a backend (gemm.c).
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#  undef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 200809L
#endif
#include "gemm/backends.h"

#include <stdio.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#  define DNIC_HAVE_DLOPEN 1
#  include <dlfcn.h>
#endif

/* The few declarations of dnnl.h used here (oneDNN 2.x ABI). */
typedef int dnnl_status_t_; /* dnnl_success == 0 */
typedef dnnl_status_t_ (*dnnl_sgemm_fn)(char, char, int64_t, int64_t, int64_t, float, const float *, int64_t,
                                        const float *, int64_t, float, float *, int64_t);
typedef struct {
    int major, minor, patch;
    const char *hash;
    unsigned cpu_runtime, gpu_runtime;
} dnnl_version_t_;
typedef const dnnl_version_t_ *(*dnnl_version_fn)(void);
typedef int (*dnnl_isa_fn)(void);
typedef void (*omp_set_fn)(int);

static struct {
    int tried, loaded;
    dnnl_sgemm_fn sgemm;
    omp_set_fn set_threads;
    char library[256], version[32], isa[64], error[256];
} dnn;

/* oneDNN's dnnl_cpu_isa_t values, by name. */
static const char *isa_name(int isa) {
    switch (isa) {
    case 0x1: return "sse41";
    case 0x3: return "avx";
    case 0x7: return "avx2";
    case 0x407: return "avx2_vnni";
    case 0x27: return "avx512_core";
    case 0x67: return "avx512_core_vnni";
    case 0xe7: return "avx512_core_bf16";
    case 0x3e7: return "avx512_core_amx";
    default: return "unknown";
    }
}

int dnic__onednn_load(void) {
    if (dnn.tried) return dnn.loaded;
    dnn.tried = 1;
#ifdef DNIC_HAVE_DLOPEN
    static const char *const names[] = {"libdnnl.so.2", "libdnnl.so", "libdnnl.2.dylib", NULL};
    void *h = NULL;
    for (int i = 0; names[i] && !h; i++) {
        h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h) snprintf(dnn.library, sizeof dnn.library, "%s", names[i]);
    }
    if (!h) {
        const char *why = dlerror();
        snprintf(dnn.error, sizeof dnn.error, "%s", why ? why : "libdnnl.so.2 not found");
        return 0;
    }
    void *p = dlsym(h, "dnnl_sgemm");
    if (!p) {
        snprintf(dnn.error, sizeof dnn.error, "%.200s has no dnnl_sgemm", dnn.library);
        return 0;
    }
    /* POSIX guarantees object <-> function pointer round trips for dlsym. */
    memcpy(&dnn.sgemm, &p, sizeof p);
    if ((p = dlsym(h, "omp_set_num_threads"))) memcpy(&dnn.set_threads, &p, sizeof p);
    dnnl_version_fn version = NULL;
    dnnl_isa_fn effective_isa = NULL;
    if ((p = dlsym(h, "dnnl_version"))) memcpy(&version, &p, sizeof p);
    if ((p = dlsym(h, "dnnl_get_effective_cpu_isa"))) memcpy(&effective_isa, &p, sizeof p);
    if (version) {
        const dnnl_version_t_ *v = version();
        snprintf(dnn.version, sizeof dnn.version, "%d.%d.%d", v->major, v->minor, v->patch);
    }
    snprintf(dnn.isa, sizeof dnn.isa, "%s", effective_isa ? isa_name(effective_isa()) : "unknown");
    dnn.loaded = 1;
    return 1;
#else
    snprintf(dnn.error, sizeof dnn.error, "no dlopen on this platform");
    return 0;
#endif
}

/* 0 on success; non-zero leaves C untouched for the caller's fallback. */
int dnic__onednn_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc) {
    return dnn.sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void dnic__onednn_set_threads(int n) {
#ifndef _OPENMP
    /* without OpenMP in libdnic, oneDNN's runtime is not ours: tell it */
    if (dnn.set_threads) dnn.set_threads(n);
#else
    (void)n; /* omp_set_num_threads in dnic_set_num_threads already set it */
#endif
}

int dnic__onednn_loaded(void) { return dnn.loaded; }
const char *dnic__onednn_library(void) { return dnn.library; }
const char *dnic__onednn_version(void) { return dnn.version; }
const char *dnic__onednn_isa(void) { return dnn.isa; }
const char *dnic__onednn_error(void) { return dnn.error; }
