/* threads.h — what threads.c offers the kernels beyond the API: how many
 * threads should share an element-wise pass. Not installed. */
#ifndef DNIC_GEMM_THREADS_H
#define DNIC_GEMM_THREADS_H

#include "base/internal.h"

/* How many threads should share an element-wise pass of `work` units, at
 * least `min_per_thread` each: 1 means call the kernel directly, with no
 * parallel region at all (even an if(0) region costs ~0.4 us in libgomp);
 * always 1 inside a parallel region. */
int dnic__par_threads(size_t work, size_t min_per_thread);
/* 1 inside an OpenMP parallel region. A pass written with orphaned
 * worksharing (omp for / single) that runs alone must then open a team of
 * its own, or its constructs would bind to the caller's team. */
int dnic__in_parallel(void);

#endif
