/* bench_kernels.c — microbenchmarks of dnic's kernels on training shapes.
 *
 * For every kernel family (sgemm, dense forward / backward, activations,
 * the network's fused bias + activation and derivative + bias-sum passes,
 * batch norm, losses, optimizer updates, gather_rows) and for one training
 * step of a 784-256-256-256-10 relu network this program
 *   1. checks the fast kernel against its _ref twin once (max abs diff; a
 *      row whose difference exceeds the float tolerance prints MISMATCH
 *      and is not timed),
 *   2. times it: the median of several timings, each of enough calls to
 *      last at least ~20 ms (CLOCK_MONOTONIC),
 *   3. prints its rate next to a reference measured in the same run, and
 *      the ratio (speed is a ratio, never a bare time: docs/design.md):
 *        GFLOP/s rows (matrix work, 2 M N K per GEMM): dnic_sgemm on
 *          exactly the same GEMM shapes, run back to back;
 *        GB/s rows (memory-bound work, bytes read + bytes written, each
 *          array counted once): a streaming copy with the same traffic,
 *          i.e. memcpy of traffic/2 bytes, the faster of 1 thread and all
 *          dnic threads; for gather_rows the copy reads the same cold
 *          60000-row source contiguously;
 *        the sgemm rows themselves: a 1024^3 dnic_sgemm, so their ratio
 *          says how well the BLAS does on the small training shapes.
 *
 * dnic's element-wise kernel families (activations, fused passes, batch
 * norm, losses, optimizer updates) and the training step run once per
 * instruction-set level the CPU has (baseline, avx2, avx512; the isa
 * column), the lower levels forced with dnic_set_isa_limit, so one run
 * shows what each level gains. Every level is checked against _ref before
 * it is timed.
 *
 * Each table ends with the CPU time other processes took meanwhile: on a
 * shared 2-core machine a busy neighbour makes 2-thread timings worthless.
 *
 * It is a benchmark, not a test, but a mismatch or an error status makes
 * it exit 1 so that `make bench` does not hide a broken kernel.
 *
 * usage: bench_kernels [--threads N] [--isa LEVEL] [--quick]
 *   default: the whole table at 1 and then at 2 threads, every level.
 */
#define _POSIX_C_SOURCE 200112L /* clock_gettime, posix_memalign */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#  if defined(__has_include)
#    if __has_include(<omp.h>)
#      include <omp.h>
#      define BENCH_HAVE_OMP_H 1
#    endif
#  else
#    include <omp.h>
#    define BENCH_HAVE_OMP_H 1
#  endif
#  ifndef BENCH_HAVE_OMP_H
int omp_get_thread_num(void);
int omp_get_num_threads(void);
#  endif
#endif

#include "dnic.h"

/* ------------------------------------------------------------ the shapes */

enum {
    BATCH = 256,       /* training batch */
    EW_ROWS = 256,     /* element-wise kernels and batch norm run on (256, 256) */
    EW_COLS = 256,
    CLASSES = 10,      /* losses run on (256, 10) */
    DATA_ROWS = 60000, /* gather_rows reads 256 rows of a (60000, 784) buffer */
    DATA_COLS = 784
};

/* The benchmark network 784-256-256-256-10; its layers are the dense
 * shapes, and its parameter count is the optimizer size. */
#define NET_LAYERS 4
static const int NET_DIMS[NET_LAYERS + 1] = {784, 256, 256, 256, 10};

/* ---------------------------------------------------------- global state */

static struct {
    double min_timing; /* seconds one timing must at least last */
    int n_timings;     /* timings per measurement; the median is reported */
} opt = {0.025, 9};

static volatile double sink; /* every timed call folds a result in here */
/* the instruction-set level of dnic's element-wise kernels in the rows
 * being printed ("-": the row times GEMMs or memcpy only) */
static const char *row_isa = "-";
static int isa_only = -1; /* --isa: that level only; -1: every level the CPU runs */
static int n_failed;         /* mismatches and error statuses: exit code */

/* Operand buffers for the reference GEMMs: big enough for 1024^3. */
#define GEMM_BUF_FLOATS ((size_t)1024 * 1024)
static float *gemm_a, *gemm_b, *gemm_c;

/* --------------------------------------------------------------- helpers */

static void *xalloc(size_t bytes) {
    void *p = NULL;
    if (bytes == 0) bytes = 64;
    if (posix_memalign(&p, 64, bytes) != 0 || !p) {
        fprintf(stderr, "bench_kernels: out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}
static float *falloc(size_t n) { return (float *)xalloc(n * sizeof(float)); }

static uint64_t rng_state = 0x5eed;
/* x[i] ~ U[lo, hi). */
static void fill_uniform(float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * dnic_rng_uniform(&rng_state);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------------------- timing */

typedef void (*bench_fn)(void *ctx);

static double run_reps(bench_fn fn, void *ctx, long reps) {
    double t0 = now_s();
    for (long r = 0; r < reps; r++) fn(ctx);
    return now_s() - t0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median seconds of one call of fn(ctx): one warm-up call, a repetition
 * count calibrated so that a timing lasts >= opt.min_timing, then the
 * median of opt.n_timings timings of that many calls. */
static double time_median(bench_fn fn, void *ctx) {
    double times[64];
    long reps = 1;
    fn(ctx);
    for (;;) {
        double t = run_reps(fn, ctx, reps);
        if (t >= opt.min_timing) break;
        double want = 1.2 * opt.min_timing / (t > 1e-7 ? t : 1e-7) * (double)reps;
        long next = want > 1000.0 * (double)reps ? 1000 * reps : (long)want + 1;
        reps = next > reps ? next : 2 * reps;
    }
    for (int i = 0; i < opt.n_timings; i++) times[i] = run_reps(fn, ctx, reps) / (double)reps;
    qsort(times, (size_t)opt.n_timings, sizeof times[0], cmp_double);
    return times[opt.n_timings / 2];
}

/* ------------------------------------------------------ checking vs _ref */

/* Fast kernel vs its _ref twin, over one or more output arrays. An array
 * passes when max |got - want| <= rtol * max |want| (rtol 0: exact). */
typedef struct {
    double maxdiff;  /* over all arrays compared */
    const char *bad; /* first array that failed, or NULL */
    double bad_diff, bad_tol;
} check_t;

static void check_close(check_t *c, const char *what, const float *got, const float *want,
                        size_t n, double rtol) {
    double md = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (!(d == d)) d = INFINITY; /* NaN fails */
        if (d > md) md = d;
        if (fabs((double)want[i]) > scale) scale = fabs((double)want[i]);
    }
    if (md > c->maxdiff) c->maxdiff = md;
    if (!c->bad && md > rtol * scale) {
        c->bad = what;
        c->bad_diff = md;
        c->bad_tol = rtol * scale;
    }
}

/* Prints the MISMATCH row and returns 1 if the check failed. */
static int check_failed(const check_t *c, const char *kernel, const char *shape) {
    if (!c->bad) return 0;
    printf("%-22s %-8s %-22s MISMATCH: %s max abs diff %.3g > tolerance %.3g\n", kernel, row_isa, shape,
           c->bad, c->bad_diff, c->bad_tol);
    n_failed++;
    return 1;
}

static int status_failed(dnic_status s, const char *kernel, const char *shape) {
    if (s == DNIC_OK) return 0;
    printf("%-22s %-8s %-22s ERROR: %s\n", kernel, row_isa, shape, dnic_status_str(s));
    n_failed++;
    return 1;
}

/* Tolerances: GEMM-based and reductions over the batch, vs element-wise. */
#define RTOL_GEMM 1e-4
#define RTOL_EW 1e-5

/* ---------------------------------------------------------------- output */

static void print_header(void) {
    printf("%-22s %-8s %-22s %11s %10s %-9s %10s %6s  %-10s %9s\n", "kernel", "isa", "shape", "time_us",
           "rate", "unit", "ref_rate", "ratio", "reference", "maxdiff");
}

/* maxdiff < 0: not checked. */
static void print_row(const char *kernel, const char *shape, double sec, double rate,
                      const char *unit, double ref_rate, const char *ref_name, double maxdiff) {
    char md[32];
    if (maxdiff < 0) snprintf(md, sizeof md, "-");
    else snprintf(md, sizeof md, "%.2e", maxdiff);
    printf("%-22s %-8s %-22s %11.1f %10.2f %-9s %10.2f %6.2f  %-10s %9s\n", kernel, row_isa, shape, sec * 1e6,
           rate, unit, ref_rate, ref_rate > 0 ? rate / ref_rate : 0.0, ref_name, md);
    fflush(stdout);
}

/* ------------------------------------------------------ reference: sgemm */

typedef struct {
    int ta, tb, M, N, K; /* op(A) (M,K), op(B) (K,N), C (M,N) */
    float beta;
} gemm_shape;

static double gemm_flops(const gemm_shape *s, int n) {
    double f = 0;
    for (int i = 0; i < n; i++) f += 2.0 * s[i].M * s[i].N * s[i].K;
    return f;
}

static void sgemm_shape(const gemm_shape *s, const float *A, const float *B, float *C,
                        int ref) {
    int lda = s->ta ? s->M : s->K; /* A stored (K,M) when transposed, else (M,K) */
    int ldb = s->tb ? s->K : s->N; /* B stored (N,K) when transposed, else (K,N) */
    if (ref)
        dnic_sgemm_ref(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, s->beta, C, s->N);
    else
        dnic_sgemm(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, s->beta, C, s->N);
}

typedef struct {
    const gemm_shape *shapes;
    int n;
} gemm_ctx;

static void run_gemms(void *p) {
    gemm_ctx *g = (gemm_ctx *)p;
    for (int i = 0; i < g->n; i++) sgemm_shape(&g->shapes[i], gemm_a, gemm_b, gemm_c, 0);
    sink += gemm_c[0];
}

/* GFLOP/s of dnic_sgemm running these shapes back to back. */
static double sgemm_rate(const gemm_shape *shapes, int n) {
    gemm_ctx g = {shapes, n};
    return gemm_flops(shapes, n) / time_median(run_gemms, &g) * 1e-9;
}

/* ------------------------------------------------- reference: stream copy */

static int bench_threads(void) { return dnic_get_num_threads(); }

static void copy_floats(float *dst, const float *src, size_t n, int threads) {
#ifdef _OPENMP
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
        {
            size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
            size_t lo = n * t / nt, hi = n * (t + 1) / nt;
            memcpy(dst + lo, src + lo, (hi - lo) * sizeof(float));
        }
        return;
    }
#else
    (void)threads;
#endif
    memcpy(dst, src, n * sizeof(float));
}

typedef struct {
    float *dst;
    const float *src;  /* hot source; or the base of a cold one when rows > 0 */
    size_t n;          /* floats per copy */
    size_t rows, row_len, pos; /* cold source: (rows, row_len), moving window */
    int threads;
} copy_ctx;

static void run_copy(void *p) {
    copy_ctx *c = (copy_ctx *)p;
    const float *src = c->src;
    if (c->rows) { /* walk the cold source like the gather benchmark does */
        size_t window = c->n / c->row_len;
        if (c->pos + window > c->rows) c->pos = 0;
        src = c->src + c->pos * c->row_len;
        c->pos += window;
    }
    copy_floats(c->dst, src, c->n, c->threads);
    sink += c->dst[c->n - 1];
}

/* GB/s (read + write) of the faster of a 1-thread and an all-threads copy. */
static double copy_rate_ctx(copy_ctx *c) {
    double bytes = 2.0 * (double)c->n * sizeof(float);
    c->threads = 1;
    double best = time_median(run_copy, c);
    if (bench_threads() > 1) {
        c->threads = bench_threads();
        double t = time_median(run_copy, c);
        if (t < best) best = t;
    }
    return bytes / best * 1e-9;
}

/* Streaming copy moving `traffic` bytes (read + write) between hot buffers. */
static double copy_rate(size_t traffic) {
    size_t n = traffic / 2 / sizeof(float);
    if (n < 1) n = 1;
    copy_ctx c;
    memset(&c, 0, sizeof c);
    float *src = falloc(n), *dst = falloc(n);
    fill_uniform(src, n, -1, 1);
    c.dst = dst;
    c.src = src;
    c.n = n;
    double r = copy_rate_ctx(&c);
    free(src);
    free(dst);
    return r;
}

/* Times a memory-bound kernel moving `traffic` bytes per call and prints
 * its row against the streaming copy. */
static void report_memory_bound(const char *kernel, const char *shape, bench_fn fn, void *ctx,
                                double traffic, double maxdiff) {
    double t = time_median(fn, ctx);
    double ref = copy_rate((size_t)traffic);
    print_row(kernel, shape, t, traffic / t * 1e-9, "GB/s", ref, "copy", maxdiff);
}

/* ============================================================ families */

/* ----------------------------------------------------------------- sgemm */

/* The three GEMMs of dense layer (I -> O) at batch B: forward out = in W,
 * din = dout W^T, dW = in^T dout (backward ones accumulate: beta 1). */
static gemm_shape dense_fwd_gemm(int I, int O) {
    gemm_shape s = {0, 0, BATCH, O, I, 0.0f};
    return s;
}
static gemm_shape dense_din_gemm(int I, int O) {
    gemm_shape s = {0, 1, BATCH, I, O, 1.0f};
    return s;
}
static gemm_shape dense_dw_gemm(int I, int O) {
    gemm_shape s = {1, 0, I, O, BATCH, 1.0f};
    return s;
}

/* One sgemm row: check against dnic_sgemm_ref, then time it. */
static void sgemm_row(const char *name, gemm_shape s, double square_rate) {
    char shape[64];
    snprintf(shape, sizeof shape, "%s M%d N%d K%d", s.ta ? (s.tb ? "TT" : "TN") : (s.tb ? "NT" : "NN"),
             s.M, s.N, s.K);
    size_t nc = (size_t)s.M * s.N;
    float *c_fast = falloc(nc), *c_ref = falloc(nc);
    fill_uniform(gemm_a, (size_t)s.M * s.K, -1, 1);
    fill_uniform(gemm_b, (size_t)s.K * s.N, -1, 1);
    fill_uniform(c_fast, nc, -1, 1);
    memcpy(c_ref, c_fast, nc * sizeof(float));
    sgemm_shape(&s, gemm_a, gemm_b, c_fast, 0);
    sgemm_shape(&s, gemm_a, gemm_b, c_ref, 1);
    check_t c = {0};
    check_close(&c, "C", c_fast, c_ref, nc, RTOL_GEMM);
    free(c_fast);
    free(c_ref);
    if (check_failed(&c, name, shape)) return;
    double rate = sgemm_rate(&s, 1);
    print_row(name, shape, gemm_flops(&s, 1) / rate * 1e-9, rate, "GFLOP/s", square_rate,
              "1024^3", c.maxdiff);
}

static void bench_sgemm(void) {
    gemm_shape square = {0, 0, 1024, 1024, 1024, 0.0f};
    fill_uniform(gemm_a, GEMM_BUF_FLOATS, -1, 1);
    fill_uniform(gemm_b, GEMM_BUF_FLOATS, -1, 1);
    double square_rate = sgemm_rate(&square, 1);
    print_row("sgemm square", "NN M1024 N1024 K1024", gemm_flops(&square, 1) / square_rate * 1e-9,
              square_rate, "GFLOP/s", square_rate, "itself", -1);
    for (int l = 0; l < NET_LAYERS; l++) {
        int I = NET_DIMS[l], O = NET_DIMS[l + 1];
        if (l > 0 && I == NET_DIMS[l - 1] && O == NET_DIMS[l]) continue; /* same shapes */
        sgemm_row("sgemm fwd", dense_fwd_gemm(I, O), square_rate);
        sgemm_row("sgemm din", dense_din_gemm(I, O), square_rate);
        sgemm_row("sgemm dW", dense_dw_gemm(I, O), square_rate);
    }
}

/* --------------------------------------------------------- dense forward */

typedef struct {
    float *out, *din, *dW, *db;
    const float *in, *W, *b, *dout;
    int B, I, O;
} dense_ctx;

static void run_dense_forward(void *p) {
    dense_ctx *d = (dense_ctx *)p;
    dnic_dense_forward(d->out, d->in, d->W, d->b, d->B, d->I, d->O);
    sink += d->out[0];
}

static void run_dense_backward(void *p) {
    dense_ctx *d = (dense_ctx *)p;
    dnic_dense_backward(d->din, d->dW, d->db, d->dout, d->in, d->W, d->B, d->I, d->O);
    sink += d->din[0] + d->dW[0] + d->db[0];
}

static void dense_shape_str(char *buf, size_t n, int I, int O) {
    snprintf(buf, n, "B%d %d->%d", BATCH, I, O);
}

static void bench_dense_forward(void) {
    for (int l = 0; l < NET_LAYERS; l++) {
        int B = BATCH, I = NET_DIMS[l], O = NET_DIMS[l + 1];
        if (l > 0 && I == NET_DIMS[l - 1] && O == NET_DIMS[l]) continue;
        char shape[64];
        dense_shape_str(shape, sizeof shape, I, O);
        float *in = falloc((size_t)B * I), *W = falloc((size_t)I * O), *b = falloc((size_t)O);
        float *out = falloc((size_t)B * O), *out_ref = falloc((size_t)B * O);
        fill_uniform(in, (size_t)B * I, -1, 1);
        fill_uniform(W, (size_t)I * O, -0.1f, 0.1f);
        fill_uniform(b, (size_t)O, -0.1f, 0.1f);
        dnic_dense_forward(out, in, W, b, B, I, O);
        dnic_dense_forward_ref(out_ref, in, W, b, B, I, O);
        check_t c = {0};
        check_close(&c, "out", out, out_ref, (size_t)B * O, RTOL_GEMM);
        if (!check_failed(&c, "dense_forward", shape)) {
            dense_ctx d = {0};
            d.out = out, d.in = in, d.W = W, d.b = b, d.B = B, d.I = I, d.O = O;
            double t = time_median(run_dense_forward, &d);
            gemm_shape g = dense_fwd_gemm(I, O);
            double flops = gemm_flops(&g, 1);
            print_row("dense_forward", shape, t, flops / t * 1e-9, "GFLOP/s", sgemm_rate(&g, 1),
                      "sgemm", c.maxdiff);
        }
        free(in), free(W), free(b), free(out), free(out_ref);
    }
}

/* -------------------------------------------------------- dense backward */

static void bench_dense_backward(void) {
    for (int l = 0; l < NET_LAYERS; l++) {
        int B = BATCH, I = NET_DIMS[l], O = NET_DIMS[l + 1];
        if (l > 0 && I == NET_DIMS[l - 1] && O == NET_DIMS[l]) continue;
        char shape[64];
        dense_shape_str(shape, sizeof shape, I, O);
        size_t nin = (size_t)B * I, nw = (size_t)I * O, nout = (size_t)B * O;
        float *in = falloc(nin), *W = falloc(nw), *dout = falloc(nout);
        float *din = falloc(nin), *dW = falloc(nw), *db = falloc((size_t)O);
        float *din_r = falloc(nin), *dW_r = falloc(nw), *db_r = falloc((size_t)O);
        fill_uniform(in, nin, -1, 1);
        fill_uniform(W, nw, -0.1f, 0.1f);
        fill_uniform(dout, nout, -0.01f, 0.01f);
        /* non-zero starting gradients also check that the kernel accumulates */
        fill_uniform(din, nin, -1, 1);
        fill_uniform(dW, nw, -1, 1);
        fill_uniform(db, (size_t)O, -1, 1);
        memcpy(din_r, din, nin * sizeof(float));
        memcpy(dW_r, dW, nw * sizeof(float));
        memcpy(db_r, db, (size_t)O * sizeof(float));
        dnic_dense_backward(din, dW, db, dout, in, W, B, I, O);
        dnic_dense_backward_ref(din_r, dW_r, db_r, dout, in, W, B, I, O);
        check_t c = {0};
        check_close(&c, "din", din, din_r, nin, RTOL_GEMM);
        check_close(&c, "dW", dW, dW_r, nw, RTOL_GEMM);
        check_close(&c, "db", db, db_r, (size_t)O, RTOL_GEMM);
        if (!check_failed(&c, "dense_backward", shape)) {
            dense_ctx d = {0};
            d.din = din, d.dW = dW, d.db = db, d.dout = dout, d.in = in, d.W = W;
            d.B = B, d.I = I, d.O = O;
            double t = time_median(run_dense_backward, &d);
            gemm_shape g[2] = {dense_din_gemm(I, O), dense_dw_gemm(I, O)};
            double flops = gemm_flops(g, 2);
            print_row("dense_backward", shape, t, flops / t * 1e-9, "GFLOP/s", sgemm_rate(g, 2),
                      "sgemm x2", c.maxdiff);
        }
        free(in), free(W), free(dout), free(din), free(dW), free(db);
        free(din_r), free(dW_r), free(db_r);
    }
}

/* ----------------------------------------------------------- activations */

typedef struct {
    dnic_activation act;
    float *out, *din;
    const float *in, *dout, *fwd_out;
    size_t n;
} act_ctx;

static void run_act_forward(void *p) {
    act_ctx *a = (act_ctx *)p;
    dnic_act_forward(a->act, a->out, a->in, a->n);
    sink += a->out[a->n - 1];
}

static void run_act_backward(void *p) {
    act_ctx *a = (act_ctx *)p;
    dnic_act_backward(a->act, a->din, a->dout, a->fwd_out, a->n);
    sink += a->din[a->n - 1];
}

static void bench_activations(void) {
    static const struct {
        dnic_activation act;
        const char *fwd, *bwd;
    } acts[] = {{DNIC_ACT_RELU, "relu_forward", "relu_backward"},
                {DNIC_ACT_SIGMOID, "sigmoid_forward", "sigmoid_backward"},
                {DNIC_ACT_TANH, "tanh_forward", "tanh_backward"}};
    size_t n = (size_t)EW_ROWS * EW_COLS;
    char shape[64];
    snprintf(shape, sizeof shape, "%dx%d", EW_ROWS, EW_COLS);
    float *in = falloc(n), *out = falloc(n), *out_r = falloc(n);
    float *dout = falloc(n), *din = falloc(n), *din_r = falloc(n);
    fill_uniform(in, n, -4, 4);
    fill_uniform(dout, n, -1, 1);
    for (size_t k = 0; k < sizeof acts / sizeof acts[0]; k++) {
        act_ctx a = {0};
        a.act = acts[k].act, a.n = n;

        /* forward: in -> out */
        dnic_act_forward(a.act, out, in, n);
        dnic_act_forward_ref(a.act, out_r, in, n);
        check_t c = {0};
        check_close(&c, "out", out, out_r, n, RTOL_EW);
        if (!check_failed(&c, acts[k].fwd, shape)) {
            a.out = out, a.in = in;
            report_memory_bound(acts[k].fwd, shape, run_act_forward, &a,
                                2.0 * n * sizeof(float), c.maxdiff);
        }

        /* backward from the reference forward output: din += dout act' */
        dnic_act_forward_ref(a.act, out_r, in, n);
        fill_uniform(din, n, -1, 1);
        memcpy(din_r, din, n * sizeof(float));
        dnic_act_backward(a.act, din, dout, out_r, n);
        dnic_act_backward_ref(a.act, din_r, dout, out_r, n);
        check_t cb = {0};
        check_close(&cb, "din", din, din_r, n, RTOL_EW);
        if (!check_failed(&cb, acts[k].bwd, shape)) {
            a.din = din, a.dout = dout, a.fwd_out = out_r;
            /* reads dout, out, din; writes din */
            report_memory_bound(acts[k].bwd, shape, run_act_backward, &a,
                                4.0 * n * sizeof(float), cb.maxdiff);
        }
    }
    free(in), free(out), free(out_r), free(dout), free(din), free(din_r);
}

/* The network's fused passes (internal to libdnic, not in dnic.h; the
 * static library exposes them): bias + activation in place after the
 * forward GEMM, and activation derivative + bias-gradient column sums. */
void dnic__bias_act_forward(dnic_activation act, float *h, const float *b, int B, int C);
void dnic__act_backward_colsum(dnic_activation act, float *gz, float *db, const float *gh, const float *h,
                               int B, int C);

typedef struct {
    dnic_activation act;
    float *h, *gz, *db;
    const float *b, *gh, *fwd_out;
    int B, C;
} fused_ctx;

static void run_bias_act(void *p) {
    fused_ctx *f = (fused_ctx *)p;
    /* in place, so h drifts from call to call: relu keeps it bounded, and
     * sigmoid / tanh outputs stay in their ranges */
    dnic__bias_act_forward(f->act, f->h, f->b, f->B, f->C);
    sink += f->h[0];
}

static void run_colsum(void *p) {
    fused_ctx *f = (fused_ctx *)p;
    dnic__act_backward_colsum(f->act, f->gz, f->db, f->gh, f->fwd_out, f->B, f->C);
    sink += f->gz[0] + f->db[0];
}

static void bench_fused(void) {
    static const struct {
        dnic_activation act;
        const char *fwd, *bwd;
    } acts[] = {{DNIC_ACT_RELU, "bias_relu_fwd", "relu_bwd_colsum"},
                {DNIC_ACT_SIGMOID, "bias_sigmoid_fwd", "sigmoid_bwd_colsum"},
                {DNIC_ACT_TANH, "bias_tanh_fwd", "tanh_bwd_colsum"}};
    int B = EW_ROWS, C = EW_COLS;
    size_t n = (size_t)B * C;
    char shape[64];
    snprintf(shape, sizeof shape, "B%d C%d", B, C);
    float *h = falloc(n), *want = falloc(n), *b = falloc((size_t)C), *gh = falloc(n), *gz = falloc(n);
    float *db = falloc((size_t)C), *db_want = falloc((size_t)C), *tmp = falloc(n);
    fill_uniform(b, (size_t)C, -0.5f, 0.5f);
    fill_uniform(gh, n, -1, 1);
    for (size_t k = 0; k < sizeof acts / sizeof acts[0]; k++) {
        fused_ctx f = {acts[k].act, h, gz, db, b, gh, want, B, C};
        /* forward: h = act(h + b) against the reference activation */
        fill_uniform(h, n, -4, 4);
        for (size_t i = 0; i < n; i++) tmp[i] = h[i] + b[i % (size_t)C];
        dnic_act_forward_ref(acts[k].act, want, tmp, n);
        dnic__bias_act_forward(acts[k].act, h, b, B, C);
        check_t c = {0};
        check_close(&c, "h", h, want, n, RTOL_EW);
        if (!check_failed(&c, acts[k].fwd, shape))
            /* reads and writes h, reads b */
            report_memory_bound(acts[k].fwd, shape, run_bias_act, &f, (2.0 * n + C) * sizeof(float), c.maxdiff);

        /* backward from the reference output: gz = gh act', db += colsum(gz) */
        memset(tmp, 0, n * sizeof(float));
        dnic_act_backward_ref(acts[k].act, tmp, gh, want, n);
        for (int j = 0; j < C; j++) {
            double s = 0;
            for (int r = 0; r < B; r++) s += tmp[(size_t)r * C + j];
            db_want[j] = (float)s;
            db[j] = 0.0f;
        }
        dnic__act_backward_colsum(acts[k].act, gz, db, gh, want, B, C);
        check_t cb = {0};
        check_close(&cb, "gz", gz, tmp, n, RTOL_EW);
        check_close(&cb, "db", db, db_want, (size_t)C, RTOL_GEMM);
        if (!check_failed(&cb, acts[k].bwd, shape))
            /* reads gh, h; writes gz; db read and written */
            report_memory_bound(acts[k].bwd, shape, run_colsum, &f, (3.0 * n + 2.0 * C) * sizeof(float), cb.maxdiff);
    }
    free(h), free(want), free(b), free(gh), free(gz), free(db), free(db_want), free(tmp);
}

/* ------------------------------------------------------------ batch norm */

/* One set of batch-norm buffers: (B,C) tensors and (C) vectors. */
typedef struct {
    float *out, *xhat, *mean, *invstd, *run_mean, *run_var;
    float *din, *dgamma, *dbeta;
} bn_bufs;

typedef struct {
    bn_bufs *w;
    const float *in, *gamma, *beta, *dout;
    int B, C;
} bn_ctx;

static const float BN_MOMENTUM = 0.1f, BN_EPS = 1e-5f;

static void bn_alloc(bn_bufs *w, int B, int C) {
    size_t nb = (size_t)B * C, nc = (size_t)C;
    w->out = falloc(nb), w->xhat = falloc(nb), w->din = falloc(nb);
    w->mean = falloc(nc), w->invstd = falloc(nc), w->run_mean = falloc(nc);
    w->run_var = falloc(nc), w->dgamma = falloc(nc), w->dbeta = falloc(nc);
    for (size_t i = 0; i < nc; i++) w->run_mean[i] = 0.0f, w->run_var[i] = 1.0f;
}

static void bn_free(bn_bufs *w) {
    free(w->out), free(w->xhat), free(w->din), free(w->mean), free(w->invstd);
    free(w->run_mean), free(w->run_var), free(w->dgamma), free(w->dbeta);
}

static void run_bn_train(void *p) {
    bn_ctx *b = (bn_ctx *)p;
    bn_bufs *w = b->w;
    dnic_batchnorm_forward_train(w->out, w->xhat, w->mean, w->invstd, w->run_mean, w->run_var,
                                 b->in, b->gamma, b->beta, b->B, b->C, BN_MOMENTUM, BN_EPS);
    sink += w->out[0] + w->run_var[0];
}

static void run_bn_eval(void *p) {
    bn_ctx *b = (bn_ctx *)p;
    bn_bufs *w = b->w;
    dnic_batchnorm_forward_eval(w->out, b->in, b->gamma, b->beta, w->run_mean, w->run_var, b->B,
                                b->C, BN_EPS);
    sink += w->out[0];
}

static void run_bn_backward(void *p) {
    bn_ctx *b = (bn_ctx *)p;
    bn_bufs *w = b->w;
    dnic_batchnorm_backward(w->din, w->dgamma, w->dbeta, b->dout, w->xhat, w->invstd, b->gamma,
                            b->B, b->C);
    sink += w->din[0] + w->dgamma[0] + w->dbeta[0];
}

static void bench_batchnorm(void) {
    int B = EW_ROWS, C = EW_COLS;
    size_t nb = (size_t)B * C, nc = (size_t)C;
    char shape[64];
    snprintf(shape, sizeof shape, "B%d C%d", B, C);
    float *in = falloc(nb), *dout = falloc(nb), *gamma = falloc(nc), *beta = falloc(nc);
    fill_uniform(in, nb, -2, 3);
    fill_uniform(dout, nb, -1, 1);
    fill_uniform(gamma, nc, 0.5f, 1.5f);
    fill_uniform(beta, nc, -0.5f, 0.5f);
    bn_bufs f, r; /* fast and reference outputs */
    bn_alloc(&f, B, C);
    bn_alloc(&r, B, C);
    bn_ctx ctx = {&f, in, gamma, beta, dout, B, C};

    /* forward, training mode */
    dnic_batchnorm_forward_train(f.out, f.xhat, f.mean, f.invstd, f.run_mean, f.run_var, in,
                                 gamma, beta, B, C, BN_MOMENTUM, BN_EPS);
    dnic_batchnorm_forward_train_ref(r.out, r.xhat, r.mean, r.invstd, r.run_mean, r.run_var, in,
                                     gamma, beta, B, C, BN_MOMENTUM, BN_EPS);
    check_t c = {0};
    check_close(&c, "out", f.out, r.out, nb, RTOL_GEMM);
    check_close(&c, "xhat", f.xhat, r.xhat, nb, RTOL_GEMM);
    check_close(&c, "mean", f.mean, r.mean, nc, RTOL_GEMM);
    check_close(&c, "invstd", f.invstd, r.invstd, nc, RTOL_GEMM);
    check_close(&c, "run_mean", f.run_mean, r.run_mean, nc, RTOL_GEMM);
    check_close(&c, "run_var", f.run_var, r.run_var, nc, RTOL_GEMM);
    if (!check_failed(&c, "batchnorm_fwd_train", shape)) {
        /* reads in; writes out, xhat; (C) vectors: gamma, beta read, mean,
         * invstd written, running mean / var read and written */
        double traffic = (3.0 * nb + 8.0 * nc) * sizeof(float);
        report_memory_bound("batchnorm_fwd_train", shape, run_bn_train, &ctx, traffic,
                            c.maxdiff);
    }

    /* forward, evaluation mode, with the running statistics of the reference */
    memcpy(f.run_mean, r.run_mean, nc * sizeof(float));
    memcpy(f.run_var, r.run_var, nc * sizeof(float));
    dnic_batchnorm_forward_eval(f.out, in, gamma, beta, f.run_mean, f.run_var, B, C, BN_EPS);
    dnic_batchnorm_forward_eval_ref(r.out, in, gamma, beta, r.run_mean, r.run_var, B, C, BN_EPS);
    check_t ce = {0};
    check_close(&ce, "out", f.out, r.out, nb, RTOL_EW);
    if (!check_failed(&ce, "batchnorm_fwd_eval", shape)) {
        double traffic = (2.0 * nb + 4.0 * nc) * sizeof(float);
        report_memory_bound("batchnorm_fwd_eval", shape, run_bn_eval, &ctx, traffic, ce.maxdiff);
    }

    /* backward from the reference forward's xhat / invstd; gradients start
     * non-zero so that accumulation is checked too */
    memcpy(f.xhat, r.xhat, nb * sizeof(float));
    memcpy(f.invstd, r.invstd, nc * sizeof(float));
    fill_uniform(f.din, nb, -1, 1);
    fill_uniform(f.dgamma, nc, -1, 1);
    fill_uniform(f.dbeta, nc, -1, 1);
    memcpy(r.din, f.din, nb * sizeof(float));
    memcpy(r.dgamma, f.dgamma, nc * sizeof(float));
    memcpy(r.dbeta, f.dbeta, nc * sizeof(float));
    dnic_batchnorm_backward(f.din, f.dgamma, f.dbeta, dout, f.xhat, f.invstd, gamma, B, C);
    dnic_batchnorm_backward_ref(r.din, r.dgamma, r.dbeta, dout, r.xhat, r.invstd, gamma, B, C);
    check_t cb = {0};
    check_close(&cb, "din", f.din, r.din, nb, RTOL_GEMM);
    check_close(&cb, "dgamma", f.dgamma, r.dgamma, nc, RTOL_GEMM);
    check_close(&cb, "dbeta", f.dbeta, r.dbeta, nc, RTOL_GEMM);
    if (!check_failed(&cb, "batchnorm_backward", shape)) {
        /* reads dout, xhat, din, invstd, gamma, dgamma, dbeta; writes din,
         * dgamma, dbeta */
        double traffic = (4.0 * nb + 6.0 * nc) * sizeof(float);
        report_memory_bound("batchnorm_backward", shape, run_bn_backward, &ctx, traffic,
                            cb.maxdiff);
    }

    bn_free(&f);
    bn_free(&r);
    free(in), free(dout), free(gamma), free(beta);
}

/* ---------------------------------------------------------------- losses */

typedef struct {
    dnic_loss kind;
    float *dp;
    const float *p;
    const int32_t *labels;
    int B, K;
    dnic_status status; /* first error seen while timing */
} loss_ctx;

static void run_loss(void *p) {
    loss_ctx *l = (loss_ctx *)p;
    float loss = 0;
    dnic_status s = dnic_loss_forward_backward(l->kind, &loss, l->dp, l->p, l->labels, NULL,
                                               l->B, l->K);
    if (s != DNIC_OK && l->status == DNIC_OK) l->status = s;
    sink += loss + l->dp[0];
}

static void bench_losses(void) {
    static const struct {
        dnic_loss kind;
        const char *name;
    } losses[] = {{DNIC_LOSS_MSE, "loss_mse"},
                  {DNIC_LOSS_SOFTMAX_CE, "loss_softmax_ce"},
                  {DNIC_LOSS_LOGISTIC, "loss_logistic"}};
    int B = BATCH, K = CLASSES;
    size_t n = (size_t)B * K;
    char shape[64];
    snprintf(shape, sizeof shape, "B%d K%d labels", B, K);
    float *p = falloc(n), *dp = falloc(n), *dp_r = falloc(n);
    int32_t *labels = (int32_t *)xalloc((size_t)B * sizeof(int32_t));
    fill_uniform(p, n, -3, 3);
    for (int i = 0; i < B; i++) labels[i] = (int32_t)(dnic_rng_next(&rng_state) % (uint64_t)K);
    for (size_t k = 0; k < sizeof losses / sizeof losses[0]; k++) {
        float loss = 0, loss_r = 0;
        dnic_status s = dnic_loss_forward_backward(losses[k].kind, &loss, dp, p, labels, NULL, B, K);
        dnic_status sr =
            dnic_loss_forward_backward_ref(losses[k].kind, &loss_r, dp_r, p, labels, NULL, B, K);
        if (status_failed(s, losses[k].name, shape) || status_failed(sr, losses[k].name, shape))
            continue;
        check_t c = {0};
        check_close(&c, "loss", &loss, &loss_r, 1, RTOL_EW);
        check_close(&c, "dp", dp, dp_r, n, RTOL_EW);
        if (check_failed(&c, losses[k].name, shape)) continue;
        loss_ctx l = {losses[k].kind, dp, p, labels, B, K, DNIC_OK};
        /* reads p and labels, writes dp */
        double traffic = 2.0 * n * sizeof(float) + (double)B * sizeof(int32_t);
        double t = time_median(run_loss, &l);
        if (status_failed(l.status, losses[k].name, shape)) continue;
        print_row(losses[k].name, shape, t, traffic / t * 1e-9, "GB/s",
                  copy_rate((size_t)traffic), "copy", c.maxdiff);
    }
    free(p), free(dp), free(dp_r), free(labels);
}

/* ------------------------------------------------------------ optimizers */

typedef struct {
    float *p, *m, *v;
    const float *g;
    size_t n;
    int64_t t; /* Adam step, advanced every call */
} optim_ctx;

static const float LR = 1e-3f, MU = 0.9f, BETA1 = 0.9f, BETA2 = 0.999f, ADAM_EPS = 1e-8f,
                   L2 = 1e-4f;

static void run_sgd(void *p) {
    optim_ctx *o = (optim_ctx *)p;
    dnic_sgd_update(o->p, o->g, o->n, LR, L2);
    sink += o->p[o->n - 1];
}

static void run_momentum(void *p) {
    optim_ctx *o = (optim_ctx *)p;
    dnic_momentum_update(o->p, o->m, o->g, o->n, LR, MU, L2);
    sink += o->p[o->n - 1];
}

static void run_adam(void *p) {
    optim_ctx *o = (optim_ctx *)p;
    dnic_adam_update(o->p, o->m, o->v, o->g, o->n, LR, BETA1, BETA2, ADAM_EPS, L2, ++o->t);
    sink += o->p[o->n - 1];
}

/* Trainable parameters of the benchmark network: weights and biases. */
static size_t net_param_count(void) {
    size_t n = 0;
    for (int l = 0; l < NET_LAYERS; l++)
        n += (size_t)NET_DIMS[l] * NET_DIMS[l + 1] + (size_t)NET_DIMS[l + 1];
    return n;
}

static void bench_optimizers(void) {
    size_t n = net_param_count();
    char shape[64];
    snprintf(shape, sizeof shape, "n=%zu", n);
    float *p = falloc(n), *m = falloc(n), *v = falloc(n), *g = falloc(n);
    float *p_r = falloc(n), *m_r = falloc(n), *v_r = falloc(n);
    fill_uniform(g, n, -1, 1);
    optim_ctx o = {p, m, v, g, n, 0};
    double bytes = (double)n * sizeof(float);

    /* SGD: reads p, g; writes p */
    fill_uniform(p, n, -0.1f, 0.1f);
    memcpy(p_r, p, n * sizeof(float));
    dnic_sgd_update(p, g, n, LR, L2);
    dnic_sgd_update_ref(p_r, g, n, LR, L2);
    check_t c = {0};
    check_close(&c, "p", p, p_r, n, RTOL_EW);
    if (!check_failed(&c, "sgd_update", shape))
        report_memory_bound("sgd_update", shape, run_sgd, &o, 3 * bytes, c.maxdiff);

    /* momentum: reads p, v, g; writes p, v (the velocity lives in m here) */
    fill_uniform(p, n, -0.1f, 0.1f);
    fill_uniform(m, n, -0.1f, 0.1f);
    memcpy(p_r, p, n * sizeof(float));
    memcpy(m_r, m, n * sizeof(float));
    dnic_momentum_update(p, m, g, n, LR, MU, L2);
    dnic_momentum_update_ref(p_r, m_r, g, n, LR, MU, L2);
    check_t cm = {0};
    check_close(&cm, "p", p, p_r, n, RTOL_EW);
    check_close(&cm, "v", m, m_r, n, RTOL_EW);
    if (!check_failed(&cm, "momentum_update", shape))
        report_memory_bound("momentum_update", shape, run_momentum, &o, 5 * bytes, cm.maxdiff);

    /* Adam: reads p, m, v, g; writes p, m, v. Checked at step 3 from a
     * state with non-zero moments. */
    fill_uniform(p, n, -0.1f, 0.1f);
    fill_uniform(m, n, -0.01f, 0.01f);
    fill_uniform(v, n, 0.0f, 1e-4f);
    memcpy(p_r, p, n * sizeof(float));
    memcpy(m_r, m, n * sizeof(float));
    memcpy(v_r, v, n * sizeof(float));
    dnic_adam_update(p, m, v, g, n, LR, BETA1, BETA2, ADAM_EPS, L2, 3);
    dnic_adam_update_ref(p_r, m_r, v_r, g, n, LR, BETA1, BETA2, ADAM_EPS, L2, 3);
    check_t ca = {0};
    check_close(&ca, "p", p, p_r, n, RTOL_EW);
    check_close(&ca, "m", m, m_r, n, RTOL_EW);
    check_close(&ca, "v", v, v_r, n, RTOL_EW);
    if (!check_failed(&ca, "adam_update", shape)) {
        o.t = 3;
        report_memory_bound("adam_update", shape, run_adam, &o, 7 * bytes, ca.maxdiff);
    }
    free(p), free(m), free(v), free(g), free(p_r), free(m_r), free(v_r);
}

/* ----------------------------------------------------------- gather_rows */

typedef struct {
    float *dst;
    const float *src;
    const int32_t *perm; /* a permutation of the source rows */
    size_t pos;          /* next window of BATCH indices into perm */
    dnic_status status;
} gather_ctx;

static void run_gather(void *p) {
    gather_ctx *g = (gather_ctx *)p;
    if (g->pos + BATCH > DATA_ROWS) g->pos = 0;
    dnic_status s = dnic_gather_rows(g->dst, g->src, g->perm + g->pos, BATCH, DATA_COLS, DATA_ROWS);
    if (s != DNIC_OK && g->status == DNIC_OK) g->status = s;
    g->pos += BATCH;
    sink += g->dst[0];
}

/* Each call gathers the next 256 indices of a shuffled epoch, so the rows
 * come from a 188 MB source mostly out of cache, as in training. The copy
 * reference reads 256 consecutive rows of the same source, also moving on. */
static void bench_gather(void) {
    const char *name = "gather_rows";
    char shape[64];
    snprintf(shape, sizeof shape, "%dx%d of %dx%d", BATCH, DATA_COLS, DATA_ROWS, DATA_COLS);
    size_t n_src = (size_t)DATA_ROWS * DATA_COLS, n_dst = (size_t)BATCH * DATA_COLS;
    float *src = falloc(n_src), *dst = falloc(n_dst), *dst_r = falloc(n_dst);
    int32_t *perm = (int32_t *)xalloc((size_t)DATA_ROWS * sizeof(int32_t));
    for (size_t i = 0; i < n_src; i++) src[i] = (float)(i % 4099) * (1.0f / 4099.0f);
    for (int i = 0; i < DATA_ROWS; i++) perm[i] = i;
    if (status_failed(dnic_shuffle(perm, DATA_ROWS, &rng_state), name, shape)) goto done;

    dnic_status s = dnic_gather_rows(dst, src, perm, BATCH, DATA_COLS, DATA_ROWS);
    dnic_status sr = dnic_gather_rows_ref(dst_r, src, perm, BATCH, DATA_COLS, DATA_ROWS);
    if (status_failed(s, name, shape) || status_failed(sr, name, shape)) goto done;
    check_t c = {0};
    check_close(&c, "dst", dst, dst_r, n_dst, 0.0);
    if (check_failed(&c, name, shape)) goto done;

    gather_ctx g = {dst, src, perm, 0, DNIC_OK};
    double t = time_median(run_gather, &g);
    if (status_failed(g.status, name, shape)) goto done;
    double traffic = 2.0 * n_dst * sizeof(float) + (double)BATCH * sizeof(int32_t);
    copy_ctx cc;
    memset(&cc, 0, sizeof cc);
    cc.dst = dst_r, cc.src = src, cc.n = n_dst, cc.rows = DATA_ROWS, cc.row_len = DATA_COLS;
    double ref = copy_rate_ctx(&cc);
    print_row(name, shape, t, traffic / t * 1e-9, "GB/s", ref, "cold copy", c.maxdiff);
done:
    free(src), free(dst), free(dst_r), free(perm);
}

/* ------------------------------------------------------------ train step */

#define TRAIN_POOL 8 /* random batches cycled through */

typedef struct {
    dnic_net_t *net;
    const float *x;        /* TRAIN_POOL batches of (BATCH, 784) */
    const int32_t *labels; /* TRAIN_POOL batches of (BATCH) */
    int next;
    dnic_status status;
} train_ctx;

static void run_train_step(void *p) {
    train_ctx *tc = (train_ctx *)p;
    int k = tc->next;
    tc->next = (k + 1) % TRAIN_POOL;
    float loss = 0;
    dnic_status s = dnic_net_train_step(tc->net, tc->x + (size_t)k * BATCH * NET_DIMS[0],
                                        tc->labels + (size_t)k * BATCH, NULL, BATCH, &loss);
    if (s != DNIC_OK && tc->status == DNIC_OK) tc->status = s;
    sink += loss;
}

/* One SGD training step (zero_grad, forward, softmax CE, backward, update)
 * of the 784-256-256-256-10 relu network; its FLOPs are the GEMMs: per
 * layer forward and dW, plus din for every layer but the first. */
static void bench_train_step(void) {
    const char *name = "net_train_step";
    char shape[64];
    snprintf(shape, sizeof shape, "%d-%d-%d-%d-%d B%d", NET_DIMS[0], NET_DIMS[1], NET_DIMS[2],
             NET_DIMS[3], NET_DIMS[4], BATCH);
    dnic_layer_desc layers[NET_LAYERS];
    for (int l = 0; l < NET_LAYERS; l++) {
        layers[l].width = NET_DIMS[l + 1];
        layers[l].act = l + 1 < NET_LAYERS ? DNIC_ACT_RELU : DNIC_ACT_IDENTITY;
        layers[l].batchnorm = 0;
    }
    dnic_net_desc desc;
    dnic_net_desc_defaults(&desc);
    desc.input_dim = NET_DIMS[0];
    desc.n_layers = NET_LAYERS;
    desc.layers = layers;
    desc.loss = DNIC_LOSS_SOFTMAX_CE;
    desc.max_batch = BATCH;

    gemm_shape g[3 * NET_LAYERS];
    int ng = 0;
    for (int l = 0; l < NET_LAYERS; l++) {
        int I = NET_DIMS[l], O = NET_DIMS[l + 1];
        g[ng++] = dense_fwd_gemm(I, O);
        g[ng++] = dense_dw_gemm(I, O);
        if (l > 0) g[ng++] = dense_din_gemm(I, O);
    }
    double flops = gemm_flops(g, ng);

    dnic_net_t *net = NULL;
    if (status_failed(dnic_net_create(&net, &desc, 42), name, shape)) return;
    dnic_optim_config sgd = dnic_optim_default(DNIC_OPT_SGD);
    if (status_failed(dnic_net_set_optimizer(net, 0, &sgd), name, shape)) {
        dnic_net_free(net);
        return;
    }
    size_t nx = (size_t)TRAIN_POOL * BATCH * NET_DIMS[0];
    float *x = falloc(nx);
    int32_t *labels = (int32_t *)xalloc((size_t)TRAIN_POOL * BATCH * sizeof(int32_t));
    fill_uniform(x, nx, 0, 1);
    for (int i = 0; i < TRAIN_POOL * BATCH; i++)
        labels[i] = (int32_t)(dnic_rng_next(&rng_state) % (uint64_t)NET_DIMS[NET_LAYERS]);

    train_ctx tc = {net, x, labels, 0, DNIC_OK};
    double t = time_median(run_train_step, &tc);
    if (!status_failed(tc.status, name, shape)) {
        double ref = sgemm_rate(g, ng);
        char ref_name[32];
        snprintf(ref_name, sizeof ref_name, "sgemm x%d", ng);
        print_row(name, shape, t, flops / t * 1e-9, "GFLOP/s", ref, ref_name, -1);
        printf("%-22s %-8s %-22s %11s %10.0f %-9s  (%d GEMMs, %.1f MFLOP per step)\n", name, row_isa, shape, "",
               BATCH / t, "samples/s", ng, flops * 1e-6);
    }
    dnic_net_free(net);
    free(x), free(labels);
}

/* ------------------------------------------------------ machine load */

/* On a shared 2-core machine another busy process ruins 2-thread timings
 * (threads wait at barriers for a descheduled peer, in 4 ms slices), so
 * each table reports how much CPU others took meanwhile: /proc/stat's busy
 * time (steal included) minus this process's own CPU time. Linux only;
 * elsewhere nothing is printed. */
typedef struct {
    int ok;
    double wall, busy, self; /* seconds */
} load_snap;

static load_snap load_snapshot(void) {
    load_snap s = {0, 0, 0, 0};
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return s;
    int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                     &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    long tck = sysconf(_SC_CLK_TCK);
    struct timespec ts;
    if (got < 8 || tck <= 0 || clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return s;
    /* user nice system idle iowait irq softirq steal */
    s.busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)tck;
    s.self = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    s.wall = now_s();
    s.ok = 1;
    return s;
}

static void print_load(load_snap a) {
    load_snap b = load_snapshot();
    if (!a.ok || !b.ok || b.wall <= a.wall) return;
    double others = ((b.busy - a.busy) - (b.self - a.self)) / (b.wall - a.wall);
    if (others < 0) others = 0;
    printf("load: other processes kept %.2f CPUs busy during this table%s\n", others,
           others > 0.15 ? " -- timings UNRELIABLE, rerun on a quiet machine" : "");
}

/* ================================================================= main */

static const char *blas_source_name(dnic_blas_source s) {
    switch (s) {
    case DNIC_BLAS_OPENBLAS: return "OpenBLAS (dlopen by dnic)";
    case DNIC_BLAS_PRELOADED: return "OpenBLAS (already in the process)";
    case DNIC_BLAS_GENERIC: return "generic CBLAS";
    case DNIC_BLAS_BUILTIN: return "dnic built-in sgemm";
    }
    return "unknown";
}

static void print_blas_info(void) {
    dnic_blas_info_t info;
    memset(&info, 0, sizeof info);
    dnic_status s = dnic_blas_get_info(&info);
    printf("dnic %s, OpenMP %s\n", dnic_version(), dnic_has_openmp() ? "yes" : "no");
    if (s != DNIC_OK) {
        printf("BLAS: dnic_blas_get_info failed: %s\n", dnic_status_str(s));
        return;
    }
    printf("BLAS: %s, library \"%s\", corename \"%s\"\n", blas_source_name(info.source),
           info.library, info.corename);
    printf("      OPENBLAS_CORETYPE env \"%s\", set by dnic \"%s\"%s\n", info.coretype_env,
           info.coretype_set,
           info.coretype_env[0] ? " (preset by the caller: dnic's cpuid choice was skipped)" : "");
    if (info.config[0]) printf("      config \"%s\"\n", info.config);
}


/* -------------------------------------------------------------- interfaces */

typedef struct {
    dnic_iface_t *it;
    const float *h, *g;
    const int32_t *labels;
    float *signal;
    int B;
} iface_ctx;

/* One step's interface work: target, prediction, loss, backward, signal, update. */
static void run_iface(void *p) {
    iface_ctx *c = (iface_ctx *)p;
    dnic_iface_zero_grad(c->it);
    dnic_iface_set_target(c->it, c->g, c->B);
    dnic_iface_forward(c->it, c->h, c->labels, NULL, c->B);
    float loss;
    dnic_iface_loss_value(c->it, c->B, &loss);
    dnic_iface_backward(c->it, c->B);
    dnic_iface_write_signal(c->it, c->signal, c->B);
    dnic_iface_update(c->it);
    sink += c->signal[0];
}

static void bench_interfaces(void) {
    enum { B = 256, DH = 256, K = 10 };
    float *h = falloc((size_t)B * DH), *g = falloc((size_t)B * DH), *sig = falloc((size_t)B * DH);
    float *want = falloc((size_t)B * DH);
    int32_t labels[B];
    fill_uniform(h, (size_t)B * DH, 0.0f, 1.0f);
    fill_uniform(g, (size_t)B * DH, -1e-3f, 1e-3f);
    for (int i = 0; i < B; i++) labels[i] = i % K;
    const int mlp_widths[1] = {256};
    struct {
        const char *name;
        dnic_iface_kind kind;
        dnic_iface_target target;
        dnic_iface_loss loss;
        dnic_iface_signal signal;
        int dout;
    } kinds[] = {
        {"iface linear (cDNI)", DNIC_IFACE_LINEAR, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, DH},
        {"iface nolabel", DNIC_IFACE_NOLABEL, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, DH},
        {"iface sigmoid", DNIC_IFACE_SIGMOID, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, DH},
        {"iface mlp 1x256", DNIC_IFACE_MLP, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, DH},
        {"iface sgprop linear", DNIC_IFACE_LINEAR, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED_PROP, DH},
        {"iface identity", DNIC_IFACE_IDENTITY, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, DH},
        {"iface random (DFA)", DNIC_IFACE_RANDOM, DNIC_TARGET_OUTPUT_ERROR, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, K},
        {"iface ones (Kickback)", DNIC_IFACE_ONES, DNIC_TARGET_OUTPUT_ERROR, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, K},
    };
    for (size_t q = 0; q < sizeof kinds / sizeof kinds[0]; q++) {
        dnic_iface_desc d;
        dnic_iface_desc_defaults(&d, 0);
        d.kind = kinds[q].kind;
        d.target = kinds[q].target;
        d.loss = kinds[q].loss;
        d.signal = kinds[q].signal;
        d.alpha = 0.1f;
        d.mlp_layers = kinds[q].kind == DNIC_IFACE_MLP ? 1 : 0;
        d.mlp_widths = mlp_widths;
        dnic_iface_t *it = NULL;
        char shape[64];
        snprintf(shape, sizeof shape, "B%d h%d s%d", B, DH, kinds[q].dout);
        if (status_failed(dnic_iface_create(&it, &d, DH, kinds[q].dout, K, B, 0.1f, 3), kinds[q].name, shape)) continue;
        /* random parameters so the work is real, then the prediction of the
         * linear kinds against a plain loop: s = hA + C (+ B[y]) */
        size_t np;
        float *P = dnic_iface_params(it, &np);
        if (kinds[q].kind != DNIC_IFACE_ONES) fill_uniform(P, np, -0.05f, 0.05f);
        iface_ctx ctx = {it, h, g, labels, sig, B};
        double maxdiff = -1;
        if (kinds[q].kind == DNIC_IFACE_LINEAR || kinds[q].kind == DNIC_IFACE_NOLABEL ||
            kinds[q].kind == DNIC_IFACE_RANDOM || kinds[q].kind == DNIC_IFACE_ONES) {
            dnic_iface_set_target(it, g, B);
            dnic_iface_forward(it, h, labels, NULL, B);
            int dout = kinds[q].dout;
            dnic_tensor_info tA, tB, tC;
            int nt = dnic_iface_num_tensors(it);
            dnic_iface_tensor(it, 0, &tA);
            for (int r = 0; r < B; r++)
                for (int o = 0; o < dout; o++) {
                    double v = 0;
                    for (int k = 0; k < DH; k++) v += (double)h[(size_t)r * DH + k] * P[tA.offset + (size_t)k * dout + o];
                    if (nt == 3) { dnic_iface_tensor(it, 1, &tB); v += P[tB.offset + (size_t)labels[r] * dout + o]; }
                    if (nt >= 2) { dnic_iface_tensor(it, nt - 1, &tC); v += P[tC.offset + o]; }
                    want[(size_t)r * dout + o] = (float)v;
                }
            check_t chk = {0};
            check_close(&chk, kinds[q].name, dnic_iface_prediction(it), want, (size_t)B * dout, 1e-4);
            if (check_failed(&chk, kinds[q].name, shape)) { dnic_iface_free(it); continue; }
            maxdiff = chk.maxdiff;
        }
        double sec = time_median(run_iface, &ctx);
        /* the GEMMs this interface's step performs, run by sgemm alone */
        gemm_shape shapes[6];
        int ns = 0;
        int dout = kinds[q].dout;
        if (kinds[q].kind == DNIC_IFACE_IDENTITY) {
            double traffic = 4.0 * B * DH * 4; /* copy h, delta, signal: read + write */
            print_row(kinds[q].name, shape, sec, traffic / sec * 1e-9, "GB/s", copy_rate((size_t)traffic), "copy", maxdiff);
        } else {
            shapes[ns++] = (gemm_shape){0, 0, B, dout, DH, 0.0f};                       /* prediction */
            if (kinds[q].kind != DNIC_IFACE_RANDOM && kinds[q].kind != DNIC_IFACE_ONES)
                shapes[ns++] = (gemm_shape){1, 0, DH, dout, B, 1.0f};                   /* dA */
            if (kinds[q].signal != DNIC_SIGNAL_PRED) shapes[ns++] = (gemm_shape){0, 1, B, DH, dout, 0.0f}; /* dL/dh */
            if (kinds[q].kind == DNIC_IFACE_MLP) { /* two layers of [h, y] -> 256 -> 256 */
                ns = 0;
                shapes[ns++] = (gemm_shape){0, 0, B, 256, DH + K, 0.0f};
                shapes[ns++] = (gemm_shape){0, 0, B, DH, 256, 0.0f};
                shapes[ns++] = (gemm_shape){1, 0, 256, DH, B, 1.0f};
                shapes[ns++] = (gemm_shape){1, 0, DH + K, 256, B, 1.0f};
                shapes[ns++] = (gemm_shape){0, 1, B, 256, DH, 0.0f};
                shapes[ns++] = (gemm_shape){0, 1, B, DH + K, 256, 0.0f};
            }
            double flops = gemm_flops(shapes, ns);
            print_row(kinds[q].name, shape, sec, flops / sec * 1e-9, "GFLOP/s", sgemm_rate(shapes, ns), "sgemm", maxdiff);
        }
        dnic_iface_free(it);
    }
    free(h); free(g); free(sig); free(want);
}

static void run_table(int threads) {
    dnic_status s = dnic_set_num_threads(threads);
    if (s != DNIC_OK) {
        printf("dnic_set_num_threads(%d): %s\n", threads, dnic_status_str(s));
        n_failed++;
        return;
    }
    dnic_blas_info_t info;
    memset(&info, 0, sizeof info);
    dnic_blas_get_info(&info);
    printf("\n== threads %d (dnic loops %d, BLAS %d) ==\n", threads, dnic_get_num_threads(),
           info.threads);
    print_header();
    load_snap load = load_snapshot();
    bench_sgemm();
    bench_dense_forward();
    bench_dense_backward();
    /* dnic's element-wise kernels, and a whole training step, at each
     * instruction-set level (lower ones forced): the rows of one family
     * at baseline, then avx2, then avx512 */
    void (*per_isa[])(void) = {bench_activations, bench_fused, bench_batchnorm, bench_losses, bench_optimizers,
                               bench_train_step};
    dnic_isa_info_t isa;
    dnic_isa_get_info(&isa);
    for (size_t f = 0; f < sizeof per_isa / sizeof per_isa[0]; f++)
        for (int l = DNIC_ISA_BASELINE; l <= (int)isa.cpu; l++) {
            if (isa_only >= 0 && l != isa_only) continue;
            dnic_set_isa_limit(l);
            row_isa = dnic_isa_name((dnic_isa)l);
            per_isa[f]();
        }
    dnic_set_isa_limit(isa_only >= 0 ? isa_only : (int)isa.limit);
    row_isa = "-"; /* glibc's memcpy picks its own instructions */
    bench_gather();
    row_isa = dnic_isa_name(dnic_get_isa());
    bench_interfaces();
    row_isa = "-";
    print_load(load);
}

static void usage(FILE *f) {
    fprintf(f, "usage: bench_kernels [--threads N] [--isa LEVEL] [--quick]\n"
               "  --threads N  run the table at N threads only (default: 1, then 2)\n"
               "  --isa LEVEL  dnic's element-wise kernels at baseline, avx2 or avx512 only\n"
               "               (default: every level the CPU runs)\n"
               "  --quick      shorter and fewer timings\n");
}

int main(int argc, char **argv) {
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            opt.min_timing = 0.010;
            opt.n_timings = 5;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1024) {
                fprintf(stderr, "bench_kernels: --threads needs an integer >= 1\n");
                return 2;
            }
            threads = (int)v;
        } else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            dnic_isa level;
            if (dnic_isa_from_name(argv[++i], &level) != DNIC_OK) {
                fprintf(stderr, "bench_kernels: --isa needs baseline, avx2 or avx512\n");
                return 2;
            }
            isa_only = (int)level;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    gemm_a = falloc(GEMM_BUF_FLOATS);
    gemm_b = falloc(GEMM_BUF_FLOATS);
    gemm_c = falloc(GEMM_BUF_FLOATS);
    memset(gemm_c, 0, GEMM_BUF_FLOATS * sizeof(float));

    print_blas_info();
    dnic_isa_info_t isa;
    dnic_isa_get_info(&isa);
    printf("dnic element-wise kernels: CPU level %s, cap %s (%s)\n", dnic_isa_name(isa.cpu),
           dnic_isa_name(isa.limit), isa.reason);
    if (isa_only > (int)isa.cpu)
        printf("--isa %s: this CPU does not run it; those rows are skipped\n", dnic_isa_name((dnic_isa)isa_only));
    printf("timing: median of %d timings, each >= %.0f ms; GFLOP/s counts 2MNK per GEMM,\n"
           "GB/s counts bytes read + written; ratio = rate / ref_rate (see the file head)\n",
           opt.n_timings, opt.min_timing * 1e3);
    if (threads) {
        run_table(threads);
    } else {
        run_table(1);
        run_table(2);
    }
    free(gemm_a), free(gemm_b), free(gemm_c);
    if (n_failed) printf("\n%d row(s) failed (MISMATCH or ERROR)\n", n_failed);
    return n_failed ? 1 : 0;
}
