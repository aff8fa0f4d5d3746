/* dnic_mpi.h — the pipeline schedule's blocks as MPI ranks (optional:
 * libdnic_mpi, built where Open MPI's mpicc / mpi.h are present; libdnic
 * itself never includes mpi.h).
 *
 * Every rank builds the same pipeline (same network, interfaces, seeds and
 * settings: dnic_pipe_create) and attaches it; rank s then runs block s.
 * Block s sends its activations and the batch's labels up and the gradient
 * at its input down with MPI_Isend, one message per neighbour per tick,
 * received with MPI_Irecv posted a tick ahead, so the transfer overlaps
 * the neighbours' compute. The schedule is the in-process pipeline's own
 * (the same block operations in the same ticks), so parameters are bit for
 * bit those of dnic_pipe_tick in one process with the same blocks, seeds
 * and thread count per block.
 *
 * Rank 0 drives: dnic_pipe_tick / dnic_pipe_tick_rows / dnic_pipe_flush on
 * the attached pipeline feed block 0 and tick every rank (the other ranks
 * sit in dnic_mpi_serve); its loss is the top block's, its pending status
 * every block's. dnic_pipe_sync_to_net gathers every block's parameters,
 * optimizer moments, counters and batches in flight into rank 0's copy of
 * the network (for evaluation and checkpoints: dnic_pipe_export_inflight
 * then works as in-process). dnic_pipe_free on rank 0 stops the others.
 * To resume, give every rank the checkpoint (dnic_mpi_broadcast moves its
 * bytes), import it into each rank's pipeline, then attach.
 *
 * No call waits forever: every wait gives up after the attach timeout and
 * returns DNIC_ERR_PEER (dnic_mpi_failure says which rank and why); so
 * does an MPI error (a rank that died). The library never prints and
 * never aborts: the caller reports and calls dnic_mpi_abort. */
#ifndef DNIC_MPI_H
#define DNIC_MPI_H

#include "dnic.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MPI_Init_thread (funneled: only the calling thread calls MPI; OpenMP
 * threads inside a block do not), with errors returned rather than fatal.
 * argc/argv may be NULL. Already initialised: DNIC_OK. */
DNIC_API dnic_status dnic_mpi_init(int *argc, char ***argv);
DNIC_API int dnic_mpi_initialized(void);
/* This process's rank and the number of ranks in MPI_COMM_WORLD (0 and 1
 * before dnic_mpi_init). */
DNIC_API int dnic_mpi_rank(void);
DNIC_API int dnic_mpi_size(void);
/* MPI_Finalize (after every attached pipeline is freed). */
DNIC_API dnic_status dnic_mpi_finalize(void);
/* MPI_Abort(MPI_COMM_WORLD, code): ends every rank. Does not return. */
DNIC_API void dnic_mpi_abort(int code);
/* Linux: the kernel sends this process `sig` the moment its parent, the
 * process that started it (mpirun, or Open MPI's daemon on another host),
 * ends, so a rank never outlives its job: with SIGKILL it ends before
 * mpirun's own parent (the shell) sees mpirun gone. Needs no MPI: call it
 * first, before dnic_mpi_init. A parent that ended during the call:
 * DNIC_ERR_STATE (the caller should end; one that ended before cannot be
 * told from a live one); a bad signal number: DNIC_ERR_ARG; other
 * systems: DNIC_ERR_UNAVAILABLE. */
DNIC_API dnic_status dnic_mpi_end_with_launcher(int sig);

/* Collective: rank 0's n bytes at *data to every rank. Other ranks get a
 * new buffer in *data (free() it) and its size in *n. Waits at most
 * timeout_seconds (DNIC_ERR_PEER). */
DNIC_API dnic_status dnic_mpi_broadcast(void **data, size_t *n, double timeout_seconds);

/* Collective: binds pipeline p (dnic_pipe_create, not async, no ORACLE
 * interface) to the ranks. Every rank must give the same fingerprint (the
 * caller's digest of its settings) and a pipeline of the same shape, tick
 * and batch count; ranks must number the blocks (size == blocks).
 * Otherwise DNIC_ERR_ARG (wrong rank count, a schedule MPI cannot run) or
 * DNIC_ERR_PEER (the ranks disagree), on every rank alike.
 * timeout_seconds (> 0) bounds every later wait. */
DNIC_API dnic_status dnic_mpi_attach(dnic_pipe_t *p, uint64_t fingerprint, double timeout_seconds);
/* Rank 0: gathers every block into this process's pipeline and stops
 * the other ranks (their dnic_mpi_serve returns DNIC_OK); the pipeline
 * goes on in-process. Other ranks (after serving): unbinds. Not attached:
 * DNIC_ERR_STATE. dnic_pipe_free does the same without the gather. */
DNIC_API dnic_status dnic_mpi_detach(dnic_pipe_t *p);
/* Ranks > 0: run this rank's block as rank 0 says, until rank 0 frees its
 * pipeline (DNIC_OK) or a failure (a status of this block's own, e.g.
 * DNIC_ERR_NONFINITE, is reported to rank 0 and serving goes on). */
DNIC_API dnic_status dnic_mpi_serve(dnic_pipe_t *p);
/* After DNIC_ERR_PEER (or an attach refusal): one line saying which rank
 * and what went wrong, e.g. "rank 1 (block 1) sent nothing for 30 s". */
DNIC_API const char *dnic_mpi_failure(void);
/* The rank whose block failed at the last tick (rank 0 after
 * dnic_pipe_tick returned an error); -1 if none. */
DNIC_API int dnic_mpi_failed_rank(void);

#ifdef __cplusplus
}
#endif
#endif
