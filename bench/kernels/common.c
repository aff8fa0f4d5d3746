/* common.c — what the parts of bench_kernels share (bench.h): the run's
 * state, timing, checking against _ref twins, the output rows and the
 * references (dnic_sgemm on the same shapes, a streaming copy). */
#include "bench.h"

struct bench_options opt = {0.025, 9};
volatile double sink;
const char *row_isa = "-";
int isa_only = -1;
int n_failed;
float *gemm_a, *gemm_b, *gemm_c;

/* --------------------------------------------------------------- helpers */

void *xalloc(size_t bytes) {
    void *p = NULL;
    if (bytes == 0) bytes = 64;
    if (posix_memalign(&p, 64, bytes) != 0 || !p) {
        fprintf(stderr, "bench_kernels: out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}
float *falloc(size_t n) { return (float *)xalloc(n * sizeof(float)); }

uint64_t rng_state = 0x5eed;
/* x[i] ~ U[lo, hi). */
void fill_uniform(float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * dnic_rng_uniform(&rng_state);
}

double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------------------- timing */

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
double time_median(bench_fn fn, void *ctx) {
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

void check_close(check_t *c, const char *what, const float *got, const float *want,
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
int check_failed(const check_t *c, const char *kernel, const char *shape) {
    if (!c->bad) return 0;
    printf("%-22s %-8s %-22s MISMATCH: %s max abs diff %.3g > tolerance %.3g\n", kernel, row_isa, shape,
           c->bad, c->bad_diff, c->bad_tol);
    n_failed++;
    return 1;
}

int status_failed(dnic_status s, const char *kernel, const char *shape) {
    if (s == DNIC_OK) return 0;
    printf("%-22s %-8s %-22s ERROR: %s\n", kernel, row_isa, shape, dnic_status_str(s));
    n_failed++;
    return 1;
}

/* Tolerances: GEMM-based and reductions over the batch, vs element-wise. */
#define RTOL_GEMM 1e-4
#define RTOL_EW 1e-5

/* ---------------------------------------------------------------- output */

void print_header(void) {
    printf("%-22s %-8s %-22s %11s %10s %-9s %10s %6s  %-10s %9s\n", "kernel", "isa", "shape", "time_us",
           "rate", "unit", "ref_rate", "ratio", "reference", "maxdiff");
}

/* maxdiff < 0: not checked. */
void print_row(const char *kernel, const char *shape, double sec, double rate,
               const char *unit, double ref_rate, const char *ref_name, double maxdiff) {
    char md[32];
    if (maxdiff < 0) snprintf(md, sizeof md, "-");
    else snprintf(md, sizeof md, "%.2e", maxdiff);
    printf("%-22s %-8s %-22s %11.1f %10.2f %-9s %10.2f %6.2f  %-10s %9s\n", kernel, row_isa, shape, sec * 1e6,
           rate, unit, ref_rate, ref_rate > 0 ? rate / ref_rate : 0.0, ref_name, md);
    fflush(stdout);
}

/* ------------------------------------------------------ reference: sgemm */

double gemm_flops(const gemm_shape *s, int n) {
    double f = 0;
    for (int i = 0; i < n; i++) f += 2.0 * s[i].M * s[i].N * s[i].K;
    return f;
}

void sgemm_shape(const gemm_shape *s, const float *A, const float *B, float *C,
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
double sgemm_rate(const gemm_shape *shapes, int n) {
    gemm_ctx g = {shapes, n};
    return gemm_flops(shapes, n) / time_median(run_gemms, &g) * 1e-9;
}

/* ------------------------------------------------- reference: stream copy */

int bench_threads(void) { return dnic_get_num_threads(); }

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
double copy_rate_ctx(copy_ctx *c) {
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
double copy_rate(size_t traffic) {
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
void report_memory_bound(const char *kernel, const char *shape, bench_fn fn, void *ctx,
                         double traffic, double maxdiff) {
    double t = time_median(fn, ctx);
    double ref = copy_rate((size_t)traffic);
    print_row(kernel, shape, t, traffic / t * 1e-9, "GB/s", ref, "copy", maxdiff);
}

/* The three GEMMs of dense layer (I -> O) at batch B: forward out = in W,
 * din = dout W^T, dW = in^T dout (backward ones accumulate: beta 1). */
gemm_shape dense_fwd_gemm(int I, int O) {
    gemm_shape s = {0, 0, BATCH, O, I, 0.0f};
    return s;
}
gemm_shape dense_din_gemm(int I, int O) {
    gemm_shape s = {0, 1, BATCH, I, O, 1.0f};
    return s;
}
gemm_shape dense_dw_gemm(int I, int O) {
    gemm_shape s = {1, 0, I, O, BATCH, 1.0f};
    return s;
}

