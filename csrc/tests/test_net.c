/* test_net.c — the network object: whole-network gradient check (random
 * directions, deep net with batch norm), block-by-block backward, optimizer
 * wiring, evaluation, determinism, initialisation by layer (a block
 * created alone starts as the same layers of the whole), and training smoke tests (overfit 64
 * random points, XOR). Runs at every instruction-set level the CPU has, at
 * 1 and 2 threads.
 */
#include "harness.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Loss of the current parameters on (x, y), training-mode forward, in
 * double accumulation of the float per-batch mean. */
static double loss_at(dnic_net_t *n, const float *x, const int32_t *y, int B) {
    float L = 0;
    dnic_net_forward(n, x, B, 1);
    dnic_net_loss(n, y, NULL, B, &L);
    return L;
}

/* d/de L(theta + e d) by central differences against <grad, d>, for a
 * random direction d over one tensor (or all trainable ones: tensor < 0). */
static void check_direction(dnic_net_t *n, const float *x, const int32_t *y, int B, int tensor,
                            uint64_t *rng) {
    size_t np;
    float *P = dnic_net_params(n, &np);
    float *G = dnic_net_grads(n, &np);
    float *dir = calloc(np, sizeof(float));
    float *saved = malloc(np * sizeof(float));
    memcpy(saved, P, np * sizeof(float));
    char what[96] = "all parameters";
    double norm = 0;
    for (int i = 0; i < dnic_net_num_tensors(n); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(n, i, &t);
        if (!t.trainable || (tensor >= 0 && i != tensor)) continue;
        if (tensor >= 0) snprintf(what, sizeof what, "%s", t.name);
        for (size_t k = 0; k < t.size; k++) {
            dir[t.offset + k] = dnic_rng_normal(rng);
            norm += (double)dir[t.offset + k] * dir[t.offset + k];
        }
    }
    for (size_t k = 0; k < np; k++) dir[k] = (float)(dir[k] / sqrt(norm));

    dnic_net_zero_grad(n);
    loss_at(n, x, y, B);
    dnic_net_backward(n, B);
    double analytic = 0;
    for (size_t k = 0; k < np; k++) analytic += (double)G[k] * dir[k];

    const double eps = 1e-2;
    for (size_t k = 0; k < np; k++) P[k] = saved[k] + (float)(eps * dir[k]);
    double lp = loss_at(n, x, y, B);
    for (size_t k = 0; k < np; k++) P[k] = saved[k] - (float)(eps * dir[k]);
    double lm = loss_at(n, x, y, B);
    memcpy(P, saved, np * sizeof(float));
    double numeric = (lp - lm) / (2 * eps);
    double diff = fabs(numeric - analytic);
    CHECK(diff <= 2e-4 + 2e-2 * fabs(numeric), "network gradient (%s): numeric %.6g analytic %.6g diff %.3g",
          what, numeric, analytic, diff);
    free(dir);
    free(saved);
}

/* Deep net, tanh/sigmoid (smooth: no kinks), batch norm on several layers. */
static void test_whole_network_gradient(void) {
    const dnic_layer_desc layers[] = {
        {12, DNIC_ACT_TANH, 1}, {10, DNIC_ACT_SIGMOID, 1}, {9, DNIC_ACT_TANH, 0},
        {11, DNIC_ACT_TANH, 1}, {8, DNIC_ACT_IDENTITY, 1}, {7, DNIC_ACT_TANH, 0},
        {5, DNIC_ACT_IDENTITY, 0}};
    const int B = 16, in = 6;
    dnic_net_t *n = make_net(in, 7, layers, DNIC_LOSS_SOFTMAX_CE, B, DNIC_INIT_GLOROT_NORMAL, 7);
    if (!n) return;
    uint64_t rng = 99;
    float x[16 * 6];
    int32_t y[16];
    fill_normal(x, sizeof x / sizeof *x, 1.0f, &rng);
    for (int i = 0; i < B; i++) y[i] = (int32_t)(dnic_rng_next(&rng) % 5);
    /* move gamma/beta away from 1/0 so their gradients are not special */
    size_t np;
    float *P = dnic_net_params(n, &np);
    for (int i = 0; i < dnic_net_num_tensors(n); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(n, i, &t);
        if (t.trainable && t.cols == 1)
            for (size_t k = 0; k < t.size; k++) P[t.offset + k] += 0.3f * dnic_rng_normal(&rng);
    }
    for (int rep = 0; rep < 3; rep++) check_direction(n, x, y, B, -1, &rng);
    for (int i = 0; i < dnic_net_num_tensors(n); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(n, i, &t);
        if (t.trainable) check_direction(n, x, y, B, i, &rng);
    }
    dnic_net_free(n);
}

/* MSE and logistic losses through the network, relu away from kinks is not
 * guaranteed, so smooth activations again. */
static void test_gradient_other_losses(void) {
    const dnic_layer_desc mse_layers[] = {{8, DNIC_ACT_TANH, 1}, {3, DNIC_ACT_IDENTITY, 0}};
    const dnic_layer_desc log_layers[] = {{8, DNIC_ACT_SIGMOID, 0}, {1, DNIC_ACT_IDENTITY, 0}};
    uint64_t rng = 5;
    float x[10 * 4];
    int32_t y3[10], y1[10];
    fill_normal(x, 40, 1.0f, &rng);
    for (int i = 0; i < 10; i++) { y3[i] = i % 3; y1[i] = i % 2; }
    dnic_net_t *n = make_net(4, 2, mse_layers, DNIC_LOSS_MSE, 10, DNIC_INIT_GLOROT_NORMAL, 3);
    if (n) { check_direction(n, x, y3, 10, -1, &rng); dnic_net_free(n); }
    n = make_net(4, 2, log_layers, DNIC_LOSS_LOGISTIC, 10, DNIC_INIT_GLOROT_NORMAL, 4);
    if (n) { check_direction(n, x, y1, 10, -1, &rng); dnic_net_free(n); }
}

/* Running the backward in two ranges, seeding the lower one from the
 * gradient buffer at the boundary, equals the full backward exactly. */
static void test_backward_in_blocks(void) {
    const dnic_layer_desc layers[] = {{16, DNIC_ACT_RELU, 1}, {16, DNIC_ACT_RELU, 0},
                                      {16, DNIC_ACT_TANH, 1}, {4, DNIC_ACT_IDENTITY, 0}};
    dnic_net_t *n = make_net(8, 4, layers, DNIC_LOSS_SOFTMAX_CE, 32, DNIC_INIT_GLOROT_NORMAL, 11);
    if (!n) return;
    uint64_t rng = 3;
    float x[32 * 8];
    int32_t y[32];
    fill_normal(x, 32 * 8, 1.0f, &rng);
    for (int i = 0; i < 32; i++) y[i] = i % 4;
    size_t np;
    float *G = dnic_net_grads(n, &np);
    float *full = malloc(np * sizeof(float));
    dnic_net_zero_grad(n);
    dnic_net_forward(n, x, 32, 1);
    dnic_net_loss(n, y, NULL, 32, NULL);
    dnic_net_backward(n, 32);
    memcpy(full, G, np * sizeof(float));

    dnic_net_zero_grad(n);
    dnic_net_forward(n, x, 32, 1);
    dnic_net_loss(n, y, NULL, 32, NULL);
    CHECK(dnic_net_backward_range(n, 3, 2, 32) == DNIC_OK, "upper block backward");
    CHECK(dnic_net_backward_range(n, 1, 0, 32) == DNIC_OK, "lower block backward");
    CHECK(memcmp(full, G, np * sizeof(float)) == 0, "block-by-block backward differs from full backward");

    /* the lower block really starts from the boundary buffer: a signal of
     * zeros there leaves the lower block's gradients at zero */
    dnic_net_zero_grad(n);
    dnic_net_forward(n, x, 32, 1);
    memset(dnic_net_grad_at(n, 1), 0, 32 * 16 * sizeof(float));
    dnic_net_backward_range(n, 1, 0, 32);
    double s = 0;
    for (size_t k = 0; k < np; k++) s += fabs(G[k]);
    CHECK(s == 0.0, "zero boundary signal must give zero lower-block gradients (sum %g)", s);
    free(full);
    dnic_net_free(n);
}

/* The tensor table covers the parameter block exactly, in order, with the
 * documented names; L2 applies to weight matrices only. */
static void test_tensor_table_and_l2(void) {
    const dnic_layer_desc layers[] = {{5, DNIC_ACT_RELU, 1}, {2, DNIC_ACT_IDENTITY, 0}};
    dnic_net_t *n = make_net(3, 2, layers, DNIC_LOSS_SOFTMAX_CE, 4, DNIC_INIT_GLOROT_NORMAL, 1);
    if (!n) return;
    const char *names[] = {"layer0.weight", "layer0.bias", "layer0.bn.gamma", "layer0.bn.beta",
                           "layer0.bn.running_mean", "layer0.bn.running_var",
                           "layer1.weight", "layer1.bias"};
    size_t np, off = 0;
    float *P = dnic_net_params(n, &np);
    CHECK(dnic_net_num_tensors(n) == 8, "tensor count %d", dnic_net_num_tensors(n));
    for (int i = 0; i < dnic_net_num_tensors(n) && i < 8; i++) {
        dnic_tensor_info t;
        dnic_net_tensor(n, i, &t);
        CHECK(strcmp(t.name, names[i]) == 0, "tensor %d named %s, want %s", i, t.name, names[i]);
        CHECK(t.offset == off, "tensor %s offset %zu, want %zu", t.name, t.offset, off);
        CHECK(t.decay == (strstr(t.name, "weight") != NULL), "decay flag of %s", t.name);
        CHECK(t.trainable == (strstr(t.name, "running") == NULL), "trainable flag of %s", t.name);
        off += t.size;
    }
    CHECK(off == np, "tensors cover %zu of %zu floats", off, np);
    CHECK(np == 3 * 5 + 5 + 4 * 5 + 5 * 2 + 2, "parameter count %zu", np);

    /* zero gradients + L2: weights shrink by (1 - lr l2), nothing else moves */
    for (size_t k = 0; k < np; k++) P[k] = 0.5f;
    float *before = malloc(np * sizeof(float));
    memcpy(before, P, np * sizeof(float));
    dnic_optim_config c = dnic_optim_default(DNIC_OPT_SGD);
    c.lr = 0.1f;
    c.l2 = 0.01f;
    CHECK(dnic_net_set_optimizer(n, 0, &c) == DNIC_OK, "set optimizer");
    dnic_net_zero_grad(n);
    dnic_net_update(n);
    for (int i = 0; i < dnic_net_num_tensors(n); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(n, i, &t);
        float want = t.decay ? 0.5f * (1.0f - 0.1f * 0.01f) : 0.5f;
        int ok = 1;
        for (size_t k = 0; k < t.size; k++) ok &= fabsf(P[t.offset + k] - want) < 1e-7f;
        CHECK(ok, "L2 on %s: got %.8f want %.8f", t.name, P[t.offset], want);
    }
    free(before);
    dnic_net_free(n);
}

/* The weights of layer l of the whole network (tensors are named by it), or NULL. */
static const float *layer_weights(dnic_net_t *net, int l, size_t *size) {
    char want[64];
    snprintf(want, sizeof want, "layer%d.weight", l);
    size_t np;
    float *P = dnic_net_params(net, &np);
    for (int i = 0; i < dnic_net_num_tensors(net); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(net, i, &t);
        if (strcmp(t.name, want) == 0) {
            *size = t.size;
            return P + t.offset;
        }
    }
    return NULL;
}

/* Initialisation by layer: every layer's weights come from a stream of
 * their own (seed, index in the whole network), so the layers of any block
 * created alone (first_layer = its offset) start bit-identical to the same
 * layers of the whole network, for every split point; and two layers of
 * the same shape do not share values. */
static void test_split_initialisation(void) {
    enum { L = 6, IN = 5 };
    const dnic_layer_desc layers[L] = {{8, DNIC_ACT_RELU, 1}, {7, DNIC_ACT_TANH, 0}, {6, DNIC_ACT_RELU, 0},
                                       {6, DNIC_ACT_RELU, 1}, {6, DNIC_ACT_SIGMOID, 0}, {3, DNIC_ACT_IDENTITY, 0}};
    dnic_net_desc d;
    dnic_net_desc_defaults(&d);
    d.input_dim = IN;
    d.n_layers = L;
    d.layers = layers;
    d.max_batch = 4;
    dnic_net_t *whole = NULL;
    CHECK(dnic_net_create(&whole, &d, 77) == DNIC_OK, "whole network");
    if (!whole) return;
    size_t n2, n3;
    const float *w2 = layer_weights(whole, 3, &n2), *w3 = layer_weights(whole, 4, &n3);
    CHECK(w2 && w3 && n2 == n3 && memcmp(w2, w3, n2 * sizeof *w2) != 0, "layers 3 and 4 (6x6) have equal weights");
    for (int k = 1; k < L; k++) {
        /* the block above the boundary after layer k-1: layers k..L-1 */
        dnic_net_desc up = d;
        up.input_dim = layers[k - 1].width;
        up.n_layers = L - k;
        up.layers = layers + k;
        up.first_layer = k;
        dnic_net_t *upper = NULL;
        CHECK(dnic_net_create(&upper, &up, 77) == DNIC_OK, "upper block from layer %d", k);
        for (int l = 0; upper && l < L - k; l++) {
            size_t a = 0, b = 0;
            const float *wa = layer_weights(upper, k + l, &a), *wb = layer_weights(whole, k + l, &b);
            CHECK(wa && wb && a == b && memcmp(wa, wb, a * sizeof *wa) == 0,
                  "split after layer %d: the block's layer %d differs from layer %d of the whole", k - 1, l, k + l);
        }
        dnic_net_free(upper);
        /* the block below: layers 0..k-1 (an identity output layer on top,
         * since a network ends in one; it does not touch the others' streams) */
        dnic_layer_desc low_layers[L + 1];
        memcpy(low_layers, layers, sizeof(dnic_layer_desc) * (size_t)k);
        low_layers[k] = (dnic_layer_desc){2, DNIC_ACT_IDENTITY, 0};
        dnic_net_desc low = d;
        low.n_layers = k + 1;
        low.layers = low_layers;
        dnic_net_t *lower = NULL;
        CHECK(dnic_net_create(&lower, &low, 77) == DNIC_OK, "lower block to layer %d", k - 1);
        for (int l = 0; lower && l < k; l++) {
            size_t a = 0, b = 0;
            const float *wa = layer_weights(lower, l, &a), *wb = layer_weights(whole, l, &b);
            CHECK(wa && wb && a == b && memcmp(wa, wb, a * sizeof *wa) == 0,
                  "split after layer %d: lower block's layer %d differs", k - 1, l);
        }
        dnic_net_free(lower);
    }
    dnic_net_desc bad = d;
    bad.first_layer = -1;
    dnic_net_t *none = NULL;
    CHECK(dnic_net_create(&none, &bad, 77) == DNIC_ERR_ARG && !none, "first_layer -1 must be DNIC_ERR_ARG");
    dnic_net_free(whole);
}

/* Blocks as units: the network cut after any hidden layer into a lower
 * block (hidden_top) and an upper block (first_layer), trained by hand —
 * lower forward, upper forward + loss + backward with its input gradient,
 * that gradient written at the lower block's top, lower backward, both
 * updates — equals the whole network's dnic_net_train_step bit for bit
 * (Adam, batch norm, 6 steps), with tensors named as in the whole. A block
 * without a loss refuses the calls that need one. */
static void test_blocks_equal_whole(void) {
    enum { L = 5, IN = 6, B = 8, STEPS = 6 };
    const dnic_layer_desc layers[L] = {{9, DNIC_ACT_RELU, 1}, {7, DNIC_ACT_TANH, 0}, {8, DNIC_ACT_SIGMOID, 1},
                                       {6, DNIC_ACT_RELU, 0}, {4, DNIC_ACT_IDENTITY, 0}};
    float x[STEPS][B * IN];
    int32_t y[STEPS][B];
    uint64_t rng = 91;
    for (int s = 0; s < STEPS; s++) {
        fill_normal(x[s], B * IN, 1.0f, &rng);
        for (int r = 0; r < B; r++) y[s][r] = (int32_t)(dnic_rng_next(&rng) % 4);
    }
    dnic_optim_config adam = dnic_optim_default(DNIC_OPT_ADAM);
    adam.lr = 0.01f;
    dnic_net_desc d;
    dnic_net_desc_defaults(&d);
    d.input_dim = IN;
    d.n_layers = L;
    d.layers = layers;
    d.max_batch = B;
    for (int k = 1; k < L; k++) {
        dnic_net_desc lo = d, up = d;
        lo.n_layers = k;
        lo.hidden_top = 1;
        up.input_dim = layers[k - 1].width;
        up.n_layers = L - k;
        up.layers = layers + k;
        up.first_layer = k;
        dnic_net_t *whole = NULL, *lower = NULL, *upper = NULL;
        CHECK(dnic_net_create(&whole, &d, 5) == DNIC_OK && dnic_net_create(&lower, &lo, 5) == DNIC_OK &&
                  dnic_net_create(&upper, &up, 5) == DNIC_OK,
              "split after layer %d: create", k - 1);
        if (!whole || !lower || !upper) { dnic_net_free(whole); dnic_net_free(lower); dnic_net_free(upper); continue; }
        dnic_net_set_optimizer(whole, 0, &adam);
        dnic_net_set_optimizer(lower, 0, &adam);
        dnic_net_set_optimizer(upper, 0, &adam);
        CHECK(dnic_net_set_input_grad(upper, 1) == DNIC_OK, "input gradient on");
        dnic_tensor_info t0;
        dnic_net_tensor(upper, 0, &t0);
        char want[32];
        snprintf(want, sizeof want, "layer%d.weight", k);
        CHECK(strcmp(t0.name, want) == 0, "upper block's first tensor is %s, want %s", t0.name, want);
        int ok = 1;
        for (int s = 0; s < STEPS; s++) {
            float lw = NAN, lb = NAN;
            ok &= dnic_net_train_step(whole, x[s], y[s], NULL, B, &lw) == DNIC_OK;
            ok &= dnic_net_forward(lower, x[s], B, 1) == DNIC_OK;
            ok &= dnic_net_forward(upper, dnic_net_output(lower), B, 1) == DNIC_OK;
            ok &= dnic_net_loss(upper, y[s], NULL, B, &lb) == DNIC_OK;
            dnic_net_zero_grad(upper);
            dnic_net_zero_grad(lower);
            ok &= dnic_net_backward(upper, B) == DNIC_OK;
            memcpy(dnic_net_grad_at(lower, k - 1), dnic_net_input_grad(upper), sizeof(float) * B * layers[k - 1].width);
            ok &= dnic_net_backward(lower, B) == DNIC_OK;
            ok &= dnic_net_update(lower) == DNIC_OK && dnic_net_update(upper) == DNIC_OK;
            CHECK(lw == lb, "split after layer %d, step %d: loss %.9g, blocks %.9g", k - 1, s, lw, lb);
        }
        CHECK(ok, "split after layer %d: a call failed", k - 1);
        size_t nw, nl, nu;
        const float *pw = dnic_net_params(whole, &nw), *pl = dnic_net_params(lower, &nl);
        const float *pu = dnic_net_params(upper, &nu);
        CHECK(nl + nu == nw && memcmp(pw, pl, nl * sizeof *pw) == 0 && memcmp(pw + nl, pu, nu * sizeof *pw) == 0,
              "split after layer %d: blocks' parameters differ from the whole's after %d steps", k - 1, STEPS);
        float loss;
        double mean;
        size_t correct;
        CHECK(dnic_net_loss(lower, y[0], NULL, B, &loss) == DNIC_ERR_STATE, "a block computed a loss");
        CHECK(dnic_net_train_step(lower, x[0], y[0], NULL, B, &loss) == DNIC_ERR_STATE, "a block ran train_step");
        CHECK(dnic_net_evaluate(lower, x[0], y[0], NULL, B, &mean, &correct) == DNIC_ERR_STATE, "a block evaluated");
        dnic_net_free(whole);
        dnic_net_free(lower);
        dnic_net_free(upper);
    }
    dnic_net_desc bad = d;
    bad.hidden_top = 2;
    dnic_net_t *none = NULL;
    CHECK(dnic_net_create(&none, &bad, 1) == DNIC_ERR_ARG && !none, "hidden_top 2 must be DNIC_ERR_ARG");
    bad = d;
    bad.n_layers = 2; /* top layer tanh: only a block may end in one */
    CHECK(dnic_net_create(&none, &bad, 1) == DNIC_ERR_ARG && !none, "a hidden top without hidden_top accepted");
}

/* evaluate() = chunked eval-mode forward + loss + argmax; params round trip. */
static void test_evaluate_and_params(void) {
    const dnic_layer_desc layers[] = {{7, DNIC_ACT_RELU, 1}, {3, DNIC_ACT_IDENTITY, 0}};
    dnic_net_t *n = make_net(5, 2, layers, DNIC_LOSS_SOFTMAX_CE, 8, DNIC_INIT_GLOROT_NORMAL, 21);
    if (!n) return;
    uint64_t rng = 8;
    enum { N = 29 };
    float X[N * 5];
    int32_t y[N];
    fill_normal(X, N * 5, 1.0f, &rng);
    for (int i = 0; i < N; i++) y[i] = (int32_t)(dnic_rng_next(&rng) % 3);
    /* a few training steps so running statistics are not the defaults */
    for (int s = 0; s < 5; s++) dnic_net_train_step(n, X, y, NULL, 8, NULL);

    double loss = 0;
    size_t correct = 0;
    CHECK(dnic_net_evaluate(n, X, y, NULL, N, &loss, &correct) == DNIC_OK, "evaluate");
    double want_loss = 0;
    size_t want_correct = 0;
    for (int i = 0; i < N; i++) { /* one row at a time: chunking must not matter */
        float L;
        dnic_net_forward(n, X + i * 5, 1, 0);
        dnic_loss_forward_backward(DNIC_LOSS_SOFTMAX_CE, &L, NULL, dnic_net_output(n), y + i, NULL, 1, 3);
        want_loss += L;
        want_correct += dnic_count_correct(DNIC_LOSS_SOFTMAX_CE, dnic_net_output(n), y + i, 1, 3);
    }
    want_loss /= N;
    CHECK(fabs(loss - want_loss) < 1e-5 * (1 + fabs(want_loss)), "evaluate loss %g want %g", loss, want_loss);
    CHECK(correct == want_correct, "evaluate correct %zu want %zu", correct, want_correct);

    size_t np;
    dnic_net_params(n, &np);
    float *copy = malloc(np * sizeof(float));
    CHECK(dnic_net_get_params(n, copy, np) == DNIC_OK, "get params");
    dnic_net_t *m = make_net(5, 2, layers, DNIC_LOSS_SOFTMAX_CE, 8, DNIC_INIT_GLOROT_NORMAL, 999);
    CHECK(dnic_net_set_params(m, copy, np) == DNIC_OK, "set params");
    double loss2 = 0;
    size_t correct2 = 0;
    dnic_net_evaluate(m, X, y, NULL, N, &loss2, &correct2);
    CHECK(loss2 == loss && correct2 == correct, "a copied parameter block evaluates identically");
    free(copy);
    dnic_net_free(m);
    dnic_net_free(n);
}

/* Same seed, same thread count: bit-identical parameters. */
static void test_determinism(void) {
    const dnic_layer_desc layers[] = {{32, DNIC_ACT_RELU, 1}, {32, DNIC_ACT_RELU, 0}, {4, DNIC_ACT_IDENTITY, 0}};
    float *runs[2];
    size_t np = 0;
    for (int r = 0; r < 2; r++) {
        dnic_net_t *n = make_net(10, 3, layers, DNIC_LOSS_SOFTMAX_CE, 64, DNIC_INIT_GLOROT_NORMAL, 42);
        if (!n) return;
        dnic_optim_config c = dnic_optim_default(DNIC_OPT_ADAM);
        dnic_net_set_optimizer(n, 0, &c);
        uint64_t rng = 1234;
        float x[64 * 10];
        int32_t y[64];
        for (int s = 0; s < 10; s++) {
            fill_normal(x, 640, 1.0f, &rng);
            for (int i = 0; i < 64; i++) y[i] = (int32_t)(dnic_rng_next(&rng) % 4);
            dnic_net_train_step(n, x, y, NULL, 64, NULL);
        }
        float *P = dnic_net_params(n, &np);
        runs[r] = malloc(np * sizeof(float));
        memcpy(runs[r], P, np * sizeof(float));
        dnic_net_free(n);
    }
    CHECK(memcmp(runs[0], runs[1], np * sizeof(float)) == 0, "two runs with one seed differ");
    free(runs[0]);
    free(runs[1]);
}

/* A 2-layer net (one hidden layer) memorises 64 random points with random
 * labels. */
static void test_overfit_random_points(void) {
    const dnic_layer_desc layers[] = {{128, DNIC_ACT_RELU, 0}, {10, DNIC_ACT_IDENTITY, 0}};
    dnic_net_t *n = make_net(20, 2, layers, DNIC_LOSS_SOFTMAX_CE, 64, DNIC_INIT_GLOROT_NORMAL, 5);
    if (!n) return;
    dnic_optim_config c = dnic_optim_default(DNIC_OPT_ADAM);
    c.lr = 1e-2f;
    dnic_net_set_optimizer(n, 0, &c);
    uint64_t rng = 77;
    float x[64 * 20];
    int32_t y[64];
    fill_normal(x, 64 * 20, 1.0f, &rng);
    for (int i = 0; i < 64; i++) y[i] = (int32_t)(dnic_rng_next(&rng) % 10);
    for (int s = 0; s < 300; s++) dnic_net_train_step(n, x, y, NULL, 64, NULL);
    size_t correct = 0;
    double loss = 0;
    dnic_net_evaluate(n, x, y, NULL, 64, &loss, &correct);
    CHECK(correct >= 64 * 99 / 100, "overfit 64 random points: %zu/64 correct, loss %g", correct, loss);
    dnic_net_free(n);
}

/* XOR with a small tanh network, logistic output, plain SGD. */
static void test_xor(void) {
    const dnic_layer_desc layers[] = {{8, DNIC_ACT_TANH, 0}, {1, DNIC_ACT_IDENTITY, 0}};
    dnic_net_t *n = make_net(2, 2, layers, DNIC_LOSS_LOGISTIC, 4, DNIC_INIT_GLOROT_NORMAL, 3);
    if (!n) return;
    dnic_optim_config c = dnic_optim_default(DNIC_OPT_MOMENTUM);
    c.lr = 0.1f;
    dnic_net_set_optimizer(n, 0, &c);
    const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    const int32_t y[4] = {0, 1, 1, 0};
    for (int s = 0; s < 2000; s++) dnic_net_train_step(n, x, y, NULL, 4, NULL);
    size_t correct = 0;
    double loss = 0;
    dnic_net_evaluate(n, x, y, NULL, 4, &loss, &correct);
    CHECK(correct == 4 && loss < 0.05, "XOR: %zu/4 correct, loss %g", correct, loss);
    dnic_net_free(n);
}

/* Global-norm clipping scales every trainable gradient by one factor;
 * an update that produces NaN or infinity is reported with its tensor. */
static void test_clipping_and_faults(void) {
    const dnic_layer_desc layers[] = {{3, DNIC_ACT_RELU, 1}, {2, DNIC_ACT_IDENTITY, 0}};
    dnic_net_t *n = make_net(2, 2, layers, DNIC_LOSS_SOFTMAX_CE, 4, DNIC_INIT_GLOROT_NORMAL, 1);
    if (!n) return;
    size_t np;
    float *P = dnic_net_params(n, &np), *G = dnic_net_grads(n, &np);
    float *before = malloc(np * sizeof(float));
    dnic_optim_config c = dnic_optim_default(DNIC_OPT_SGD);
    c.lr = 1.0f;
    dnic_net_set_optimizer(n, 0, &c);
    CHECK(dnic_net_set_grad_clip(n, -1.0f) == DNIC_ERR_ARG && dnic_net_set_grad_clip(n, NAN) == DNIC_ERR_ARG,
          "bad clip values refused");
    CHECK(dnic_net_set_grad_clip(n, 0.5f) == DNIC_OK, "set clip");
    /* every trainable gradient 1: norm sqrt(#trainable) */
    double count = 0;
    for (size_t k = 0; k < np; k++) G[k] = 0;
    for (int i = 0; i < dnic_net_num_tensors(n); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(n, i, &t);
        if (!t.trainable) continue;
        for (size_t k = 0; k < t.size; k++) G[t.offset + k] = 1.0f;
        count += (double)t.size;
    }
    memcpy(before, P, np * sizeof(float));
    CHECK(dnic_net_update(n) == DNIC_OK, "clipped update");
    CHECK(fabs(dnic_net_last_grad_norm(n) - sqrt(count)) < 1e-4, "norm %g want %g", dnic_net_last_grad_norm(n), sqrt(count));
    double moved = 0;
    for (int i = 0; i < dnic_net_num_tensors(n); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(n, i, &t);
        if (!t.trainable) continue;
        for (size_t k = 0; k < t.size; k++) moved += pow(before[t.offset + k] - P[t.offset + k], 2);
    }
    CHECK(fabs(sqrt(moved) - 0.5) < 1e-5, "clipped step has norm lr * 0.5, got %g", sqrt(moved));
    int grad_bad = -1;
    CHECK(dnic_net_fault_tensor(n, &grad_bad) == -1, "no fault after a finite update");

    /* a NaN gradient in layer1.weight */
    dnic_net_set_grad_clip(n, 0.0f);
    for (size_t k = 0; k < np; k++) G[k] = 0;
    int w1 = -1;
    for (int i = 0; i < dnic_net_num_tensors(n); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(n, i, &t);
        if (strcmp(t.name, "layer1.weight") == 0) { w1 = i; G[t.offset + 1] = NAN; }
    }
    CHECK(dnic_net_update(n) == DNIC_ERR_NONFINITE, "NaN gradient must be reported");
    CHECK(dnic_net_fault_tensor(n, &grad_bad) == w1 && grad_bad == 1, "fault names layer1.weight, gradient flag %d", grad_bad);

    /* an overflowing step: finite gradient, absurd learning rate */
    memcpy(P, before, np * sizeof(float));
    for (size_t k = 0; k < np; k++) G[k] = 1e30f;
    c.lr = 1e30f;
    dnic_net_set_optimizer(n, 0, &c);
    CHECK(dnic_net_update(n) == DNIC_ERR_NONFINITE, "overflow must be reported");
    CHECK(dnic_net_fault_tensor(n, &grad_bad) == 0 && grad_bad == 0, "overflow in layer0.weight, not its gradient");

    /* Adam: a finite gradient whose square overflows float leaves the
     * parameters finite (a step of m/sqrt(inf) = 0) but v infinite, a state
     * no checkpoint can hold: a fault of the tensor, not of its gradient */
    memcpy(P, before, np * sizeof(float));
    for (size_t k = 0; k < np; k++) G[k] = 1e22f; /* v gains (1 - beta2) g^2 = 1e41 */
    c = dnic_optim_default(DNIC_OPT_ADAM);
    dnic_net_set_optimizer(n, 0, &c);
    CHECK(dnic_net_update(n) == DNIC_ERR_NONFINITE, "an overflowing Adam moment must be reported");
    CHECK(dnic_net_fault_tensor(n, &grad_bad) == 0 && grad_bad == 0, "Adam overflow in layer0.weight, not its gradient");
    int params_finite = 1;
    for (size_t k = 0; k < np; k++) params_finite &= isfinite(P[k]) != 0;
    CHECK(params_finite, "the parameters themselves stayed finite (only v overflowed)");
    free(before);
    dnic_net_free(n);
}

/* Activations of a dataset: the rows asked for, in their order, equal a
 * forward of each row alone (to GEMM rounding: other batch sizes block
 * the products differently); every row (rows NULL) equals the rows
 * listed in order, bit for bit; a row out of range writes nothing. */
static void test_dataset_activations(void) {
    const dnic_layer_desc layers[3] = {{6, DNIC_ACT_RELU, 1}, {5, DNIC_ACT_TANH, 0}, {3, DNIC_ACT_IDENTITY, 0}};
    dnic_net_t *n = make_net(4, 3, layers, DNIC_LOSS_SOFTMAX_CE, 8, DNIC_INIT_GLOROT_NORMAL, 41);
    if (!n) return;
    enum { COUNT = 8 * 2 + 5, ASK = 13 };
    static float X[COUNT * 4];
    uint64_t rng = 3;
    fill_normal(X, COUNT * 4, 1.0f, &rng);
    /* running statistics far from 0/1, so evaluation mode is not the identity */
    size_t np = 0;
    float *p = dnic_net_params(n, &np);
    for (int i = 0; i < dnic_net_num_tensors(n); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(n, i, &t);
        if (strstr(t.name, "running_mean")) for (size_t k = 0; k < t.size; k++) p[t.offset + k] = 0.3f * (float)k;
        if (strstr(t.name, "running_var")) for (size_t k = 0; k < t.size; k++) p[t.offset + k] = 2.0f + (float)k;
    }
    const size_t rows[ASK] = {20, 0, 7, 7, 19, 3, 8, 16, 1, 15, 9, 20, 2};
    for (int layer = 0; layer < 3; layer++) {
        int w = dnic_net_layer_width(n, layer);
        float got[ASK * 6], alone[6], all[COUNT * 6], listed[COUNT * 6];
        CHECK(dnic_net_activations(n, X, COUNT, layer, rows, ASK, got) == DNIC_OK, "activations of layer %d", layer);
        double worst = 0;
        for (int r = 0; r < ASK; r++) {
            dnic_net_forward(n, X + rows[r] * 4, 1, 0);
            memcpy(alone, dnic_net_activation(n, layer), (size_t)w * sizeof(float));
            for (int c = 0; c < w; c++) worst = fmax(worst, fabs((double)got[r * w + c] - alone[c]));
        }
        CHECK(worst < 1e-5, "layer %d: the rows asked for differ from each row forwarded alone by %g", layer, worst);
        size_t order[COUNT];
        for (size_t i = 0; i < COUNT; i++) order[i] = i;
        CHECK(dnic_net_activations(n, X, COUNT, layer, NULL, COUNT, all) == DNIC_OK &&
                  dnic_net_activations(n, X, COUNT, layer, order, COUNT, listed) == DNIC_OK &&
                  memcmp(all, listed, (size_t)COUNT * w * sizeof(float)) == 0,
              "layer %d: every row differs from the rows listed in order", layer);
    }
    float out[ASK * 6];
    for (int i = 0; i < ASK * 6; i++) out[i] = 42.0f;
    const size_t bad[2] = {3, COUNT};
    CHECK(dnic_net_activations(n, X, COUNT, 0, bad, 2, out) == DNIC_ERR_ARG && out[0] == 42.0f,
          "a row past the dataset's end must be refused before anything is written");
    CHECK(dnic_net_activations(n, X, COUNT, 3, rows, ASK, out) == DNIC_ERR_ARG, "layer out of range");
    CHECK(dnic_net_activations(n, X, COUNT, 0, NULL, ASK, out) == DNIC_ERR_SIZE, "every row, but n_rows != count");
    CHECK(dnic_net_activations(n, NULL, COUNT, 0, rows, ASK, out) == DNIC_ERR_NULL, "no dataset");
    dnic_net_free(n);
}

/* The OpenMP team really has more than one thread when asked (a build that
 * silently lost OpenMP fails here). */
static void test_openmp_team(void) {
#ifdef _OPENMP
    CHECK(dnic_has_openmp(), "test built with OpenMP but libdnic without");
    CHECK(dnic_set_num_threads(2) == DNIC_OK && dnic_get_num_threads() == 2,
          "2 threads requested, %d in use", dnic_get_num_threads());
    int team = 1;
#pragma omp parallel
    {
#pragma omp single
        team = omp_get_num_threads();
    }
    CHECK(team == 2, "an OpenMP team of 2 was asked for, %d threads ran", team);
#else
    CHECK(!dnic_has_openmp() && dnic_get_num_threads() == 1, "no-OpenMP build reports threads");
#endif
}

int main(void) {
    test_openmp_team();
    test_split_initialisation();
    HARNESS_FOR_EACH_ISA(level) {
        for (int threads = 1; threads <= 2; threads++) {
            dnic_set_num_threads(threads);
            test_whole_network_gradient();
            test_blocks_equal_whole();
            test_gradient_other_losses();
            test_backward_in_blocks();
            test_tensor_table_and_l2();
            test_evaluate_and_params();
            test_determinism();
            test_overfit_random_points();
            test_xor();
            test_clipping_and_faults();
            test_dataset_activations();
        }
    }
    return harness_finish("net");
}
