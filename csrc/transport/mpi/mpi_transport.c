/* mpi_transport.c — the pipeline's second transport: each block an MPI
 * rank (dnic_mpi.h). The schedule is pipeline.c's: every rank runs
 * dnic__pipe_block_tick for its own block at every tick, on the messages
 * its neighbours sent at the previous tick, which arrive here by MPI
 * instead of being read from their buffers.
 *
 * Messages per tick, all non-blocking:
 *   rank 0 -> every rank    TAG_CMD     what to do (tick, gather, stop)
 *   rank s -> rank s+1      TAG_UP      batch, rows, labels, h
 *   rank s -> rank s-1      TAG_DOWN    batch, rows, gradient at s's input
 *   every rank -> rank 0    TAG_STATUS  status, messages sent, top loss, figures
 * Up and down messages are sent every tick (batch -1: none), so each rank
 * receives exactly one per neighbour per tick, into a buffer chosen by
 * the parity of the tick it was sent at; receives are posted a tick ahead.
 * Rank 0 waits for every status before its tick returns, so its loss,
 * pending state and errors are the in-process pipeline's.
 * This file also holds what else dnic_mpi.h offers: MPI's start and end,
 * rank and size, a broadcast, attaching a pipeline (either schedule) to
 * the ranks, serving it and detaching it.
 * Not here: the schedule itself (pipeline.c), block state bytes
 * (pipe_state.c), the link both transports share (mpi_link.c), the async
 * schedule over ranks (mpi_async.c). */
#include "dnic_mpi.h"
#include "mpi_async.h"
#include "mpi_link.h"
#include "train/pipe_internal.h"

#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

/* The rank whose block failed at the last tick, for dnic_mpi_failed_rank. */
static int failed_rank = -1;

int dnic_mpi_failed_rank(void) { return failed_rank; }

/* ---------------------------------------------------------------- basics */

int dnic_mpi_initialized(void) {
    int on = 0, off = 0;
    MPI_Initialized(&on);
    MPI_Finalized(&off);
    return on && !off;
}

dnic_status dnic_mpi_init(int *argc, char ***argv) {
    if (dnic_mpi_initialized()) return DNIC_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        mpi__fail("MPI_Init_thread failed");
        return DNIC_ERR_UNAVAILABLE;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return DNIC_OK;
}

int dnic_mpi_rank(void) {
    int r = 0;
    if (dnic_mpi_initialized()) MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int dnic_mpi_size(void) {
    int n = 1;
    if (dnic_mpi_initialized()) MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

dnic_status dnic_mpi_finalize(void) {
    if (!dnic_mpi_initialized()) return DNIC_OK;
    return MPI_Finalize() == MPI_SUCCESS ? DNIC_OK : DNIC_ERR_PEER;
}

void dnic_mpi_abort(int code) {
    if (dnic_mpi_initialized()) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

static dnic_status wait_one(double timeout, MPI_Request *rq, int peer, const char *what) {
    return mpi__wait(timeout, 1, rq, peer, what, NULL);
}

/* ---------------------------------------------------------------- broadcast */

dnic_status dnic_mpi_broadcast(void **data, size_t *n, double timeout) {
    if (!data || !n) return DNIC_ERR_NULL;
    if (!dnic_mpi_initialized()) return DNIC_ERR_STATE;
    if (!(timeout > 0)) return DNIC_ERR_ARG;
    int rank = dnic_mpi_rank();
    if (rank == 0 && *n && !*data) return DNIC_ERR_NULL;
    /* a collective cannot be cancelled: what a timed-out one may still
     * write into must outlive the call (static here, leaked below) */
    static uint64_t size;
    size = rank == 0 ? (uint64_t)*n : 0;
    MPI_Request rq;
    MPI_Ibcast(&size, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &rq);
    dnic_status st = wait_one(timeout, &rq, 0, "waiting for the broadcast size from");
    if (st != DNIC_OK) return st;
    if (size > ((uint64_t)1 << 40)) {
        mpi__fail("rank 0 broadcast an absurd size (%llu bytes)", (unsigned long long)size);
        return DNIC_ERR_PEER;
    }
    unsigned char *buf = rank == 0 ? *data : malloc(size ? (size_t)size : 1);
    if (!buf) return DNIC_ERR_NOMEM;
    /* MPI counts are int: in pieces of 1 GiB */
    for (uint64_t at = 0; at < size && st == DNIC_OK; at += (uint64_t)1 << 30) {
        uint64_t left = size - at, piece = left < ((uint64_t)1 << 30) ? left : ((uint64_t)1 << 30);
        MPI_Ibcast(buf + at, (int)piece, MPI_BYTE, 0, MPI_COMM_WORLD, &rq);
        st = wait_one(timeout, &rq, 0, "waiting for broadcast bytes from");
    }
    if (st != DNIC_OK) return st; /* buf leaks: see above */
    if (rank != 0) {
        *data = buf;
        *n = (size_t)size;
    }
    return DNIC_OK;
}

/* ---------------------------------------------------------------- messages */

static void post_receives(mpi_link *L, int64_t tick) {
    int k = (int)(tick & 1);
    if (L->rank > 0)
        MPI_Irecv(L->rx_up[k], (int)L->up_bytes, MPI_BYTE, L->rank - 1, TAG_UP, L->comm, &L->rq_up[k]);
    if (L->rank + 1 < L->size)
        MPI_Irecv(L->rx_down[k], (int)L->down_bytes, MPI_BYTE, L->rank + 1, TAG_DOWN, L->comm, &L->rq_down[k]);
}

/* The inputs of this rank's block at p->tick: sent by its neighbours at
 * the previous tick (just attached: already in the local state). */
static dnic_status receive_inputs(dnic_pipe_t *p, mpi_link *L, pipe_input_t *below, pipe_input_t *above) {
    int s = L->rank, k = (int)((p->tick - 1) & 1);
    if (L->primed) {
        dnic__pipe_local_inputs(p, s, below, above);
        return DNIC_OK;
    }
    *below = (pipe_input_t){-1, 0, NULL};
    *above = (pipe_input_t){-1, 0, NULL};
    dnic_status st = DNIC_OK;
    if (s > 0) {
        st = mpi__link_wait(L, &L->rq_up[k], s - 1, "waiting for activations from");
        if (st != DNIC_OK) return st;
        const int32_t *head = (const int32_t *)L->rx_up[k];
        int batch = head[0], rows = head[1];
        if (batch >= 0) {
            if (rows < 1 || rows > p->max_batch) return DNIC_ERR_STATE;
            const int32_t *labels = head + HEADER_INTS;
            dnic__pipe_store_labels(p, batch, labels, rows);
            *below = (pipe_input_t){batch, rows, (const float *)(labels + rows)};
        }
    }
    if (s + 1 < L->size) {
        st = mpi__link_wait(L, &L->rq_down[k], s + 1, "waiting for gradients from");
        if (st != DNIC_OK) return st;
        const int32_t *head = (const int32_t *)L->rx_down[k];
        int batch = head[0], rows = head[1];
        if (batch >= 0) {
            if (rows < 1 || rows > p->max_batch) return DNIC_ERR_STATE;
            *above = (pipe_input_t){batch, rows, (const float *)(head + HEADER_INTS)};
        }
    }
    return DNIC_OK;
}

/* This rank's messages of tick p->tick to its neighbours. */
static dnic_status send_outputs(dnic_pipe_t *p, mpi_link *L) {
    int s = L->rank, k = (int)(p->tick & 1);
    const pipe_block_t *b = &p->blocks[s];
    dnic_status st = DNIC_OK;
    if (s + 1 < L->size) {
        /* the buffer of two ticks ago must have gone */
        if (L->sq_up[k] != MPI_REQUEST_NULL) st = mpi__link_wait(L, &L->sq_up[k], s + 1, "sending activations to");
        if (st != DNIC_OK) return st;
        int32_t *head = (int32_t *)L->tx_up[k];
        const pipe_message_t *m = &b->up_msg[k];
        size_t bytes = HEADER_INTS * sizeof(int32_t);
        head[0] = m->batch;
        head[1] = m->batch >= 0 ? m->rows : 0;
        head[2] = head[3] = 0;
        if (m->batch >= 0) {
            int slot = m->batch % p->n_label_slots;
            memcpy(head + HEADER_INTS, p->labels[slot], (size_t)m->rows * sizeof(int32_t));
            size_t values = (size_t)m->rows * (size_t)b->top_dim;
            memcpy(head + HEADER_INTS + m->rows, b->ring_h[m->slot], values * sizeof(float));
            bytes += (size_t)m->rows * sizeof(int32_t) + values * sizeof(float);
        }
        MPI_Isend(L->tx_up[k], (int)bytes, MPI_BYTE, s + 1, TAG_UP, L->comm, &L->sq_up[k]);
    }
    if (s > 0) {
        if (L->sq_down[k] != MPI_REQUEST_NULL)
            st = mpi__link_wait(L, &L->sq_down[k], s - 1, "sending gradients to");
        if (st != DNIC_OK) return st;
        int32_t *head = (int32_t *)L->tx_down[k];
        const pipe_message_t *m = &b->down_msg[k];
        size_t bytes = HEADER_INTS * sizeof(int32_t);
        head[0] = m->batch;
        head[1] = m->batch >= 0 ? m->rows : 0;
        head[2] = head[3] = 0;
        if (m->batch >= 0) {
            size_t values = (size_t)m->rows * (size_t)b->in_dim;
            memcpy(head + HEADER_INTS, b->down[k], values * sizeof(float));
            bytes += values * sizeof(float);
        }
        MPI_Isend(L->tx_down[k], (int)bytes, MPI_BYTE, s - 1, TAG_DOWN, L->comm, &L->sq_down[k]);
    }
    return DNIC_OK;
}

/* This rank's block at one tick: inputs, compute, outputs, receives for
 * the next tick. The block's own failure is in b->st (reported, not fatal
 * here); a transport failure is returned. */
static dnic_status rank_tick(dnic_pipe_t *p, mpi_link *L, const float *x, int x_batch, int rows) {
    pipe_input_t below, above;
    dnic_status st = receive_inputs(p, L, &below, &above);
    if (st != DNIC_OK) return st;
    /* Open MPI moves a large message (in fragments) only while both ends
     * are inside MPI calls, and a block computes for milliseconds outside
     * them: a send still going when this rank starts computing would make
     * its neighbour wait for the whole compute. So last tick's sends finish
     * here, while the neighbours, waiting for this rank's messages or
     * command, are inside MPI (W2 on 2 ranks: 1.06 x locked sg on 1 thread
     * without this wait, 1.88 x with it; bench/mpi_ranks.sh) */
    int k = (int)((p->tick - 1) & 1);
    if (L->sq_up[k] != MPI_REQUEST_NULL) st = mpi__link_wait(L, &L->sq_up[k], L->rank + 1, "sending activations to");
    if (st == DNIC_OK && L->sq_down[k] != MPI_REQUEST_NULL)
        st = mpi__link_wait(L, &L->sq_down[k], L->rank - 1, "sending gradients to");
    if (st != DNIC_OK) return st;
    L->primed = 0;
    dnic__pipe_block_tick(p, L->rank, x, x_batch, rows, &below, &above);
    /* the buffers just read are free again: they take tick+1's messages */
    post_receives(L, p->tick + 1);
    return send_outputs(p, L);
}

static rank_status own_status(const dnic_pipe_t *p, const mpi_link *L) {
    const pipe_block_t *b = &p->blocks[L->rank];
    int k = (int)(p->tick & 1), grad = 0;
    rank_status r = {0};
    r.status = b->st;
    r.sent_messages = b->up_msg[k].batch >= 0 || b->down_msg[k].batch >= 0;
    r.finished = !b->it && b->st == DNIC_OK ? p->top_finished : 0;
    r.loss = p->top_loss;
    r.iface_loss = b->iface_loss;
    r.busy = b->busy;
    r.fault_tensor = dnic_net_fault_tensor(b->net, &grad);
    r.fault_grad = grad;
    r.fault_iface = b->it && dnic_iface_fault_tensor(b->it, NULL) >= 0;
    return r;
}

/* ---------------------------------------------------------------- rank 0 */

static dnic_status root_tick(dnic_pipe_t *p, const float *x, const int32_t *labels, int x_batch, int rows) {
    (void)labels; /* in the label ring already */
    mpi_link *L = p->transport_ctx;
    failed_rank = -1;
    mpi__fail("%s", ""); /* a line from an earlier failure must not describe this one */
    dnic_status st = mpi__send_command(L, CMD_TICK);
    for (int r = 1; st == DNIC_OK && r < L->size; r++)
        MPI_Irecv(&L->status[r], (int)sizeof(rank_status), MPI_BYTE, r, TAG_STATUS, L->comm, &L->rq_status[r]);
    if (st == DNIC_OK) st = rank_tick(p, L, x, x_batch, rows);
    for (int r = 1; st == DNIC_OK && r < L->size; r++)
        st = mpi__link_wait(L, &L->rq_status[r], r, "waiting for the tick's status from");
    if (st != DNIC_OK) return mpi__broken(p, st);
    L->status[0] = own_status(p, L);
    L->any_pending = 0;
    dnic_status first = DNIC_OK;
    for (int r = 0; r < L->size; r++) {
        const rank_status *q = &L->status[r];
        pipe_block_t *b = &p->blocks[r];
        L->any_pending |= q->sent_messages;
        if (r > 0) { /* this process's view of the other blocks' figures */
            b->busy = q->busy;
            b->iface_loss = q->iface_loss;
            b->st = (dnic_status)q->status;
        }
        if (q->status != DNIC_OK && first == DNIC_OK) {
            first = (dnic_status)q->status;
            failed_rank = r;
            if (r > 0 && q->fault_tensor >= 0) dnic__net_set_fault(b->net, q->fault_tensor, q->fault_grad);
        }
    }
    const rank_status *top = &L->status[L->size - 1];
    p->top_finished = top->finished;
    p->top_loss = top->loss;
    return first;
}

static int root_pending(const dnic_pipe_t *p) {
    const mpi_link *L = p->transport_ctx;
    return L->primed ? dnic__pipe_local_pending(p) : L->any_pending;
}

static void root_release(dnic_pipe_t *p) {
    mpi__stop_others(p);
    mpi__release(p);
}

static const struct pipe_transport root_transport = {root_tick, root_pending, mpi__gather, root_release};

/* ---------------------------------------------------------------- ranks > 0 */

static int rank_pending(const dnic_pipe_t *p) {
    (void)p;
    return 0; /* only rank 0 drives */
}

static dnic_status rank_no_tick(dnic_pipe_t *p, const float *x, const int32_t *labels, int x_batch, int rows) {
    (void)p, (void)x, (void)labels, (void)x_batch, (void)rows;
    return DNIC_ERR_STATE; /* ranks > 0 tick in dnic_mpi_serve */
}

static dnic_status rank_no_gather(dnic_pipe_t *p) {
    (void)p;
    return DNIC_ERR_STATE;
}

static void rank_release(dnic_pipe_t *p) { mpi__release(p); }

static const struct pipe_transport rank_transport = {rank_no_tick, rank_pending, rank_no_gather, rank_release};

static dnic_status serve_loop(dnic_pipe_t *p, mpi_link *L);

dnic_status dnic_mpi_serve(dnic_pipe_t *p) {
    if (!p) return DNIC_ERR_NULL;
    if (p->transport != &rank_transport && p->transport != &mpi__async_rank) return DNIC_ERR_STATE;
    mpi_link *L = p->transport_ctx;
    dnic_status st = p->async ? mpi__async_serve(p, L) : serve_loop(p, L);
    return st == DNIC_ERR_PEER ? mpi__complain(L) : st;
}

static dnic_status serve_loop(dnic_pipe_t *p, mpi_link *L) {
    /* slot 0 of rank 0's tables holds this rank's own command and status,
     * so a request still pending when serving ends is retired at free */
    int32_t *cmd = &L->cmd[0];
    rank_status *mine = &L->status[0];
    MPI_Request *rq_cmd = &L->rq_cmd[0], *sq_status = &L->rq_status[0], *sq_state = &L->rq_cmd[1 % L->size];
    dnic_enable_flush_to_zero();
    for (;;) {
        MPI_Irecv(cmd, 1, MPI_INT32_T, 0, TAG_CMD, L->comm, rq_cmd);
        /* rank 0 may be evaluating or writing a checkpoint, and when a rank
         * stalls it is rank 0 that says so (it waits 1.5 x timeout + 2 s):
         * the others wait longer for it */
        dnic_status st = mpi__wait(3.0 * L->timeout + 10.0, 1, rq_cmd, 0, "waiting for a command from", NULL);
        if (st != DNIC_OK) return st;
        if (*cmd == CMD_STOP) return *sq_status == MPI_REQUEST_NULL ? DNIC_OK
                                                                    : mpi__link_wait(L, sq_status, 0, "reporting to");
        if (*cmd == CMD_GATHER) {
            if ((st = mpi__send_state(p, L, sq_state)) != DNIC_OK) return st;
            continue;
        }
        if (*cmd != CMD_TICK) {
            mpi__fail("rank 0 sent an unknown command %d", (int)*cmd);
            return DNIC_ERR_PEER;
        }
        double t0 = dnic__pipe_now();
        p->top_finished = 0;
        p->top_loss = NAN;
        st = rank_tick(p, L, NULL, -1, 0);
        if (st == DNIC_OK && *sq_status != MPI_REQUEST_NULL) st = mpi__link_wait(L, sq_status, 0, "reporting to");
        if (st != DNIC_OK) return st;
        *mine = own_status(p, L); /* of the tick just run */
        p->tick++;
        p->wall += dnic__pipe_now() - t0;
        MPI_Isend(mine, (int)sizeof *mine, MPI_BYTE, 0, TAG_STATUS, L->comm, sq_status);
    }
}

/* ---------------------------------------------------------------- attach */

static uint64_t shape_digest(const dnic_pipe_t *p) {
    uint64_t h = 1469598103934665603ULL;
    for (int s = 0; s < p->n_blocks; s++) {
        const pipe_block_t *b = &p->blocks[s];
        int64_t v[5] = {b->first, b->last, b->in_dim, b->top_dim, b->ring_n};
        for (int i = 0; i < 5; i++) h = (h ^ (uint64_t)v[i]) * 1099511628211ULL;
    }
    return (h ^ (uint64_t)p->max_batch) * 1099511628211ULL;
}

dnic_status dnic_mpi_attach(dnic_pipe_t *p, uint64_t fingerprint, double timeout) {
    if (!p) return DNIC_ERR_NULL;
    if (!dnic_mpi_initialized()) return DNIC_ERR_STATE;
    if (!(timeout > 0) || p->transport || mpi__attached()) return DNIC_ERR_ARG;
    mpi__fail("%s", "");
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int delayed = 0;
    for (int s = 0; s < p->n_blocks; s++) delayed |= p->blocks[s].delayed;
    /* every rank says what it runs; all compare, so all agree on the verdict */
    static int64_t mine[ATTACH_INTS]; /* outlives a timed-out collective (as `all` does, leaked) */
    int64_t said[ATTACH_INTS] = {ATTACH_MAGIC, (int64_t)fingerprint, (int64_t)shape_digest(p), p->n_blocks,
                                 p->tick, p->fed, p->async || delayed};
    memcpy(mine, said, sizeof mine);
    int64_t *all = malloc((size_t)size * sizeof mine);
    if (!all) return DNIC_ERR_NOMEM;
    MPI_Request rq;
    MPI_Iallgather(mine, ATTACH_INTS, MPI_INT64_T, all, ATTACH_INTS, MPI_INT64_T, MPI_COMM_WORLD, &rq);
    dnic_status st = wait_one(timeout, &rq, rank == 0 ? 1 : 0, "attaching to");
    if (st != DNIC_OK) return st;
    for (int r = 1; r < size && st == DNIC_OK; r++) {
        const int64_t *q = all + (size_t)r * ATTACH_INTS;
        if (q[0] != ATTACH_MAGIC || q[1] != all[1] || q[2] != all[2] || q[3] != all[3]) {
            mpi__fail("rank %d runs other settings than rank 0 (different command, data or dnic version)", r);
            st = DNIC_ERR_PEER;
        } else if (q[4] != all[4] || q[5] != all[5]) {
            mpi__fail("rank %d is at tick %lld, rank 0 at %lld (resumed from another checkpoint?)", r,
                      (long long)q[4], (long long)all[4]);
            st = DNIC_ERR_PEER;
        }
    }
    free(all);
    if (st != DNIC_OK) return st;
    if (size != p->n_blocks) {
        mpi__fail("%d ranks for %d blocks: start one rank per block (mpirun -np %d)", size, p->n_blocks, p->n_blocks);
        return DNIC_ERR_ARG;
    }
    if (delayed) {
        mpi__fail("MPI ranks run the pipeline and async schedules without oracle interfaces");
        return DNIC_ERR_ARG;
    }
    if (p->blocks[rank].ring_n > 64) return DNIC_ERR_SIZE;
    mpi_link *L = calloc(1, sizeof *L);
    if (!L) return DNIC_ERR_NOMEM;
    L->comm = MPI_COMM_NULL;
    L->rq_complaint = MPI_REQUEST_NULL;
    MPI_Comm_dup(MPI_COMM_WORLD, &L->comm);
    MPI_Comm_set_errhandler(L->comm, MPI_ERRORS_RETURN);
    L->rank = rank;
    L->size = size;
    L->timeout = timeout;
    L->primed = 1;
    L->up_bytes = rank > 0 ? mpi__up_bytes(p, rank - 1) : 0;
    L->down_bytes = rank + 1 < size ? mpi__down_bytes(p, rank + 1) : 0;
    size_t tx_up = rank + 1 < size ? mpi__up_bytes(p, rank) : 0, tx_down = rank > 0 ? mpi__down_bytes(p, rank) : 0;
    int ok = 1;
    for (int k = 0; k < 2; k++) {
        L->rq_up[k] = L->rq_down[k] = L->sq_up[k] = L->sq_down[k] = MPI_REQUEST_NULL;
        ok &= (L->rx_up[k] = malloc(L->up_bytes + 16)) && (L->rx_down[k] = malloc(L->down_bytes + 16)) &&
              (L->tx_up[k] = malloc(tx_up + 16)) && (L->tx_down[k] = malloc(tx_down + 16));
    }
    /* block states move in pieces through this buffer (mpi__gather) */
    size_t state = 0;
    for (int s = 0; s < p->n_blocks; s++) {
        if (rank != 0 && s != rank) continue; /* a rank > 0 sends its own block only */
        size_t b = dnic__pipe_block_state_size(p, s);
        if (b > state) state = b;
    }
    if (state > mpi__state_piece) state = mpi__state_piece;
    if (L->up_bytes > (size_t)INT32_MAX || L->down_bytes > (size_t)INT32_MAX) ok = 0;
    L->state_bytes = state;
    L->state = malloc(state);
    L->cmd = calloc((size_t)size, sizeof *L->cmd);
    L->status = calloc((size_t)size, sizeof *L->status);
    L->rq_cmd = malloc((size_t)size * sizeof *L->rq_cmd);
    L->rq_status = malloc((size_t)size * sizeof *L->rq_status);
    ok &= L->state && L->cmd && L->status && L->rq_cmd && L->rq_status;
    for (int r = 0; L->rq_cmd && L->rq_status && r < size; r++) L->rq_cmd[r] = L->rq_status[r] = MPI_REQUEST_NULL;
    if (!L->rq_cmd || !L->rq_status) {
        free(L->rq_cmd), free(L->rq_status);
        L->rq_cmd = L->rq_status = NULL;
    }
    if (!ok) {
        mpi__free_link(L);
        return DNIC_ERR_NOMEM;
    }
    L->rq_complaint = MPI_REQUEST_NULL;
    if (rank == 0)
        MPI_Irecv(L->complaint, COMPLAINT_CHARS, MPI_CHAR, MPI_ANY_SOURCE, TAG_COMPLAINT, L->comm, &L->rq_complaint);
    if (p->async) {
        dnic_status made = mpi__async_setup(p, L);
        if (made != DNIC_OK) {
            mpi__free_link(L);
            return made;
        }
    } else {
        post_receives(L, p->tick);
    }
    if (p->async) mpi__bind(p, L, rank == 0 ? &mpi__async_root : &mpi__async_rank);
    else mpi__bind(p, L, rank == 0 ? &root_transport : &rank_transport);
    return DNIC_OK;
}

dnic_status dnic_mpi_detach(dnic_pipe_t *p) {
    if (!p) return DNIC_ERR_NULL;
    if (!p->transport || p != mpi__attached()) return DNIC_ERR_STATE;
    dnic_status st = DNIC_OK;
    if ((p->transport == &root_transport || p->transport == &mpi__async_root) && !p->transport_broken)
        st = mpi__gather(p);
    p->transport->release(p);
    return st;
}
