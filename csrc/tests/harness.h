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

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (cond) {                                                          \
            harness_passed++;                                                \
        } else {                                                             \
            harness_failed++;                                                \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);             \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

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
