/* mpi_async.h — the async schedule over MPI ranks (mpi_async.c) as
 * attaching and serving (mpi_transport.c) reach it; mpi_async.c itself
 * uses only the link (mpi_link.h). Not part of the public API. */
#ifndef DNIC_MPI_ASYNC_H
#define DNIC_MPI_ASYNC_H

#include "mpi_link.h"

/* The transports of rank 0 (it feeds block 0 and drains) and of the others. */
extern const struct pipe_transport mpi__async_root, mpi__async_rank;
/* At attach: this rank's queues, receives posted. */
dnic_status mpi__async_setup(dnic_pipe_t *p, mpi_link *L);
/* Ranks > 0: runs this rank's block until rank 0 says stop. */
dnic_status mpi__async_serve(dnic_pipe_t *p, mpi_link *L);

#endif
