/* isa.c — which instruction-set variant dnic's own element-wise kernels
 * run: detected once (cpuid, and xgetbv for the OS's saving of the vector
 * registers), capped by $DNIC_ISA and by dnic_set_isa_limit.
 *
 * Why explicit variants and not target_clones: a clone is chosen by the
 * loader from the CPU alone and cannot be forced to a lower level at run
 * time, which the tests need (every level is checked against the plain
 * loops on one machine) and which a user chasing a last-bit difference
 * may want. The variants themselves are made by DNIC_ISA_VARIANTS
 * (kernels_internal.h).
 * Not here: the kernels; the GEMM backends' own dispatch (they choose
 * their kernels themselves); OpenBLAS's core type (blas.c).
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#  undef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 200809L
#endif
#include "kernels/kernels_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#  include <pthread.h>
#  define DNIC_HAVE_PTHREAD 1
#endif

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#  define DNIC_HAVE_CPUID 1
#  include <cpuid.h>
#endif

static struct {
    int cpu;    /* highest level the CPU + OS support */
    int limit;  /* cap in force */
    int active; /* min(cpu, limit): what dnic__isa() returns */
    dnic_status env_status;
    char env[32];
    char reason[128];
} isa;

/* The highest level whose instructions the CPU has AND whose registers the
 * OS saves on a context switch (XCR0: SSE+AVX state for AVX2, plus opmask
 * and both upper ZMM halves for AVX-512). */
static int detect_cpu_level(void) {
#if defined(DNIC_HAVE_CPUID) && defined(DNIC_X86_VARIANTS)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return DNIC_ISA_BASELINE;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return DNIC_ISA_BASELINE;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    (void)xhi;
    int os_avx = (xlo & 0x6) == 0x6, os_avx512 = (xlo & 0xe6) == 0xe6;
    if (!os_avx) return DNIC_ISA_BASELINE;
    unsigned b7 = 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) b7 = b;
    int avx2 = (b7 >> 5) & 1;
    int f = (b7 >> 16) & 1, dq = (b7 >> 17) & 1, bw = (b7 >> 30) & 1, vl = (b7 >> 31) & 1;
    if (!(avx2 && fma)) return DNIC_ISA_BASELINE;
    if (os_avx512 && f && dq && bw && vl) return DNIC_ISA_AVX512;
    return DNIC_ISA_AVX2;
#else
    return DNIC_ISA_BASELINE;
#endif
}

static void apply_limit(int limit) {
    isa.limit = limit;
    isa.active = isa.cpu < limit ? isa.cpu : limit;
}

static void init(void) {
    isa.cpu = detect_cpu_level();
    isa.env_status = DNIC_OK;
    apply_limit(DNIC_ISA_AVX512);
    snprintf(isa.reason, sizeof isa.reason, "none");
    const char *env = getenv("DNIC_ISA");
    if (!env || !*env) return; /* empty counts as unset, as DNIC_GEMM does */
    snprintf(isa.env, sizeof isa.env, "%s", env);
    dnic_isa level;
    if (dnic_isa_from_name(env, &level) == DNIC_OK) {
        apply_limit((int)level);
        snprintf(isa.reason, sizeof isa.reason, "DNIC_ISA=%s", dnic_isa_name(level));
    } else {
        isa.env_status = DNIC_ERR_ARG;
        snprintf(isa.reason, sizeof isa.reason, "none (DNIC_ISA=%.40s is not baseline, avx2 or avx512: ignored)", env);
    }
}

#ifdef DNIC_HAVE_PTHREAD
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
#endif

static void ensure_isa(void) {
#ifdef DNIC_HAVE_PTHREAD
    pthread_once(&isa_once, init);
#else
    static int done;
    if (!done) { init(); done = 1; }
#endif
}

int dnic__isa(void) {
    ensure_isa();
    return isa.active;
}

/* For tests: the level of the variant the dispatch runs now. */
DNIC_INLINE void probe_body(int L, int *out) { *out = L; }
DNIC_ISA_VARIANTS(probe, (int *out), out);

int dnic__isa_probe(void) {
    int level = -1;
    probe_isa[dnic__isa()](&level);
    return level;
}

dnic_isa dnic_get_isa(void) { return (dnic_isa)dnic__isa(); }

const char *dnic_isa_name(dnic_isa level) {
    switch (level) {
    case DNIC_ISA_BASELINE: return "baseline";
    case DNIC_ISA_AVX2: return "avx2";
    case DNIC_ISA_AVX512: return "avx512";
    }
    return "unknown";
}

dnic_status dnic_isa_from_name(const char *name, dnic_isa *out) {
    if (!name || !out)
        return dnic__fail(DNIC_ERR_NULL, "dnic_isa_from_name: NULL pointer argument (name or out)");
    for (int l = DNIC_ISA_BASELINE; l <= DNIC_ISA_AVX512; l++)
        if (strcmp(name, dnic_isa_name((dnic_isa)l)) == 0) {
            *out = (dnic_isa)l;
            return DNIC_OK;
        }
    return dnic__fail(DNIC_ERR_ARG, "dnic_isa_from_name: \"%.40s\" is not baseline, avx2 or avx512", name);
}

dnic_status dnic_set_isa_limit(int level) {
    ensure_isa();
    if (level < DNIC_ISA_BASELINE || level > DNIC_ISA_AVX512)
        return dnic__fail(DNIC_ERR_ARG, "dnic_set_isa_limit: level = %d is not a dnic_isa (0..2)", level);
    apply_limit(level);
    snprintf(isa.reason, sizeof isa.reason, "dnic_set_isa_limit(%s)", dnic_isa_name((dnic_isa)level));
    return DNIC_OK;
}

dnic_status dnic_isa_get_info(dnic_isa_info_t *info) {
    if (!info)
        return dnic__fail(DNIC_ERR_NULL, "dnic_isa_get_info: NULL pointer argument (info)");
    ensure_isa();
    memset(info, 0, sizeof *info);
    info->active = (dnic_isa)isa.active;
    info->cpu = (dnic_isa)isa.cpu;
    info->limit = (dnic_isa)isa.limit;
    info->env_status = isa.env_status;
    snprintf(info->env, sizeof info->env, "%s", isa.env);
    snprintf(info->reason, sizeof info->reason, "%s", isa.reason);
    return DNIC_OK;
}
