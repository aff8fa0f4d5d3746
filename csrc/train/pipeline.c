/* pipeline.c — the unlocked schedules' handle (dnic_pipe_t: create, free,
 * feeding, figures) and the pipeline schedule: the network cut at its
 * interfaces into blocks, each its own network, run in lockstep ticks
 * (update- and backward-unlocked training with synthetic gradients, every
 * block busy with another batch at once). At a tick every block takes the message its neighbour sent at the
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
 * The same blocks run free on worker threads under async: the handle
 * passes each batch to async.c through async.h, the one way between the two
 * files. What both schedules do to a block is in block_step.c; the
 * in-flight state a checkpoint saves, in pipe_inflight.c.
 * Not here: the locked schedule (dni.c).
 */
#include "train/async.h"
#include "train/pipe_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Free an array of n buffers (either may be NULL: a setup cut short). */
static void free_floats(float **a, int n) {
    for (int i = 0; a && i < n; i++) free(a[i]);
    free(a);
}

static void free_labels(int32_t **a, int n) {
    for (int i = 0; a && i < n; i++) free(a[i]);
    free(a);
}

void dnic_pipe_free(dnic_pipe_t *p) {
    if (!p) return;
    if (p->transport) p->transport->release(p); /* tells the other ranks to stop */
    dnic__async_free(p); /* stops its workers first */
    for (int s = 0; p->blocks && s < p->n_blocks; s++) {
        pipe_block_t *b = &p->blocks[s];
        free_floats(b->ring_h, b->ring_n);
        free_labels(b->ring_y, b->ring_n);
        free_floats(b->stash_x, b->ring_n);
        free_floats(b->down_q, p->queue);
        free(b->stash_batch);
        free(b->ring_batch);
        free(b->ring_rows);
        free(b->ring_fwd);
        free(b->down[0]);
        free(b->down[1]);
        free(b->down_batch);
        free(b->down_rows);
        free(b->up_q);
        free(b->scratch);
    }
    free_labels(p->labels, p->n_label_slots);
    free(p->label_batch);
    free(p->label_rows);
    free(p->stage_x);
    free(p->stage_y);
    free(p->blocks);
    if (p->borrowed) dnic__dni_lend_blocks(p->dni, 0);
    free(p);
}

/* Which interfaces a schedule can run: its signal must not need the same
 * batch's result from above, or (pipeline) an ORACLE, whose block waits
 * for that result (delayed gradient). */
static int runs_unlocked(const dnic_iface_desc *d, int async) {
    int trainable = d->kind == DNIC_IFACE_LINEAR || d->kind == DNIC_IFACE_NOLABEL ||
                    d->kind == DNIC_IFACE_SIGMOID || d->kind == DNIC_IFACE_MLP;
    int oracle = d->kind == DNIC_IFACE_ORACLE && !async;
    return (trainable || oracle) && d->target == DNIC_TARGET_BOOTSTRAP && d->signal == DNIC_SIGNAL_PRED &&
           d->warmup_steps == 0;
}

static dnic_status setup_block(dnic_pipe_t *p, pipe_block_t *b, int first, int last, int ring_n) {
    dnic_net_t *whole = p->whole;
    b->first = first;
    b->last = last;
    b->in_dim = first == 0 ? dnic_net_input_dim(whole) : dnic_net_layer_width(whole, first - 1);
    b->top_dim = dnic_net_layer_width(whole, last);
    /* the DNI's block (a view of the whole, or the whole itself), as the
     * locked schedule runs it: the pipeline's own steps count from the whole's */
    b->net = dnic__dni_block(p->dni, (int)(b - p->blocks));
    if (b->net != whole) dnic__net_view_refresh(b->net, whole);
    /* a block another process runs (its network is shape only, under
     * dnic_net_create_range): its figures and messages' headers, no buffers */
    int first_held, last_held;
    dnic_net_held_layers(b->net, &first_held, &last_held);
    int held = first_held <= last_held;
    size_t top = held ? (size_t)p->max_batch * (size_t)b->top_dim : 0;
    size_t in = held ? (size_t)p->max_batch * (size_t)b->in_dim : 0;
    b->ring_n = ring_n;
    b->ring_h = calloc((size_t)ring_n, sizeof *b->ring_h);
    b->ring_batch = malloc((size_t)ring_n * sizeof *b->ring_batch);
    b->ring_rows = calloc((size_t)ring_n, sizeof *b->ring_rows);
    b->ring_fwd = calloc((size_t)ring_n, sizeof *b->ring_fwd);
    if (p->async) b->ring_y = calloc((size_t)ring_n, sizeof *b->ring_y);
    if (!b->ring_h || !b->ring_batch || !b->ring_rows || !b->ring_fwd || (p->async && !b->ring_y))
        return DNIC_ERR_NOMEM;
    for (int r = 0; r < ring_n; r++) {
        b->ring_batch[r] = -1;
        if (held && !(b->ring_h[r] = malloc(top * sizeof(float)))) return DNIC_ERR_NOMEM;
        if (p->async && !(b->ring_y[r] = malloc((size_t)p->max_batch * sizeof(int32_t)))) return DNIC_ERR_NOMEM;
    }
    if (held && !(b->scratch = malloc(top * sizeof(float)))) return DNIC_ERR_NOMEM;
    for (int k = 0; k < 2; k++) {
        if (held && !p->async && first > 0 && !(b->down[k] = malloc(in * sizeof(float)))) return DNIC_ERR_NOMEM;
        b->up_msg[k].batch = b->down_msg[k].batch = -1;
    }
    if (p->async) {
        b->up_q = calloc((size_t)p->queue, sizeof *b->up_q);
        b->down_q = calloc((size_t)p->queue, sizeof *b->down_q);
        b->down_batch = calloc((size_t)p->queue, sizeof *b->down_batch);
        b->down_rows = calloc((size_t)p->queue, sizeof *b->down_rows);
        if (!b->up_q || !b->down_q || !b->down_batch || !b->down_rows) return DNIC_ERR_NOMEM;
        for (int q = 0; held && first > 0 && q < p->queue; q++)
            if (!(b->down_q[q] = malloc(in * sizeof(float)))) return DNIC_ERR_NOMEM;
    }
    if (b->delayed) {
        b->stash_x = calloc((size_t)ring_n, sizeof *b->stash_x);
        b->stash_batch = malloc((size_t)ring_n * sizeof *b->stash_batch);
        if (!b->stash_x || !b->stash_batch) return DNIC_ERR_NOMEM;
        for (int r = 0; r < ring_n; r++) {
            b->stash_batch[r] = -1;
            if (held && !(b->stash_x[r] = malloc(in * sizeof(float)))) return DNIC_ERR_NOMEM;
        }
    }
    b->iface_loss = NAN;
    return DNIC_OK;
}

/* Both schedules: queue 0 is the pipeline (lockstep ticks), queue >= 1
 * async with that many messages per queue. */
static dnic_status create(dnic_pipe_t **out, dnic_dni_t *dni, int queue) {
    const char *fn = queue > 0 ? "dnic_pipe_create_async" : "dnic_pipe_create";
    if (!out) return dnic__fail(DNIC_ERR_NULL, "%s: out is NULL", fn);
    *out = NULL;
    if (!dni) return dnic__fail(DNIC_ERR_NULL, "%s: dni is NULL", fn);
    if (queue < 0 || queue > 1024) return dnic__fail(DNIC_ERR_ARG, "%s: queue = %d is outside 1..1024", fn, queue);
    int n = dnic_dni_num_ifaces(dni);
    for (int i = 0; i < n; i++)
        if (!runs_unlocked(dnic__dni_desc(dni, i), queue > 0)) {
            const dnic_iface_desc *d = dnic__dni_desc(dni, i);
            return dnic__fail(DNIC_ERR_ARG, "%s: the interface on layer %d (kind %d, target %d, signal %d, warmup "
                              "%lld) needs the same batch's result from above: a trainable kind%s with signal PRED",
                              fn, d->layer, (int)d->kind, (int)d->target, (int)d->signal, (long long)d->warmup_steps,
                              queue > 0 ? "" : ", or ORACLE with target BOOTSTRAP, no warmup,");
        }
    if (dnic__dni_tracking(dni)) /* alignment needs the true gradient now */
        return dnic__fail(DNIC_ERR_ARG, "%s: alignment tracking is on (dnic_dni_set_track_alignment): it needs the "
                          "true gradient of the same batch", fn);
    if (dnic__dni_num_blocks(dni) != n + 1) /* an interface on the output layer */
        return dnic__fail(DNIC_ERR_ARG, "%s: an interface sits on the output layer %d: the schedules take interfaces "
                          "on hidden layers only", fn, dnic_net_num_layers(dnic__dni_net(dni)) - 1);
    dnic_pipe_t *p = calloc(1, sizeof *p);
    if (!p) return dnic__fail(DNIC_ERR_NOMEM, "%s: out of memory", fn);
    if (dnic__dni_lend_blocks(dni, 1) != DNIC_OK) { /* another schedule runs them */
        free(p);
        return dnic__fail(DNIC_ERR_STATE, "%s: another pipeline already runs this DNI's blocks", fn);
    }
    p->borrowed = 1;
    p->dni = dni;
    p->whole = dnic__dni_net(dni);
    p->partial = !dnic_net_held_layers(p->whole, NULL, NULL);
    p->n_blocks = n + 1;
    p->max_batch = dnic_net_max_batch(p->whole);
    p->async = queue > 0;
    p->queue = queue;
    p->top_loss = NAN;
    p->update_prob = 1.0f;
    p->blocks = calloc((size_t)p->n_blocks, sizeof *p->blocks);
    dnic_status st = p->blocks ? DNIC_OK : DNIC_ERR_NOMEM;
    if (st == DNIC_OK && p->async) st = dnic__async_setup(p, queue);
    /* pipeline: ticks from a block forwarding a batch to that batch's target
     * arriving: 2, plus the wait of a delayed block above (it sends the
     * target only once its own has come); the top block waits for nothing */
    int *wait = calloc((size_t)p->n_blocks, sizeof *wait), reach = p->n_blocks - 1;
    if (st == DNIC_OK && !wait) st = DNIC_ERR_NOMEM;
    for (int s = p->n_blocks - 2; st == DNIC_OK && s >= 0; s--) {
        int above_delayed = s + 1 < n && dnic__dni_desc(dni, n - 2 - s)->kind == DNIC_IFACE_ORACLE;
        wait[s] = 2 + (above_delayed ? wait[s + 1] : 0);
        if (s + wait[s] > reach) reach = s + wait[s];
    }
    if (st == DNIC_OK && !p->async) {
        /* batch b's labels are read up to `reach` ticks after it was fed */
        p->n_label_slots = reach + 2;
        p->labels = calloc((size_t)p->n_label_slots, sizeof *p->labels);
        p->label_batch = malloc((size_t)p->n_label_slots * sizeof *p->label_batch);
        p->label_rows = calloc((size_t)p->n_label_slots, sizeof *p->label_rows);
        st = p->labels && p->label_batch && p->label_rows ? DNIC_OK : DNIC_ERR_NOMEM;
        for (int i = 0; st == DNIC_OK && i < p->n_label_slots; i++) {
            p->label_batch[i] = -1;
            if (!(p->labels[i] = calloc((size_t)p->max_batch, sizeof(int32_t)))) st = DNIC_ERR_NOMEM;
        }
    }
    /* a batch gathered by dnic_pipe_tick_rows (async: under MPI only) */
    if (st == DNIC_OK) {
        p->stage_x = malloc((size_t)p->max_batch * (size_t)dnic_net_input_dim(p->whole) * sizeof(float));
        p->stage_y = malloc((size_t)p->max_batch * sizeof(int32_t));
        if (!p->stage_x || !p->stage_y) st = DNIC_ERR_NOMEM;
    }
    /* async: a block's batches in flight are at most a queue up, one in
     * the block above, a queue of gradients down, and one being trained on */
    /* the DNI numbers its interfaces top first: block s sits under interface n-1-s */
    int first = 0;
    for (int s = 0; st == DNIC_OK && s < p->n_blocks; s++) {
        pipe_block_t *b = &p->blocks[s];
        int last = s < n ? dnic__dni_desc(dni, n - 1 - s)->layer : dnic_net_num_layers(p->whole) - 1;
        if (s < n) {
            b->it = dnic_dni_iface(dni, n - 1 - s);
            b->delayed = dnic__dni_desc(dni, n - 1 - s)->kind == DNIC_IFACE_ORACLE;
        }
        int ring_n = p->async ? 2 * queue + 2 : (wait[s] + 1 > PIPE_RING ? wait[s] + 1 : PIPE_RING);
        st = setup_block(p, b, first, last, ring_n);
        first = last + 1;
    }
    free(wait);
    if (st != DNIC_OK) {
        dnic_pipe_free(p);
        return dnic__fail(st, "%s: %s while building %d blocks (max_batch %d)", fn, dnic_status_str(st), n + 1,
                          dnic_net_max_batch(dnic__dni_net(dni)));
    }
    *out = p;
    return DNIC_OK;
}

dnic_status dnic_pipe_create(dnic_pipe_t **out, dnic_dni_t *dni) { return create(out, dni, 0); }

dnic_status dnic_pipe_create_async(dnic_pipe_t **out, dnic_dni_t *dni, int queue) {
    if (queue < 1) {
        if (out) *out = NULL;
        return dnic__fail(DNIC_ERR_ARG, "dnic_pipe_create_async: queue = %d is outside 1..1024", queue);
    }
    return create(out, dni, queue);
}

int dnic_pipe_is_async(const dnic_pipe_t *p) { return p ? p->async : 0; }

int dnic_pipe_num_blocks(const dnic_pipe_t *p) { return p ? p->n_blocks : 0; }

static const int32_t *labels_of(const dnic_pipe_t *p, int batch) {
    int slot = batch % p->n_label_slots;
    return p->label_batch[slot] == batch ? p->labels[slot] : NULL;
}

/* A delayed block (ORACLE interface) when batch `batch`'s target arrives:
 * forward again on the input it kept (its parameters have moved since it
 * forwarded the batch), the oracle's signal (the target itself) at its
 * top, backward, the gradient at its input into `down` (s > 0), update. */
static dnic_status delayed_step(dnic_pipe_t *p, int s, int batch, int rows, const float *target, float *down) {
    pipe_block_t *b = &p->blocks[s];
    int keep = -1, top = b->last - b->first;
    for (int r = 0; r < b->ring_n; r++)
        if (b->stash_batch[r] == batch) keep = r;
    const int32_t *y = labels_of(p, batch);
    if (keep < 0 || !y)
        return dnic__fail(DNIC_ERR_STATE, "dnic_pipe_tick: block %d has no kept input for batch %d", s, batch);
    dnic_status st = dnic_net_forward(b->net, b->stash_x[keep], rows, 1);
    float loss = NAN;
    if (st == DNIC_OK)
        st = dnic_iface_boundary_step(b->it, dnic_net_output(b->net), y, NULL, target, dnic_net_grad_at(b->net, top),
                                      rows, &loss);
    if (st == DNIC_OK) st = dnic_iface_update(b->it);
    if (st == DNIC_OK) st = dnic__pipe_backward_update(p, s, batch, rows, down);
    if (st == DNIC_OK) {
        b->stash_batch[keep] = -1;
        int slot = dnic__pipe_ring_slot_of(b, batch);
        if (slot >= 0) b->ring_batch[slot] = -1;
        b->iface_loss = loss;
    }
    return st;
}

void dnic__pipe_local_inputs(const dnic_pipe_t *p, int s, pipe_input_t *below, pipe_input_t *above) {
    int prev_k = (int)((p->tick & 1) ^ 1);
    *below = (pipe_input_t){-1, 0, NULL};
    *above = (pipe_input_t){-1, 0, NULL};
    if (s > 0) {
        const pipe_block_t *b = &p->blocks[s - 1];
        const pipe_message_t *m = &b->up_msg[prev_k];
        if (m->batch >= 0) *below = (pipe_input_t){m->batch, m->rows, b->ring_h[m->slot]};
    }
    if (s + 1 < p->n_blocks) {
        const pipe_block_t *b = &p->blocks[s + 1];
        const pipe_message_t *m = &b->down_msg[prev_k];
        if (m->batch >= 0) *above = (pipe_input_t){m->batch, m->rows, b->down[prev_k]};
    }
}

void dnic__pipe_store_labels(dnic_pipe_t *p, int batch, const int32_t *labels, int rows) {
    int slot = batch % p->n_label_slots;
    memcpy(p->labels[slot], labels, (size_t)rows * sizeof(int32_t));
    p->label_batch[slot] = batch;
    p->label_rows[slot] = rows;
}

void dnic__pipe_block_tick(dnic_pipe_t *p, int s, const float *x, int x_batch, int x_rows, const pipe_input_t *below,
                           const pipe_input_t *above) {
    pipe_block_t *b = &p->blocks[s];
    int now_k = (int)(p->tick & 1);
    double t0 = dnic__pipe_now();
    dnic_status st = DNIC_OK;
    b->up_msg[now_k].batch = -1;
    b->down_msg[now_k].batch = -1;

    /* 1. the interface trains on a target that arrived from above (a
     * delayed block runs that batch again and backwards from it) */
    if (b->it && b->delayed) {
        const pipe_input_t *m = above;
        if (m->batch >= 0) st = delayed_step(p, s, m->batch, m->rows, m->values, b->down[now_k]);
        if (st == DNIC_OK && m->batch >= 0 && s > 0) b->down_msg[now_k] = (pipe_message_t){m->batch, m->rows, -1};
    } else if (b->it) {
        const pipe_input_t *m = above;
        if (m->batch >= 0) {
            int slot = dnic__pipe_ring_slot_of(b, m->batch);
            const int32_t *y = labels_of(p, m->batch);
            float loss = NAN;
            int64_t stale = 0;
            st = slot < 0 || !y ? DNIC_ERR_STATE
                                : dnic__pipe_train_iface(b, slot, y, m->values, m->rows, &loss, &stale);
            if (st == DNIC_OK) dnic__pipe_note_target(b, loss, stale);
        }
    }

    /* 2. the batch from below: forward, signal, backward, update */
    const float *in = NULL;
    int batch = -1, rows = 0;
    if (s == 0) {
        in = x;
        batch = x_batch;
        rows = x_rows;
    } else if (below->batch >= 0) {
        in = below->values;
        batch = below->batch;
        rows = below->rows;
    }
    if (st == DNIC_OK && in && b->delayed) {
        /* forward only: h goes up, the input waits for the batch's target */
        int slot = b->next_slot, keep = b->next_stash;
        st = dnic_net_forward(b->net, in, rows, 1);
        if (st == DNIC_OK) {
            memcpy(b->ring_h[slot], dnic_net_output(b->net), sizeof(float) * (size_t)rows * (size_t)b->top_dim);
            b->ring_batch[slot] = batch;
            b->ring_rows[slot] = rows;
            b->ring_fwd[slot] = b->forwarded++;
            memcpy(b->stash_x[keep], in, sizeof(float) * (size_t)rows * (size_t)b->in_dim);
            b->stash_batch[keep] = batch;
            b->next_stash = (keep + 1) % b->ring_n;
            b->next_slot = (slot + 1) % b->ring_n;
            b->up_msg[now_k] = (pipe_message_t){batch, rows, slot};
        }
    } else if (st == DNIC_OK && in) {
        const int32_t *y = labels_of(p, batch);
        int slot = b->next_slot;
        if (!y) st = DNIC_ERR_STATE;
        if (st == DNIC_OK) st = dnic__pipe_block_step(p, s, in, y, batch, rows, slot, b->down[now_k], &p->top_loss);
        if (st == DNIC_OK && !b->it) p->top_finished = 1;
        if (st == DNIC_OK && b->it) {
            b->next_slot = (slot + 1) % b->ring_n;
            b->up_msg[now_k] = (pipe_message_t){batch, rows, slot};
        }
        if (st == DNIC_OK && s > 0) b->down_msg[now_k] = (pipe_message_t){batch, rows, -1};
    }
    b->st = st;
    if (st != DNIC_OK) snprintf(b->detail, sizeof b->detail, "%s", dnic_last_error());
    b->busy += dnic__pipe_now() - t0;
}

/* In-process: every block here, its inputs its neighbours' buffers. */
static void local_block_tick(dnic_pipe_t *p, int s, const float *x, int x_batch, int x_rows) {
    pipe_input_t below, above;
    dnic__pipe_local_inputs(p, s, &below, &above);
    dnic__pipe_block_tick(p, s, x, x_batch, x_rows, &below, &above);
}

dnic_status dnic_pipe_tick(dnic_pipe_t *p, const float *x, const int32_t *labels, int B, float *loss_out,
                           int *finished_out) {
    if (!p)
        return dnic__fail(DNIC_ERR_NULL, "dnic_pipe_tick: p is NULL");
    if (x && !labels)
        return dnic__fail(DNIC_ERR_NULL, "dnic_pipe_tick: labels is NULL (x is given)");
    if (x && B < 1)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_pipe_tick: B = %d, a batch needs >= 1 row", B);
    if (x && B > p->max_batch)
        return dnic__fail(DNIC_ERR_BATCH_TOO_LARGE, "dnic_pipe_tick: B = %d exceeds the network's max_batch "
                          "%d", B, p->max_batch);
    if (x && p->fed >= INT32_MAX)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_pipe_tick: %lld batches fed, the most a pipeline "
                          "takes", (long long)p->fed);
    if (p->partial && !p->transport) {
        int first, last;
        dnic_net_held_layers(p->whole, &first, &last);
        return dnic__fail(DNIC_ERR_STATE, "dnic_pipe_tick: the network holds only layers %d..%d "
                          "(dnic_net_create_range): this process runs one block, attached to the others "
                          "(dnic_mpi_attach)", first, last);
    }
    if (p->async && !p->transport)
        return x ? dnic__async_feed(p, x, labels, B, loss_out, finished_out)
                 : dnic__async_drain(p, loss_out, finished_out);
    double t0 = dnic__pipe_now();
    int x_batch = -1;
    if (p->transport && p->transport_broken)
        return dnic__fail(DNIC_ERR_PEER, "dnic_pipe_tick: the link to another rank broke earlier (dnic_mpi_failure "
                          "says how)");
    if (x) {
        /* labels out of range are refused by the loss and the interfaces */
        x_batch = (int)p->fed++;
        if (!p->async) dnic__pipe_store_labels(p, x_batch, labels, B);
    }
    p->top_finished = 0;
    p->top_loss = NAN;
    if (p->transport) {
        /* this process runs one block; the others are elsewhere */
        dnic_enable_flush_to_zero();
        unsigned long failures = dnic__failures();
        dnic_status st = p->transport->tick(p, x, labels, x_batch, B);
        if (st != DNIC_OK && dnic__failures() == failures)
            dnic__fail(st, "dnic_pipe_tick: the MPI transport failed: %s (dnic_mpi_failure may say more)",
                       dnic_status_str(st));
        p->tick++;
        p->wall += dnic__pipe_now() - t0;
        if (st != DNIC_OK) return st;
        if (loss_out) *loss_out = p->top_loss;
        if (finished_out) *finished_out = p->top_finished;
        return DNIC_OK;
    }
    int S = p->n_blocks, workers = dnic_get_num_threads();
    if (workers > S) workers = S;
    dnic_enable_flush_to_zero();
    if (workers <= 1) {
        for (int s = 0; s < S; s++) local_block_tick(p, s, x, x_batch, B);
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
            local_block_tick(p, s, x, x_batch, B);
        }
    }
    p->tick++;
    p->wall += dnic__pipe_now() - t0;
    for (int s = 0; s < S; s++)
        if (p->blocks[s].st != DNIC_OK)
            return dnic__fail(p->blocks[s].st, "dnic_pipe_tick: block %d: %s", s, p->blocks[s].detail);
    if (loss_out) *loss_out = p->top_loss;
    if (finished_out) *finished_out = p->top_finished;
    return DNIC_OK;
}

dnic_status dnic_pipe_tick_rows(dnic_pipe_t *p, const float *X, const int32_t *labels, size_t n_rows,
                                const int32_t *idx, int B, float *loss_out, int *finished_out) {
    if (!p)
        return dnic__fail(DNIC_ERR_NULL, "dnic_pipe_tick_rows: p is NULL");
    if (!X || !labels || !idx)
        return dnic__fail(DNIC_ERR_NULL, "dnic_pipe_tick_rows: NULL pointer argument (X or labels or idx)");
    if (B < 1 || n_rows < 1)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_pipe_tick_rows: B = %d, n_rows = %zu (need >= 1 each)", B, n_rows);
    if (B > p->max_batch)
        return dnic__fail(DNIC_ERR_BATCH_TOO_LARGE, "dnic_pipe_tick_rows: B = %d exceeds the network's max_batch "
                          "%d", B, p->max_batch);
    for (int r = 0; r < B; r++)
        if (idx[r] < 0 || (size_t)idx[r] >= n_rows)
            return dnic__fail(DNIC_ERR_ARG, "dnic_pipe_tick_rows: idx[%d] = %d is outside "
                              "0..%zu", r, (int)idx[r], n_rows - 1);
    if (p->async && !p->transport) return dnic__async_feed_rows(p, X, labels, idx, B, loss_out, finished_out);
    size_t dim = (size_t)dnic_net_input_dim(p->whole);
    dnic_status st = dnic_gather_rows(p->stage_x, X, idx, B, dim, n_rows);
    if (st == DNIC_OK) st = dnic_gather_labels(p->stage_y, labels, idx, B, n_rows);
    return st == DNIC_OK ? dnic_pipe_tick(p, p->stage_x, p->stage_y, B, loss_out, finished_out) : st;
}

int dnic_pipe_pending(const dnic_pipe_t *p) {
    if (!p) return 0;
    if (p->transport) return p->transport->pending(p);
    if (p->async) return p->running; /* a drain stops the workers */
    return dnic__pipe_local_pending(p);
}

int dnic__pipe_local_pending(const dnic_pipe_t *p) {
    int k = (int)((p->tick - 1) & 1);
    if (p->tick == 0) return 0;
    for (int s = 0; s < p->n_blocks; s++)
        if (p->blocks[s].up_msg[k].batch >= 0 || p->blocks[s].down_msg[k].batch >= 0) return 1;
    return 0;
}

dnic_status dnic_pipe_flush(dnic_pipe_t *p) {
    if (!p)
        return dnic__fail(DNIC_ERR_NULL, "dnic_pipe_flush: p is NULL");
    while (dnic_pipe_pending(p)) {
        dnic_status st = dnic_pipe_tick(p, NULL, NULL, 0, NULL, NULL);
        if (st != DNIC_OK) return st;
    }
    return DNIC_OK;
}

dnic_status dnic_pipe_set_update_prob(dnic_pipe_t *p, float prob, uint64_t seed, int64_t first_batch) {
    if (!p)
        return dnic__fail(DNIC_ERR_NULL, "dnic_pipe_set_update_prob: p is NULL");
    if (!(prob > 0.0f && prob <= 1.0f) || first_batch < 0 || first_batch > DNIC_MAX_STEP)
        return dnic__fail(DNIC_ERR_ARG, "dnic_pipe_set_update_prob: prob = %g must be in (0, 1] and first_batch = "
                          "%lld in 0..2^53", (double)prob, (long long)first_batch);
    if (p->running)
        return dnic__fail(DNIC_ERR_STATE, "dnic_pipe_set_update_prob: async workers are running (drain with "
                          "dnic_pipe_tick(p, NULL, ...) first)");
    p->update_prob = prob;
    p->update_seed = seed;
    p->first_batch = first_batch;
    return DNIC_OK;
}

int64_t dnic_pipe_block_step(const dnic_pipe_t *p, int s) {
    return (p && !p->running && s >= 0 && s < p->n_blocks) ? dnic_net_optim_step(p->blocks[s].net) : -1;
}

dnic_status dnic_pipe_set_block_step(dnic_pipe_t *p, int s, int64_t step) {
    if (!p)
        return dnic__fail(DNIC_ERR_NULL, "dnic_pipe_set_block_step: p is NULL");
    if (s < 0 || s >= p->n_blocks)
        return dnic__fail(DNIC_ERR_ARG, "dnic_pipe_set_block_step: s = %d is outside the %d blocks "
                          "(0..%d)", s, p->n_blocks, p->n_blocks - 1);
    if (p->running)
        return dnic__fail(DNIC_ERR_STATE, "dnic_pipe_set_block_step: async workers are running (drain with "
                          "dnic_pipe_tick(p, NULL, ...) first)");
    return dnic_net_set_optim_step(p->blocks[s].net, step);
}

dnic_status dnic_pipe_sync_to_net(dnic_pipe_t *p) {
    if (!p)
        return dnic__fail(DNIC_ERR_NULL, "dnic_pipe_sync_to_net: p is NULL");
    /* async workers still own the blocks */
    if (p->running)
        return dnic__fail(DNIC_ERR_STATE, "dnic_pipe_sync_to_net: async workers are running (drain with "
                          "dnic_pipe_tick(p, NULL, ...) first)");
    if (p->transport) { /* the other blocks' values are elsewhere: bring them here */
        if (p->transport_broken)
            return dnic__fail(DNIC_ERR_PEER, "dnic_pipe_sync_to_net: the link to another rank broke earlier "
                              "(dnic_mpi_failure says how)");
        unsigned long failures = dnic__failures();
        dnic_status st = p->transport->gather(p);
        if (st != DNIC_OK && dnic__failures() == failures)
            return dnic__fail(st, "dnic_pipe_sync_to_net: gathering the blocks from the other ranks failed: %s "
                              "(dnic_mpi_failure may say more)", dnic_status_str(st));
        if (st != DNIC_OK) return st;
    }
    /* the blocks' parameters are the whole's; its counter is the top block's */
    dnic_net_t *top = p->blocks[p->n_blocks - 1].net;
    if (top != p->whole) dnic__net_view_publish_step(top, p->whole);
    return DNIC_OK;
}

/* Async workers write the figures under the lock; the pipeline between ticks. */
static void lock_figures(dnic_pipe_t *p) {
    if (p->async) pthread_mutex_lock(&p->mu);
}
static void unlock_figures(dnic_pipe_t *p) {
    if (p->async) pthread_mutex_unlock(&p->mu);
}

dnic_status dnic_pipe_block_stats(dnic_pipe_t *p, int s, double *busy_seconds, double *wait_seconds) {
    if (!p)
        return dnic__fail(DNIC_ERR_NULL, "dnic_pipe_block_stats: p is NULL");
    if (s < 0 || s >= p->n_blocks)
        return dnic__fail(DNIC_ERR_ARG, "dnic_pipe_block_stats: s = %d is outside the %d blocks "
                          "(0..%d)", s, p->n_blocks, p->n_blocks - 1);
    lock_figures(p);
    double wall = p->wall + (p->running ? dnic__pipe_now() - p->engine_t0 : 0.0), busy = p->blocks[s].busy;
    unlock_figures(p);
    if (busy_seconds) *busy_seconds = busy;
    if (wait_seconds) *wait_seconds = wall > busy ? wall - busy : 0.0;
    return DNIC_OK;
}

dnic_status dnic_pipe_block_staleness(dnic_pipe_t *p, int s, double *mean, int64_t *max, int64_t *count) {
    if (!p)
        return dnic__fail(DNIC_ERR_NULL, "dnic_pipe_block_staleness: p is NULL");
    if (s < 0 || s >= p->n_blocks)
        return dnic__fail(DNIC_ERR_ARG, "dnic_pipe_block_staleness: s = %d is outside the %d blocks "
                          "(0..%d)", s, p->n_blocks, p->n_blocks - 1);
    lock_figures(p);
    const pipe_block_t *b = &p->blocks[s];
    double m = b->stale_count ? b->stale_sum / (double)b->stale_count : 0.0;
    int64_t mx = b->stale_max, n = b->stale_count;
    unlock_figures(p);
    if (mean) *mean = m;
    if (max) *max = mx;
    if (count) *count = n;
    return DNIC_OK;
}

float dnic_pipe_iface_loss(dnic_pipe_t *p, int s) {
    if (!p || s < 0 || s >= p->n_blocks) return NAN;
    lock_figures(p);
    float v = p->blocks[s].iface_loss;
    unlock_figures(p);
    return v;
}

dnic_net_t *dnic_pipe_block_net(dnic_pipe_t *p, int s) {
    return (p && s >= 0 && s < p->n_blocks) ? p->blocks[s].net : NULL;
}
