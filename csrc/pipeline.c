/* pipeline.c — the pipeline schedule (DESIGN.md section 2): the network
 * cut at its interfaces into blocks, each its own network, run in lockstep
 * ticks. At a tick every block takes the message its neighbour sent at the
 * previous tick:
 *   - block s takes the batch block s-1 forwarded (block 0: the batch fed
 *     this tick), runs forward; below the top its interface predicts the
 *     gradient at its top, the block runs backward from that prediction and
 *     updates at once (update- and backward-unlocked); the top block runs
 *     backward from the loss and updates. Each block above the first sends
 *     the gradient at its input down;
 *   - an interface trains when its bootstrapped target (that gradient)
 *     arrives, on the activations and labels of the same batch, kept in a
 *     small ring.
 * In steady state block s works on batch tau - s at tick tau. Blocks only
 * read what their neighbours wrote at the previous tick (every message is
 * double-buffered by tick parity) and run single-threaded inside, so the
 * result does not depend on how many threads share the blocks: K threads
 * equal one thread bit for bit.
 * Not here: the locked schedule (dni.c), async.
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 199309L
#  undef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 199309L
#endif
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A block's top activations are read by the block above one tick after
 * they were made and by its interface's training two ticks after: three
 * slots never overwrite one still needed. */
#define RING 3

typedef struct {
    int batch; /* -1: no message */
    int rows;
    int slot;  /* up: ring slot of the sender holding h */
} message_t;

typedef struct {
    dnic_net_t *net;
    dnic_iface_t *it; /* interface at its top; NULL for the top block */
    int first, last;  /* its layers in the whole network */
    int in_dim, top_dim;
    float *ring_h[RING];
    int ring_batch[RING], next_slot;
    float *down[2];   /* gradient at its input, by tick parity */
    message_t up_msg[2], down_msg[2];
    float *scratch;   /* the training pass's (unused) signal */
    dnic_status st;
    double busy;      /* seconds computing, summed over ticks */
    float iface_loss;
} block_t;

struct dnic_pipe_s {
    dnic_dni_t *dni;
    dnic_net_t *whole;
    int n_blocks, max_batch;
    block_t *blocks;
    int32_t **labels; /* ring of the labels of batches in flight */
    int *label_batch, n_label_slots;
    int64_t tick, fed;
    /* update decoupling: a block applies its update with this probability;
     * the draw for a batch is a hash of (seed, block, first_batch + batch) */
    float update_prob;
    uint64_t update_seed;
    int64_t first_batch;
    float top_loss;
    int top_finished;
    double wall;      /* seconds inside ticks */
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void dnic_pipe_free(dnic_pipe_t *p) {
    if (!p) return;
    for (int s = 0; p->blocks && s < p->n_blocks; s++) {
        block_t *b = &p->blocks[s];
        dnic_net_free(b->net);
        for (int r = 0; r < RING; r++) free(b->ring_h[r]);
        free(b->down[0]);
        free(b->down[1]);
        free(b->scratch);
    }
    for (int i = 0; p->labels && i < p->n_label_slots; i++) free(p->labels[i]);
    free(p->labels);
    free(p->label_batch);
    free(p->blocks);
    free(p);
}

/* Which interfaces the pipeline can run: its signal must not need the
 * same batch's result from above. */
static int runs_unlocked(const dnic_iface_desc *d) {
    int trainable = d->kind == DNIC_IFACE_LINEAR || d->kind == DNIC_IFACE_NOLABEL ||
                    d->kind == DNIC_IFACE_SIGMOID || d->kind == DNIC_IFACE_MLP;
    return trainable && d->target == DNIC_TARGET_BOOTSTRAP && d->signal == DNIC_SIGNAL_PRED &&
           d->warmup_steps == 0;
}

static dnic_status setup_block(dnic_pipe_t *p, block_t *b, int first, int last) {
    dnic_net_t *whole = p->whole;
    b->first = first;
    b->last = last;
    b->in_dim = first == 0 ? dnic_net_input_dim(whole) : dnic_net_layer_width(whole, first - 1);
    b->top_dim = dnic_net_layer_width(whole, last);
    dnic_status st = dnic__net_block_create(&b->net, whole, first, last, p->max_batch);
    if (st != DNIC_OK) return st;
    dnic__net_block_sync(b->net, whole, first, 0);
    if (first > 0 && (st = dnic_net_set_input_grad(b->net, 1)) != DNIC_OK) return st;
    size_t top = (size_t)p->max_batch * (size_t)b->top_dim, in = (size_t)p->max_batch * (size_t)b->in_dim;
    for (int r = 0; r < RING; r++) {
        if (!(b->ring_h[r] = malloc(top * sizeof(float)))) return DNIC_ERR_NOMEM;
        b->ring_batch[r] = -1;
    }
    if (!(b->scratch = malloc(top * sizeof(float)))) return DNIC_ERR_NOMEM;
    for (int k = 0; k < 2; k++) {
        if (first > 0 && !(b->down[k] = malloc(in * sizeof(float)))) return DNIC_ERR_NOMEM;
        b->up_msg[k].batch = b->down_msg[k].batch = -1;
    }
    b->iface_loss = NAN;
    return DNIC_OK;
}

dnic_status dnic_pipe_create(dnic_pipe_t **out, dnic_dni_t *dni) {
    if (!out) return DNIC_ERR_NULL;
    *out = NULL;
    if (!dni) return DNIC_ERR_NULL;
    int n = dnic_dni_num_ifaces(dni);
    for (int i = 0; i < n; i++)
        if (!runs_unlocked(dnic__dni_desc(dni, i))) return DNIC_ERR_ARG;
    if (dnic__dni_tracking(dni)) return DNIC_ERR_ARG; /* alignment needs the true gradient now */
    dnic_pipe_t *p = calloc(1, sizeof *p);
    if (!p) return DNIC_ERR_NOMEM;
    p->dni = dni;
    p->whole = dnic__dni_net(dni);
    p->n_blocks = n + 1;
    p->max_batch = dnic_net_max_batch(p->whole);
    p->blocks = calloc((size_t)p->n_blocks, sizeof *p->blocks);
    /* batch b's labels are read up to n_blocks ticks after it was fed */
    p->n_label_slots = p->n_blocks + 2;
    p->labels = calloc((size_t)p->n_label_slots, sizeof *p->labels);
    p->label_batch = malloc((size_t)p->n_label_slots * sizeof *p->label_batch);
    dnic_status st = p->blocks && p->labels && p->label_batch ? DNIC_OK : DNIC_ERR_NOMEM;
    for (int i = 0; st == DNIC_OK && i < p->n_label_slots; i++) {
        p->label_batch[i] = -1;
        if (!(p->labels[i] = malloc((size_t)p->max_batch * sizeof(int32_t)))) st = DNIC_ERR_NOMEM;
    }
    /* the DNI numbers its interfaces top first: block s sits under interface n-1-s */
    int first = 0;
    for (int s = 0; st == DNIC_OK && s < p->n_blocks; s++) {
        block_t *b = &p->blocks[s];
        int last = s < n ? dnic__dni_desc(dni, n - 1 - s)->layer : dnic_net_num_layers(p->whole) - 1;
        if (s < n) b->it = dnic_dni_iface(dni, n - 1 - s);
        st = setup_block(p, b, first, last);
        first = last + 1;
    }
    if (st != DNIC_OK) {
        dnic_pipe_free(p);
        return st;
    }
    p->top_loss = NAN;
    p->update_prob = 1.0f;
    *out = p;
    return DNIC_OK;
}

int dnic_pipe_num_blocks(const dnic_pipe_t *p) { return p ? p->n_blocks : 0; }

/* Whether block s applies its update for `batch` (update decoupling). */
static int updates(const dnic_pipe_t *p, int s, int batch) {
    if (p->update_prob >= 1.0f) return 1;
    uint64_t z = p->update_seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(s + 1)) ^
                 (0xd1b54a32d192ed03ULL * (uint64_t)(p->first_batch + batch + 1));
    return dnic_rng_uniform(&z) < p->update_prob;
}

static const int32_t *labels_of(const dnic_pipe_t *p, int batch) {
    int slot = batch % p->n_label_slots;
    return p->label_batch[slot] == batch ? p->labels[slot] : NULL;
}

static int ring_slot_of(const block_t *b, int batch) {
    for (int r = 0; r < RING; r++)
        if (b->ring_batch[r] == batch) return r;
    return -1;
}

/* Block s's work at tick `tick`, from its neighbours' messages of the
 * previous tick; writes only its own buffers and messages. */
static void block_tick(dnic_pipe_t *p, int s, const float *x, int x_batch, int x_rows) {
    block_t *b = &p->blocks[s];
    int now_k = (int)(p->tick & 1), prev_k = now_k ^ 1;
    double t0 = now();
    dnic_status st = DNIC_OK;
    b->up_msg[now_k].batch = -1;
    b->down_msg[now_k].batch = -1;

    /* 1. the interface trains on a target that arrived from above */
    if (b->it) {
        const block_t *above = &p->blocks[s + 1];
        const message_t *m = &above->down_msg[prev_k];
        if (m->batch >= 0) {
            int slot = ring_slot_of(b, m->batch);
            const int32_t *y = labels_of(p, m->batch);
            if (slot < 0 || !y) st = DNIC_ERR_STATE;
            if (st == DNIC_OK)
                st = dnic_iface_boundary_step(b->it, b->ring_h[slot], y, NULL, above->down[prev_k], b->scratch, m->rows,
                                              &b->iface_loss);
            if (st == DNIC_OK) st = dnic_iface_update(b->it);
        }
    }

    /* 2. the batch from below: forward, signal, backward, update */
    const float *in = NULL;
    int batch = -1, rows = 0;
    if (s == 0) {
        in = x;
        batch = x_batch;
        rows = x_rows;
    } else {
        const block_t *below = &p->blocks[s - 1];
        const message_t *m = &below->up_msg[prev_k];
        if (m->batch >= 0) {
            in = below->ring_h[m->slot];
            batch = m->batch;
            rows = m->rows;
        }
    }
    if (st == DNIC_OK && in) {
        const int32_t *y = labels_of(p, batch);
        int top = b->last - b->first;
        if (!y) st = DNIC_ERR_STATE;
        if (st == DNIC_OK) st = dnic_net_forward(b->net, in, rows, 1);
        if (st == DNIC_OK && !b->it) {
            st = dnic_net_loss(b->net, y, NULL, rows, &p->top_loss);
            p->top_finished = st == DNIC_OK;
        } else if (st == DNIC_OK) {
            int slot = b->next_slot;
            b->next_slot = (slot + 1) % RING;
            memcpy(b->ring_h[slot], dnic_net_output(b->net), sizeof(float) * (size_t)rows * (size_t)b->top_dim);
            b->ring_batch[slot] = batch;
            st = dnic_iface_predict_signal(b->it, b->ring_h[slot], y, NULL, dnic_net_grad_at(b->net, top), rows);
            b->up_msg[now_k] = (message_t){batch, rows, slot};
        }
        if (st == DNIC_OK) {
            dnic__net_zero_grad_lazy(b->net);
            st = dnic_net_backward(b->net, rows);
        }
        if (st == DNIC_OK && s > 0) {
            memcpy(b->down[now_k], dnic_net_input_grad(b->net), sizeof(float) * (size_t)rows * (size_t)b->in_dim);
            b->down_msg[now_k] = (message_t){batch, rows, -1};
        }
        if (st == DNIC_OK && updates(p, s, batch)) st = dnic_net_update(b->net);
    }
    b->st = st;
    b->busy += now() - t0;
}

dnic_status dnic_pipe_tick(dnic_pipe_t *p, const float *x, const int32_t *labels, int B, float *loss_out,
                           int *finished_out) {
    if (!p) return DNIC_ERR_NULL;
    if (x && !labels) return DNIC_ERR_NULL;
    if (x && B < 1) return DNIC_ERR_SIZE;
    if (x && B > p->max_batch) return DNIC_ERR_BATCH_TOO_LARGE;
    if (x && p->fed >= INT32_MAX) return DNIC_ERR_SIZE;
    double t0 = now();
    int x_batch = -1;
    if (x) {
        /* labels out of range are refused by the loss and the interfaces */
        x_batch = (int)p->fed++;
        int slot = x_batch % p->n_label_slots;
        memcpy(p->labels[slot], labels, (size_t)B * sizeof(int32_t));
        p->label_batch[slot] = x_batch;
    }
    p->top_finished = 0;
    p->top_loss = NAN;
    int S = p->n_blocks, workers = dnic_get_num_threads();
    if (workers > S) workers = S;
    dnic_enable_flush_to_zero();
    if (workers <= 1) {
        for (int s = 0; s < S; s++) block_tick(p, s, x, x_batch, B);
    } else {
        /* one team per tick; inside it every block's OpenMP regions and
         * GEMMs run single-threaded (nested parallelism is off), so a block
         * computes the same bytes whichever thread runs it, and threads can
         * take blocks as they come free (more blocks than threads) */
        int next = 0;
        /* blocks handed out by a shared counter: schedule(dynamic) would
         * need an entry point (__kmpc_dispatch_deinit) that clang 21 emits
         * and Debian's libomp lacks */
#pragma omp parallel num_threads(workers)
        for (;;) {
            int s;
#pragma omp atomic capture
            s = next++;
            if (s >= S) break;
            block_tick(p, s, x, x_batch, B);
        }
    }
    p->tick++;
    p->wall += now() - t0;
    for (int s = 0; s < S; s++)
        if (p->blocks[s].st != DNIC_OK) return p->blocks[s].st;
    if (loss_out) *loss_out = p->top_loss;
    if (finished_out) *finished_out = p->top_finished;
    return DNIC_OK;
}

int dnic_pipe_pending(const dnic_pipe_t *p) {
    if (!p) return 0;
    int k = (int)((p->tick - 1) & 1);
    if (p->tick == 0) return 0;
    for (int s = 0; s < p->n_blocks; s++)
        if (p->blocks[s].up_msg[k].batch >= 0 || p->blocks[s].down_msg[k].batch >= 0) return 1;
    return 0;
}

dnic_status dnic_pipe_flush(dnic_pipe_t *p) {
    if (!p) return DNIC_ERR_NULL;
    while (dnic_pipe_pending(p)) {
        dnic_status st = dnic_pipe_tick(p, NULL, NULL, 0, NULL, NULL);
        if (st != DNIC_OK) return st;
    }
    return DNIC_OK;
}

dnic_status dnic_pipe_set_update_prob(dnic_pipe_t *p, float prob, uint64_t seed, int64_t first_batch) {
    if (!p) return DNIC_ERR_NULL;
    if (!(prob > 0.0f && prob <= 1.0f) || first_batch < 0) return DNIC_ERR_ARG;
    p->update_prob = prob;
    p->update_seed = seed;
    p->first_batch = first_batch;
    return DNIC_OK;
}

int64_t dnic_pipe_block_step(const dnic_pipe_t *p, int s) {
    return (p && s >= 0 && s < p->n_blocks) ? dnic_net_optim_step(p->blocks[s].net) : -1;
}

dnic_status dnic_pipe_set_block_step(dnic_pipe_t *p, int s, int64_t step) {
    if (!p) return DNIC_ERR_NULL;
    if (s < 0 || s >= p->n_blocks) return DNIC_ERR_ARG;
    return dnic_net_set_optim_step(p->blocks[s].net, step);
}

dnic_status dnic_pipe_sync_to_net(dnic_pipe_t *p) {
    if (!p) return DNIC_ERR_NULL;
    for (int s = 0; s < p->n_blocks; s++) dnic__net_block_sync(p->blocks[s].net, p->whole, p->blocks[s].first, 1);
    return DNIC_OK;
}

dnic_status dnic_pipe_block_stats(const dnic_pipe_t *p, int s, double *busy_seconds, double *wait_seconds) {
    if (!p) return DNIC_ERR_NULL;
    if (s < 0 || s >= p->n_blocks) return DNIC_ERR_ARG;
    if (busy_seconds) *busy_seconds = p->blocks[s].busy;
    if (wait_seconds) *wait_seconds = p->wall - p->blocks[s].busy;
    return DNIC_OK;
}

float dnic_pipe_iface_loss(const dnic_pipe_t *p, int s) {
    return (p && s >= 0 && s < p->n_blocks) ? p->blocks[s].iface_loss : NAN;
}

dnic_net_t *dnic_pipe_block_net(dnic_pipe_t *p, int s) {
    return (p && s >= 0 && s < p->n_blocks) ? p->blocks[s].net : NULL;
}
