/* internal.h — what every file of the core includes; not installed: the
 * public API (dnic.h), the OpenMP runtime's declarations, the sizes every
 * floor checks against. Each floor's own internal calls are declared in
 * its folder (gemm/backends.h, gemm/threads.h, kernels/kernels_internal.h,
 * train/train_internal.h, train/pipe_internal.h).
 *
 * The OpenMP include guard lets both gcc (libgomp, has omp.h) and Swift's
 * clang (no omp.h, links libomp5) compile the same sources.
 */
#ifndef DNIC_INTERNAL_H
#define DNIC_INTERNAL_H

#include "dnic.h"

/* Exported from libdnic.so for libdnic_mpi alone (not API: see pipe_internal.h). */
#define DNIC_INTERNAL_API DNIC_API

#include <math.h>

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
int omp_in_parallel(void);
#  endif
#endif

/* OpenMP's thread count for the next parallel region (1 without OpenMP):
 * what dnic_get_num_threads reports, and what a GEMM backend starts from
 * until dnic_set_num_threads (gemm/threads.c) pushes it a count. */
static inline int dnic__omp_max_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* Element-wise loops shorter than this run on one thread: a parallel
 * region costs about a microsecond, more than 8k float operations. */
#define DNIC_PAR_MIN 8192

/* Sets this thread's dnic_last_error() detail (printf-style, truncated to
 * DNIC_LAST_ERROR_MAX; no allocation) and returns `status`, so a failure
 * site reads: return dnic__fail(DNIC_ERR_ARG, "dnic_x: y = %d ...", y);
 * Messages start with the public function's name (base/last_error.c). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
dnic_status dnic__fail(dnic_status status, const char *fmt, ...);
/* How many details this thread has set: a caller passing on a status from
 * code that may not set one (a transport) compares it before and after. */
unsigned long dnic__failures(void);

/* Largest sizes accepted anywhere: keeps size arithmetic far from overflow. */
#define DNIC_MAX_DIM (1 << 24)

#endif
