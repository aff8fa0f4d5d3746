/* block_step.c — the operations on one block that both unlocked schedules
 * run (pipeline.c in lockstep ticks, async.c on worker threads, and their
 * MPI transports): a block's step on a batch (forward, predicted signal at
 * its top, backward, update unless update decoupling skips it), its
 * interface's training on a target that arrived, the staleness figures,
 * and the clock the schedules time blocks with.
 * Not here: when a block runs and where its messages go (the schedules).
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 199309L
#  undef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 199309L
#endif
#include "train/pipe_internal.h"

#include <string.h>
#include <time.h>

double dnic__pipe_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Whether block s applies its update for `batch` (update decoupling). */
static int updates(const dnic_pipe_t *p, int s, int batch) {
    if (p->update_prob >= 1.0f) return 1;
    uint64_t z = p->update_seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(s + 1)) ^
                 (0xd1b54a32d192ed03ULL * (uint64_t)(p->first_batch + batch + 1));
    return dnic_rng_uniform(&z) < p->update_prob;
}

dnic_status dnic__pipe_train_iface(pipe_block_t *b, int slot, const int32_t *y, const float *target, int rows,
                                   float *loss, int64_t *stale) {
    dnic_status st = dnic_iface_boundary_step(b->it, b->ring_h[slot], y, NULL, target, b->scratch, rows, loss);
    if (st == DNIC_OK) st = dnic_iface_update(b->it);
    *stale = b->forwarded - b->ring_fwd[slot] - 1;
    return st;
}

void dnic__pipe_note_target(pipe_block_t *b, float loss, int64_t stale) {
    b->iface_loss = loss;
    b->stale_sum += (double)stale;
    b->stale_count++;
    if (stale > b->stale_max) b->stale_max = stale;
}

dnic_status dnic__pipe_backward_update(dnic_pipe_t *p, int s, int batch, int rows, float *down) {
    pipe_block_t *b = &p->blocks[s];
    dnic__net_zero_grad_lazy(b->net);
    dnic_status st = dnic_net_backward(b->net, rows);
    if (st == DNIC_OK && s > 0)
        memcpy(down, dnic_net_input_grad(b->net), sizeof(float) * (size_t)rows * (size_t)b->in_dim);
    if (st == DNIC_OK && updates(p, s, batch)) st = dnic_net_update(b->net);
    return st;
}

dnic_status dnic__pipe_block_step(dnic_pipe_t *p, int s, const float *in, const int32_t *y, int batch, int rows,
                                  int slot, float *down, float *loss) {
    pipe_block_t *b = &p->blocks[s];
    int top = b->last - b->first;
    dnic_status st = dnic_net_forward(b->net, in, rows, 1);
    if (st == DNIC_OK && !b->it) {
        st = dnic_net_loss(b->net, y, NULL, rows, loss);
    } else if (st == DNIC_OK) {
        memcpy(b->ring_h[slot], dnic_net_output(b->net), sizeof(float) * (size_t)rows * (size_t)b->top_dim);
        b->ring_batch[slot] = batch;
        b->ring_rows[slot] = rows;
        b->ring_fwd[slot] = b->forwarded;
        st = dnic_iface_predict_signal(b->it, b->ring_h[slot], y, NULL, dnic_net_grad_at(b->net, top), rows);
    }
    b->forwarded++;
    return st == DNIC_OK ? dnic__pipe_backward_update(p, s, batch, rows, down) : st;
}
