/* test_badcalls.c — bad calls get status codes, never crashes: NULL
 * pointers, zero / negative / absurd sizes, batches above max_batch,
 * impossible descriptions, calls out of order, NaN parameters, labels out
 * of range, float targets a loss does not take, step counters past
 * DNIC_MAX_STEP, a DNI's n_labels that disagree with its network. Run
 * under SANITIZE=1 this also proves nothing is read or written out of
 * bounds, and no counter overflows, on those paths.
 */
#include "blocks.h"

#include <stdint.h>
#include <string.h>

static const dnic_layer_desc GOOD[] = {{8, DNIC_ACT_RELU, 1}, {3, DNIC_ACT_IDENTITY, 0}};

static dnic_net_desc good_desc(void) {
    dnic_net_desc d;
    dnic_net_desc_defaults(&d);
    d.input_dim = 4;
    d.n_layers = 2;
    d.layers = GOOD;
    d.max_batch = 8;
    return d;
}

static void test_status_strings(void) {
    for (int s = 0; s <= DNIC_ERR_STATE; s++) {
        const char *msg = dnic_status_str((dnic_status)s);
        CHECK(msg && *msg && strcmp(msg, "unknown status") != 0, "status %d has no text", s);
    }
    CHECK(strcmp(dnic_status_str((dnic_status)999), "unknown status") == 0, "unknown status text");
    CHECK(strcmp(dnic_version(), DNIC_VERSION) == 0, "library %s, header %s", dnic_version(), DNIC_VERSION);
}

static void test_bad_descriptions(void) {
    dnic_net_t *n = (dnic_net_t *)&n; /* must be reset to NULL on error */
    dnic_net_desc d = good_desc();
    EXPECT(dnic_net_create(NULL, &d, 1), DNIC_ERR_NULL);
    EXPECT(dnic_net_create(&n, NULL, 1), DNIC_ERR_NULL);
    CHECK(n == NULL, "*out must be NULL after a failed create");

    d = good_desc(); d.n_layers = 0;      EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_SIZE);
    d = good_desc(); d.n_layers = -3;     EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_SIZE);
    d = good_desc(); d.layers = NULL;     EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_NULL);
    d = good_desc(); d.input_dim = 0;     EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_SIZE);
    d = good_desc(); d.max_batch = 0;     EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_SIZE);
    d = good_desc(); d.max_batch = -1;    EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_SIZE);
    d = good_desc(); d.loss = (dnic_loss)7; EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG);
    d = good_desc(); d.init = (dnic_init)-1; EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG);
    d = good_desc(); d.bn_eps = 0;        EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG);
    d = good_desc(); d.bn_momentum = 2;   EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG);
    d = good_desc(); d.bn_eps = NAN;      EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG);

    dnic_layer_desc L[2];
    memcpy(L, GOOD, sizeof L);
    d = good_desc(); d.layers = L;
    L[0].width = 0;                        EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_SIZE);
    L[0].width = -5;                       EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_SIZE);
    L[0].width = 8; L[0].act = (dnic_activation)9; EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG);
    L[0].act = DNIC_ACT_RELU; L[0].batchnorm = 2;  EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG);
    L[0].batchnorm = 1;
    L[1].act = DNIC_ACT_RELU;              EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG); /* output needs identity */
    L[1].act = DNIC_ACT_IDENTITY; L[1].batchnorm = 1; EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG);
    L[1].batchnorm = 0; L[1].width = 1;    EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG); /* softmax of 1 */

    /* absurd sizes are refused before any allocation is attempted */
    L[1].width = 3; L[0].width = 1 << 30;  EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_SIZE);
    L[0].width = 1 << 20; d.input_dim = 1 << 20; EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_SIZE);
    d = good_desc(); d.max_batch = 1 << 24; d.layers = L; L[0].width = 1 << 20; d.input_dim = 4;
    EXPECT(dnic_net_create(&n, &d, 1), DNIC_ERR_SIZE);
    CHECK(n == NULL, "*out must stay NULL");
}

static void test_bad_network_calls(void) {
    dnic_net_desc d = good_desc();
    dnic_net_t *n = NULL;
    EXPECT(dnic_net_create(&n, &d, 1), DNIC_OK);
    if (!n) return;
    float x[16 * 4] = {0}, *p = NULL;
    int32_t y[16] = {0};
    size_t np = 0;
    dnic_net_params(n, &np);

    /* NULLs */
    EXPECT(dnic_net_forward(NULL, x, 2, 1), DNIC_ERR_NULL);
    EXPECT(dnic_net_forward(n, NULL, 2, 1), DNIC_ERR_NULL);
    EXPECT(dnic_net_loss(NULL, y, NULL, 2, NULL), DNIC_ERR_NULL);
    EXPECT(dnic_net_train_step(NULL, x, y, NULL, 2, NULL), DNIC_ERR_NULL);
    EXPECT(dnic_net_train_step(n, x, NULL, NULL, 2, NULL), DNIC_ERR_NULL);
    EXPECT(dnic_net_backward(NULL, 2), DNIC_ERR_NULL);
    EXPECT(dnic_net_update(NULL), DNIC_ERR_NULL);
    EXPECT(dnic_net_evaluate(NULL, x, y, NULL, 2, NULL, NULL), DNIC_ERR_NULL);
    EXPECT(dnic_net_evaluate(n, x, NULL, NULL, 2, NULL, NULL), DNIC_ERR_NULL);
    EXPECT(dnic_net_get_params(n, NULL, np), DNIC_ERR_NULL);
    EXPECT(dnic_net_set_params(NULL, x, np), DNIC_ERR_NULL);
    EXPECT(dnic_net_set_optimizer(n, 0, NULL), DNIC_ERR_NULL);
    EXPECT(dnic_net_tensor(n, 0, NULL), DNIC_ERR_NULL);
    CHECK(dnic_net_params(NULL, &np) == NULL && np == 0, "params of NULL net");
    CHECK(dnic_net_num_layers(NULL) == 0 && dnic_net_grad_at(NULL, 0) == NULL, "queries on NULL");
    dnic_net_free(NULL); /* must be a no-op */

    /* sizes and batches */
    EXPECT(dnic_net_forward(n, x, 0, 1), DNIC_ERR_SIZE);
    EXPECT(dnic_net_forward(n, x, -4, 1), DNIC_ERR_SIZE);
    EXPECT(dnic_net_forward(n, x, 9, 1), DNIC_ERR_BATCH_TOO_LARGE);
    EXPECT(dnic_net_train_step(n, x, y, NULL, 16, NULL), DNIC_ERR_BATCH_TOO_LARGE);
    EXPECT(dnic_net_evaluate(n, x, y, NULL, 0, NULL, NULL), DNIC_ERR_SIZE);
    float big[4];
    EXPECT(dnic_net_get_params(n, big, np - 1), DNIC_ERR_SIZE);
    EXPECT(dnic_net_set_params(n, big, np + 1), DNIC_ERR_SIZE);
    CHECK(dnic_net_grad_at(n, 2) == NULL && dnic_net_grad_at(n, -1) == NULL, "grad_at out of range");
    EXPECT(dnic_net_tensor(n, 99, (dnic_tensor_info *)big), DNIC_ERR_ARG);

    /* order: backward before any forward; batch differs from the forward's;
     * backward through eval-mode batch norm */
    EXPECT(dnic_net_backward(n, 2), DNIC_ERR_STATE);
    EXPECT(dnic_net_loss(n, y, NULL, 2, NULL), DNIC_ERR_STATE);
    CHECK(dnic_net_output(n) == NULL, "output before any forward");
    EXPECT(dnic_net_forward(n, x, 4, 1), DNIC_OK);
    EXPECT(dnic_net_backward(n, 3), DNIC_ERR_STATE);
    EXPECT(dnic_net_backward_range(n, 0, 1, 4), DNIC_ERR_ARG);
    EXPECT(dnic_net_backward_range(n, 2, 0, 4), DNIC_ERR_ARG);
    EXPECT(dnic_net_backward_range(n, 1, -1, 4), DNIC_ERR_ARG);
    EXPECT(dnic_net_forward(n, x, 4, 0), DNIC_OK);
    EXPECT(dnic_net_backward(n, 4), DNIC_ERR_STATE);

    /* labels out of range, NaN loss, NaN parameters */
    y[1] = 3;
    EXPECT(dnic_net_train_step(n, x, y, NULL, 4, NULL), DNIC_ERR_LABEL);
    y[1] = -1;
    EXPECT(dnic_net_train_step(n, x, y, NULL, 4, NULL), DNIC_ERR_LABEL);
    y[1] = 0;
    float nanx[16 * 4];
    for (int i = 0; i < 64; i++) nanx[i] = NAN;
    size_t count = 0;
    float *P = dnic_net_params(n, &count);
    float *before = malloc(count * sizeof(float));
    memcpy(before, P, count * sizeof(float));
    EXPECT(dnic_net_train_step(n, nanx, y, NULL, 4, NULL), DNIC_ERR_NONFINITE);
    /* the running statistics saw the NaN batch, but nothing was trained on it */
    int weights_kept = 1;
    for (int i = 0; i < dnic_net_num_tensors(n); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(n, i, &t);
        if (t.trainable) weights_kept &= memcmp(before + t.offset, P + t.offset, t.size * sizeof(float)) == 0;
    }
    CHECK(weights_kept, "a non-finite loss must not update the parameters");
    memcpy(P, before, count * sizeof(float));
    before[0] = NAN;
    EXPECT(dnic_net_set_params(n, before, count), DNIC_ERR_NONFINITE);
    CHECK(!isnan(P[0]), "refused parameters must not be copied in");
    free(before);

    /* optimizer settings */
    dnic_optim_config c = dnic_optim_default(DNIC_OPT_ADAM);
    EXPECT(dnic_net_set_optimizer(n, -1, &c), DNIC_ERR_ARG);
    EXPECT(dnic_net_set_optimizer(n, 8, &c), DNIC_ERR_ARG);
    c.lr = 0;          EXPECT(dnic_net_set_optimizer(n, 0, &c), DNIC_ERR_ARG);
    c.lr = -1e-3f;     EXPECT(dnic_net_set_optimizer(n, 0, &c), DNIC_ERR_ARG);
    c.lr = NAN;        EXPECT(dnic_net_set_optimizer(n, 0, &c), DNIC_ERR_ARG);
    c.lr = 1e-3f; c.beta1 = 1; EXPECT(dnic_net_set_optimizer(n, 0, &c), DNIC_ERR_ARG);
    c.beta1 = 0.9f; c.l2 = -1; EXPECT(dnic_net_set_optimizer(n, 0, &c), DNIC_ERR_ARG);
    c.l2 = 0; c.kind = (dnic_optimizer)5; EXPECT(dnic_net_set_optimizer(n, 0, &c), DNIC_ERR_ARG);
    EXPECT(dnic_optim_validate(NULL), DNIC_ERR_NULL);
    EXPECT(dnic_net_set_optim_step(n, -1), DNIC_ERR_ARG);
    (void)p;
    dnic_net_free(n);
}

static void test_bad_kernel_calls(void) {
    float buf[16] = {0};
    int32_t idx[4] = {0, 1, 2, 3}, lab[4] = {0, 1, 0, 1};
    uint64_t rng = 1;
    EXPECT(dnic_set_num_threads(0), DNIC_ERR_SIZE);
    EXPECT(dnic_set_num_threads(-2), DNIC_ERR_SIZE);
    EXPECT(dnic_blas_get_info(NULL), DNIC_ERR_NULL);
    EXPECT(dnic_shuffle(NULL, 4, &rng), DNIC_ERR_NULL);
    EXPECT(dnic_shuffle(idx, 4, NULL), DNIC_ERR_NULL);
    EXPECT(dnic_shuffle(NULL, 0, &rng), DNIC_OK);
    EXPECT(dnic_init_weights(NULL, 2, 2, DNIC_INIT_HE_NORMAL, &rng), DNIC_ERR_NULL);
    EXPECT(dnic_init_weights(buf, 0, 2, DNIC_INIT_HE_NORMAL, &rng), DNIC_ERR_SIZE);
    EXPECT(dnic_init_weights(buf, 2, -1, DNIC_INIT_HE_NORMAL, &rng), DNIC_ERR_SIZE);
    EXPECT(dnic_init_weights(buf, 2, 2, (dnic_init)42, &rng), DNIC_ERR_ARG);
    EXPECT(dnic_gather_rows(NULL, buf, idx, 2, 2, 4), DNIC_ERR_NULL);
    EXPECT(dnic_gather_rows(buf, buf + 8, idx, 0, 2, 4), DNIC_ERR_SIZE);
    EXPECT(dnic_gather_rows(buf, buf + 8, idx, 2, 0, 4), DNIC_ERR_SIZE);
    idx[1] = 4;
    EXPECT(dnic_gather_rows(buf, buf + 8, idx, 2, 2, 4), DNIC_ERR_ARG);
    EXPECT(dnic_gather_labels(lab, lab, idx, 2, 4), DNIC_ERR_ARG);
    idx[1] = -1;
    EXPECT(dnic_gather_rows(buf, buf + 8, idx, 2, 2, 4), DNIC_ERR_ARG);
    EXPECT(dnic_gather_labels(NULL, lab, idx, 2, 4), DNIC_ERR_NULL);
    EXPECT(dnic_loss_forward_backward(DNIC_LOSS_MSE, NULL, NULL, NULL, lab, NULL, 2, 2), DNIC_ERR_NULL);
    EXPECT(dnic_loss_forward_backward(DNIC_LOSS_MSE, NULL, NULL, buf, NULL, NULL, 2, 2), DNIC_ERR_NULL);
    EXPECT(dnic_loss_forward_backward(DNIC_LOSS_MSE, NULL, NULL, buf, lab, NULL, 0, 2), DNIC_ERR_SIZE);
    EXPECT(dnic_loss_forward_backward(DNIC_LOSS_MSE, NULL, NULL, buf, lab, NULL, 2, -2), DNIC_ERR_SIZE);
    EXPECT(dnic_loss_forward_backward((dnic_loss)9, NULL, NULL, buf, lab, NULL, 2, 2), DNIC_ERR_ARG);
    EXPECT(dnic_loss_forward_backward(DNIC_LOSS_SOFTMAX_CE, NULL, NULL, buf, lab, NULL, 2, 1), DNIC_ERR_ARG);
    lab[0] = 2;
    EXPECT(dnic_loss_forward_backward(DNIC_LOSS_LOGISTIC, NULL, NULL, buf, lab, NULL, 2, 1), DNIC_ERR_LABEL);
    buf[0] = NAN;
    lab[0] = 0;
    EXPECT(dnic_loss_forward_backward(DNIC_LOSS_MSE, NULL, NULL, buf, lab, NULL, 2, 2), DNIC_ERR_NONFINITE);
    CHECK(dnic_count_correct(DNIC_LOSS_MSE, NULL, lab, 2, 2) == 0, "count_correct(NULL)");
}

/* A copy of a network's whole parameter block (batch-norm running
 * statistics included), to prove a refused call changed nothing. */
static float *params_copy(dnic_net_t *n) {
    size_t count = 0;
    const float *P = dnic_net_params(n, &count);
    float *c = malloc(count * sizeof *c);
    if (c) memcpy(c, P, count * sizeof *c);
    return c;
}
static int params_equal(dnic_net_t *n, const float *copy) {
    size_t count = 0;
    const float *P = dnic_net_params(n, &count);
    return copy && memcmp(P, copy, count * sizeof *copy) == 0;
}

/* Every step counter: a setter refuses what cannot be continued
 * (outside [0, DNIC_MAX_STEP]); an update at DNIC_MAX_STEP refuses
 * instead of overflowing, and changes nothing. */
static void test_step_counters(void) {
    static data_t data;
    make_data(&data, 5);
    dnic_net_t *n = make_whole(2, 6, 1, 3); /* Adam, batch norm */
    if (!n) return;

    /* the network */
    EXPECT(dnic_net_set_optim_step(n, DNIC_MAX_STEP + 1), DNIC_ERR_ARG);
    EXPECT(dnic_net_set_optim_step(n, INT64_MAX), DNIC_ERR_ARG);
    CHECK(dnic_net_optim_step(n) == 0, "a refused step must leave the counter: %lld", (long long)dnic_net_optim_step(n));
    EXPECT(dnic_net_update(n), DNIC_OK); /* INT64_MAX + 1 before (UBSan) */
    EXPECT(dnic_net_set_optim_step(n, DNIC_MAX_STEP - 1), DNIC_OK);
    EXPECT(dnic_net_train_step(n, data.x[0], data.y[0], NULL, B, NULL), DNIC_OK);
    CHECK(dnic_net_optim_step(n) == DNIC_MAX_STEP, "step %lld after the last update, want 2^53",
          (long long)dnic_net_optim_step(n));
    float *before = params_copy(n);
    EXPECT(dnic_net_train_step(n, data.x[1], data.y[1], NULL, B, NULL), DNIC_ERR_SIZE);
    EXPECT(dnic_net_update(n), DNIC_ERR_SIZE);
    CHECK(params_equal(n, before), "a refused step changed the parameters or batch-norm statistics");
    CHECK(dnic_net_optim_step(n) == DNIC_MAX_STEP, "a refused update moved the counter to %lld",
          (long long)dnic_net_optim_step(n));
    free(before);
    EXPECT(dnic_net_set_optim_step(n, 0), DNIC_OK);

    /* a stand-alone interface */
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, 0);
    dnic_iface_t *it = NULL;
    EXPECT(dnic_iface_create(&it, &d, 4, 4, 2, 8, 0.5f, 1), DNIC_OK);
    if (it) {
        EXPECT(dnic_iface_set_step(it, DNIC_MAX_STEP + 1), DNIC_ERR_ARG);
        EXPECT(dnic_iface_set_step(it, INT64_MAX), DNIC_ERR_ARG);
        EXPECT(dnic_iface_update(it), DNIC_OK); /* INT64_MAX + 1 before */
        EXPECT(dnic_iface_set_step(it, DNIC_MAX_STEP), DNIC_OK);
        EXPECT(dnic_iface_update(it), DNIC_ERR_SIZE);
        CHECK(dnic_iface_step(it) == DNIC_MAX_STEP, "a refused interface update moved its counter");
        dnic_iface_free(it);
    }

    /* the locked DNI: an interface's counter at the end refuses the step
     * before anything moves */
    int at[1] = {0};
    dnic_dni_t *dni = make_dni(n, at, 1, DNIC_IFACE_LINEAR);
    if (dni) {
        EXPECT(dnic_iface_set_step(dnic_dni_iface(dni, 0), DNIC_MAX_STEP), DNIC_OK);
        before = params_copy(n);
        EXPECT(dnic_dni_train_step(dni, data.x[0], data.y[0], NULL, B, NULL), DNIC_ERR_SIZE);
        CHECK(params_equal(n, before), "a refused DNI step changed the network");
        free(before);
        EXPECT(dnic_iface_set_step(dnic_dni_iface(dni, 0), 0), DNIC_OK);
        EXPECT(dnic_net_set_optim_step(n, DNIC_MAX_STEP), DNIC_OK);
        EXPECT(dnic_dni_train_step(dni, data.x[0], data.y[0], NULL, B, NULL), DNIC_ERR_SIZE);
        EXPECT(dnic_net_set_optim_step(n, 0), DNIC_OK);
        EXPECT(dnic_dni_train_step(dni, data.x[0], data.y[0], NULL, B, NULL), DNIC_OK);

        /* the pipeline's block counters and update decoupling's batch
         * numbers (first_batch + batch was a signed overflow) */
        dnic_pipe_t *p = NULL;
        EXPECT(dnic_pipe_create(&p, dni), DNIC_OK);
        if (p) {
            EXPECT(dnic_pipe_set_block_step(p, 0, INT64_MAX), DNIC_ERR_ARG);
            EXPECT(dnic_pipe_set_block_step(p, 1, DNIC_MAX_STEP + 1), DNIC_ERR_ARG);
            EXPECT(dnic_pipe_set_update_prob(p, 0.5f, 7, DNIC_MAX_STEP + 1), DNIC_ERR_ARG);
            EXPECT(dnic_pipe_set_update_prob(p, 0.5f, 7, INT64_MAX), DNIC_ERR_ARG);
            EXPECT(dnic_pipe_tick(p, data.x[0], data.y[0], B, NULL, NULL), DNIC_OK); /* INT64_MAX + 1 before */
            EXPECT(dnic_pipe_set_update_prob(p, 0.5f, 7, DNIC_MAX_STEP), DNIC_OK);
            EXPECT(dnic_pipe_tick(p, data.x[0], data.y[0], B, NULL, NULL), DNIC_OK);
            EXPECT(dnic_pipe_set_update_prob(p, 1.0f, 7, 0), DNIC_OK);
            EXPECT(dnic_pipe_set_block_step(p, 0, DNIC_MAX_STEP), DNIC_OK);
            /* block 0 updates on the batch fed now: refused, as a fault */
            EXPECT(dnic_pipe_tick(p, data.x[1], data.y[1], B, NULL, NULL), DNIC_ERR_SIZE);
            CHECK(dnic_pipe_block_step(p, 0) == DNIC_MAX_STEP, "a refused block update moved its counter");
            dnic_pipe_free(p);
        }
        dnic_dni_free(dni);
    }
    dnic_net_free(n);
}

/* dnic_dni_create's n_labels must agree with the network's outputs: K
 * for K >= 2 outputs; 2 (labels 0/1) or 1 (one float target) for one. */
static void test_dni_label_width(void) {
    int at[1] = {0};
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, at[0]);
    dnic_net_t *n = make_whole(2, 6, 0, 3); /* K = 4 outputs */
    dnic_dni_t *dni = (dnic_dni_t *)&d;     /* must be reset to NULL on error */
    if (!n) return;
    EXPECT(dnic_dni_create(&dni, n, &d, 1, K - 1, 1), DNIC_ERR_SIZE);
    CHECK(dni == NULL, "*out must be NULL after a refused dnic_dni_create");
    EXPECT(dnic_dni_create(&dni, n, &d, 1, K + 1, 1), DNIC_ERR_SIZE);
    EXPECT(dnic_dni_create(&dni, n, &d, 1, 2, 1), DNIC_ERR_SIZE);
    EXPECT(dnic_dni_create(&dni, n, &d, 1, 0, 1), DNIC_ERR_SIZE);
    EXPECT(dnic_dni_create(&dni, n, &d, 1, -1, 1), DNIC_ERR_SIZE);
    EXPECT(dnic_dni_create(&dni, n, NULL, 0, 2, 1), DNIC_ERR_SIZE); /* no interface: the same rule */
    EXPECT(dnic_dni_create(&dni, n, &d, 1, K, 1), DNIC_OK);
    dnic_dni_free(dni);
    dnic_net_free(n);

    /* one output (logistic): labels 0/1 or one float target */
    dnic_layer_desc one[2] = {{6, DNIC_ACT_RELU, 0}, {1, DNIC_ACT_IDENTITY, 0}};
    dnic_net_desc nd = good_desc();
    nd.layers = one;
    nd.loss = DNIC_LOSS_LOGISTIC;
    n = NULL;
    EXPECT(dnic_net_create(&n, &nd, 1), DNIC_OK);
    if (!n) return;
    for (int w = 0; w <= 3; w++) {
        dnic_status want = w == 1 || w == 2 ? DNIC_OK : DNIC_ERR_SIZE;
        dni = NULL;
        EXPECT(dnic_dni_create(&dni, n, &d, 1, w, 1), want);
        CHECK((dni != NULL) == (want == DNIC_OK), "n_labels %d on one output: handle %p", w, (void *)dni);
        dnic_dni_free(dni);
    }
    dnic_net_free(n);
}

/* Float targets a loss is not a loss for: softmax CE takes weights >= 0
 * (probability rows), logistic probabilities in [0, 1], MSE any finite
 * value. Refused before anything is written. */
static void test_loss_targets(void) {
    enum { R = 2, C = 3 };
    float p[R * C] = {4, 0, -1, 0.5f, 0.25f, 0}, dp[R * C], loss;
    struct { dnic_loss kind; float t[R * C]; dnic_status want; } cases[] = {
        /* a regression target: a negative loss before */
        {DNIC_LOSS_SOFTMAX_CE, {2, -1, 0, 0, 1, 0}, DNIC_ERR_LABEL},
        {DNIC_LOSS_SOFTMAX_CE, {0, 0, 1, -0.0001f, 0.5f, 0.5f}, DNIC_ERR_LABEL},
        {DNIC_LOSS_SOFTMAX_CE, {1, 0, 0, NAN, 0, 1}, DNIC_ERR_LABEL},
        {DNIC_LOSS_SOFTMAX_CE, {1, 0, 0, INFINITY, 0, 0}, DNIC_ERR_LABEL},
        {DNIC_LOSS_SOFTMAX_CE, {0.2f, 0.3f, 0.5f, 0, 1, 0}, DNIC_OK}, /* soft and one-hot labels */
        {DNIC_LOSS_SOFTMAX_CE, {2, 0, 0, 0, 0, 0}, DNIC_OK},          /* weighted rows, an empty row */
        {DNIC_LOSS_LOGISTIC, {0, 1, 0.5f, 1, 1.5f, 0}, DNIC_ERR_LABEL},
        {DNIC_LOSS_LOGISTIC, {0, 1, 0.5f, -0.25f, 1, 0}, DNIC_ERR_LABEL},
        {DNIC_LOSS_LOGISTIC, {0, 1, 0.5f, NAN, 1, 0}, DNIC_ERR_LABEL},
        {DNIC_LOSS_LOGISTIC, {0, 1, 0.5f, 0.75f, 1, 0}, DNIC_OK},
        {DNIC_LOSS_MSE, {-7, 300, 0.5f, 1e6f, -1e6f, 0}, DNIC_OK},
        {DNIC_LOSS_MSE, {0, 0, 0, NAN, 0, 0}, DNIC_ERR_NONFINITE},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int ref = 0; ref < 2; ref++) {
            dnic_status (*f)(dnic_loss, float *, float *, const float *, const int32_t *, const float *, int, int) =
                ref ? dnic_loss_forward_backward_ref : dnic_loss_forward_backward;
            for (int i = 0; i < R * C; i++) dp[i] = 42.0f;
            loss = 42.0f;
            dnic_status got = f(cases[c].kind, &loss, dp, p, NULL, cases[c].t, R, C);
            CHECK(got == cases[c].want, "case %zu%s: %s, want %s (loss %g)", c, ref ? " (ref)" : "",
                  dnic_status_str(got), dnic_status_str(cases[c].want), (double)loss);
            if (got == DNIC_OK) CHECK(loss >= 0.0f, "case %zu%s: loss %g below 0", c, ref ? " (ref)" : "", (double)loss);
            if (cases[c].want == DNIC_ERR_LABEL) {
                int untouched = loss == 42.0f;
                for (int i = 0; i < R * C; i++) untouched &= dp[i] == 42.0f;
                CHECK(untouched, "case %zu%s: a refused target wrote the loss or gradient", c, ref ? " (ref)" : "");
            }
        }

    /* through a network: nothing trained on a refused target */
    dnic_net_t *n = make_whole(1, 6, 1, 3);
    if (!n) return;
    float t[B * K] = {0}, *before = params_copy(n); /* empty rows (allowed), but for t[0] */
    static data_t data;
    make_data(&data, 9);
    t[0] = -1; /* softmax CE (the default loss) */
    EXPECT(dnic_net_train_step(n, data.x[0], NULL, t, B, NULL), DNIC_ERR_LABEL);
    size_t count;
    const float *P = dnic_net_params(n, &count);
    int trained = 0;
    for (int i = 0; i < dnic_net_num_tensors(n); i++) {
        dnic_tensor_info ti;
        dnic_net_tensor(n, i, &ti);
        if (ti.trainable) trained |= memcmp(before + ti.offset, P + ti.offset, ti.size * sizeof(float)) != 0;
    }
    CHECK(!trained, "a refused target trained the network");
    free(before);
    dnic_net_free(n);
}

int main(void) {
    test_status_strings();
    test_bad_descriptions();
    test_bad_network_calls();
    test_bad_kernel_calls();
    test_step_counters();
    test_dni_label_width();
    test_loss_targets();
    return harness_finish("badcalls");
}
