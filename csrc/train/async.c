/* async.c — the async schedule: the pipeline's blocks run free, with no
 * ticks and no barriers. Worker threads (as many as the thread budget
 * allows, at most one per block) take whichever block has work: an
 * interface target that arrived (first: it frees a ring slot and a queue
 * slot) or a batch from below whose outputs have room. Every
 * queue between blocks holds at most `queue` messages, so a fast block
 * runs at most that far ahead and its targets are at most that stale; the
 * staleness of every target is counted (dnic__pipe_note_target).
 *
 * One mutex guards every queue and figure; it is held only to pick work
 * and to publish its result, never while computing. A block is claimed by
 * one worker at a time, so its network and interface are single-owner.
 * Workers run inside one OpenMP team on an engine thread, so each block's
 * kernels and GEMMs run single-threaded (as under the pipeline); with one
 * worker its kernels get the whole thread budget.
 *
 * A worker with nothing to do spins a little before it sleeps: its
 * neighbour usually publishes work within one block's step (a fraction of
 * a millisecond), and a sleep on the condition costs a futex wake and a
 * context switch per batch, which the pipeline's spinning OpenMP barrier
 * does not pay.
 *
 * The feeding thread copies batches into block 0's inbox (waiting while it
 * is full); a drain waits until every batch fed has passed every block and
 * trained every interface, then stops the engine, so the blocks can be
 * synced, evaluated and saved with no thread touching them.
 */
#include "train/async.h"
#include "train/pipe_internal.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long an idle worker spins for new work before it sleeps: longer than
 * a block's step at the usual sizes, short enough that an idle engine
 * (the trainer evaluating between feeds) gives its cores back at once. */
#define SPIN_SECONDS 1e-3

/* Someone published what may be work; the lock is held. */
static void publish(dnic_pipe_t *p) {
#if defined(__GNUC__)
    __atomic_add_fetch(&p->published, 1, __ATOMIC_RELEASE);
#else
    p->published++;
#endif
    pthread_cond_broadcast(&p->work);
}

/* Waits for work with the lock held: first spins (unlocked, yielding the
 * core to any runnable thread, e.g. the feeding one) until something is
 * published or SPIN_SECONDS pass, then sleeps on the condition if nothing
 * was. Returns with the lock held; the caller looks for work again. */
static void wait_for_work(dnic_pipe_t *p) {
#if defined(__GNUC__)
    unsigned long seen = p->published;
    pthread_mutex_unlock(&p->mu);
    double t0 = dnic__pipe_now();
    int changed = 0;
    while (!(changed = __atomic_load_n(&p->published, __ATOMIC_ACQUIRE) != seen) &&
           dnic__pipe_now() - t0 < SPIN_SECONDS)
        sched_yield();
    pthread_mutex_lock(&p->mu);
    if (changed || p->published != seen) return;
#endif
    pthread_cond_wait(&p->work, &p->mu);
}

dnic_status dnic__async_setup(dnic_pipe_t *p, int queue) {
    size_t in = (size_t)p->max_batch * (size_t)dnic_net_input_dim(p->whole);
    /* the inbox is not between blocks (it bounds no staleness): twice the
     * queue, at least 4, refilled from half empty, so the feeding thread
     * wakes every other batch or less, not at every one (each wake takes a
     * core from a worker on a machine with as many cores as workers) */
    p->inbox_n = 2 * queue < 4 ? 4 : 2 * queue;
    p->in_x = calloc((size_t)p->inbox_n, sizeof *p->in_x);
    p->in_y = calloc((size_t)p->inbox_n, sizeof *p->in_y);
    p->in_rows = calloc((size_t)p->inbox_n, sizeof *p->in_rows);
    p->in_batch = calloc((size_t)p->inbox_n, sizeof *p->in_batch);
    if (!p->in_x || !p->in_y || !p->in_rows || !p->in_batch) return DNIC_ERR_NOMEM;
    for (int q = 0; q < p->inbox_n; q++) {
        if (!(p->in_x[q] = malloc(in * sizeof(float)))) return DNIC_ERR_NOMEM;
        if (!(p->in_y[q] = malloc((size_t)p->max_batch * sizeof(int32_t)))) return DNIC_ERR_NOMEM;
    }
    if (pthread_mutex_init(&p->mu, NULL) != 0) return DNIC_ERR_NOMEM;
    if (pthread_cond_init(&p->work, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return DNIC_ERR_NOMEM;
    }
    if (pthread_cond_init(&p->room, NULL) != 0) {
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->mu);
        return DNIC_ERR_NOMEM;
    }
    p->sync_made = 1;
    p->failed = DNIC_OK;
    return DNIC_OK;
}

void dnic__async_free(dnic_pipe_t *p) {
    if (!p->async) return;
    if (p->running) (void)dnic__async_drain(p, NULL, NULL);
    for (int q = 0; q < p->inbox_n; q++) {
        if (p->in_x) free(p->in_x[q]);
        if (p->in_y) free(p->in_y[q]);
    }
    free(p->in_x);
    free(p->in_y);
    free(p->in_rows);
    free(p->in_batch);
    if (p->sync_made) {
        pthread_cond_destroy(&p->work);
        pthread_cond_destroy(&p->room);
        pthread_mutex_destroy(&p->mu);
    }
}

/* ---- with the lock held ---- */

static int free_ring_slot(const pipe_block_t *b) {
    for (int r = 0; r < b->ring_n; r++)
        if (b->ring_batch[r] == -1) return r;
    return -1;
}

/* A target for block s's interface waits in the queue of the block above. */
static int can_train(const dnic_pipe_t *p, int s) { return p->blocks[s].it && p->blocks[s + 1].down_count > 0; }

/* A batch waits below block s, and its outputs have room. */
static int can_forward(const dnic_pipe_t *p, int s) {
    const pipe_block_t *b = &p->blocks[s];
    int input = s == 0 ? p->in_count > 0 : p->blocks[s - 1].up_count > 0;
    if (!input) return 0;
    if (b->it && (b->up_count >= p->queue || free_ring_slot(b) < 0)) return 0;
    return s == 0 || b->down_count < p->queue;
}

static int quiescent(const dnic_pipe_t *p) {
    if (p->in_count) return 0;
    for (int s = 0; s < p->n_blocks; s++) {
        const pipe_block_t *b = &p->blocks[s];
        if (b->claimed || b->up_count || b->down_count) return 0;
    }
    return 1;
}

/* Block s's interface trains on the oldest target from above. Called and
 * returns with the lock held. */
static dnic_status run_target(dnic_pipe_t *p, int s) {
    pipe_block_t *b = &p->blocks[s], *above = &p->blocks[s + 1];
    int d = above->down_head, batch = above->down_batch[d], rows = above->down_rows[d];
    int slot = dnic__pipe_ring_slot_of(b, batch);
    if (slot < 0) return dnic__fail(DNIC_ERR_STATE, "dnic_pipe_tick: block %d lost a batch's input (async)", s);
    pthread_mutex_unlock(&p->mu);
    double t0 = dnic__pipe_now();
    float loss = NAN;
    int64_t stale = 0;
    dnic_status st = dnic__pipe_train_iface(b, slot, b->ring_y[slot], above->down_q[d], rows, &loss, &stale);
    double busy = dnic__pipe_now() - t0;
    pthread_mutex_lock(&p->mu);
    b->busy += busy;
    if (st != DNIC_OK) return st;
    dnic__pipe_note_target(b, loss, stale);
    above->down_head = (d + 1) % p->queue;
    above->down_count--;
    b->ring_batch[slot] = -1;
    return DNIC_OK;
}

/* Block s runs the oldest batch from below. Called and returns with the
 * lock held. */
static dnic_status run_forward(dnic_pipe_t *p, int s) {
    pipe_block_t *b = &p->blocks[s], *below = s > 0 ? &p->blocks[s - 1] : NULL;
    const float *in;
    const int32_t *y;
    int batch, rows;
    if (!below) {
        int i = p->in_head;
        in = p->in_x[i];
        y = p->in_y[i];
        batch = p->in_batch[i];
        rows = p->in_rows[i];
    } else {
        int r = below->up_q[below->up_head];
        in = below->ring_h[r];
        y = below->ring_y[r];
        batch = below->ring_batch[r];
        rows = below->ring_rows[r];
    }
    int slot = -1;
    if (b->it) {
        slot = free_ring_slot(b);
        b->ring_batch[slot] = -2; /* reserved */
    }
    int down_tail = (b->down_head + b->down_count) % p->queue;
    float *down = s > 0 ? b->down_q[down_tail] : NULL;
    pthread_mutex_unlock(&p->mu);

    double t0 = dnic__pipe_now();
    if (b->it) memcpy(b->ring_y[slot], y, (size_t)rows * sizeof(int32_t));
    float loss = NAN;
    dnic_status st = dnic__pipe_block_step(p, s, in, y, batch, rows, slot, down, &loss);
    double busy = dnic__pipe_now() - t0;

    pthread_mutex_lock(&p->mu);
    b->busy += busy;
    if (st != DNIC_OK) return st;
    if (!below) {
        p->in_head = (p->in_head + 1) % p->inbox_n;
        if (--p->in_count == p->inbox_n / 2) pthread_cond_signal(&p->room);
    } else {
        below->up_head = (below->up_head + 1) % p->queue;
        below->up_count--;
    }
    if (b->it) {
        b->up_q[(b->up_head + b->up_count) % p->queue] = slot;
        b->up_count++;
    } else {
        p->loss_acc += (double)loss;
        p->finished_acc++;
    }
    if (s > 0) {
        b->down_batch[down_tail] = batch;
        b->down_rows[down_tail] = rows;
        b->down_count++;
    }
    return DNIC_OK;
}

/* Whether block t is free and has work; *target: the work is a target
 * (which goes first: it frees a ring slot and a queue slot). */
static int has_work(const dnic_pipe_t *p, int t, int *target) {
    if (t < 0 || p->blocks[t].claimed) return 0;
    *target = can_train(p, t);
    return *target || can_forward(p, t);
}

/* A worker: picks a block with work (the one it ran last, else top first,
 * so batches leave the system and free their slots) and runs it, until a
 * drain finds nothing left or a block fails. */
static void worker(dnic_pipe_t *p) {
    dnic_enable_flush_to_zero();
    pthread_mutex_lock(&p->mu);
    int last = -1; /* the block this worker ran last: its weights are in this core's cache */
    while (p->failed == DNIC_OK) {
        int s = -1, target = 0;
        if (has_work(p, last, &target)) s = last;
        for (int t = p->n_blocks - 1; t >= 0 && s < 0; t--)
            if (has_work(p, t, &target)) s = t;
        if (s < 0) {
            if (p->draining && quiescent(p)) break;
            wait_for_work(p);
            continue;
        }
        p->blocks[s].claimed = 1;
        last = s;
        dnic_status st = target ? run_target(p, s) : run_forward(p, s);
        p->blocks[s].claimed = 0;
        if (st != DNIC_OK && p->failed == DNIC_OK) {
            p->blocks[s].st = st; /* the drain reports this block's detail */
            snprintf(p->blocks[s].detail, sizeof p->blocks[s].detail, "%s", dnic_last_error());
            p->failed = st;
            pthread_cond_signal(&p->room);
        }
        /* what it published may be another block's work (only wakes
         * waiting workers, not the feeding thread) */
        publish(p);
    }
    publish(p);
    pthread_mutex_unlock(&p->mu);
}

static void *engine_main(void *arg) {
    dnic_pipe_t *p = arg;
    int workers = p->threads < p->n_blocks ? p->threads : p->n_blocks;
    if (workers <= 1) {
#ifdef _OPENMP
        omp_set_num_threads(p->threads); /* a new thread starts from the default */
#endif
        worker(p);
    } else {
#pragma omp parallel num_threads(workers)
        worker(p);
    }
    return NULL;
}

static void take_losses(dnic_pipe_t *p, float *loss_out, int *finished_out) {
    if (loss_out) *loss_out = p->finished_acc ? (float)(p->loss_acc / p->finished_acc) : NAN;
    if (finished_out) *finished_out = p->finished_acc;
    p->loss_acc = 0;
    p->finished_acc = 0;
}

static dnic_status start(dnic_pipe_t *p) {
    p->threads = dnic_get_num_threads();
    p->draining = 0;
    p->engine_t0 = dnic__pipe_now();
    p->running = 1;
    if (pthread_create(&p->engine, NULL, engine_main, p) != 0) {
        p->running = 0;
        return dnic__fail(DNIC_ERR_NOMEM, "dnic_pipe_tick: cannot start the async schedule's thread");
    }
    return DNIC_OK;
}

/* Waits for room in the inbox and fills its next slot: with x (B rows) or,
 * with idx, rows idx[r] of X; one thread, no OpenMP team, so the feeding
 * thread leaves the cores to the workers. */
static dnic_status feed(dnic_pipe_t *p, const float *x, const int32_t *labels, const int32_t *idx, int B,
                        float *loss_out, int *finished_out) {
    pthread_mutex_lock(&p->mu);
    dnic_status failed = p->failed;
    pthread_mutex_unlock(&p->mu);
    if (failed != DNIC_OK) return dnic__async_drain(p, NULL, NULL);
    if (!p->running) {
        dnic_status st = start(p);
        if (st != DNIC_OK) return st;
    }
    pthread_mutex_lock(&p->mu);
    if (p->in_count == p->inbox_n)
        while (p->in_count > p->inbox_n / 2 && p->failed == DNIC_OK) pthread_cond_wait(&p->room, &p->mu);
    failed = p->failed;
    int i = (p->in_head + p->in_count) % p->inbox_n;
    pthread_mutex_unlock(&p->mu);
    /* a block failed: stop the workers, so that nothing touches the blocks
     * while the caller reads which tensor failed */
    if (failed != DNIC_OK) return dnic__async_drain(p, NULL, NULL);
    /* slot i is past the inbox's filled part: no worker reads it */
    size_t dim = (size_t)dnic_net_input_dim(p->whole);
    if (idx) {
        for (int r = 0; r < B; r++) {
            memcpy(p->in_x[i] + (size_t)r * dim, x + (size_t)idx[r] * dim, dim * sizeof(float));
            p->in_y[i][r] = labels[idx[r]];
        }
    } else {
        memcpy(p->in_x[i], x, (size_t)B * dim * sizeof(float));
        memcpy(p->in_y[i], labels, (size_t)B * sizeof(int32_t));
    }
    p->in_rows[i] = B;
    p->in_batch[i] = (int)p->fed++;
    pthread_mutex_lock(&p->mu);
    p->in_count++;
    publish(p);
    take_losses(p, loss_out, finished_out);
    pthread_mutex_unlock(&p->mu);
    return DNIC_OK;
}

dnic_status dnic__async_feed(dnic_pipe_t *p, const float *x, const int32_t *labels, int B, float *loss_out,
                             int *finished_out) {
    return feed(p, x, labels, NULL, B, loss_out, finished_out);
}

dnic_status dnic__async_feed_rows(dnic_pipe_t *p, const float *X, const int32_t *labels, const int32_t *idx, int B,
                                  float *loss_out, int *finished_out) {
    if (p->fed >= INT32_MAX)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_pipe_tick_rows: %lld batches fed, the most a pipeline "
                          "takes", (long long)p->fed);
    return feed(p, X, labels, idx, B, loss_out, finished_out);
}

dnic_status dnic__async_drain(dnic_pipe_t *p, float *loss_out, int *finished_out) {
    if (p->running) {
        pthread_mutex_lock(&p->mu);
        p->draining = 1;
        publish(p);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->engine, NULL);
        pthread_mutex_lock(&p->mu);
        p->wall += dnic__pipe_now() - p->engine_t0;
        p->running = 0;
        p->draining = 0;
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_lock(&p->mu);
    take_losses(p, loss_out, finished_out);
    dnic_status failed = p->failed;
    pthread_mutex_unlock(&p->mu);
    for (int s = 0; failed != DNIC_OK && s < p->n_blocks; s++)
        if (p->blocks[s].st != DNIC_OK)
            return dnic__fail(failed, "dnic_pipe_tick: block %d: %s", s, p->blocks[s].detail);
    return failed;
}
