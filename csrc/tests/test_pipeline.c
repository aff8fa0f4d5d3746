/* test_pipeline.c — the pipeline schedule (dnic_pipe_*):
 *   - a textbook delayed computation written out here, two blocks and one
 *     linear synthetic gradient, with the delays explicit (the upper block
 *     works on the batch the lower block forwarded one tick earlier; the
 *     interface trains on a batch's target two ticks after predicting for
 *     it), equals the pipeline bit for bit;
 *   - with an ORACLE interface the lower block waits for its batch's true
 *     gradient and runs the batch again: equals a textbook delayed-gradient
 *     computation bit for bit; chains of such blocks drain and match at 1
 *     and 2 threads;
 *   - one block (no interface) equals locked backprop (dnic_net_train_step);
 *   - 2 threads equal 1 thread bit for bit after 50 batches, for 2, 3 and 5
 *     blocks, linear and MLP interfaces, with batch norm, on every GEMM
 *     backend the suite runs with;
 *   - the rules that need the same batch's result from above are refused;
 *   - draining: after flush every batch has updated every block;
 *   - update decoupling: draws by batch number, so thread counts and a
 *     restart from the network give the same run;
 *   - staleness: 1 per target in steady state;
 *   - dnic_pipe_tick_rows (gathering by index) equals dnic_pipe_tick on
 *     the gathered batch, under the pipeline and async;
 *   - in-flight state: a run cut with batches in flight and resumed from
 *     the exported state equals the uncut run; lying states are refused.
 */
#include "blocks.h"

#include <math.h>
#include <stdlib.h>

/* Runs NB batches through a pipeline and drains it; the network gets the
 * blocks' values back. */
static void run_pipeline(dnic_dni_t *dni, const data_t *d, int threads, int *finished) {
    dnic_set_num_threads(threads);
    dnic_pipe_t *p = NULL;
    CHECK(dnic_pipe_create(&p, dni) == DNIC_OK && p, "create pipeline");
    if (!p) return;
    int done = 0, ok = 1;
    for (int b = 0; b < NB; b++) {
        int f = 0;
        float loss;
        ok &= dnic_pipe_tick(p, d->x[b], d->y[b], B, &loss, &f) == DNIC_OK;
        done += f;
        if (f) ok &= isfinite(loss) != 0;
    }
    while (dnic_pipe_pending(p)) {
        int f = 0;
        ok &= dnic_pipe_tick(p, NULL, NULL, 0, NULL, &f) == DNIC_OK;
        done += f;
    }
    CHECK(ok, "a tick failed");
    CHECK(dnic_pipe_sync_to_net(p) == DNIC_OK, "sync");
    *finished = done;
    dnic_pipe_free(p);
    dnic_set_num_threads(1);
}

/* -------------------------------------------------- textbook, two blocks */

/* The two blocks of a make_whole(3, W, bn) network cut after hidden layer
 * 1, written by hand: the lower (relu+bn?, tanh) and the upper (relu+bn?,
 * output) networks with the whole's initial values and its Adam. */
static void split_by_hand(dnic_net_t *ref, int W, int bn, dnic_net_t **lower, dnic_net_t **upper) {
    dnic_layer_desc lo_layers[2] = {{W, DNIC_ACT_RELU, bn}, {W, DNIC_ACT_TANH, 0}};
    dnic_layer_desc up_layers[2] = {{W, DNIC_ACT_RELU, bn}, {K, DNIC_ACT_IDENTITY, 0}};
    dnic_net_desc lo, up;
    dnic_net_desc_defaults(&lo);
    lo.input_dim = IN; lo.n_layers = 2; lo.layers = lo_layers; lo.max_batch = B; lo.hidden_top = 1;
    up = lo;
    up.input_dim = W; up.layers = up_layers; up.hidden_top = 0; up.first_layer = 2;
    dnic_net_create(lower, &lo, 1);
    dnic_net_create(upper, &up, 1);
    size_t nall, nl, nu;
    const float *P = dnic_net_params(ref, &nall);
    dnic_net_params(*lower, &nl);
    dnic_net_params(*upper, &nu);
    CHECK(nl + nu == nall, "block sizes");
    dnic_net_set_params(*lower, P, nl);
    dnic_net_set_params(*upper, P + nl, nu);
    dnic_optim_config adam = dnic_optim_default(DNIC_OPT_ADAM);
    adam.lr = 0.003f;
    dnic_net_set_optimizer(*lower, 0, &adam);
    dnic_net_set_optimizer(*upper, 0, &adam);
    dnic_net_set_input_grad(*upper, 1);
}

/* The textbook's upper block on one batch: forward from the lower block's
 * activations h, loss on labels y, backward, the gradient at its input
 * into g (g_bytes), update. */
static int upper_step(dnic_net_t *upper, const float *h, const int32_t *y, float *g, size_t g_bytes) {
    float loss;
    int ok = dnic_net_forward(upper, h, B, 1) == DNIC_OK;
    ok &= dnic_net_loss(upper, y, NULL, B, &loss) == DNIC_OK;
    dnic_net_zero_grad(upper);
    ok &= dnic_net_backward(upper, B) == DNIC_OK;
    memcpy(g, dnic_net_input_grad(upper), g_bytes);
    return ok && dnic_net_update(upper) == DNIC_OK;
}

/* The whole network's parameters equal the hand-split blocks', bit for bit. */
static void same_as_split(dnic_net_t *net, dnic_net_t *lower, dnic_net_t *upper, const char *what, const char *reference) {
    size_t nall, nl, nu;
    const float *Q = dnic_net_params(net, &nall), *L = dnic_net_params(lower, &nl), *U = dnic_net_params(upper, &nu);
    CHECK(nall == nl + nu, "%s: %zu parameters, the split %zu + %zu", what, nall, nl, nu);
    CHECK(memcmp(Q, L, nl * sizeof *Q) == 0, "%s's lower block differs from the %s", what, reference);
    CHECK(memcmp(Q + nl, U, nu * sizeof *Q) == 0, "%s's upper block differs from the %s", what, reference);
}


static void test_textbook_two_blocks(const data_t *d) {
    enum { H = 3, W = 10, AT = 1 }; /* interface after hidden layer 1 */
    dnic_net_t *net = make_whole(H, W, 1, 4), *ref = make_whole(H, W, 1, 4);
    int at[1] = {AT};
    dnic_dni_t *dni = net ? make_dni(net, at, 1, DNIC_IFACE_LINEAR) : NULL;
    if (!dni || !ref) return;
    int finished = 0;
    run_pipeline(dni, d, 1, &finished);
    CHECK(finished == NB, "pipeline finished %d batches, want %d", finished, NB);

    /* the two blocks by hand, from the same initial values */
    dnic_net_t *lower = NULL, *upper = NULL;
    split_by_hand(ref, W, 1, &lower, &upper);
    dnic_iface_desc id;
    dnic_iface_desc_defaults(&id, AT);
    id.centre = DNIC_CENTRE_ON; /* batch norm above the boundary: the DNI's default centres */
    dnic_iface_t *sg = NULL;
    dnic_iface_create(&sg, &id, W, W, K, B, 0.5f, 1); /* LINEAR starts at zero whatever the seed */
    dnic_optim_config sgd = dnic_optim_default(DNIC_OPT_SGD);
    sgd.lr = 0.01f;
    dnic_iface_set_optimizer(sg, &sgd);

    static float h[NB][B * W], g[NB][B * W]; /* lower's top activations and upper's input gradient, by batch */
    float signal[B * W], scratch[B * W];
    int ok = 1;
    for (int t = 0; t < NB + 2; t++) {
        /* the interface: the target of batch t-2, sent by the upper block at tick t-1 */
        if (t - 2 >= 0) {
            ok &= dnic_iface_boundary_step(sg, h[t - 2], d->y[t - 2], NULL, g[t - 2], scratch, B, NULL) == DNIC_OK;
            ok &= dnic_iface_update(sg) == DNIC_OK;
        }
        /* the lower block: batch t, updated at once from the prediction */
        if (t < NB) {
            ok &= dnic_net_forward(lower, d->x[t], B, 1) == DNIC_OK;
            memcpy(h[t], dnic_net_output(lower), sizeof h[t]);
            ok &= dnic_iface_predict_signal(sg, h[t], d->y[t], NULL, signal, B) == DNIC_OK;
            dnic_net_zero_grad(lower);
            memcpy(dnic_net_grad_at(lower, 1), signal, sizeof signal);
            ok &= dnic_net_backward(lower, B) == DNIC_OK && dnic_net_update(lower) == DNIC_OK;
        }
        /* the upper block: batch t-1, forwarded by the lower block last tick */
        if (t - 1 >= 0 && t - 1 < NB) ok &= upper_step(upper, h[t - 1], d->y[t - 1], g[t - 1], sizeof g[t - 1]);
    }
    CHECK(ok, "textbook: a call failed");
    same_as_split(net, lower, upper, "pipeline", "textbook delayed computation");
    size_t na, nb;
    const float *A = dnic_iface_params(dnic_dni_iface(dni, 0), &na), *Bp = dnic_iface_params(sg, &nb);
    CHECK(na == nb && memcmp(A, Bp, na * sizeof *A) == 0, "pipeline's interface differs from the textbook");
    CHECK(dnic_net_optim_step(net) == NB, "step counter after sync %lld, want %d", (long long)dnic_net_optim_step(net), NB);
    dnic_iface_free(sg);
    dnic_net_free(lower);
    dnic_net_free(upper);
    dnic_dni_free(dni);
    dnic_net_free(net);
    dnic_net_free(ref);
}

/* ------------------------------------------ oracle: delayed gradient */

/* An ORACLE interface makes the lower block wait for its batch's true
 * gradient from above. Written out: at tick t the lower block first takes
 * batch t-2's gradient (computed by the upper block at tick t-1 with its
 * parameters of then), runs batch t-2 again with its current parameters
 * and backwards from that gradient, updates; then forwards batch t. The
 * upper block at tick t runs batch t-1 from the activations the lower
 * block made at tick t-1. The pipeline equals this bit for bit. */
static void test_textbook_oracle(const data_t *d) {
    enum { H = 3, W = 10, AT = 1 };
    dnic_net_t *net = make_whole(H, W, 0, 7), *ref = make_whole(H, W, 0, 7);
    int at[1] = {AT};
    dnic_dni_t *dni = net ? make_dni(net, at, 1, DNIC_IFACE_ORACLE) : NULL;
    if (!dni || !ref) return;
    int finished = 0;
    run_pipeline(dni, d, 1, &finished);
    CHECK(finished == NB, "oracle pipeline finished %d batches, want %d", finished, NB);

    dnic_net_t *lower = NULL, *upper = NULL;
    split_by_hand(ref, W, 0, &lower, &upper);

    static float h[NB][B * W], g[NB][B * W];
    int ok = 1;
    for (int t = 0; t < NB + 2; t++) {
        if (t - 2 >= 0) { /* the lower block: batch t-2 again, from its true gradient */
            ok &= dnic_net_forward(lower, d->x[t - 2], B, 1) == DNIC_OK;
            dnic_net_zero_grad(lower);
            memcpy(dnic_net_grad_at(lower, 1), g[t - 2], sizeof g[t - 2]);
            ok &= dnic_net_backward(lower, B) == DNIC_OK && dnic_net_update(lower) == DNIC_OK;
        }
        if (t < NB) { /* the lower block: batch t, forward only */
            ok &= dnic_net_forward(lower, d->x[t], B, 1) == DNIC_OK;
            memcpy(h[t], dnic_net_output(lower), sizeof h[t]);
        }
        if (t - 1 >= 0 && t - 1 < NB) /* the upper block: batch t-1 */
            ok &= upper_step(upper, h[t - 1], d->y[t - 1], g[t - 1], sizeof g[t - 1]);
    }
    CHECK(ok, "textbook oracle: a call failed");
    same_as_split(net, lower, upper, "oracle pipeline", "textbook delayed gradient");
    dnic_net_free(lower);
    dnic_net_free(upper);
    dnic_dni_free(dni);
    dnic_net_free(net);
    dnic_net_free(ref);
}

/* Chains of delayed blocks and an sg block under a delayed one: every
 * batch updates every block, 2 threads equal 1, and the in-flight state
 * (whose kept inputs are not exported) is refused, so checkpoints drain. */
static void test_oracle_chains(const data_t *d) {
    static const struct { int n, at[3]; dnic_iface_kind kinds[3]; } cases[] = {
        {2, {1, 3}, {DNIC_IFACE_ORACLE, DNIC_IFACE_ORACLE}},
        {3, {0, 2, 4}, {DNIC_IFACE_ORACLE, DNIC_IFACE_LINEAR, DNIC_IFACE_ORACLE}}, /* top first */
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        dnic_net_t *n1 = make_whole(6, 9, 1, 12), *n2 = make_whole(6, 9, 1, 12);
        dnic_dni_t *d1 = NULL, *d2 = NULL;
        dnic_iface_desc ds[3];
        for (int i = 0; i < cases[c].n; i++) {
            dnic_iface_desc_defaults(&ds[i], cases[c].at[i]);
            ds[i].kind = cases[c].kinds[i];
        }
        CHECK(n1 && n2 && dnic_dni_create(&d1, n1, ds, cases[c].n, K, 9) == DNIC_OK &&
                  dnic_dni_create(&d2, n2, ds, cases[c].n, K, 9) == DNIC_OK,
              "case %zu: dni", c);
        if (!d1 || !d2) return;
        int f1 = 0, f2 = 0;
        run_pipeline(d1, d, 1, &f1);
        run_pipeline(d2, d, 2, &f2);
        CHECK(f1 == NB && f2 == NB, "case %zu: finished %d / %d", c, f1, f2);
        CHECK(same_params(n1, n2), "case %zu: oracle chain, 2 threads differ from 1", c);
        CHECK(dnic_net_optim_step(n1) == NB, "case %zu: top step %lld", c, (long long)dnic_net_optim_step(n1));
        dnic_pipe_t *p = NULL;
        CHECK(dnic_pipe_create(&p, d1) == DNIC_OK, "case %zu: create", c);
        dnic_pipe_tick(p, d->x[0], d->y[0], B, NULL, NULL);
        size_t nv = 0, ni = 0;
        CHECK(dnic_pipe_export_inflight(p, NULL, &nv, NULL, &ni) == DNIC_ERR_STATE, "case %zu: delayed exported", c);
        CHECK(dnic_pipe_flush(p) == DNIC_OK, "case %zu: flush", c);
        for (int s = 0; s <= cases[c].n; s++)
            CHECK(dnic_pipe_block_step(p, s) == NB + 1, "case %zu: block %d step %lld", c, s,
                  (long long)dnic_pipe_block_step(p, s));
        dnic_pipe_free(p);
        p = NULL;
        CHECK(dnic_pipe_create_async(&p, d1, 2) == DNIC_ERR_ARG && !p, "case %zu: async accepted an oracle", c);
        dnic_dni_free(d1);
        dnic_dni_free(d2);
        dnic_net_free(n1);
        dnic_net_free(n2);
    }
}

/* ---------------------------------------------- one block = locked backprop */

static void test_one_block_is_backprop(const data_t *d) {
    dnic_net_t *net = make_whole(3, 9, 1, 6), *twin = make_whole(3, 9, 1, 6);
    dnic_dni_t *dni = net ? make_dni(net, NULL, 0, DNIC_IFACE_LINEAR) : NULL;
    if (!dni || !twin) return;
    int finished = 0;
    run_pipeline(dni, d, 2, &finished);
    for (int b = 0; b < NB; b++) {
        float loss;
        dnic_net_train_step(twin, d->x[b], d->y[b], NULL, B, &loss);
    }
    CHECK(finished == NB, "one block finished %d of %d", finished, NB);
    CHECK(same_params(net, twin), "a one-block pipeline differs from dnic_net_train_step");
    dnic_dni_free(dni);
    dnic_net_free(net);
    dnic_net_free(twin);
}

/* ----------------------------------------------- thread count, bit for bit */

static void test_threads_bit_identical(const data_t *d) {
    static const struct { int hidden, n, at[4]; dnic_iface_kind kind; int bn; } cases[] = {
        {4, 1, {1}, DNIC_IFACE_LINEAR, 1},
        {4, 2, {0, 2}, DNIC_IFACE_MLP, 1},
        {6, 4, {0, 1, 3, 4}, DNIC_IFACE_LINEAR, 1},
        {6, 4, {0, 2, 3, 4}, DNIC_IFACE_MLP, 0},
        {5, 2, {1, 3}, DNIC_IFACE_SIGMOID, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        dnic_net_t *n1 = make_whole(cases[c].hidden, 11, cases[c].bn, 8);
        dnic_net_t *n2 = make_whole(cases[c].hidden, 11, cases[c].bn, 8);
        dnic_dni_t *d1 = n1 ? make_dni(n1, cases[c].at, cases[c].n, cases[c].kind) : NULL;
        dnic_dni_t *d2 = n2 ? make_dni(n2, cases[c].at, cases[c].n, cases[c].kind) : NULL;
        if (d1 && d2) {
            int f1 = 0, f2 = 0;
            run_pipeline(d1, d, 1, &f1);
            run_pipeline(d2, d, 2, &f2);
            CHECK(f1 == NB && f2 == NB, "case %zu: finished %d and %d batches", c, f1, f2);
            CHECK(same_params(n1, n2), "case %zu (%d blocks): 2 threads differ from 1 thread", c, cases[c].n + 1);
            CHECK(same_ifaces(d1, d2), "case %zu (%d blocks): interfaces differ between 1 and 2 threads", c,
                  cases[c].n + 1);
            /* the blocks really trained */
            dnic_net_t *fresh = make_whole(cases[c].hidden, 11, cases[c].bn, 8);
            CHECK(fresh && !same_params(n1, fresh), "case %zu: nothing trained", c);
            dnic_net_free(fresh);
        }
        dnic_dni_free(d1);
        dnic_dni_free(d2);
        dnic_net_free(n1);
        dnic_net_free(n2);
    }
}

/* ------------------------------------------------- update decoupling */

/* Runs batches [from, to) through a new pipeline on dni's network with
 * update probability prob, drains it and syncs; block steps in/out. */
static void run_decoupled(dnic_dni_t *dni, const data_t *d, int from, int to, float prob, int64_t *steps, int n_blocks) {
    dnic_pipe_t *p = NULL;
    CHECK(dnic_pipe_create(&p, dni) == DNIC_OK, "create");
    if (!p) return;
    CHECK(dnic_pipe_set_update_prob(p, prob, 77, from) == DNIC_OK, "set update prob");
    for (int s = 0; s < n_blocks; s++) dnic_pipe_set_block_step(p, s, steps[s]);
    int ok = 1;
    for (int b = from; b < to; b++) ok &= dnic_pipe_tick(p, d->x[b], d->y[b], B, NULL, NULL) == DNIC_OK;
    ok &= dnic_pipe_flush(p) == DNIC_OK && dnic_pipe_sync_to_net(p) == DNIC_OK;
    CHECK(ok, "decoupled run %d..%d", from, to);
    for (int s = 0; s < n_blocks; s++) steps[s] = dnic_pipe_block_step(p, s);
    dnic_pipe_free(p);
}

/* Each block updates with probability p, from draws that depend on the
 * batch's number alone: about p of the batches update each block, blocks
 * skip different ones, 2 threads equal 1, and a run cut in two (drained,
 * restarted from the network with first_batch and the block steps) equals
 * the same run cut by a drain alone. */
static void test_update_decoupling(const data_t *d) {
    int at[2] = {0, 2};
    enum { NBLK = 3 };
    dnic_net_t *n[3];
    dnic_dni_t *dd[3];
    for (int i = 0; i < 3; i++) {
        n[i] = make_whole(4, 10, 1, 21);
        dd[i] = n[i] ? make_dni(n[i], at, 2, DNIC_IFACE_LINEAR) : NULL;
        if (!dd[i]) return;
    }
    int64_t s1[NBLK] = {0}, s2[NBLK] = {0}, s3[NBLK] = {0};
    dnic_set_num_threads(1);
    run_decoupled(dd[0], d, 0, 20, 0.5f, s1, NBLK);
    run_decoupled(dd[0], d, 20, NB, 0.5f, s1, NBLK);
    dnic_set_num_threads(2);
    run_decoupled(dd[1], d, 0, 20, 0.5f, s2, NBLK);
    dnic_set_num_threads(1);
    /* the cut run: one pipeline for all batches, with a drain at 20 */
    dnic_pipe_t *p = NULL;
    dnic_pipe_create(&p, dd[2]);
    dnic_pipe_set_update_prob(p, 0.5f, 77, 0);
    int ok = 1;
    for (int b = 0; b < NB; b++) {
        if (b == 20) ok &= dnic_pipe_flush(p) == DNIC_OK;
        ok &= dnic_pipe_tick(p, d->x[b], d->y[b], B, NULL, NULL) == DNIC_OK;
    }
    ok &= dnic_pipe_flush(p) == DNIC_OK && dnic_pipe_sync_to_net(p) == DNIC_OK;
    for (int s = 0; s < NBLK; s++) s3[s] = dnic_pipe_block_step(p, s);
    dnic_pipe_free(p);
    dnic_set_num_threads(2);
    run_decoupled(dd[1], d, 20, NB, 0.5f, s2, NBLK);
    dnic_set_num_threads(1);
    CHECK(ok, "cut run");
    CHECK(same_params(n[0], n[1]) && same_ifaces(dd[0], dd[1]), "decoupled: 2 threads differ from 1");
    CHECK(same_params(n[0], n[2]) && same_ifaces(dd[0], dd[2]), "decoupled: restarted run differs from the drained one");
    int differ = 0;
    for (int s = 0; s < NBLK; s++) {
        CHECK(s1[s] == s2[s] && s1[s] == s3[s], "block %d steps %lld / %lld / %lld", s, (long long)s1[s],
              (long long)s2[s], (long long)s3[s]);
        CHECK(s1[s] >= NB / 4 && s1[s] <= 3 * NB / 4, "block %d updated %lld of %d batches at p = 0.5", s,
              (long long)s1[s], NB);
        differ |= s > 0 && s1[s] != s1[0];
    }
    CHECK(differ, "every block skipped the same number of updates: the draws do not depend on the block");
    p = NULL;
    dnic_pipe_create(&p, dd[0]);
    CHECK(dnic_pipe_set_update_prob(p, 0.0f, 1, 0) == DNIC_ERR_ARG, "prob 0 accepted");
    CHECK(dnic_pipe_set_update_prob(p, 1.5f, 1, 0) == DNIC_ERR_ARG, "prob 1.5 accepted");
    CHECK(dnic_pipe_set_update_prob(p, NAN, 1, 0) == DNIC_ERR_ARG, "prob NaN accepted");
    CHECK(dnic_pipe_set_update_prob(p, 0.5f, 1, -1) == DNIC_ERR_ARG, "negative first batch accepted");
    CHECK(dnic_pipe_set_block_step(p, 3, 0) == DNIC_ERR_ARG && dnic_pipe_block_step(p, 3) == -1, "block 3 of 3");
    dnic_pipe_free(p);
    for (int i = 0; i < 3; i++) {
        dnic_dni_free(dd[i]);
        dnic_net_free(n[i]);
    }
}

/* ---------------------------------------------------- in-flight state */

typedef struct {
    float *values;
    int64_t *ints;
    size_t n_values, n_ints;
} inflight_t;

static inflight_t export_inflight(dnic_pipe_t *p) {
    inflight_t f = {NULL, NULL, 0, 0};
    CHECK(dnic_pipe_export_inflight(p, NULL, &f.n_values, NULL, &f.n_ints) == DNIC_OK, "export sizes");
    f.values = malloc((f.n_values + 1) * sizeof(float));
    f.ints = malloc((f.n_ints + 1) * sizeof(int64_t));
    size_t nv = f.n_values, ni = f.n_ints;
    CHECK(f.values && f.ints && dnic_pipe_export_inflight(p, f.values, &nv, f.ints, &ni) == DNIC_OK &&
              nv == f.n_values && ni == f.n_ints,
          "export");
    return f;
}

/* A run cut at a tick boundary with batches in flight (exported, the
 * pipeline freed, a new one made from the synced network with the block
 * steps and the state imported) equals the uncut run bit for bit; with
 * update decoupling, and the second half on 2 threads. */
static void test_inflight_resume(const data_t *d) {
    int at[2] = {0, 2};
    for (int decoupled = 0; decoupled <= 1; decoupled++) {
        dnic_net_t *n1 = make_whole(4, 10, 1, 31), *n2 = make_whole(4, 10, 1, 31);
        dnic_dni_t *d1 = n1 ? make_dni(n1, at, 2, DNIC_IFACE_MLP) : NULL;
        dnic_dni_t *d2 = n2 ? make_dni(n2, at, 2, DNIC_IFACE_MLP) : NULL;
        if (!d1 || !d2) return;
        float prob = decoupled ? 0.6f : 1.0f;
        dnic_pipe_t *p = NULL;
        dnic_pipe_create(&p, d1);
        dnic_pipe_set_update_prob(p, prob, 5, 0);
        for (int b = 0; b < NB; b++) dnic_pipe_tick(p, d->x[b], d->y[b], B, NULL, NULL);
        dnic_pipe_flush(p);
        dnic_pipe_sync_to_net(p);
        dnic_pipe_free(p);

        dnic_pipe_create(&p, d2);
        dnic_pipe_set_update_prob(p, prob, 5, 0);
        for (int b = 0; b < 20; b++) dnic_pipe_tick(p, d->x[b], d->y[b], B, NULL, NULL);
        CHECK(dnic_pipe_pending(p), "nothing in flight to save");
        inflight_t f = export_inflight(p);
        int64_t steps[3];
        for (int s = 0; s < 3; s++) steps[s] = dnic_pipe_block_step(p, s);
        dnic_pipe_sync_to_net(p);
        size_t small = f.n_ints - 1, nv = f.n_values;
        CHECK(dnic_pipe_export_inflight(p, f.values, &nv, f.ints, &small) == DNIC_ERR_SIZE, "a short buffer accepted");
        CHECK(dnic_pipe_import_inflight(p, f.values, f.n_values, f.ints, f.n_ints) == DNIC_ERR_STATE,
              "import into a pipeline that ticked");
        dnic_pipe_free(p);

        dnic_set_num_threads(2);
        dnic_pipe_create(&p, d2);
        /* what a lying checkpoint could hold: each refused, the pipeline left fresh */
        CHECK(dnic_pipe_import_inflight(p, f.values, f.n_values, f.ints, f.n_ints - 1) == DNIC_ERR_ARG, "short ints");
        CHECK(dnic_pipe_import_inflight(p, f.values, f.n_values - 1, f.ints, f.n_ints) == DNIC_ERR_ARG, "short values");
        f.ints[f.n_ints] = 0;
        CHECK(dnic_pipe_import_inflight(p, f.values, f.n_values, f.ints, f.n_ints + 1) == DNIC_ERR_ARG, "a trailing int");
        /* magic, version, blocks, fed, label slots (max_batch, tick and
         * first batch take any value) */
        static const size_t header[] = {0, 1, 2, 5, 7};
        for (size_t h = 0; h < sizeof header / sizeof *header; h++) {
            size_t i = header[h];
            int64_t keep = f.ints[i];
            f.ints[i] = i == 5 ? (int64_t)1 << 40 : keep + 1;
            CHECK(dnic_pipe_import_inflight(p, f.values, f.n_values, f.ints, f.n_ints) == DNIC_ERR_ARG,
                  "header int %zu changed", i);
            f.ints[i] = keep;
        }
        float keep = f.values[0];
        f.values[0] = NAN;
        CHECK(dnic_pipe_import_inflight(p, f.values, f.n_values, f.ints, f.n_ints) == DNIC_ERR_ARG, "NaN in flight");
        f.values[0] = keep;
        CHECK(!dnic_pipe_pending(p), "a refused import left something in flight");
        dnic_pipe_set_update_prob(p, prob, 5, 20);
        for (int s = 0; s < 3; s++) dnic_pipe_set_block_step(p, s, steps[s]);
        CHECK(dnic_pipe_import_inflight(p, f.values, f.n_values, f.ints, f.n_ints) == DNIC_OK, "import");
        CHECK(dnic_pipe_pending(p), "the imported batches are not in flight");
        for (int b = 20; b < NB; b++) dnic_pipe_tick(p, d->x[b], d->y[b], B, NULL, NULL);
        dnic_pipe_flush(p);
        dnic_pipe_sync_to_net(p);
        dnic_pipe_free(p);
        dnic_set_num_threads(1);
        CHECK(same_params(n1, n2) && same_ifaces(d1, d2), "decoupled %d: the resumed run differs from the uncut one",
              decoupled);
        free(f.values);
        free(f.ints);
        dnic_dni_free(d1);
        dnic_dni_free(d2);
        dnic_net_free(n1);
        dnic_net_free(n2);
    }
}

/* ------------------------------------------------------- gathered rows */

/* dnic_pipe_tick_rows on indices into the whole data equals dnic_pipe_tick
 * on the gathered batch (pipeline: bit for bit; async: one block, so the
 * order is fixed), and refuses indices outside the data. */
static void test_tick_rows(const data_t *d) {
    int32_t idx[NB][B];
    for (int b = 0; b < NB; b++)
        for (int r = 0; r < B; r++) idx[b][r] = (int32_t)((b * B + r * 7) % (NB * B));
    static float x[B * IN];
    static int32_t y[B];
    for (int async = 0; async <= 1; async++) {
        int at[1] = {1};
        dnic_net_t *n1 = make_whole(3, 9, 1, 5), *n2 = make_whole(3, 9, 1, 5);
        dnic_dni_t *d1 = n1 ? make_dni(n1, at, async ? 0 : 1, DNIC_IFACE_LINEAR) : NULL;
        dnic_dni_t *d2 = n2 ? make_dni(n2, at, async ? 0 : 1, DNIC_IFACE_LINEAR) : NULL;
        dnic_pipe_t *p1 = NULL, *p2 = NULL;
        if (!d1 || !d2) return;
        if (async) {
            dnic_pipe_create_async(&p1, d1, 2);
            dnic_pipe_create_async(&p2, d2, 2);
        } else {
            dnic_pipe_create(&p1, d1);
            dnic_pipe_create(&p2, d2);
        }
        int ok = p1 && p2;
        for (int b = 0; ok && b < NB; b++) {
            for (int r = 0; r < B; r++) {
                int row = idx[b][r];
                memcpy(x + r * IN, d->x[row / B] + (row % B) * IN, sizeof(float) * IN);
                y[r] = d->y[row / B][row % B];
            }
            ok &= dnic_pipe_tick(p1, x, y, B, NULL, NULL) == DNIC_OK;
            ok &= dnic_pipe_tick_rows(p2, d->x[0], d->y[0], (size_t)NB * B, idx[b], B, NULL, NULL) == DNIC_OK;
        }
        ok &= dnic_pipe_flush(p1) == DNIC_OK && dnic_pipe_flush(p2) == DNIC_OK;
        ok &= dnic_pipe_sync_to_net(p1) == DNIC_OK && dnic_pipe_sync_to_net(p2) == DNIC_OK;
        CHECK(ok, "%s: ticks", async ? "async" : "pipeline");
        CHECK(same_params(n1, n2) && same_ifaces(d1, d2), "%s: tick_rows differs from tick on the gathered batch",
              async ? "async" : "pipeline");
        int32_t bad[B] = {0};
        bad[B - 1] = NB * B;
        CHECK(dnic_pipe_tick_rows(p2, d->x[0], d->y[0], (size_t)NB * B, bad, B, NULL, NULL) == DNIC_ERR_ARG,
              "an index past the data accepted");
        bad[B - 1] = -1;
        CHECK(dnic_pipe_tick_rows(p2, d->x[0], d->y[0], (size_t)NB * B, bad, B, NULL, NULL) == DNIC_ERR_ARG,
              "a negative index accepted");
        CHECK(dnic_pipe_tick_rows(p2, d->x[0], NULL, (size_t)NB * B, idx[0], B, NULL, NULL) == DNIC_ERR_NULL,
              "no labels accepted");
        CHECK(dnic_pipe_tick_rows(p2, d->x[0], d->y[0], (size_t)NB * B, idx[0], B + 1, NULL, NULL) ==
                  DNIC_ERR_BATCH_TOO_LARGE,
              "B > max_batch accepted");
        dnic_pipe_free(p1);
        dnic_pipe_free(p2);
        dnic_dni_free(d1);
        dnic_dni_free(d2);
        dnic_net_free(n1);
        dnic_net_free(n2);
    }
}

/* ---------------------------------------------------------- staleness */

/* Under the pipeline a target arrives two ticks after its batch, with one
 * more batch forwarded meanwhile: staleness 1, except the last batch
 * (drained with nothing after it). */
static void test_staleness(const data_t *d) {
    int at[2] = {0, 2};
    dnic_net_t *net = make_whole(4, 10, 0, 4);
    dnic_dni_t *dni = net ? make_dni(net, at, 2, DNIC_IFACE_LINEAR) : NULL;
    dnic_pipe_t *p = NULL;
    if (!dni || dnic_pipe_create(&p, dni) != DNIC_OK) return;
    for (int b = 0; b < NB; b++) dnic_pipe_tick(p, d->x[b], d->y[b], B, NULL, NULL);
    dnic_pipe_flush(p);
    for (int s = 0; s < 3; s++) {
        double mean = -1;
        int64_t max = -1, count = -1;
        CHECK(dnic_pipe_block_staleness(p, s, &mean, &max, &count) == DNIC_OK, "staleness");
        if (s == 2) {
            CHECK(count == 0 && max == 0 && mean == 0, "the top block has no interface: %lld targets", (long long)count);
        } else {
            CHECK(count == NB && max == 1 && fabs(mean - (double)(NB - 1) / NB) < 1e-12,
                  "block %d: %lld targets, staleness mean %g max %lld", s, (long long)count, mean, (long long)max);
        }
    }
    CHECK(dnic_pipe_block_staleness(p, 3, NULL, NULL, NULL) == DNIC_ERR_ARG, "block 3 of 3");
    dnic_pipe_free(p);
    dnic_dni_free(dni);
    dnic_net_free(net);
}

/* --------------------------------------------------------- refusals */

static void test_refusals(void) {
    dnic_net_t *net = make_whole(3, 8, 0, 1);
    if (!net) return;
    static const struct { dnic_iface_kind kind; dnic_iface_target target; dnic_iface_signal signal; int warmup; } bad[] = {
        {DNIC_IFACE_LINEAR, DNIC_TARGET_TRUE, DNIC_SIGNAL_PRED, 0},        /* needs the true gradient now */
        {DNIC_IFACE_LINEAR, DNIC_TARGET_BOOTSTRAP, DNIC_SIGNAL_PRED_PROP, 0}, /* prop needs the target */
        {DNIC_IFACE_LINEAR, DNIC_TARGET_BOOTSTRAP, DNIC_SIGNAL_PRED, 5},   /* warmup passes the target through */
        {DNIC_IFACE_IDENTITY, DNIC_TARGET_BOOTSTRAP, DNIC_SIGNAL_PROP, 0}, /* backprop */
        {DNIC_IFACE_RANDOM, DNIC_TARGET_OUTPUT_ERROR, DNIC_SIGNAL_PROP, 0}, /* dfa */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        dnic_iface_desc dd;
        dnic_iface_desc_defaults(&dd, 1);
        dd.kind = bad[i].kind;
        dd.target = bad[i].target;
        dd.signal = bad[i].signal;
        dd.loss = bad[i].kind == DNIC_IFACE_LINEAR ? DNIC_IFACE_LOSS_L2 : DNIC_IFACE_LOSS_INNER;
        dd.warmup_steps = bad[i].warmup;
        dnic_dni_t *dni = NULL;
        dnic_status st = dnic_dni_create(&dni, net, &dd, 1, K, 1);
        CHECK(st == DNIC_OK, "case %zu: dni create %s", i, dnic_status_str(st));
        dnic_pipe_t *p = (dnic_pipe_t *)1;
        CHECK(dni && dnic_pipe_create(&p, dni) == DNIC_ERR_ARG && p == NULL, "case %zu: pipeline accepted", i);
        dnic_dni_free(dni);
    }
    int at[1] = {1};
    dnic_dni_t *dni = make_dni(net, at, 1, DNIC_IFACE_LINEAR);
    dnic_dni_set_track_alignment(dni, 1);
    dnic_pipe_t *p = NULL;
    CHECK(dnic_pipe_create(&p, dni) == DNIC_ERR_ARG, "alignment tracking accepted");
    dnic_dni_set_track_alignment(dni, 0);
    CHECK(dnic_pipe_create(&p, dni) == DNIC_OK && p, "a plain sg pipeline refused");
    float x[(B + 1) * IN] = {0};
    int32_t y[B + 1] = {0};
    CHECK(dnic_pipe_tick(p, x, NULL, B, NULL, NULL) == DNIC_ERR_NULL, "tick without labels");
    CHECK(dnic_pipe_tick(p, x, y, B + 1, NULL, NULL) == DNIC_ERR_BATCH_TOO_LARGE, "tick with B > max_batch");
    CHECK(dnic_pipe_tick(NULL, x, y, B, NULL, NULL) == DNIC_ERR_NULL, "tick on NULL");
    CHECK(dnic_pipe_create(NULL, dni) == DNIC_ERR_NULL, "create into NULL");
    CHECK(dnic_pipe_num_blocks(p) == 2, "blocks %d", dnic_pipe_num_blocks(p));
    dnic_pipe_free(p);
    dnic_dni_free(dni);
    dnic_net_free(net);
}

int main(void) {
    static data_t d;
    make_data(&d, 12);
    test_textbook_two_blocks(&d);
    test_textbook_oracle(&d);
    test_oracle_chains(&d);
    test_one_block_is_backprop(&d);
    test_threads_bit_identical(&d);
    test_update_decoupling(&d);
    test_staleness(&d);
    test_tick_rows(&d);
    test_inflight_resume(&d);
    test_refusals();
    return harness_finish("pipeline");
}
