/* pipe_internal.h — what the two unlocked schedules share: the blocks a
 * DNI's network is cut into, the schedule object (dnic_pipe_t), the
 * operations on one block (block_step.c: interface training,
 * forward-signal-backward-update), the lockstep tick in the pieces a
 * transport reuses (pipeline.c) and a block's state as bytes
 * (pipe_state.c). pipeline.c runs the blocks in lockstep ticks, async.c on
 * free-running worker threads, the MPI transports one block per rank.
 * Not part of the public API. */
#ifndef DNIC_PIPE_INTERNAL_H
#define DNIC_PIPE_INTERNAL_H

#include "train/train_internal.h"

#include <pthread.h>

/* The functions below marked DNIC_INTERNAL_API are exported from
 * libdnic.so for libdnic_mpi (csrc/transport/mpi) alone: not part of the API, no
 * stability promised. */

/* A block's top activations are read by the block above one tick after
 * they were made and by its interface's training two ticks after (more
 * when delayed blocks sit above it): three slots, or the wait plus one,
 * never overwrite one still needed (pipeline). */
#define PIPE_RING 3

typedef struct {
    int batch; /* -1: no message */
    int rows;
    int slot;  /* up: ring slot of the sender holding h */
} pipe_message_t;

/* A message a block reads at a tick: its batch (-1: none), rows, and the
 * values (h from below, the gradient target from above). */
typedef struct {
    int batch, rows;
    const float *values;
} pipe_input_t;

struct pipe_transport;

typedef struct {
    dnic_net_t *net;  /* the DNI's block (a view of the whole), lent to the pipeline */
    dnic_iface_t *it; /* interface at its top; NULL for the top block */
    int first, last;  /* its layers in the whole network */
    int in_dim, top_dim;
    /* top activations of the batches in flight (sent up, target not yet
     * trained on), with their labels (async) and the block's forward
     * count when they were made (staleness) */
    int ring_n;
    float **ring_h;
    int32_t **ring_y;
    int *ring_batch, *ring_rows;
    int64_t *ring_fwd;
    int next_slot;
    /* pipeline: the gradient at its input and the messages, by tick parity */
    float *down[2];
    pipe_message_t up_msg[2], down_msg[2];
    /* async: FIFO of ring slots sent up (read by the block above), and of
     * gradients at its input sent down (read by the block below) */
    int *up_q, up_head, up_count;
    float **down_q;
    int *down_batch, *down_rows, down_head, down_count;
    /* pipeline, under an ORACLE interface ("delayed"): the block forwards
     * a batch and keeps its input; when the batch's target arrives it runs
     * the batch again and backwards from the target (delayed gradient) */
    int delayed;
    float **stash_x;
    int *stash_batch, next_stash;
    int claimed;      /* async: a worker is running this block */
    float *scratch;   /* the training pass's (unused) signal */
    dnic_status st;
    char detail[256]; /* st's dnic_last_error(), copied on the thread that ran the block */
    double busy;      /* seconds computing */
    float iface_loss;
    int64_t forwarded;
    /* staleness of the targets its interface trained on: batches the
     * block forwarded between a batch and that batch's target */
    double stale_sum;
    int64_t stale_count, stale_max;
} pipe_block_t;

struct dnic_pipe_s {
    dnic_dni_t *dni;
    int borrowed;     /* holds the DNI's blocks (given back at free) */
    dnic_net_t *whole;
    int partial;      /* the whole holds one block's layers (dnic_net_create_range): ticks by a transport only */
    int n_blocks, max_batch;
    pipe_block_t *blocks;
    /* pipeline: ring of the labels of batches in flight */
    int32_t **labels;
    int *label_batch, *label_rows, n_label_slots;
    float *stage_x;   /* pipeline: a batch gathered by dnic_pipe_tick_rows */
    int32_t *stage_y;
    int64_t tick, fed;
    /* update decoupling: a block applies its update with this probability;
     * the draw for a batch is a hash of (seed, block, first_batch + batch) */
    float update_prob;
    uint64_t update_seed;
    int64_t first_batch;
    float top_loss;
    int top_finished;
    double wall;      /* seconds the schedule ran (ticks; async: engine up) */

    /* async (async.c) */
    int async, queue, inbox_n;
    float **in_x;     /* block 0's inbox: batches fed, FIFO of inbox_n */
    int32_t **in_y;
    int *in_rows, *in_batch, in_head, in_count;
    pthread_mutex_t mu;
    pthread_cond_t work; /* workers wait here for work */
    pthread_cond_t room; /* the feeding thread waits here for inbox room */
    unsigned long published; /* bumped at every change that may be work (read unlocked by spinning workers) */
    int sync_made, running, draining, threads;
    pthread_t engine;
    dnic_status failed;
    double engine_t0;
    double loss_acc;  /* losses of batches finished since the last tick call */
    int finished_acc;

    /* another transport (MPI ranks, csrc/transport/mpi/): this process runs one
     * block and exchanges the same messages with the others */
    const struct pipe_transport *transport;
    void *transport_ctx;
    int transport_broken; /* a peer failed: every later call is refused */
};

/* What a transport does in place of the in-process loop over blocks. */
struct pipe_transport {
    /* one tick (p->tick not yet advanced; block 0's batch x and labels
     * given there; async: feed x, or drain without): run this process's
     * block, exchange messages, and set top_loss, top_finished (async: the
     * mean and count of the losses that arrived) and the blocks' figures */
    dnic_status (*tick)(dnic_pipe_t *p, const float *x, const int32_t *labels, int x_batch, int rows);
    /* any message sent at the last tick, in any block */
    int (*pending)(const dnic_pipe_t *p);
    /* every block's state (pipe_state.c) into this process's pipeline */
    dnic_status (*gather)(dnic_pipe_t *p);
    /* at free: the other ranks stop */
    void (*release)(dnic_pipe_t *p);
};

/* ---- block_step.c: what both schedules do to one block ---- */

/* Seconds on the monotonic clock the schedules time blocks with. */
DNIC_INTERNAL_API double dnic__pipe_now(void);
/* The ring slot of block b holding `batch`, or -1. */
static inline int dnic__pipe_ring_slot_of(const pipe_block_t *b, int batch) {
    for (int r = 0; r < b->ring_n; r++)
        if (b->ring_batch[r] == batch) return r;
    return -1;
}
/* The interface on top of block b trains on (h in ring slot `slot`, y,
 * target) of one batch: its loss, and the target's staleness (batches the
 * block forwarded since that one); dnic__pipe_note_target records both
 * (async: under the lock, as the figures are read while workers run). */
DNIC_INTERNAL_API dnic_status dnic__pipe_train_iface(pipe_block_t *b, int slot, const int32_t *y, const float *target, int rows,
                                   float *loss, int64_t *stale);
DNIC_INTERNAL_API void dnic__pipe_note_target(pipe_block_t *b, float loss, int64_t stale);
/* Block s on one batch: forward; top: loss into *loss; else h into ring
 * slot `slot` and the interface's predicted gradient; backward; below the
 * top's input, the gradient at its input into `down` (s > 0); update
 * unless update decoupling skips it. */
DNIC_INTERNAL_API dnic_status dnic__pipe_block_step(dnic_pipe_t *p, int s, const float *in, const int32_t *y, int batch, int rows,
                                  int slot, float *down, float *loss);
/* Block s, its signal at its top already: backward, the gradient at its
 * input into `down` (s > 0), its update unless update decoupling skips it. */
dnic_status dnic__pipe_backward_update(dnic_pipe_t *p, int s, int batch, int rows, float *down);

/* ---- pipeline.c: the lockstep tick, in pieces a transport reuses ---- */

/* The messages block s reads at this tick in-process: what its neighbours
 * sent at the previous tick, in their buffers. */
DNIC_INTERNAL_API void dnic__pipe_local_inputs(const dnic_pipe_t *p, int s, pipe_input_t *below, pipe_input_t *above);
/* Block s's work at tick p->tick: its interface trains on the target from
 * above, then the batch from below (block 0: x) goes forward, signal,
 * backward, update; writes only its own buffers and messages. */
DNIC_INTERNAL_API void dnic__pipe_block_tick(dnic_pipe_t *p, int s, const float *x, int x_batch, int x_rows, const pipe_input_t *below,
                           const pipe_input_t *above);
/* Any message sent at the last tick, from this process's view of every block. */
DNIC_INTERNAL_API int dnic__pipe_local_pending(const dnic_pipe_t *p);
/* Batch `batch`'s labels into the ring every block reads them from. */
DNIC_INTERNAL_API void dnic__pipe_store_labels(dnic_pipe_t *p, int batch, const int32_t *labels, int rows);

/* pipe_state.c: one block's whole state (parameters and optimizer moments
 * of its layers and interface, step counters, rings, messages, figures)
 * as bytes, to move it between processes. The size depends only on the
 * pipeline's shape, so both ends know it. */
DNIC_INTERNAL_API size_t dnic__pipe_block_state_size(const dnic_pipe_t *p, int s);
DNIC_INTERNAL_API void dnic__pipe_block_state_pack(const dnic_pipe_t *p, int s, unsigned char *dst);
DNIC_INTERNAL_API dnic_status dnic__pipe_block_state_unpack(dnic_pipe_t *p, int s, const unsigned char *src);
/* Bytes [off, off + len) of block s's state, and back: the first piece
 * holds the whole header (at most a few KiB; unpack of a later piece
 * alone -> DNIC_ERR_ARG when it starts inside it). */
DNIC_INTERNAL_API void dnic__pipe_block_state_pack_range(const dnic_pipe_t *p, int s, size_t off, size_t len,
                                                         unsigned char *dst);
DNIC_INTERNAL_API dnic_status dnic__pipe_block_state_unpack_range(dnic_pipe_t *p, int s, size_t off, size_t len,
                                                                  const unsigned char *src);
/* The piece size the MPI transport moves block states in. */
#define PIPE_STATE_PIECE ((size_t)1 << 26)

#endif
