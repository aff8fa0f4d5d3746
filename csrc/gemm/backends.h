/* backends.h — the GEMM backends as gemm.c drives them (blas.c, onednn.c),
 * the thread count threads.c pushes down through gemm.c, and the
 * double-precision routines ridge.c borrows from the loaded BLAS.
 * Not installed. */
#ifndef DNIC_GEMM_BACKENDS_H
#define DNIC_GEMM_BACKENDS_H

#include "base/internal.h"

/* ---- gemm.c */

/* The count dnic_set_num_threads pushes down to every backend. */
void dnic__gemm_set_threads(int n);

/* ---- blas.c, onednn.c: the backends */

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

/* blas.c: double-precision routines of the BLAS library dnic loaded, for
 * ridge.c (Fortran interfaces: column-major, every argument by pointer,
 * then the hidden lengths of the character arguments). 0 without them. */
typedef void (*dnic__dsyrk_fn)(const char *uplo, const char *trans, const int *n, const int *k, const double *alpha,
                               const double *a, const int *lda, const double *beta, double *c, const int *ldc,
                               size_t uplo_len, size_t trans_len);
typedef void (*dnic__dposv_fn)(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b,
                               const int *ldb, int *info, size_t uplo_len);
int dnic__lapack_routines(dnic__dsyrk_fn *dsyrk, dnic__dposv_fn *dposv);

#endif
