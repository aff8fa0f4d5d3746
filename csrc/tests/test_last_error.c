/* test_last_error.c — dnic_last_error(): after a failing call of every
 * family (network, interface, DNI and pipeline creation, optimizer
 * settings, parameter blocks, batch sizes, labels, call order, in-flight
 * state loads) the detail names the function, the argument and its value;
 * a successful call leaves it as it was; each thread reads its own.
 * (Every other suite's EXPECT checks that a failing call set a detail of
 * its own: harness.h.)
 */
#define _POSIX_C_SOURCE 200809L
#include "blocks.h"

#include <pthread.h>
#include <string.h>

/* The call failed with `want`, and the detail holds every one of the
 * NULL-terminated words. */
static void expect_detail(dnic_status got, dnic_status want, const char *call, ...) {
    const char *detail = dnic_last_error();
    CHECK(got == want, "%s -> %s, want %s", call, dnic_status_str(got), dnic_status_str(want));
    CHECK(detail && *detail, "%s: empty detail", call);
    CHECK(strchr(detail, '\n') == NULL, "%s: the detail is more than one line: %s", call, detail);
    va_list ap;
    va_start(ap, call);
    for (const char *w; (w = va_arg(ap, const char *));)
        CHECK(strstr(detail, w) != NULL, "%s: detail \"%s\" lacks \"%s\"", call, detail, w);
    va_end(ap);
}
#define DETAIL(call, want, ...) expect_detail((call), (want), #call, __VA_ARGS__, (const char *)NULL)

static const dnic_layer_desc LAYERS[] = {{8, DNIC_ACT_RELU, 1}, {6, DNIC_ACT_TANH, 0}, {5, DNIC_ACT_RELU, 0},
                                         {K, DNIC_ACT_IDENTITY, 0}};

static dnic_net_desc desc4(dnic_layer_desc *copy) {
    memcpy(copy, LAYERS, sizeof LAYERS);
    dnic_net_desc d;
    dnic_net_desc_defaults(&d);
    d.input_dim = IN;
    d.n_layers = 4;
    d.layers = copy;
    d.max_batch = B;
    return d;
}

static void test_status_strings(void) {
    for (int s = 0; s <= DNIC_ERR_ABI; s++)
        CHECK(strcmp(dnic_status_str((dnic_status)s), "unknown status") != 0, "status %d has no text", s);
}

static void test_net_create(void) {
    dnic_layer_desc L[4];
    dnic_net_desc d = desc4(L);
    dnic_net_t *n = NULL;
    L[3].act = (dnic_activation)7;
    DETAIL(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG, "dnic_net_create", "layers[3].act = 7", "0..3");
    L[3].act = DNIC_ACT_RELU;
    DETAIL(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG, "dnic_net_create", "layers[3].act = 1", "output layer");
    d = desc4(L);
    L[1].width = 0;
    DETAIL(dnic_net_create(&n, &d, 1), DNIC_ERR_SIZE, "dnic_net_create", "layers[1].width = 0");
    d = desc4(L);
    d.max_batch = -2;
    DETAIL(dnic_net_create(&n, &d, 1), DNIC_ERR_SIZE, "dnic_net_create", "max_batch = -2");
    d = desc4(L);
    d.bn_momentum = 3;
    DETAIL(dnic_net_create(&n, &d, 1), DNIC_ERR_ARG, "dnic_net_create", "bn_momentum = 3", "[0, 1]");
    DETAIL(dnic_net_create(&n, NULL, 1), DNIC_ERR_NULL, "dnic_net_create", "desc");
    CHECK(n == NULL, "a failed create left *out set");
}

static void test_net_calls(void) {
    dnic_layer_desc L[4];
    dnic_net_desc d = desc4(L);
    dnic_net_t *n = NULL;
    EXPECT(dnic_net_create(&n, &d, 1), DNIC_OK);
    if (!n) return;
    float x[(B + 1) * IN];
    int32_t y[B + 1];
    uint64_t rng = 5;
    fill_normal(x, sizeof x / sizeof x[0], 1.0f, &rng);
    for (int r = 0; r <= B; r++) y[r] = r % K;

    DETAIL(dnic_net_forward(n, x, B + 1, 1), DNIC_ERR_BATCH_TOO_LARGE, "dnic_net_forward", "B = 9", "max_batch 8");
    DETAIL(dnic_net_forward(n, x, 0, 1), DNIC_ERR_SIZE, "dnic_net_forward", "B = 0");
    DETAIL(dnic_net_backward(n, B), DNIC_ERR_STATE, "dnic_net_backward_range", "forward first");
    y[3] = 11;
    DETAIL(dnic_net_train_step(n, x, y, NULL, B, NULL), DNIC_ERR_LABEL, "labels[3] = 11", "0..3");
    y[3] = 3;
    DETAIL(dnic_net_train_step(n, x, NULL, NULL, B, NULL), DNIC_ERR_NULL, "dnic_net_train_step", "labels");

    size_t np = 0;
    dnic_net_params(n, &np);
    float *p = falloc(np);
    DETAIL(dnic_net_set_params(n, p, np - 1), DNIC_ERR_SIZE, "dnic_net_set_params", MSG("n = %zu", np - 1));
    dnic_net_get_params(n, p, np);
    p[2] = NAN;
    DETAIL(dnic_net_set_params(n, p, np), DNIC_ERR_NONFINITE, "dnic_net_set_params", "src[2]");
    DETAIL(dnic_net_get_params(n, p, 3), DNIC_ERR_SIZE, "dnic_net_get_params", "n = 3");
    free(p);

    dnic_optim_config c = dnic_optim_default(DNIC_OPT_ADAM);
    c.beta2 = 1.5f;
    DETAIL(dnic_net_set_optimizer(n, 0, &c), DNIC_ERR_ARG, "beta2 = 1.5", "[0, 1)");
    c = dnic_optim_default(DNIC_OPT_SGD);
    c.lr = -1;
    DETAIL(dnic_net_set_optimizer(n, 0, &c), DNIC_ERR_ARG, "lr = -1");
    DETAIL(dnic_net_set_optimizer(n, 12, &c), DNIC_ERR_ARG, "dnic_net_set_optimizer", "group = 12");
    DETAIL(dnic_net_set_grad_clip(n, -1), DNIC_ERR_ARG, "dnic_net_set_grad_clip", "max_norm = -1");
    DETAIL(dnic_net_set_optim_step(n, -4), DNIC_ERR_ARG, "dnic_net_set_optim_step", "t = -4");
    float out[B * 6];
    DETAIL(dnic_net_activations(n, x, B, 4, NULL, B, out), DNIC_ERR_ARG, "dnic_net_activations", "layer = 4", "0..3");

    /* a successful call leaves the detail as it was (errno-style) */
    char before[DNIC_LAST_ERROR_MAX];
    snprintf(before, sizeof before, "%s", dnic_last_error());
    CHECK(dnic_net_forward(n, x, B, 1) == DNIC_OK, "forward");
    CHECK(strcmp(before, dnic_last_error()) == 0, "a successful call changed the detail to \"%s\"", dnic_last_error());
    dnic_net_free(n);
}

static void test_iface_create(void) {
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, 0);
    dnic_iface_t *it = NULL;
    d.kind = (dnic_iface_kind)9;
    DETAIL(dnic_iface_create(&it, &d, 6, 6, K, B, 0.1f, 1), DNIC_ERR_ARG, "dnic_iface_create", "kind = 9");
    dnic_iface_desc_defaults(&d, 0);
    DETAIL(dnic_iface_create(&it, &d, 6, 5, K, B, 0.1f, 1), DNIC_ERR_ARG, "dnic_iface_create", "dout = 5", "dh = 6");
    EXPECT(dnic_iface_create(&it, &d, 6, 6, K, B, 0.1f, 1), DNIC_OK);
    if (!it) return;
    float h[B * 6] = {0};
    int32_t y[B] = {0, 1, 2, 3, 0, 1, 2, 9};
    DETAIL(dnic_iface_forward(it, h, y, NULL, B), DNIC_ERR_LABEL, "dnic_iface_forward", "labels[7] = 9");
    DETAIL(dnic_iface_backward(it, B), DNIC_ERR_STATE, "dnic_iface_backward", "loss_value");
    DETAIL(dnic_iface_set_target(it, h, B + 3), DNIC_ERR_BATCH_TOO_LARGE, "dnic_iface_set_target", "B = 11");
    dnic_iface_free(it);
}

static void test_dni_and_pipeline(void) {
    dnic_layer_desc L[4];
    dnic_net_desc d = desc4(L);
    dnic_net_t *n = NULL;
    EXPECT(dnic_net_create(&n, &d, 1), DNIC_OK);
    if (!n) return;
    dnic_iface_desc ds[2];
    dnic_iface_desc_defaults(&ds[0], 5);
    dnic_dni_t *dni = NULL;
    DETAIL(dnic_dni_create(&dni, n, ds, 1, K, 1), DNIC_ERR_ARG, "dnic_dni_create", "ifaces[0].layer = 5",
           "4 layers", "0..3");
    dnic_iface_desc_defaults(&ds[0], 1);
    dnic_iface_desc_defaults(&ds[1], 1);
    DETAIL(dnic_dni_create(&dni, n, ds, 2, K, 1), DNIC_ERR_ARG, "dnic_dni_create", "both on layer 1");
    DETAIL(dnic_dni_create(&dni, n, ds, 1, K + 1, 1), DNIC_ERR_SIZE, "dnic_dni_create", "n_labels = 5");
    ds[0].alpha = -2;
    DETAIL(dnic_dni_create(&dni, n, ds, 1, K, 1), DNIC_ERR_ARG, "dnic_dni_create", "ifaces[0]", "alpha = -2");
    dnic_iface_desc_defaults(&ds[0], 0);
    dnic_iface_desc_defaults(&ds[1], 2);
    EXPECT(dnic_dni_create(&dni, n, ds, 2, K, 1), DNIC_OK);
    if (!dni) { dnic_net_free(n); return; }

    dnic_pipe_t *p = NULL;
    dnic_dni_set_track_alignment(dni, 1);
    DETAIL(dnic_pipe_create(&p, dni), DNIC_ERR_ARG, "dnic_pipe_create", "alignment");
    dnic_dni_set_track_alignment(dni, 0);
    DETAIL(dnic_pipe_create_async(&p, dni, 0), DNIC_ERR_ARG, "dnic_pipe_create_async", "queue = 0");
    EXPECT(dnic_pipe_create(&p, dni), DNIC_OK);
    if (p) {
        float x[B * IN] = {0};
        int32_t y[B] = {0};
        DETAIL(dnic_dni_train_step(dni, x, y, NULL, B, NULL), DNIC_ERR_STATE, "dnic_dni_train_step", "pipeline");
        DETAIL(dnic_pipe_tick(p, x, y, B + 1, NULL, NULL), DNIC_ERR_BATCH_TOO_LARGE, "dnic_pipe_tick", "B = 9");
        DETAIL(dnic_pipe_set_block_step(p, 7, 0), DNIC_ERR_ARG, "dnic_pipe_set_block_step", "s = 7", "0..2");
        DETAIL(dnic_pipe_set_update_prob(p, 2.0f, 1, 0), DNIC_ERR_ARG, "dnic_pipe_set_update_prob", "prob = 2");
        int64_t junk[4] = {-1, -1, -1, -1};
        DETAIL(dnic_pipe_import_inflight(p, NULL, 0, junk, 4), DNIC_ERR_ARG, "dnic_pipe_import_inflight");
        /* a label out of range reaches a block's loss or interface, maybe on
         * another thread: the tick still says which block and why */
        y[2] = 40;
        dnic_status st = DNIC_OK;
        for (int t = 0; t < 4 && st == DNIC_OK; t++) st = dnic_pipe_tick(p, x, y, B, NULL, NULL);
        DETAIL(st, DNIC_ERR_LABEL, "dnic_pipe_tick: block", "labels[2] = 40");
        dnic_pipe_free(p);
    }
    CHECK(dnic_dni_iface_at_layer(dni, 3) == NULL, "an interface on layer 3");
    CHECK(strstr(dnic_last_error(), "dnic_dni_iface_at_layer: no interface on layer 3") != NULL, "detail: %s",
          dnic_last_error());
    dnic_dni_free(dni);
    dnic_net_free(n);
}

/* Two threads fail differently, meet at a barrier, then each reads its
 * own detail: the other's failure did not overwrite it. */
static pthread_barrier_t barrier;
typedef struct {
    int which;
    char seen[DNIC_LAST_ERROR_MAX];
} thread_arg;

static void *fail_differently(void *v) {
    thread_arg *a = v;
    if (a->which == 0) {
        dnic_optim_config c = dnic_optim_default(DNIC_OPT_SGD);
        c.lr = -3;
        dnic_optim_validate(&c);
    } else {
        dnic_layer_desc L[4];
        dnic_net_desc d = desc4(L);
        L[2].width = -9;
        dnic_net_t *n = NULL;
        dnic_net_create(&n, &d, 1);
    }
    pthread_barrier_wait(&barrier);
    snprintf(a->seen, sizeof a->seen, "%s", dnic_last_error());
    pthread_barrier_wait(&barrier);
    return NULL;
}

static void test_per_thread(void) {
    dnic_optim_validate(NULL); /* this thread's own failure */
    pthread_barrier_init(&barrier, NULL, 2);
    thread_arg a[2] = {{0, ""}, {1, ""}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, fail_differently, &a[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    CHECK(strstr(a[0].seen, "dnic_optim_validate: lr = -3") != NULL, "thread 0 read \"%s\"", a[0].seen);
    CHECK(strstr(a[1].seen, "dnic_net_create: layers[2].width = -9") != NULL, "thread 1 read \"%s\"", a[1].seen);
    CHECK(strstr(dnic_last_error(), "dnic_optim_validate: cfg is NULL") != NULL, "main thread read \"%s\"",
          dnic_last_error());
}

int main(void) {
    CHECK(dnic_last_error() && dnic_last_error()[0] == '\0', "the detail starts empty: \"%s\"", dnic_last_error());
    test_status_strings();
    test_net_create();
    test_net_calls();
    test_iface_create();
    test_dni_and_pipeline();
    test_per_thread();
    return harness_finish("last_error");
}
