/* mpi_link.h — what the MPI transports share (mpi_transport.c: the
 * pipeline's lockstep ticks; mpi_async.c: async, free-running ranks): the
 * link between this rank and the others, message tags, and (mpi_link.c)
 * the waits that never block forever, rank 0's commands and gathering,
 * and binding a pipeline to the link. Not part of the public API. */
#ifndef DNIC_MPI_LINK_H
#define DNIC_MPI_LINK_H

#include "train/pipe_internal.h"

#include <mpi.h>

enum { TAG_CMD = 101, TAG_UP, TAG_DOWN, TAG_STATUS, TAG_STATE, TAG_COMPLAINT };
enum { COMPLAINT_CHARS = 256 };
enum { CMD_TICK = 1, CMD_GATHER = 2, CMD_STOP = 3 };
enum { HEADER_INTS = 4, ATTACH_INTS = 7, ATTACH_MAGIC = 0x444E4D50 };

typedef struct {
    int32_t status, sent_messages, finished, fault_tensor, fault_grad, fault_iface;
    float loss, iface_loss;
    double busy;
} rank_status;

typedef struct {
    MPI_Comm comm;
    int rank, size;
    double timeout;
    int primed;          /* no tick since attach: inputs are in the local state */
    int any_pending;     /* rank 0: a message was sent at the last tick */
    /* by parity of the tick a message was sent at */
    unsigned char *rx_up[2], *rx_down[2], *tx_up[2], *tx_down[2];
    MPI_Request rq_up[2], rq_down[2], sq_up[2], sq_down[2];
    size_t up_bytes, down_bytes; /* largest message from below / from above */
    size_t tx_up_bytes, tx_down_bytes;
    /* rank 0: a command and a status slot per rank; others: their own */
    int32_t *cmd;
    rank_status *status;
    MPI_Request *rq_cmd, *rq_status;
    unsigned char *state; /* a piece of one block's state (PIPE_STATE_PIECE bytes at most) */
    size_t state_bytes;
    /* a rank > 0 that gave up on a neighbour tells rank 0 why (its
     * complaint names the rank at fault, where rank 0 would only see the
     * rank stuck waiting for it); rank 0 listens all along */
    char complaint[COMPLAINT_CHARS];
    MPI_Request rq_complaint;
    struct async_link *async; /* the async schedule's queues (NULL: pipeline) */
} mpi_link;

typedef struct async_link async_link; /* mpi_async.c */

/* The largest message block s sends up (header, labels, h) and down
 * (header, the gradient at its input). */
static inline size_t mpi__up_bytes(const dnic_pipe_t *p, int s) {
    return HEADER_INTS * sizeof(int32_t) + (size_t)p->max_batch * sizeof(int32_t) +
           (size_t)p->max_batch * (size_t)p->blocks[s].top_dim * sizeof(float);
}

static inline size_t mpi__down_bytes(const dnic_pipe_t *p, int s) {
    return HEADER_INTS * sizeof(int32_t) + (size_t)p->max_batch * (size_t)p->blocks[s].in_dim * sizeof(float);
}

/* ---- mpi_link.c ---- */

/* One line for dnic_mpi_failure (printf-style; "%s", "" clears it). */
void mpi__fail(const char *fmt, ...);
/* Seconds as a person writes them (0.2, 2.3, 120, 182; never "0"), into out. */
const char *mpi__seconds(char out[32], double seconds);
void mpi__pause(double seconds);
/* Between polls, after `waited` seconds of waiting: yield, then sleep. */
void mpi__backoff(double waited);
/* Waits for n requests at most `timeout` s (DNIC_ERR_PEER naming `peer`);
 * with L given (rank 0), a complaint from another rank ends it first. */
dnic_status mpi__wait(double timeout, int n, MPI_Request *rq, int peer, const char *what, mpi_link *L);
/* A wait of a running schedule: rank 0 longer, hearing complaints. */
dnic_status mpi__link_wait(mpi_link *L, MPI_Request *rq, int peer, const char *what);
/* Ends a request before its buffer goes; 0 if it would not (leak it). */
int mpi__retire(MPI_Request *rq);
/* Rank 0: one command to every other rank. */
dnic_status mpi__send_command(mpi_link *L, int cmd);
/* Rank 0: every other rank's block state into this process's pipeline. */
dnic_status mpi__gather(dnic_pipe_t *p);
/* Ranks > 0: this rank's block state to rank 0, in pieces of
 * mpi__state_piece bytes through L->state (mpi__gather takes them). The
 * piece is PIPE_STATE_PIECE; a test makes it small (before attaching, the
 * same on every rank; at least a block state's header, a few KiB). */
extern size_t mpi__state_piece;
dnic_status mpi__send_state(dnic_pipe_t *p, mpi_link *L, MPI_Request *sq);
/* Ranks > 0 that gave up: tell rank 0 why, then wait for it to end the run. */
dnic_status mpi__complain(mpi_link *L);

/* A peer's failure (DNIC_ERR_PEER) breaks the pipeline's transport: every
 * later call is refused. Returns st. */
static inline dnic_status mpi__broken(dnic_pipe_t *p, dnic_status st) {
    if (st == DNIC_ERR_PEER) p->transport_broken = 1;
    return st;
}

/* The pipeline bound to the link in this process (at most one), or NULL. */
dnic_pipe_t *mpi__attached(void);
/* Binds p to link L, run by `transport` (a transport's release undoes it). */
void mpi__bind(dnic_pipe_t *p, mpi_link *L, const struct pipe_transport *transport);
/* Rank 0: the other ranks stop (not after a peer failed: none would hear). */
void mpi__stop_others(dnic_pipe_t *p);
/* Frees the link (its requests retired; a schedule frees its own part,
 * L->async, before) and unbinds the pipeline. */
void mpi__release(dnic_pipe_t *p);
/* Retires the link's requests and frees it (with L->async gone already);
 * leaks the buffers MPI might still write into. */
void mpi__free_link(mpi_link *L);

#endif
