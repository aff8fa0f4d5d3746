/* bench.h — what the parts of bench_kernels share: the shapes, the run's
 * state, timing, checking a kernel against its _ref twin, the output rows,
 * and the references every rate is divided by (dnic_sgemm on the same
 * shapes, a streaming copy of the same traffic). bench_kernels.c holds the
 * program's description and its main; each family of kernels has a file
 * here (gemm_dense.c, elementwise.c, loss_optim.c, training.c), the shared
 * code is common.c.
 */
#ifndef DNIC_BENCH_H
#define DNIC_BENCH_H

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

extern struct bench_options {
    double min_timing; /* seconds one timing must at least last */
    int n_timings;     /* timings per measurement; the median is reported */
} opt;

extern volatile double sink; /* every timed call folds a result in here */
/* the instruction-set level of dnic's element-wise kernels in the rows
 * being printed ("-": the row times GEMMs or memcpy only) */
extern const char *row_isa;
extern int isa_only; /* --isa: that level only; -1: every level the CPU runs */
extern int n_failed; /* mismatches and error statuses: exit code */

/* Operand buffers for the reference GEMMs: big enough for 1024^3. */
#define GEMM_BUF_FLOATS ((size_t)1024 * 1024)
extern float *gemm_a, *gemm_b, *gemm_c;

/* ---------------------------------------------------------------- common.c */

void *xalloc(size_t bytes);
float *falloc(size_t n);
/* The run's own rng (dnic_rng_* state), and x[i] ~ U[lo, hi) from it. */
extern uint64_t rng_state;
void fill_uniform(float *x, size_t n, float lo, float hi);
double now_s(void);

typedef void (*bench_fn)(void *ctx);
/* Median seconds of one call of fn(ctx) (see common.c). */
double time_median(bench_fn fn, void *ctx);

/* Fast kernel vs its _ref twin, over one or more output arrays. An array
 * passes when max |got - want| <= rtol * max |want| (rtol 0: exact). */
typedef struct {
    double maxdiff;  /* over all arrays compared */
    const char *bad; /* first array that failed, or NULL */
    double bad_diff, bad_tol;
} check_t;
void check_close(check_t *c, const char *what, const float *got, const float *want, size_t n, double rtol);
/* Prints the MISMATCH row and returns 1 if the check failed. */
int check_failed(const check_t *c, const char *kernel, const char *shape);
/* Prints the ERROR row and returns 1 unless s is DNIC_OK. */
int status_failed(dnic_status s, const char *kernel, const char *shape);

/* Tolerances: GEMM-based and reductions over the batch, vs element-wise. */
#define RTOL_GEMM 1e-4
#define RTOL_EW 1e-5

void print_header(void);
/* maxdiff < 0: not checked. */
void print_row(const char *kernel, const char *shape, double sec, double rate, const char *unit, double ref_rate,
               const char *ref_name, double maxdiff);

typedef struct {
    int ta, tb, M, N, K; /* op(A) (M,K), op(B) (K,N), C (M,N) */
    float beta;
} gemm_shape;
double gemm_flops(const gemm_shape *s, int n);
void sgemm_shape(const gemm_shape *s, const float *A, const float *B, float *C, int ref);
/* GFLOP/s of dnic_sgemm running these shapes back to back. */
double sgemm_rate(const gemm_shape *shapes, int n);
/* The three GEMMs of dense layer (I -> O) at batch B: forward out = in W,
 * din = dout W^T, dW = in^T dout (backward ones accumulate: beta 1). */
gemm_shape dense_fwd_gemm(int I, int O);
gemm_shape dense_din_gemm(int I, int O);
gemm_shape dense_dw_gemm(int I, int O);

int bench_threads(void);
typedef struct {
    float *dst;
    const float *src;  /* hot source; or the base of a cold one when rows > 0 */
    size_t n;          /* floats per copy */
    size_t rows, row_len, pos; /* cold source: (rows, row_len), moving window */
    int threads;
} copy_ctx;
/* GB/s (read + write) of the faster of a 1-thread and an all-threads copy. */
double copy_rate_ctx(copy_ctx *c);
/* Streaming copy moving `traffic` bytes (read + write) between hot buffers. */
double copy_rate(size_t traffic);
/* Times a memory-bound kernel moving `traffic` bytes per call and prints
 * its row against the streaming copy. */
void report_memory_bound(const char *kernel, const char *shape, bench_fn fn, void *ctx, double traffic,
                         double maxdiff);

/* ---------------------------------------------------------------- families */

/* gemm_dense.c */
void bench_sgemm(void);
void bench_dense_forward(void);
void bench_dense_backward(void);
/* elementwise.c */
void bench_activations(void);
void bench_fused(void);
void bench_batchnorm(void);
/* loss_optim.c */
void bench_losses(void);
void bench_optimizers(void);
void bench_gather(void);
/* training.c */
void bench_train_step(void);
void bench_interfaces(void);
void bench_locked_sg(void);

#endif
