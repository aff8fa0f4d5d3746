/* harness.h — the test harness shared by dnic's C tests, and every helper
 * more than one test program uses.
 *
 * Each test program includes this once, calls CHECK / CHECK_CLOSE /
 * CHECK_SAME / EXPECT, and ends with `return harness_finish("suite");`,
 * which prints the plain closing line "suite: N passed, N failed" and
 * returns the exit code. Failures print the file, line and the maximum
 * difference seen.
 * The helpers: test data (a local xorshift independent of dnic's rng, and
 * normal draws from dnic's), allocation, central differences, activations
 * in double, networks, and interface / network tensors by name.
 * Fixtures of one family of tests live beside it: blocks.h (the unlocked
 * schedules), textbook.h (the learning rules), child.h, lapacke_ref.h.
 */
#ifndef DNIC_TEST_HARNESS_H
#define DNIC_TEST_HARNESS_H

#include "dnic.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 *   HARNESS_FOR_EACH_ISA(level) { ... } */
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

/* A call's status is the one wanted, and a failing call leaves its own
 * detail in dnic_last_error(): the detail of a known failure set just
 * before (the sentinel) must be gone. */
#define HARNESS_SENTINEL "dnic_set_num_threads: n = -1917 "
#define EXPECT(call, want)                                                             \
    do {                                                                               \
        dnic_set_num_threads(-1917);                                                   \
        dnic_status got_ = (call);                                                     \
        CHECK(got_ == (want), "%s -> %s, want %s", #call, dnic_status_str(got_),       \
              dnic_status_str(want));                                                  \
        if (got_ != DNIC_OK)                                                           \
            CHECK(dnic_last_error()[0] &&                                              \
                      strncmp(dnic_last_error(), HARNESS_SENTINEL, sizeof HARNESS_SENTINEL - 1) != 0, \
                  "%s -> %s left no detail of its own", #call, dnic_status_str(got_)); \
    } while (0)

static inline int harness_finish(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, harness_passed, harness_failed);
    return harness_failed ? 1 : 0;
}

/* A check's name built at run time (valid until the next MSG). */
static char harness_msgbuf[192];
static inline const char *harness_msg(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(harness_msgbuf, sizeof harness_msgbuf, fmt, ap);
    va_end(ap);
    return harness_msgbuf;
}
#define MSG(...) harness_msg(__VA_ARGS__)

/* The thread counts kernels are compared at. */
static const int thread_counts[2] = {1, 2};

/* ------------------------------------------------------------ test data */

/* Test data from a local xorshift64*, independent of dnic's rng, so a
 * broken library rng cannot hide a broken kernel. Each program starts it
 * at the same state. */
static uint64_t tstate = 0x9d2c5680a5b1c3e7ULL;

static inline double tr_u01(void) {
    tstate ^= tstate >> 12;
    tstate ^= tstate << 25;
    tstate ^= tstate >> 27;
    return (double)((tstate * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0);
}

static inline void fill(float *x, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * tr_u01());
}

/* |x| in [lo, hi] with a random sign: keeps relu inputs away from its kink. */
static inline void fill_away(float *x, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) {
        double m = lo + (hi - lo) * tr_u01();
        x[i] = (float)(tr_u01() < 0.5 ? -m : m);
    }
}

static inline void fill_const(float *x, size_t n, float c) {
    for (size_t i = 0; i < n; i++) x[i] = c;
}

static inline void fill_labels(int32_t *y, int B, int classes) {
    for (int i = 0; i < B; i++) y[i] = (int32_t)(tr_u01() * classes) % classes;
}

/* scale * N(0, 1) from dnic's rng, state *rng. */
static inline void fill_normal(float *x, size_t n, float scale, uint64_t *rng) {
    for (size_t i = 0; i < n; i++) x[i] = scale * dnic_rng_normal(rng);
}

/* ----------------------------------------------------------- allocation */

/* Linear probes' known answer: class c's n points around 8 e_c of R^d
 * (d >= k), noise 1; random_labels draws the labels instead (chance). */
static inline void fill_clusters(float *X, int32_t *y, size_t n, int d, int k, int random_labels, uint64_t *rng) {
    fill_normal(X, n * (size_t)d, 1.0f, rng);
    for (size_t r = 0; r < n; r++) {
        int c = (int)(dnic_rng_next(rng) % (uint64_t)k);
        X[r * (size_t)d + (size_t)c] += 8.0f;
        y[r] = random_labels ? (int32_t)(dnic_rng_next(rng) % (uint64_t)k) : c;
    }
}

static inline float *falloc(size_t n) {
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

static inline double *dalloc(size_t n) {
    double *p = calloc(n ? n : 1, sizeof *p);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

static inline double *to_double(const float *f, size_t n) {
    double *d = dalloc(n);
    for (size_t i = 0; i < n; i++) d[i] = f[i];
    return d;
}

static inline float *fdup(const float *f, size_t n) {
    float *p = falloc(n);
    memcpy(p, f, n * sizeof *p);
    return p;
}

/* ------------------------------------------------------------- numerics */

/* Fast vs _ref for kernels that sum many products (sgemm, dense, batch
 * norm, losses): BLAS blocks and rounds differently from a double loop, so
 * an element that cancels to near zero can differ by more than rtol times
 * itself. The absolute floor is therefore rtol/10 of the largest |ref|. */
static inline void check_sum(const char *what, const float *fast, const float *ref, size_t n, double rtol) {
    double *want = to_double(ref, n), big = 0;
    for (size_t i = 0; i < n; i++) big = fmax(big, fabs(want[i]));
    CHECK_CLOSE(what, fast, want, n, 1e-6 + 0.1 * rtol * big, rtol);
    free(want);
}

/* Central differences of f() with respect to every x[i], in double. x is
 * perturbed in place and restored; the step is divided by the difference
 * actually taken, not by 2h, so rounding of x +- h does not bias it. */
typedef double (*objective_fn)(const void *ctx);

static inline void fd_grad(double *grad, double *x, size_t n, objective_fn f, const void *ctx) {
    for (size_t i = 0; i < n; i++) {
        double save = x[i], h = 1e-6 * fmax(1.0, fabs(save));
        double xp = save + h, xm = save - h;
        x[i] = xp;
        double fp = f(ctx);
        x[i] = xm;
        double fm = f(ctx);
        x[i] = save;
        grad[i] = (fp - fm) / (xp - xm);
    }
}

static inline void add_const(double *d, size_t n, double c) {
    for (size_t i = 0; i < n; i++) d[i] += c;
}

/* An activation and its derivative (at the input x) in double. */
static inline double ref_act(dnic_activation a, double x) {
    switch (a) {
    case DNIC_ACT_RELU: return x > 0 ? x : 0;
    case DNIC_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case DNIC_ACT_TANH: return tanh(x);
    default: return x;
    }
}

static inline double ref_act_grad(dnic_activation a, double x) {
    switch (a) {
    case DNIC_ACT_TANH: { double t = tanh(x); return 1 - t * t; }
    case DNIC_ACT_SIGMOID: { double s = 1 / (1 + exp(-x)); return s * (1 - s); }
    case DNIC_ACT_RELU: return x > 0;
    default: return 1;
    }
}

/* ------------------------------------------------- networks, interfaces */

static inline dnic_net_t *make_net(int input, int n_layers, const dnic_layer_desc *layers, dnic_loss loss,
                                   int max_batch, dnic_init init, uint64_t seed) {
    dnic_net_desc d;
    dnic_net_desc_defaults(&d);
    d.input_dim = input;
    d.n_layers = n_layers;
    d.layers = layers;
    d.loss = loss;
    d.max_batch = max_batch;
    d.init = init;
    dnic_net_t *n = NULL;
    dnic_status st = dnic_net_create(&n, &d, seed);
    CHECK(st == DNIC_OK, "net create: %s", dnic_status_str(st));
    return n;
}

/* Plain SGD at lr for every layer of n. */
static inline void set_sgd(dnic_net_t *n, float lr) {
    dnic_optim_config c = dnic_optim_default(DNIC_OPT_SGD);
    c.lr = lr;
    dnic_status st = dnic_net_set_optimizer(n, 0, &c);
    CHECK(st == DNIC_OK, "net optimizer: %s", dnic_status_str(st));
}

/* Offset of a network's named tensor in its parameter block (-1 if missing). */
static inline long net_tensor(dnic_net_t *n, const char *name) {
    for (int i = 0; i < dnic_net_num_tensors(n); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(n, i, &t);
        if (strcmp(t.name, name) == 0) return (long)t.offset;
    }
    CHECK(0, "network has no tensor %s", name);
    return -1;
}

/* Offset of an interface's named (rows, cols) tensor in its parameter
 * block; -1 if missing or of another shape (both fail a check). */
static inline long iface_tensor(dnic_iface_t *it, const char *name, int rows, int cols) {
    for (int i = 0; it && i < dnic_iface_num_tensors(it); i++) {
        dnic_tensor_info t;
        if (dnic_iface_tensor(it, i, &t) != DNIC_OK) continue;
        if (strcmp(t.name, name) == 0) {
            int shaped = (size_t)rows * cols == t.size && t.rows == rows && t.cols == cols;
            CHECK(shaped, "interface tensor %s is (%d,%d) size %zu, want (%d,%d)", name, t.rows, t.cols, t.size,
                  rows, cols);
            return shaped ? (long)t.offset : -1;
        }
    }
    CHECK(0, "interface has no tensor named %s", name);
    return -1;
}

static inline const char *iface_kind_name(dnic_iface_kind k) {
    static const char *n[] = {"linear", "nolabel", "sigmoid", "mlp", "identity", "random", "ones", "oracle"};
    return (k >= 0 && k <= DNIC_IFACE_ORACLE) ? n[k] : "?";
}

/* Kinds whose parameters an interface update trains. */
static inline int is_trainable_kind(dnic_iface_kind k) {
    return k == DNIC_IFACE_LINEAR || k == DNIC_IFACE_NOLABEL || k == DNIC_IFACE_SIGMOID || k == DNIC_IFACE_MLP;
}

#endif
