/* internal.h — helpers shared by the core's .c files; not installed.
 *
 * The OpenMP include guard lets both gcc (libgomp, has omp.h) and Swift's
 * clang (no omp.h, links libomp5) compile the same sources.
 */
#ifndef DNIC_INTERNAL_H
#define DNIC_INTERNAL_H

#include "dnic.h"

#ifdef _OPENMP
#  if defined(__has_include)
#    if __has_include(<omp.h>)
#      include <omp.h>
#      define DNIC_HAVE_OMP_H 1
#    endif
#  else
#    include <omp.h>
#    define DNIC_HAVE_OMP_H 1
#  endif
#  ifndef DNIC_HAVE_OMP_H
int omp_get_max_threads(void);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
void omp_set_num_threads(int);
#  endif
#endif

/* Element-wise loops shorter than this run on one thread: a parallel
 * region costs about a microsecond, more than 8k float operations. */
#define DNIC_PAR_MIN 8192

/* Largest sizes accepted anywhere: keeps size arithmetic far from overflow. */
#define DNIC_MAX_DIM (1 << 24)

/* net.c: fills one parameter-table entry (name, place in the block, shape, flags) */
void dnic__tensor_info_set(dnic_tensor_info *t, const char *name, size_t offset, int rows, int cols,
                           int trainable, int decay, int group);

/* finite.c: 1 if every value is finite; sum of squares in double; x *= s */
int dnic__all_finite(const float *x, size_t n);
double dnic__sum_squares(const float *x, size_t n);
void dnic__scale(float *x, size_t n, float s);

/* net.c: zero_grad deferred to the next backward through each layer; only
 * for code that runs backward and update before anyone reads gradients */
void dnic__net_zero_grad_lazy(dnic_net_t *n);

/* optim.c: one update of n values, finiteness checked in the same pass */
int dnic__update_checked(const dnic_optim_config *c, float *p, float *m, float *v, const float *g, size_t n,
                         float l2, int64_t t);

/* optim.c: one optimizer step over a tensor table (net and interfaces) */
int dnic__update_tensors(const dnic_tensor_info *tensors, int n_tensors, float *params, float *grads,
                         float *optim, size_t n_params, const dnic_optim_config *opt, int n_groups,
                         float clip, int64_t step, float *norm_out, int *grad_was_bad);

/* activation.c fused kernels (see there) */
void dnic__bias_act_forward(dnic_activation act, float *h, const float *b, int B, int C);
void dnic__act_backward_colsum(dnic_activation act, float *gz, float *db, const float *gh, const float *h,
                               int B, int C);

/* blas.c: OpenBLAS (or a CBLAS) as a GEMM backend. _load returns 1 when a
 * cblas_sgemm is available; the thread setter is a no-op without one. */
void dnic__blas_set_threads(int n);
int dnic__openblas_load(void);
void dnic__openblas_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc);
int dnic__openblas_threads(void);

/* onednn.c: oneDNN as a GEMM backend; _load returns 1 once dnnl_sgemm is
 * bound (else _error says why), _sgemm returns 0 on success. */
int dnic__onednn_load(void);
int dnic__onednn_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc);
void dnic__onednn_set_threads(int n);
int dnic__onednn_loaded(void);
const char *dnic__onednn_library(void);
const char *dnic__onednn_version(void);
const char *dnic__onednn_isa(void);
const char *dnic__onednn_error(void);

/* gemm.c: tells the GEMM backends dnic's thread count */
void dnic__gemm_set_threads(int n);

#endif
