/* pipe_inflight.c — the pipeline's in-flight state at a tick boundary
 * (batches forwarded whose targets have not come back, messages of the
 * last tick, labels still to be read), exported and imported so a
 * checkpoint resumes a run mid-flight bit for bit. Import checks every
 * value against the pipeline's own shape and leaves it fresh if any lies;
 * on a network holding one block (an MPI rank) the other blocks' messages
 * in flight get buffers of their own (the block reads its neighbours' at
 * its first tick).
 * Not here: the async schedule, which drains before a checkpoint
 * (pipeline.c, async.c); one block's whole state for MPI (pipe_state.c).
 */
#include "train/pipe_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The layout. ints: magic, version, blocks, max_batch, tick, fed,
 * first_batch, label slots; per label slot its batch and, if in use, its
 * rows and labels; per block next_slot, forwarded, then per ring slot (batch, rows, forward
 * count), then per tick parity (up batch, rows, slot, down batch, rows).
 * values: each ring slot's h (rows x top) and each down message's gradient
 * (rows x input), in that order, for the slots and messages in use. */
enum { INFLIGHT_MAGIC = 0x44504950, INFLIGHT_VERSION = 1 };

typedef struct {
    int64_t *ints;
    float *values;
    size_t n_ints, n_values, max_ints, max_values;
    int overflow;
} inflight_writer;

static void put_int(inflight_writer *w, int64_t v) {
    if (w->ints && w->n_ints < w->max_ints) w->ints[w->n_ints] = v;
    else if (w->ints) w->overflow = 1;
    w->n_ints++;
}

static void put_values(inflight_writer *w, const float *v, size_t n) {
    if (w->values && w->n_values + n <= w->max_values) memcpy(w->values + w->n_values, v, n * sizeof(float));
    else if (w->values) w->overflow = 1;
    w->n_values += n;
}

dnic_status dnic_pipe_export_inflight(const dnic_pipe_t *p, float *values, size_t *n_values, int64_t *ints,
                                      size_t *n_ints) {
    if (!p || !n_values || !n_ints)
        return dnic__fail(DNIC_ERR_NULL, "dnic_pipe_export_inflight: NULL pointer argument (p or n_values or n_ints)");
    if (p->partial)
        return dnic__fail(DNIC_ERR_STATE, "dnic_pipe_export_inflight: the network holds only some layers "
                          "(dnic_net_create_range): export from the process that holds them all");
    /* async drains before a checkpoint */
    if (p->async)
        return dnic__fail(DNIC_ERR_STATE, "dnic_pipe_export_inflight: an async pipeline has no in-flight state to "
                          "save (drain it)");
    for (int s = 0; s < p->n_blocks; s++)
        /* its kept inputs are not saved: drain */
        if (p->blocks[s].delayed)
            return dnic__fail(DNIC_ERR_STATE, "dnic_pipe_export_inflight: block %d is delayed (under an ORACLE): "
                              "its kept inputs are not saved (drain first)", s);
    inflight_writer w = {ints, values, 0, 0, *n_ints, *n_values, 0};
    put_int(&w, INFLIGHT_MAGIC);
    put_int(&w, INFLIGHT_VERSION);
    put_int(&w, p->n_blocks);
    put_int(&w, p->max_batch);
    put_int(&w, p->tick);
    put_int(&w, p->fed);
    put_int(&w, p->first_batch);
    put_int(&w, p->n_label_slots);
    for (int i = 0; i < p->n_label_slots; i++) {
        put_int(&w, p->label_batch[i]);
        if (p->label_batch[i] < 0) continue;
        put_int(&w, p->label_rows[i]);
        for (int r = 0; r < p->label_rows[i]; r++) put_int(&w, p->labels[i][r]);
    }
    for (int s = 0; s < p->n_blocks; s++) {
        const pipe_block_t *b = &p->blocks[s];
        put_int(&w, b->next_slot);
        put_int(&w, b->forwarded);
        for (int r = 0; r < b->ring_n; r++) {
            put_int(&w, b->ring_batch[r]);
            put_int(&w, b->ring_rows[r]);
            put_int(&w, b->ring_fwd[r]);
            if (b->ring_batch[r] >= 0) put_values(&w, b->ring_h[r], (size_t)b->ring_rows[r] * (size_t)b->top_dim);
        }
        for (int k = 0; k < 2; k++) {
            put_int(&w, b->up_msg[k].batch);
            put_int(&w, b->up_msg[k].rows);
            put_int(&w, b->up_msg[k].slot);
            put_int(&w, b->down_msg[k].batch);
            put_int(&w, b->down_msg[k].rows);
            if (b->down_msg[k].batch >= 0)
                put_values(&w, b->down[k], (size_t)b->down_msg[k].rows * (size_t)b->in_dim);
        }
    }
    int sized = !ints || !values;
    *n_ints = w.n_ints;
    *n_values = w.n_values;
    if (sized || !w.overflow) return DNIC_OK;
    return dnic__fail(DNIC_ERR_SIZE, "dnic_pipe_export_inflight: the buffers given are too small (%zu values, %zu "
                      "integers are needed)", w.n_values, w.n_ints);
}

typedef struct {
    const int64_t *ints;
    const float *values;
    size_t n_ints, n_values, at_int, at_value;
    int bad, nomem;
} inflight_reader;

/* The next int, which must lie in [lo, hi]; a short or lying input marks bad. */
static int64_t get_int(inflight_reader *r, int64_t lo, int64_t hi) {
    if (r->bad || r->at_int >= r->n_ints) {
        r->bad = 1;
        return lo;
    }
    int64_t v = r->ints[r->at_int++];
    if (v < lo || v > hi) {
        r->bad = 1;
        return lo;
    }
    return v;
}

/* The next n values into *dst. A block this process does not hold
 * (dnic_net_create_range: an MPI rank) has no buffers: it gets one of n
 * floats, since this rank's block reads its neighbours' messages in flight
 * at its first tick (then they come over MPI). */
static void get_values(inflight_reader *r, float **dst, size_t n) {
    if (r->bad || n > r->n_values - r->at_value) {
        r->bad = 1;
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(r->values[r->at_value + i])) r->bad = 1;
    if (!r->bad && !*dst && !(*dst = malloc(n * sizeof(float)))) r->nomem = 1;
    if (!r->bad && *dst) memcpy(*dst, r->values + r->at_value, n * sizeof(float));
    r->at_value += n;
}

dnic_status dnic_pipe_import_inflight(dnic_pipe_t *p, const float *values, size_t n_values, const int64_t *ints,
                                      size_t n_ints) {
    if (!p || !ints || (!values && n_values))
        return dnic__fail(DNIC_ERR_NULL, "dnic_pipe_import_inflight: NULL pointer argument (p or ints or values)");
    /* a fresh pipeline only */
    if (p->async || p->tick != 0 || p->fed != 0)
        return dnic__fail(DNIC_ERR_STATE, "dnic_pipe_import_inflight: needs a fresh, non-async pipeline (this one "
                          "is %s, at tick %lld)", p->async ? "async" : "a pipeline", (long long)p->tick);
    for (int s = 0; s < p->n_blocks; s++)
        if (p->blocks[s].delayed)
            return dnic__fail(DNIC_ERR_STATE, "dnic_pipe_import_inflight: block %d is delayed (under an ORACLE): no "
                              "in-flight state for it", s);
    inflight_reader r = {ints, values, n_ints, n_values, 0, 0, 0, 0};
    int S = p->n_blocks, mb = p->max_batch, classes = dnic_net_output_dim(p->whole);
    get_int(&r, INFLIGHT_MAGIC, INFLIGHT_MAGIC);
    get_int(&r, INFLIGHT_VERSION, INFLIGHT_VERSION);
    get_int(&r, S, S);
    get_int(&r, 1, INT32_MAX); /* the exporter's max_batch: rows are checked against ours */
    int64_t tick = get_int(&r, 0, INT64_MAX / 2), fed = get_int(&r, 0, INT32_MAX);
    int64_t first_batch = get_int(&r, 0, DNIC_MAX_STEP);
    get_int(&r, p->n_label_slots, p->n_label_slots);
    /* into the pipeline's own buffers (fresh, so nothing is lost if refused) */
    for (int i = 0; i < p->n_label_slots; i++) {
        p->label_batch[i] = (int)get_int(&r, -1, fed - 1);
        if (p->label_batch[i] < 0) continue;
        if (p->label_batch[i] % p->n_label_slots != i) r.bad = 1;
        p->label_rows[i] = (int)get_int(&r, 1, mb);
        for (int k = 0; k < p->label_rows[i] && !r.bad; k++) p->labels[i][k] = (int32_t)get_int(&r, 0, classes - 1);
    }
    for (int s = 0; s < S && !r.bad; s++) {
        pipe_block_t *b = &p->blocks[s];
        int top = s == S - 1; /* not !b->it: a block another rank holds has none here */
        b->next_slot = (int)get_int(&r, 0, b->ring_n - 1);
        b->forwarded = get_int(&r, 0, fed);
        for (int k = 0; k < b->ring_n; k++) {
            b->ring_batch[k] = (int)get_int(&r, -1, top ? -1 : fed - 1);
            b->ring_rows[k] = (int)get_int(&r, 0, mb);
            b->ring_fwd[k] = get_int(&r, 0, b->forwarded);
            if (b->ring_batch[k] >= 0) {
                if (b->ring_rows[k] < 1) r.bad = 1;
                get_values(&r, &b->ring_h[k], (size_t)b->ring_rows[k] * (size_t)b->top_dim);
            }
        }
        for (int k = 0; k < 2; k++) {
            pipe_message_t *up = &b->up_msg[k], *down = &b->down_msg[k];
            up->batch = (int)get_int(&r, -1, top ? -1 : fed - 1);
            up->rows = (int)get_int(&r, 0, mb);
            up->slot = (int)get_int(&r, -1, b->ring_n - 1);
            if (up->batch >= 0 && (up->slot < 0 || b->ring_batch[up->slot] != up->batch ||
                                   b->ring_rows[up->slot] != up->rows))
                r.bad = 1;
            down->batch = (int)get_int(&r, -1, s == 0 ? -1 : fed - 1);
            down->rows = (int)get_int(&r, 0, mb);
            down->slot = -1;
            if (down->batch >= 0) {
                if (down->rows < 1) r.bad = 1;
                get_values(&r, &b->down[k], (size_t)down->rows * (size_t)b->in_dim);
            }
        }
    }
    if (r.nomem) r.bad = 1;
    if (r.bad || r.at_int != n_ints || r.at_value != n_values) {
        /* leave it fresh */
        for (int i = 0; i < p->n_label_slots; i++) p->label_batch[i] = -1;
        for (int s = 0; s < S; s++) {
            pipe_block_t *b = &p->blocks[s];
            b->next_slot = 0;
            b->forwarded = 0;
            for (int k = 0; k < b->ring_n; k++) b->ring_batch[k] = -1;
            for (int k = 0; k < 2; k++) b->up_msg[k].batch = b->down_msg[k].batch = -1;
        }
        if (r.nomem) return dnic__fail(DNIC_ERR_NOMEM, "dnic_pipe_import_inflight: out of memory: the pipeline is left fresh");
        return dnic__fail(DNIC_ERR_ARG, "dnic_pipe_import_inflight: the state is inconsistent, short, long or not "
                          "finite "
                          "(%zu values, %zu integers): the pipeline is left fresh", n_values, n_ints);
    }
    p->tick = tick;
    p->fed = fed;
    p->first_batch = first_batch;
    return DNIC_OK;
}
