/* harness.h — the tiny test harness shared by dnic's C tests.
 *
 * Each test program includes this once, calls CHECK / CHECK_MAXDIFF, and
 * ends with `return harness_finish("suite");`, which prints the plain
 * closing line "suite: N passed, N failed" and returns the exit code.
 * Failures print the file, line and the maximum difference seen.
 */
#ifndef DNIC_TEST_HARNESS_H
#define DNIC_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int harness_passed, harness_failed;
/* printed after file:line in FAIL lines, e.g. " [isa avx2]" (see HARNESS_FOR_EACH_ISA) */
static char harness_tag[48];

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (cond) {                                                          \
            harness_passed++;                                                \
        } else {                                                             \
            harness_failed++;                                                \
            fprintf(stderr, "FAIL %s:%d%s: ", __FILE__, __LINE__, harness_tag); \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

/* Runs the statement after it once per instruction-set level this CPU
 * runs, baseline first, with dnic_set_isa_limit forcing that level and the
 * level named in FAIL lines; afterwards the cap found before is restored.
 *   HARNESS_FOR_EACH_ISA(level) { ... }
 * Needs dnic.h included before this header. */
static int harness_isa_cpu = -1, harness_isa_saved;

static inline int harness_isa_set(int level) {
    if (level > harness_isa_cpu) { /* done: restore */
        dnic_set_isa_limit(harness_isa_saved);
        harness_tag[0] = '\0';
        return -1;
    }
    dnic_set_isa_limit(level);
    snprintf(harness_tag, sizeof harness_tag, " [isa %s]", dnic_isa_name((dnic_isa)level));
    return level;
}

static inline int harness_isa_begin(void) {
    dnic_isa_info_t info;
    dnic_isa_get_info(&info);
    harness_isa_cpu = (int)info.cpu;
    harness_isa_saved = (int)info.limit;
    return harness_isa_set(DNIC_ISA_BASELINE);
}

#define HARNESS_FOR_EACH_ISA(level) \
    for (int level = harness_isa_begin(); level >= 0; level = harness_isa_set(level + 1))

/* max over i of |got - want| / (atol + rtol |want|); <= 1 means close. */
static inline double harness_worst_ratio(const float *got, const double *want, size_t n,
                                  double atol, double rtol, double *maxdiff) {
    double worst = 0, md = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d == d)) d = INFINITY; /* NaN counts as a failure */
        if (d > md) md = d;
        double r = d / (atol + rtol * fabs(want[i]));
        if (r > worst) worst = r;
    }
    if (maxdiff) *maxdiff = md;
    return worst;
}

/* Compares float results with a double-precision reference. */
#define CHECK_CLOSE(what, got, want, n, atol, rtol)                            \
    do {                                                                       \
        double md_;                                                            \
        double r_ = harness_worst_ratio((got), (want), (n), (atol), (rtol), &md_); \
        CHECK(r_ <= 1.0, "%s: maxdiff %.3g (atol %.1g rtol %.1g)", (what), md_, \
              (double)(atol), (double)(rtol));                                 \
    } while (0)

/* Compares two float arrays (fast kernel vs plain-loop reference). */
static inline double harness_maxdiff_f(const float *a, const float *b, size_t n, double rtol,
                                double *worst_ratio) {
    double md = 0, worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d == d)) d = INFINITY;
        if (d > md) md = d;
        double r = d / (1e-6 + rtol * fabs((double)b[i]));
        if (r > worst) worst = r;
    }
    *worst_ratio = worst;
    return md;
}

#define CHECK_SAME(what, fast, ref, n, rtol)                                   \
    do {                                                                       \
        double w_;                                                             \
        double md_ = harness_maxdiff_f((fast), (ref), (n), (rtol), &w_);      \
        CHECK(w_ <= 1.0, "%s: maxdiff %.3g vs reference", (what), md_);       \
    } while (0)

static inline int harness_finish(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, harness_passed, harness_failed);
    return harness_failed ? 1 : 0;
}

#endif
