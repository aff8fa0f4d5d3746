/* test_async.c — the async schedule (dnic_pipe_create_async). Its results
 * depend on timing, so beside the one deterministic case the tests check
 * what must hold whatever the timing:
 *   - one block (no interface) equals locked backprop bit for bit, at 1
 *     and 2 threads;
 *   - every batch fed passes every block once and trains every interface
 *     once (block steps, finished batches, targets counted), for 2, 3 and 5
 *     blocks, queues of 1, 2 and 4, 1 and 2 threads (more blocks than
 *     threads), and no target is staler than the queues allow;
 *   - update decoupling draws by batch number: each block applies exactly
 *     the updates it applies under the pipeline;
 *   - it learns: on a learnable task its loss falls as far as the
 *     pipeline's (within a margin);
 *   - while workers run the blocks are theirs (sync refused); a
 *     non-finite update stops every worker and is reported, and free does
 *     not hang; bad arguments are refused.
 */
#include "blocks.h"

#include <math.h>

/* Feeds NB batches (epochs times), drains; returns batches finished. */
static int run_async(dnic_dni_t *dni, const data_t *d, int threads, int queue, int epochs, float prob,
                     int64_t *steps_out, dnic_pipe_t **keep) {
    dnic_set_num_threads(threads);
    dnic_pipe_t *p = NULL;
    CHECK(dnic_pipe_create_async(&p, dni, queue) == DNIC_OK && p, "create async");
    if (!p) return 0;
    CHECK(dnic_pipe_is_async(p) == 1, "not async");
    if (prob < 1.0f) CHECK(dnic_pipe_set_update_prob(p, prob, 77, 0) == DNIC_OK, "update prob");
    int done = 0, ok = 1;
    for (int e = 0; e < epochs; e++)
        for (int b = 0; b < NB; b++) {
            int f = 0;
            float loss;
            ok &= dnic_pipe_tick(p, d->x[b], d->y[b], B, &loss, &f) == DNIC_OK;
            done += f;
            if (f) ok &= isfinite(loss) != 0;
        }
    int f = 0;
    ok &= dnic_pipe_tick(p, NULL, NULL, 0, NULL, &f) == DNIC_OK; /* drains */
    done += f;
    CHECK(ok, "an async tick failed");
    CHECK(!dnic_pipe_pending(p), "workers still run after the drain");
    CHECK(dnic_pipe_sync_to_net(p) == DNIC_OK, "sync after the drain");
    for (int s = 0; steps_out && s < dnic_pipe_num_blocks(p); s++) steps_out[s] = dnic_pipe_block_step(p, s);
    if (keep) *keep = p;
    else dnic_pipe_free(p);
    dnic_set_num_threads(1);
    return done;
}

static void test_one_block_is_backprop(const data_t *d) {
    for (int threads = 1; threads <= 2; threads++) {
        dnic_net_t *net = make_whole(3, 9, 1, 6), *twin = make_whole(3, 9, 1, 6);
        dnic_dni_t *dni = net ? make_dni(net, NULL, 0, DNIC_IFACE_LINEAR) : NULL;
        if (!dni || !twin) return;
        int finished = run_async(dni, d, threads, 2, 1, 1.0f, NULL, NULL);
        dnic_set_num_threads(threads);
        for (int b = 0; b < NB; b++) {
            float loss;
            dnic_net_train_step(twin, d->x[b], d->y[b], NULL, B, &loss);
        }
        dnic_set_num_threads(1);
        CHECK(finished == NB, "%d threads: one block finished %d of %d", threads, finished, NB);
        CHECK(same_params(net, twin), "%d threads: a one-block async run differs from dnic_net_train_step", threads);
        dnic_dni_free(dni);
        dnic_net_free(net);
        dnic_net_free(twin);
    }
}

static void test_every_batch_once(const data_t *d) {
    static const struct { int hidden, n, at[4]; dnic_iface_kind kind; int bn; } cases[] = {
        {4, 1, {1}, DNIC_IFACE_LINEAR, 1},
        {4, 2, {0, 2}, DNIC_IFACE_MLP, 1},
        {6, 4, {0, 1, 3, 4}, DNIC_IFACE_LINEAR, 1},
    };
    static const int queues[] = {1, 2, 4};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (int qi = 0; qi < 3; qi++)
            for (int threads = 1; threads <= 2; threads++) {
                int S = cases[c].n + 1, q = queues[qi];
                dnic_net_t *net = make_whole(cases[c].hidden, 11, cases[c].bn, 8);
                dnic_dni_t *dni = net ? make_dni(net, cases[c].at, cases[c].n, cases[c].kind) : NULL;
                if (!dni) return;
                int64_t steps[8] = {0};
                dnic_pipe_t *p = NULL;
                int finished = run_async(dni, d, threads, q, 2, 1.0f, steps, &p);
                CHECK(finished == 2 * NB, "%d blocks, queue %d, %d threads: %d of %d batches finished", S, q, threads,
                      finished, 2 * NB);
                for (int s = 0; p && s < S; s++) {
                    double mean = -1, busy = -1, wait = -1;
                    int64_t max = -1, count = -1;
                    CHECK(steps[s] == 2 * NB, "%d blocks, queue %d, %d threads: block %d took %lld steps of %d", S, q,
                          threads, s, (long long)steps[s], 2 * NB);
                    CHECK(dnic_pipe_block_staleness(p, s, &mean, &max, &count) == DNIC_OK, "staleness");
                    int64_t want = s < S - 1 ? 2 * NB : 0;
                    CHECK(count == want, "%d blocks, queue %d: block %d trained on %lld targets, want %lld", S, q, s,
                          (long long)count, (long long)want);
                    CHECK(max >= 0 && max <= 2 * q + 1 && mean >= 0 && mean <= (double)max,
                          "%d blocks, queue %d: block %d staleness mean %.2f max %lld beyond the queues' bound %d", S,
                          q, s, mean, (long long)max, 2 * q + 1);
                    CHECK(dnic_pipe_block_stats(p, s, &busy, &wait) == DNIC_OK && busy > 0 && wait >= 0,
                          "block %d busy %g wait %g", s, busy, wait);
                    CHECK(s == S - 1 || isfinite(dnic_pipe_iface_loss(p, s)), "block %d: no interface loss", s);
                }
                dnic_net_t *fresh = make_whole(cases[c].hidden, 11, cases[c].bn, 8);
                CHECK(fresh && !same_params(net, fresh), "%d blocks: nothing trained", S);
                double loss = NAN;
                CHECK(dnic_net_evaluate(net, d->x[0], d->y[0], NULL, (size_t)NB * B, &loss, NULL) == DNIC_OK &&
                          isfinite(loss),
                      "%d blocks: the synced network evaluates to %g", S, loss);
                dnic_net_free(fresh);
                dnic_pipe_free(p);
                dnic_dni_free(dni);
                dnic_net_free(net);
            }
}

/* Update decoupling: the draw for (block, batch) does not depend on the
 * timing, so each block applies the same number of updates as under the
 * deterministic pipeline. */
static void test_update_decoupling(const data_t *d) {
    int at[2] = {0, 2};
    dnic_net_t *n1 = make_whole(4, 10, 1, 21), *n2 = make_whole(4, 10, 1, 21);
    dnic_dni_t *d1 = n1 ? make_dni(n1, at, 2, DNIC_IFACE_LINEAR) : NULL;
    dnic_dni_t *d2 = n2 ? make_dni(n2, at, 2, DNIC_IFACE_LINEAR) : NULL;
    if (!d1 || !d2) return;
    int64_t async_steps[3] = {0}, pipe_steps[3] = {0};
    run_async(d1, d, 2, 2, 1, 0.5f, async_steps, NULL);
    dnic_pipe_t *p = NULL;
    dnic_pipe_create(&p, d2);
    dnic_pipe_set_update_prob(p, 0.5f, 77, 0);
    for (int b = 0; b < NB; b++) dnic_pipe_tick(p, d->x[b], d->y[b], B, NULL, NULL);
    dnic_pipe_flush(p);
    for (int s = 0; s < 3; s++) pipe_steps[s] = dnic_pipe_block_step(p, s);
    dnic_pipe_free(p);
    for (int s = 0; s < 3; s++) {
        CHECK(async_steps[s] == pipe_steps[s], "block %d: %lld updates under async, %lld under the pipeline", s,
              (long long)async_steps[s], (long long)pipe_steps[s]);
        CHECK(async_steps[s] > NB / 4 && async_steps[s] < 3 * NB / 4, "block %d: %lld of %d updates at p = 0.5", s,
              (long long)async_steps[s], NB);
    }
    dnic_dni_free(d1);
    dnic_dni_free(d2);
    dnic_net_free(n1);
    dnic_net_free(n2);
}

/* Labels a fixed linear function of the input can predict. */
static void make_learnable(data_t *d, uint64_t seed) {
    float w[K][IN];
    fill_normal(&w[0][0], K * IN, 1.0f, &seed);
    for (int b = 0; b < NB; b++) {
        fill_normal(d->x[b], B * IN, 1.0f, &seed);
        for (int r = 0; r < B; r++) {
            int best = 0;
            float top = -INFINITY;
            for (int k = 0; k < K; k++) {
                float v = 0;
                for (int i = 0; i < IN; i++) v += w[k][i] * d->x[b][r * IN + i];
                if (v > top) top = v, best = k;
            }
            d->y[b][r] = best;
        }
    }
}

static double loss_of(dnic_net_t *net, const data_t *d) {
    double loss = NAN;
    dnic_net_evaluate(net, d->x[0], d->y[0], NULL, (size_t)NB * B, &loss, NULL);
    return loss;
}

static void test_learns(void) {
    static data_t task;
    make_learnable(&task, 5);
    int at[1] = {1};
    dnic_net_t *na = make_whole(3, 16, 0, 3), *np = make_whole(3, 16, 0, 3);
    dnic_dni_t *da = na ? make_dni(na, at, 1, DNIC_IFACE_LINEAR) : NULL;
    dnic_dni_t *dp = np ? make_dni(np, at, 1, DNIC_IFACE_LINEAR) : NULL;
    if (!da || !dp) return;
    double before = loss_of(na, &task);
    enum { EPOCHS = 8 };
    run_async(da, &task, 2, 2, EPOCHS, 1.0f, NULL, NULL);
    dnic_pipe_t *p = NULL;
    dnic_pipe_create(&p, dp);
    for (int e = 0; e < EPOCHS; e++)
        for (int b = 0; b < NB; b++) dnic_pipe_tick(p, task.x[b], task.y[b], B, NULL, NULL);
    dnic_pipe_flush(p);
    dnic_pipe_sync_to_net(p);
    dnic_pipe_free(p);
    double after_async = loss_of(na, &task), after_pipe = loss_of(np, &task);
    CHECK(after_pipe < 0.6 * before, "the pipeline did not learn: loss %.4f -> %.4f", before, after_pipe);
    CHECK(after_async < 0.6 * before && after_async < 1.25 * after_pipe + 0.02,
          "async loss %.4f -> %.4f, pipeline %.4f", before, after_async, after_pipe);
    dnic_dni_free(da);
    dnic_dni_free(dp);
    dnic_net_free(na);
    dnic_net_free(np);
}

static void test_states_and_failures(const data_t *d) {
    int at[2] = {0, 2};
    dnic_net_t *net = make_whole(4, 10, 0, 2);
    dnic_dni_t *dni = net ? make_dni(net, at, 2, DNIC_IFACE_LINEAR) : NULL;
    if (!dni) return;
    dnic_pipe_t *p = (dnic_pipe_t *)1;
    CHECK(dnic_pipe_create_async(&p, dni, 0) == DNIC_ERR_ARG && p == NULL, "queue 0 accepted");
    CHECK(dnic_pipe_create_async(&p, dni, 1025) == DNIC_ERR_ARG && p == NULL, "queue 1025 accepted");
    CHECK(dnic_pipe_create_async(NULL, dni, 2) == DNIC_ERR_NULL, "create into NULL");
    CHECK(dnic_pipe_create_async(&p, NULL, 2) == DNIC_ERR_NULL, "create on NULL");
    dnic_set_num_threads(2);
    CHECK(dnic_pipe_create_async(&p, dni, 2) == DNIC_OK && p, "create");
    if (!p) return;
    CHECK(!dnic_pipe_pending(p), "pending before any batch");
    CHECK(dnic_pipe_tick(p, d->x[0], d->y[0], B, NULL, NULL) == DNIC_OK, "first batch");
    CHECK(dnic_pipe_pending(p), "not pending while workers run");
    CHECK(dnic_pipe_sync_to_net(p) == DNIC_ERR_STATE, "sync accepted while workers run");
    CHECK(dnic_pipe_set_block_step(p, 0, 5) == DNIC_ERR_STATE, "block step set while workers run");
    CHECK(dnic_pipe_set_update_prob(p, 0.5f, 1, 0) == DNIC_ERR_STATE, "update prob set while workers run");
    CHECK(dnic_pipe_block_step(p, 0) == -1, "block step read while workers run");
    CHECK(dnic_pipe_flush(p) == DNIC_OK && !dnic_pipe_pending(p), "drain");
    CHECK(dnic_pipe_sync_to_net(p) == DNIC_OK && dnic_pipe_block_step(p, 0) == 1, "after the drain");
    /* the workers restart with the next batch */
    CHECK(dnic_pipe_tick(p, d->x[1], d->y[1], B, NULL, NULL) == DNIC_OK && dnic_pipe_flush(p) == DNIC_OK &&
              dnic_pipe_block_step(p, 2) == 2,
          "a second run after a drain");
    dnic_pipe_free(p);

    /* an update that overflows stops every worker; free does not hang */
    dnic_optim_config huge = dnic_optim_default(DNIC_OPT_SGD);
    huge.lr = 1e38f;
    dnic_net_set_optimizer(net, 0, &huge);
    CHECK(dnic_pipe_create_async(&p, dni, 2) == DNIC_OK, "create");
    dnic_status st = DNIC_OK;
    for (int b = 0; b < NB && st == DNIC_OK; b++) st = dnic_pipe_tick(p, d->x[b], d->y[b], B, NULL, NULL);
    if (st == DNIC_OK) st = dnic_pipe_flush(p);
    CHECK(st == DNIC_ERR_NONFINITE, "a diverging run returned %s", dnic_status_str(st));
    CHECK(dnic_pipe_tick(p, d->x[0], d->y[0], B, NULL, NULL) == DNIC_ERR_NONFINITE, "fed after a failure");
    int faulted = 0;
    for (int s = 0; s < 3; s++) {
        int grad = 0;
        faulted |= dnic_net_fault_tensor(dnic_pipe_block_net(p, s), &grad) >= 0;
    }
    CHECK(faulted, "no block names the tensor that failed");
    dnic_pipe_free(p);
    dnic_set_num_threads(1);
    dnic_dni_free(dni);
    dnic_net_free(net);
}

int main(void) {
    static data_t d;
    make_data(&d, 12);
    test_one_block_is_backprop(&d);
    test_every_batch_once(&d);
    test_update_decoupling(&d);
    test_learns();
    test_states_and_failures(&d);
    return harness_finish("async");
}
