/* mpi_link.c — the link between this rank and the others, which both MPI
 * transports run on (mpi_transport.c: the pipeline's lockstep ticks;
 * mpi_async.c: async, free-running ranks): the line that says what failed,
 * waits that never block forever, rank 0's commands and its gathering of
 * every block's state, a rank's complaint to rank 0, retiring requests, and
 * binding the pipeline of this process to its link and releasing it.
 * Not here: either schedule's messages. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 199309L
#  undef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 199309L
#endif
#include "dnic_mpi.h"
#include "mpi_link.h"

#include <mpi.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The pipeline attached in this process (at most one). */
static dnic_pipe_t *attached;

/* The last failure, for dnic_mpi_failure (one process, one run). */
static char failure_line[256];

void mpi__fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(failure_line, sizeof failure_line, fmt, ap);
    va_end(ap);
}

const char *mpi__seconds(char out[32], double seconds) {
    /* three significant digits below 100 s: --mpi-timeout 0.2 waits 0.2 s, not "0 s" */
    if (seconds < 100.0) snprintf(out, 32, "%.3g", seconds);
    else snprintf(out, 32, "%.0f", seconds);
    return out;
}

const char *dnic_mpi_failure(void) { return failure_line; }

/* ---------------------------------------------------------------- waits */

void mpi__backoff(double waited) {
    if (waited < 2e-3) sched_yield();
    else mpi__pause(waited < 0.1 ? 5e-5 : 1e-3);
}

void mpi__pause(double seconds) {
    struct timespec t = {0, (long)(seconds * 1e9)};
    nanosleep(&t, NULL);
}

/* Waits for n requests, at most `timeout` seconds. Keeps calling MPI for
 * the first milliseconds (a large message moves in fragments, each needing
 * both ends to call into MPI; sleeping between them would stretch a 256 KB
 * transfer to many naps), yielding the core to any other runnable rank,
 * then sleeps in growing steps so a rank waiting for rank 0's evaluation
 * costs no core. */
dnic_status mpi__wait(double timeout, int n, MPI_Request *rq, int peer, const char *what, mpi_link *L) {
    double t0 = dnic__pipe_now();
    for (;;) {
        int done = 0;
        int rc = MPI_Testall(n, rq, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) {
            char text[MPI_MAX_ERROR_STRING];
            int len = 0;
            MPI_Error_string(rc, text, &len);
            mpi__fail("MPI failed while %s rank %d: %s", what, peer, text);
            return DNIC_ERR_PEER;
        }
        if (done) return DNIC_OK;
        if (L && L->rq_complaint != MPI_REQUEST_NULL) {
            MPI_Status from;
            int heard = 0;
            MPI_Test(&L->rq_complaint, &heard, &from);
            if (heard) {
                L->complaint[COMPLAINT_CHARS - 1] = 0;
                mpi__fail("rank %d: %s", from.MPI_SOURCE, L->complaint);
                return DNIC_ERR_PEER;
            }
        }
        double waited = dnic__pipe_now() - t0;
        if (waited > timeout) {
            char text[32];
            mpi__fail("rank %d sent nothing for %s s while %s it (dead, stuck, or slower than the timeout)", peer,
                      mpi__seconds(text, timeout), what);
            return DNIC_ERR_PEER;
        }
        mpi__backoff(waited);
    }
}

/* A wait of the running pipeline. Rank 0 waits longer than the others and
 * hears their complaints meanwhile, so when a rank stops, the line rank 0
 * prints names it rather than the neighbour stuck waiting for it. */
dnic_status mpi__link_wait(mpi_link *L, MPI_Request *rq, int peer, const char *what) {
    double timeout = L->rank == 0 ? 1.5 * L->timeout + 2.0 : L->timeout;
    return mpi__wait(timeout, 1, rq, peer, what, L->rank == 0 ? L : NULL);
}

/* ---------------------------------------------------------------- rank 0 */

dnic_status mpi__send_command(mpi_link *L, int cmd) {
    for (int r = 1; r < L->size; r++) {
        if (L->rq_cmd[r] != MPI_REQUEST_NULL) {
            dnic_status st = mpi__link_wait(L, &L->rq_cmd[r], r, "sending a command to");
            if (st != DNIC_OK) return st;
        }
        L->cmd[r] = cmd;
        MPI_Isend(&L->cmd[r], 1, MPI_INT32_T, r, TAG_CMD, L->comm, &L->rq_cmd[r]);
    }
    return DNIC_OK;
}

size_t mpi__state_piece = PIPE_STATE_PIECE;

dnic_status mpi__gather(dnic_pipe_t *p) {
    mpi_link *L = p->transport_ctx;
    dnic_status st = mpi__send_command(L, CMD_GATHER);
    /* one rank at a time, in pieces through one buffer (mpi__send_state):
     * a gather is rare (evaluation, checkpoint), memory is not */
    for (int r = 1; st == DNIC_OK && r < L->size; r++) {
        size_t bytes = dnic__pipe_block_state_size(p, r);
        MPI_Request *rq = &L->rq_status[0]; /* rank 0's own slot, free; retired at free */
        for (size_t off = 0; st == DNIC_OK && off < bytes; off += mpi__state_piece) {
            size_t n = bytes - off < mpi__state_piece ? bytes - off : mpi__state_piece;
            MPI_Irecv(L->state, (int)n, MPI_BYTE, r, TAG_STATE, L->comm, rq);
            st = mpi__link_wait(L, rq, r, "gathering the block of");
            if (st == DNIC_OK) st = dnic__pipe_block_state_unpack_range(p, r, off, n, L->state);
        }
    }
    return mpi__broken(p, st);
}

dnic_status mpi__send_state(dnic_pipe_t *p, mpi_link *L, MPI_Request *sq) {
    size_t bytes = dnic__pipe_block_state_size(p, L->rank);
    dnic_status st = DNIC_OK;
    /* pieces of one message each, in order (MPI keeps the order of one
     * sender's messages with one tag) */
    for (size_t off = 0; st == DNIC_OK && off < bytes; off += mpi__state_piece) {
        size_t n = bytes - off < mpi__state_piece ? bytes - off : mpi__state_piece;
        dnic__pipe_block_state_pack_range(p, L->rank, off, n, L->state);
        MPI_Isend(L->state, (int)n, MPI_BYTE, 0, TAG_STATE, L->comm, sq);
        st = mpi__link_wait(L, sq, 0, "sending its block to");
    }
    return st;
}

/* ---------------------------------------------------------------- ranks > 0 */

/* A rank > 0 gave up waiting: rank 0 hears why, then ends the run (it
 * aborts every rank). If rank 0 says nothing either, the caller reports. */
dnic_status mpi__complain(mpi_link *L) {
    memset(L->complaint, 0, sizeof L->complaint);
    snprintf(L->complaint, sizeof L->complaint, "%s", failure_line);
    MPI_Request rq;
    MPI_Isend(L->complaint, COMPLAINT_CHARS, MPI_CHAR, 0, TAG_COMPLAINT, L->comm, &rq);
    int32_t cmd = 0;
    MPI_Request rq_cmd;
    MPI_Irecv(&cmd, 1, MPI_INT32_T, 0, TAG_CMD, L->comm, &rq_cmd);
    /* rank 0 waits 1.5 x timeout + 2 s at most before it acts */
    double t0 = dnic__pipe_now();
    int done = 0;
    while (!done && dnic__pipe_now() - t0 < 2.0 * L->timeout + 5.0) {
        MPI_Test(&rq_cmd, &done, MPI_STATUS_IGNORE);
        if (!done) mpi__pause(1e-3);
    }
    mpi__retire(&rq);
    mpi__retire(&rq_cmd);
    return DNIC_ERR_PEER;
}

/* ---------------------------------------------------------------- the link's end */

/* Ends a request before its buffer goes: cancelled if still pending, then
 * completed (a cancelled receive completes at once; a send to a dead rank
 * may not). 0 if it would not finish within a second: the buffer must leak. */
int mpi__retire(MPI_Request *rq) {
    if (*rq == MPI_REQUEST_NULL) return 1;
    int done = 0;
    MPI_Test(rq, &done, MPI_STATUS_IGNORE);
    if (done) return 1;
    MPI_Cancel(rq);
    double t0 = dnic__pipe_now();
    while (!done && dnic__pipe_now() - t0 < 1.0) {
        if (MPI_Test(rq, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) break;
        if (!done) mpi__pause(1e-4);
    }
    return done;
}

void mpi__free_link(mpi_link *L) {
    if (!L) return;
    int clean = 1;
    for (int k = 0; k < 2; k++) {
        clean &= mpi__retire(&L->rq_up[k]) & mpi__retire(&L->rq_down[k]) & mpi__retire(&L->sq_up[k]) & mpi__retire(&L->sq_down[k]);
    }
    for (int r = 0; L->rq_cmd && r < L->size; r++) clean &= mpi__retire(&L->rq_cmd[r]) & mpi__retire(&L->rq_status[r]);
    clean &= mpi__retire(&L->rq_complaint);
    if (!clean) return; /* MPI may still write into these buffers: leave them */
    for (int k = 0; k < 2; k++) {
        free(L->rx_up[k]);
        free(L->rx_down[k]);
        free(L->tx_up[k]);
        free(L->tx_down[k]);
    }
    free(L->cmd);
    free(L->status);
    free(L->rq_cmd);
    free(L->rq_status);
    free(L->state);
    if (L->comm != MPI_COMM_NULL) MPI_Comm_free(&L->comm);
    free(L);
}

/* ---------------------------------------------------------------- binding */

dnic_pipe_t *mpi__attached(void) { return attached; }

void mpi__bind(dnic_pipe_t *p, mpi_link *L, const struct pipe_transport *transport) {
    attached = p;
    p->transport_ctx = L;
    p->transport = transport;
}

void mpi__stop_others(dnic_pipe_t *p) {
    mpi_link *L = p->transport_ctx;
    if (!p->transport_broken && mpi__send_command(L, CMD_STOP) == DNIC_OK) {
        for (int r = 1; r < L->size; r++) mpi__link_wait(L, &L->rq_cmd[r], r, "stopping");
    }
}

void mpi__release(dnic_pipe_t *p) {
    attached = NULL;
    mpi__free_link(p->transport_ctx);
    p->transport_ctx = NULL;
    p->transport = NULL;
}
