/* mpi_async.c — the async schedule over MPI ranks: rank s runs block s
 * free, with no ticks. It takes a target from above when one has come (it
 * frees a ring slot), else the next batch from below when fewer than
 * `window` (2 x queue) of its batches wait above it for their targets, as
 * async.c's workers do in one process. The same block operations run on
 * the same rings (dnic__pipe_block_step, dnic__pipe_train_iface).
 *
 * Messages (all non-blocking; receives posted `window` deep, so a sender
 * within its window never waits for the receiver to post one):
 *   rank s -> s+1   TAG_UP     batch, rows, labels, h; batch -2: the end
 *                              of a drain (everything before it was sent)
 *   rank s -> s-1   TAG_DOWN   batch, rows, gradient at s's input
 *   top -> rank 0   TAG_LOSS   batch, loss
 *   rank s -> 0     TAG_DONE   s has seen the drain's end and its ring is
 *                              empty (every target trained)
 *   rank s -> 0     TAG_STATUS s's block failed (status, tensor)
 *   rank 0 -> all   TAG_CMD    gather, stop (between drains)
 * Rank 0 feeds block 0 from dnic_pipe_tick; a drain (tick without x) sends
 * the end marker up and waits for every DONE and every loss.
 * Not here: the lockstep pipeline over MPI and attaching (mpi_transport.c),
 * the waits and commands both share (mpi_link.c). */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 199309L
#  undef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 199309L
#endif
#include "mpi_async.h"
#include "mpi_link.h"

#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

enum { TAG_LOSS = 120, TAG_DONE, END_OF_DRAIN = -2, LOSS_SLOTS = 64 };

typedef struct {
    int32_t batch;
    float loss;
} loss_message;

struct async_link {
    int window;
    /* receive rings, consumed in posting order (MPI matches in that order) */
    unsigned char **rx_up, **rx_down;
    MPI_Request *rq_up, *rq_down;
    int up_head, down_head;
    /* send rings, a buffer reused once its send completed */
    unsigned char **tx_up, **tx_down;
    MPI_Request *sq_up, *sq_down;
    int up_next, down_next;
    loss_message tx_loss[LOSS_SLOTS];
    MPI_Request sq_loss[LOSS_SLOTS];
    int loss_next;
    int32_t done_flag;
    MPI_Request sq_done, sq_fault;
    rank_status fault;
    size_t up_bytes, down_bytes, tx_up_bytes, tx_down_bytes;
    int saw_end;          /* ranks > 0: the drain's end came from below */
    int undrained;        /* rank 0: batches fed since the last drain */
    int64_t losses_in;    /* rank 0: losses heard (all batches ever) */
    int64_t sent;         /* rank 0: batches block 0 forwarded (all ever) */
    dnic_status failed;   /* rank 0: a block failed; every later call says so */
    double last_event;    /* when this rank last made progress */
};

/* ---------------------------------------------------------------- setup */

static unsigned char **buffers(int n, size_t bytes) {
    unsigned char **b = calloc((size_t)n, sizeof *b);
    for (int i = 0; b && i < n; i++)
        if (!(b[i] = malloc(bytes + 16))) return b; /* checked by the caller */
    return b;
}

static int all_made(unsigned char **b, int n) {
    for (int i = 0; b && i < n; i++)
        if (!b[i]) return 0;
    return b != NULL;
}

static MPI_Request *requests(int n) {
    MPI_Request *r = malloc((size_t)n * sizeof *r);
    for (int i = 0; r && i < n; i++) r[i] = MPI_REQUEST_NULL;
    return r;
}

static void free_buffers(unsigned char **b, int n) {
    for (int i = 0; b && i < n; i++) free(b[i]);
    free(b);
}

static void async_free(async_link *A) {
    if (!A) return;
    int W = A->window, clean = 1;
    for (int i = 0; i < W; i++) {
        if (A->rq_up) clean &= mpi__retire(&A->rq_up[i]);
        if (A->rq_down) clean &= mpi__retire(&A->rq_down[i]);
        if (A->sq_up) clean &= mpi__retire(&A->sq_up[i]);
        if (A->sq_down) clean &= mpi__retire(&A->sq_down[i]);
    }
    for (int i = 0; i < LOSS_SLOTS; i++) clean &= mpi__retire(&A->sq_loss[i]);
    clean &= mpi__retire(&A->sq_done) & mpi__retire(&A->sq_fault);
    if (!clean) return; /* MPI may still use these buffers */
    free_buffers(A->rx_up, W);
    free_buffers(A->rx_down, W);
    free_buffers(A->tx_up, W);
    free_buffers(A->tx_down, W);
    free(A->rq_up);
    free(A->rq_down);
    free(A->sq_up);
    free(A->sq_down);
    free(A);
}

static void post_up(mpi_link *L, int i) {
    async_link *A = L->async;
    MPI_Irecv(A->rx_up[i], (int)A->up_bytes, MPI_BYTE, L->rank - 1, TAG_UP, L->comm, &A->rq_up[i]);
}

static void post_down(mpi_link *L, int i) {
    async_link *A = L->async;
    MPI_Irecv(A->rx_down[i], (int)A->down_bytes, MPI_BYTE, L->rank + 1, TAG_DOWN, L->comm, &A->rq_down[i]);
}

dnic_status mpi__async_setup(dnic_pipe_t *p, mpi_link *L) {
    async_link *A = calloc(1, sizeof *A);
    if (!A) return DNIC_ERR_NOMEM;
    int s = L->rank, W = 2 * p->queue;
    A->window = W;
    A->sq_done = A->sq_fault = MPI_REQUEST_NULL;
    for (int i = 0; i < LOSS_SLOTS; i++) A->sq_loss[i] = MPI_REQUEST_NULL;
    A->up_bytes = s > 0 ? mpi__up_bytes(p, s - 1) : 0;
    A->down_bytes = s + 1 < L->size ? mpi__down_bytes(p, s + 1) : 0;
    A->tx_up_bytes = s + 1 < L->size ? mpi__up_bytes(p, s) : 0;
    A->tx_down_bytes = s > 0 ? mpi__down_bytes(p, s) : 0;
    A->rx_up = buffers(W, A->up_bytes);
    A->rx_down = buffers(W, A->down_bytes);
    A->tx_up = buffers(W, A->tx_up_bytes);
    A->tx_down = buffers(W, A->tx_down_bytes);
    A->rq_up = requests(W);
    A->rq_down = requests(W);
    A->sq_up = requests(W);
    A->sq_down = requests(W);
    L->async = A;
    if (!all_made(A->rx_up, W) || !all_made(A->rx_down, W) || !all_made(A->tx_up, W) || !all_made(A->tx_down, W) ||
        !A->rq_up || !A->rq_down || !A->sq_up || !A->sq_down || A->up_bytes > INT32_MAX || A->down_bytes > INT32_MAX) {
        async_free(A);
        L->async = NULL;
        return DNIC_ERR_NOMEM;
    }
    for (int i = 0; i < W; i++) {
        if (s > 0) post_up(L, i);
        if (s + 1 < L->size) post_down(L, i);
    }
    A->last_event = dnic__pipe_now();
    return DNIC_OK;
}

/* ---------------------------------------------------------------- block work */

static int waiting_above(const pipe_block_t *b) {
    int n = 0;
    for (int r = 0; r < b->ring_n; r++) n += b->ring_batch[r] >= 0;
    return n;
}

static int free_slot(const pipe_block_t *b) {
    for (int r = 0; r < b->ring_n; r++)
        if (b->ring_batch[r] == -1) return r;
    return -1;
}

/* Room to forward a batch: its h would wait above within the window. */
static int can_forward(const dnic_pipe_t *p, const mpi_link *L) {
    const pipe_block_t *b = &p->blocks[L->rank];
    return !b->it || (waiting_above(b) < L->async->window && free_slot(b) >= 0);
}

/* The next send buffer of a ring, once its last send has gone. */
static dnic_status take_sender(mpi_link *L, MPI_Request *rq, int peer, const char *what) {
    return *rq == MPI_REQUEST_NULL ? DNIC_OK : mpi__link_wait(L, rq, peer, what);
}

/* A target from above, if one has come: the interface trains on it.
 * 1 if it did, 0 if none waits, -1 on failure (in *st). */
static int take_target(dnic_pipe_t *p, mpi_link *L, dnic_status *st) {
    async_link *A = L->async;
    int s = L->rank;
    pipe_block_t *b = &p->blocks[s];
    if (!b->it) return 0;
    int i = A->down_head, done = 0;
    if (MPI_Test(&A->rq_down[i], &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
        mpi__fail("MPI failed receiving gradients from rank %d", s + 1);
        *st = DNIC_ERR_PEER;
        return -1;
    }
    if (!done) return 0;
    const int32_t *head = (const int32_t *)A->rx_down[i];
    int batch = head[0], rows = head[1], slot = dnic__pipe_ring_slot_of(b, batch);
    if (slot < 0 || rows < 1 || rows > p->max_batch) {
        *st = DNIC_ERR_STATE;
        return -1;
    }
    double t0 = dnic__pipe_now();
    float loss = NAN;
    int64_t stale = 0;
    *st = dnic__pipe_train_iface(b, slot, b->ring_y[slot], (const float *)(head + HEADER_INTS), rows, &loss, &stale);
    b->busy += dnic__pipe_now() - t0;
    if (*st != DNIC_OK) return -1;
    dnic__pipe_note_target(b, loss, stale);
    b->ring_batch[slot] = -1;
    post_down(L, i);
    A->down_head = (i + 1) % A->window;
    A->last_event = dnic__pipe_now();
    return 1;
}

static void count_loss(dnic_pipe_t *p, float loss) {
    p->loss_acc += (double)loss;
    p->finished_acc++;
}

/* Block s on one batch: forward, signal, backward, update; h and labels
 * up, the gradient at its input down, the top's loss to rank 0. */
static dnic_status forward(dnic_pipe_t *p, mpi_link *L, const float *x, const int32_t *y, int batch, int rows) {
    async_link *A = L->async;
    int s = L->rank, W = A->window;
    pipe_block_t *b = &p->blocks[s];
    int slot = b->it ? free_slot(b) : -1;
    int32_t *down = NULL;
    dnic_status st = DNIC_OK;
    if (s > 0) {
        st = take_sender(L, &A->sq_down[A->down_next], s - 1, "sending gradients to");
        if (st != DNIC_OK) return st;
        down = (int32_t *)A->tx_down[A->down_next];
    }
    /* Open MPI moves a large message only while both ends are inside MPI,
     * and this rank is about to compute outside it for milliseconds: give
     * the sends still going a push first (waiting for them to finish, as
     * the lockstep pipeline does, measured slower here: it ties each rank
     * to its neighbours' pace) */
    for (int i = 0; i < W; i++) {
        int done = 0;
        if (A->sq_up[i] != MPI_REQUEST_NULL) MPI_Test(&A->sq_up[i], &done, MPI_STATUS_IGNORE);
        if (i != A->down_next && A->sq_down[i] != MPI_REQUEST_NULL) MPI_Test(&A->sq_down[i], &done, MPI_STATUS_IGNORE);
    }
    double t0 = dnic__pipe_now();
    if (b->it) memcpy(b->ring_y[slot], y, (size_t)rows * sizeof(int32_t));
    float loss = NAN;
    st = dnic__pipe_block_step(p, s, x, b->it ? b->ring_y[slot] : y, batch, rows, slot,
                               down ? (float *)(down + HEADER_INTS) : NULL, &loss);
    b->busy += dnic__pipe_now() - t0;
    if (st != DNIC_OK) return st;
    if (b->it) {
        st = take_sender(L, &A->sq_up[A->up_next], s + 1, "sending activations to");
        if (st != DNIC_OK) return st;
        int32_t *up = (int32_t *)A->tx_up[A->up_next];
        up[0] = batch;
        up[1] = rows;
        up[2] = up[3] = 0;
        memcpy(up + HEADER_INTS, y, (size_t)rows * sizeof(int32_t));
        size_t values = (size_t)rows * (size_t)b->top_dim;
        memcpy(up + HEADER_INTS + rows, b->ring_h[slot], values * sizeof(float));
        size_t bytes = HEADER_INTS * sizeof(int32_t) + (size_t)rows * sizeof(int32_t) + values * sizeof(float);
        MPI_Isend(up, (int)bytes, MPI_BYTE, s + 1, TAG_UP, L->comm, &A->sq_up[A->up_next]);
        A->up_next = (A->up_next + 1) % W;
    } else if (s == 0) {
        count_loss(p, loss);
    } else {
        int k = A->loss_next;
        st = take_sender(L, &A->sq_loss[k], 0, "reporting a loss to");
        if (st != DNIC_OK) return st;
        A->tx_loss[k] = (loss_message){batch, loss};
        MPI_Isend(&A->tx_loss[k], (int)sizeof(loss_message), MPI_BYTE, 0, TAG_LOSS, L->comm, &A->sq_loss[k]);
        A->loss_next = (k + 1) % LOSS_SLOTS;
    }
    if (s > 0) {
        down[0] = batch;
        down[1] = rows;
        down[2] = down[3] = 0;
        size_t bytes = HEADER_INTS * sizeof(int32_t) + (size_t)rows * (size_t)b->in_dim * sizeof(float);
        MPI_Isend(down, (int)bytes, MPI_BYTE, s - 1, TAG_DOWN, L->comm, &A->sq_down[A->down_next]);
        A->down_next = (A->down_next + 1) % W;
    }
    A->last_event = dnic__pipe_now();
    return DNIC_OK;
}

/* The end of a drain, up the chain (no credit: it enters no ring). */
static dnic_status send_end(mpi_link *L) {
    async_link *A = L->async;
    if (L->rank + 1 >= L->size) return DNIC_OK;
    dnic_status st = take_sender(L, &A->sq_up[A->up_next], L->rank + 1, "sending the end of a drain to");
    if (st != DNIC_OK) return st;
    int32_t *up = (int32_t *)A->tx_up[A->up_next];
    up[0] = END_OF_DRAIN;
    up[1] = up[2] = up[3] = 0;
    MPI_Isend(up, HEADER_INTS * (int)sizeof(int32_t), MPI_BYTE, L->rank + 1, TAG_UP, L->comm, &A->sq_up[A->up_next]);
    A->up_next = (A->up_next + 1) % A->window;
    return DNIC_OK;
}

/* Nothing to do: a moment's pause, and whether this rank has waited too
 * long for `peer` (rank 0 longest, and higher ranks complain first, so the
 * rank at fault is the one named). */
static dnic_status idle(mpi_link *L, int peer, const char *what) {
    async_link *A = L->async;
    double limit = L->rank == 0 ? 1.5 * L->timeout + 2.0
                                : L->timeout * (1.0 + 0.25 * (double)(L->size - 1 - L->rank));
    double waited = dnic__pipe_now() - A->last_event;
    if (waited > limit) {
        char text[32];
        mpi__fail("rank %d sent nothing for %s s while %s it (dead, stuck, or slower than the timeout)", peer,
                  mpi__seconds(text, limit), what);
        return DNIC_ERR_PEER;
    }
    mpi__backoff(waited);
    return DNIC_OK;
}

/* ---------------------------------------------------------------- rank 0 */

/* Losses, finished ranks, failures and complaints that came in. */
static dnic_status root_listen(dnic_pipe_t *p, mpi_link *L, int *done_ranks) {
    async_link *A = L->async;
    int flag = 0;
    MPI_Status from;
    while (L->size > 1 && (MPI_Iprobe(L->size - 1, TAG_LOSS, L->comm, &flag, &from), flag)) {
        loss_message m;
        MPI_Recv(&m, (int)sizeof m, MPI_BYTE, L->size - 1, TAG_LOSS, L->comm, MPI_STATUS_IGNORE);
        count_loss(p, m.loss);
        A->losses_in++;
        A->last_event = dnic__pipe_now();
    }
    while (MPI_Iprobe(MPI_ANY_SOURCE, TAG_DONE, L->comm, &flag, &from), flag) {
        int32_t r;
        MPI_Recv(&r, 1, MPI_INT32_T, from.MPI_SOURCE, TAG_DONE, L->comm, MPI_STATUS_IGNORE);
        if (done_ranks) ++*done_ranks;
        A->last_event = dnic__pipe_now();
    }
    if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_STATUS, L->comm, &flag, &from), flag) {
        rank_status q;
        MPI_Recv(&q, (int)sizeof q, MPI_BYTE, from.MPI_SOURCE, TAG_STATUS, L->comm, MPI_STATUS_IGNORE);
        if (q.fault_tensor >= 0) dnic__net_set_fault(p->blocks[from.MPI_SOURCE].net, q.fault_tensor, q.fault_grad);
        p->blocks[from.MPI_SOURCE].st = (dnic_status)q.status;
        mpi__fail("rank %d (block %d) failed: %s", from.MPI_SOURCE, from.MPI_SOURCE, dnic_status_str(q.status));
        return (dnic_status)q.status;
    }
    if (L->rq_complaint != MPI_REQUEST_NULL) {
        MPI_Test(&L->rq_complaint, &flag, &from);
        if (flag) {
            L->complaint[COMPLAINT_CHARS - 1] = 0;
            mpi__fail("rank %d: %s", from.MPI_SOURCE, L->complaint);
            return DNIC_ERR_PEER;
        }
    }
    return DNIC_OK;
}

static void take_losses(dnic_pipe_t *p) {
    p->top_loss = p->finished_acc ? (float)(p->loss_acc / p->finished_acc) : NAN;
    p->top_finished = p->finished_acc;
    p->loss_acc = 0;
    p->finished_acc = 0;
}

static dnic_status root_feed(dnic_pipe_t *p, mpi_link *L, const float *x, const int32_t *y, int batch, int rows) {
    async_link *A = L->async;
    dnic_status st = DNIC_OK;
    for (;;) {
        if (take_target(p, L, &st) < 0) return st;
        if ((st = root_listen(p, L, NULL)) != DNIC_OK) return st;
        if (can_forward(p, L)) break;
        if ((st = idle(L, 1, "waiting for gradients from")) != DNIC_OK) return st;
    }
    A->undrained = 1;
    st = forward(p, L, x, y, batch, rows);
    if (st == DNIC_OK) A->sent++;
    return st;
}

static dnic_status root_drain(dnic_pipe_t *p, mpi_link *L) {
    async_link *A = L->async;
    dnic_status st = send_end(L);
    int done_ranks = 0;
    A->last_event = dnic__pipe_now();
    while (st == DNIC_OK) {
        int did = take_target(p, L, &st);
        if (did < 0) return st;
        if ((st = root_listen(p, L, &done_ranks)) != DNIC_OK) return st;
        if (done_ranks == L->size - 1 && !waiting_above(&p->blocks[0]) && (L->size == 1 || A->losses_in == A->sent))
            break;
        if (!did) st = idle(L, 1, "draining, waiting for");
    }
    A->undrained = 0;
    return st;
}

static dnic_status root_tick(dnic_pipe_t *p, const float *x, const int32_t *labels, int x_batch, int rows) {
    mpi_link *L = p->transport_ctx;
    async_link *A = L->async;
    /* after a block failed (its batch never reaches the top) nothing can
     * drain: the caller reads which tensor failed and stops */
    if (A->failed != DNIC_OK) return A->failed;
    mpi__fail("%s", ""); /* a line from an earlier failure must not describe this one */
    dnic_status st = x ? root_feed(p, L, x, labels, x_batch, rows) : root_drain(p, L);
    if (st == DNIC_ERR_PEER) p->transport_broken = 1;
    if (st != DNIC_OK) A->failed = st;
    take_losses(p);
    return st;
}

static int root_pending(const dnic_pipe_t *p) {
    const mpi_link *L = p->transport_ctx;
    return L->async->undrained;
}

static dnic_status root_gather(dnic_pipe_t *p) { return mpi__gather(p); }

static dnic_status rank_no_tick(dnic_pipe_t *p, const float *x, const int32_t *labels, int x_batch, int rows) {
    (void)p, (void)x, (void)labels, (void)x_batch, (void)rows;
    return DNIC_ERR_STATE;
}
static int rank_pending(const dnic_pipe_t *p) {
    (void)p;
    return 0;
}
static dnic_status rank_no_gather(dnic_pipe_t *p) {
    (void)p;
    return DNIC_ERR_STATE;
}

/* this file's part of the link goes first (after rank 0 stopped the
 * others), then the link in mpi__release */
static void release(dnic_pipe_t *p, int stop_others) {
    mpi_link *L = p->transport_ctx;
    if (stop_others) mpi__stop_others(p);
    async_free(L->async);
    L->async = NULL;
    mpi__release(p);
}
static void root_release(dnic_pipe_t *p) { release(p, 1); }
static void rank_release(dnic_pipe_t *p) { release(p, 0); }

const struct pipe_transport mpi__async_root = {root_tick, root_pending, root_gather, root_release};
const struct pipe_transport mpi__async_rank = {rank_no_tick, rank_pending, rank_no_gather, rank_release};

/* ---------------------------------------------------------------- ranks > 0 */

/* This rank's block failed: rank 0 hears which tensor; the rank then only
 * answers commands (rank 0 ends the run). */
static void report_fault(dnic_pipe_t *p, mpi_link *L, dnic_status st) {
    async_link *A = L->async;
    pipe_block_t *b = &p->blocks[L->rank];
    int grad = 0;
    A->fault = (rank_status){0};
    A->fault.status = st;
    A->fault.fault_tensor = dnic_net_fault_tensor(b->net, &grad);
    A->fault.fault_grad = grad;
    MPI_Isend(&A->fault, (int)sizeof A->fault, MPI_BYTE, 0, TAG_STATUS, L->comm, &A->sq_fault);
}

dnic_status mpi__async_serve(dnic_pipe_t *p, mpi_link *L) {
    async_link *A = L->async;
    int s = L->rank, top = s + 1 == L->size, failed = 0;
    pipe_block_t *b = &p->blocks[s];
    int32_t *cmd = &L->cmd[0];
    MPI_Request *rq_cmd = &L->rq_cmd[0], *sq_state = &L->rq_cmd[1 % L->size];
    MPI_Irecv(cmd, 1, MPI_INT32_T, 0, TAG_CMD, L->comm, rq_cmd);
    A->last_event = dnic__pipe_now();
    for (;;) {
        int did = 0, got = 0;
        dnic_status st = DNIC_OK;
        MPI_Test(rq_cmd, &got, MPI_STATUS_IGNORE);
        if (got) {
            A->last_event = dnic__pipe_now();
            if (*cmd == CMD_STOP) return DNIC_OK;
            if (*cmd == CMD_GATHER) {
                if ((st = mpi__send_state(p, L, sq_state)) != DNIC_OK) return st;
            }
            MPI_Irecv(cmd, 1, MPI_INT32_T, 0, TAG_CMD, L->comm, rq_cmd);
            continue;
        }
        if (!failed) {
            did = take_target(p, L, &st);
            if (did == 0 && can_forward(p, L)) {
                int i = A->up_head, done = 0;
                MPI_Test(&A->rq_up[i], &done, MPI_STATUS_IGNORE);
                if (done) {
                    const int32_t *head = (const int32_t *)A->rx_up[i];
                    int batch = head[0], rows = head[1];
                    if (batch == END_OF_DRAIN) {
                        A->saw_end = 1;
                        st = send_end(L);
                    } else if (rows < 1 || rows > p->max_batch) {
                        st = DNIC_ERR_STATE;
                    } else {
                        st = forward(p, L, (const float *)(head + HEADER_INTS + rows), head + HEADER_INTS, batch, rows);
                    }
                    post_up(L, i);
                    A->up_head = (i + 1) % A->window;
                    A->last_event = dnic__pipe_now();
                    did = 1;
                }
            }
            if (st == DNIC_ERR_PEER) return st;
            if (st != DNIC_OK) {
                failed = 1;
                report_fault(p, L, st);
            }
            if (A->saw_end && !waiting_above(b)) {
                A->saw_end = 0;
                A->done_flag = s;
                if ((st = take_sender(L, &A->sq_done, 0, "reporting to")) != DNIC_OK) return st;
                MPI_Isend(&A->done_flag, 1, MPI_INT32_T, 0, TAG_DONE, L->comm, &A->sq_done);
            }
        }
        if (!did) {
            /* waiting for targets from above, or (idle) for rank 0 */
            int owed = !top && waiting_above(b) > 0 && !failed;
            if (owed) st = idle(L, s + 1, "waiting for gradients from");
            else if (dnic__pipe_now() - A->last_event > 3.0 * L->timeout + 10.0) {
                char text[32];
                mpi__fail("rank 0 sent nothing for %s s (dead, stuck, or slower than the timeout)",
                          mpi__seconds(text, 3.0 * L->timeout + 10.0));
                st = DNIC_ERR_PEER;
            } else {
                mpi__backoff(dnic__pipe_now() - A->last_event);
            }
            if (st != DNIC_OK) return st;
        }
    }
}
