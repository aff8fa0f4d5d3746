/* test_iface_badcalls.c — bad calls to one decoupled neural interface get
 * status codes (and leave *out NULL): descriptions out of range, shapes,
 * NULL pointers, calls out of order.
 * Runs at every instruction-set level the CPU has, at 1 and 2 threads.
 */
#include "harness.h"

static void test_bad_calls(void) {
    dnic_iface_desc d;
    dnic_iface_desc_defaults(&d, 0);
    CHECK(d.kind == DNIC_IFACE_LINEAR && d.target == DNIC_TARGET_BOOTSTRAP && d.loss == DNIC_IFACE_LOSS_L2 &&
              d.signal == DNIC_SIGNAL_PRED && d.alpha == 0.0f && d.layer == 0,
          "dnic_iface_desc_defaults");
    dnic_iface_desc_defaults(&d, 3);
    CHECK(d.layer == 3, "defaults keep the layer");
    dnic_iface_t *it = (dnic_iface_t *)&it;
    EXPECT(dnic_iface_create(NULL, &d, 4, 4, 2, 8, 0.5f, 1), DNIC_ERR_NULL);
    EXPECT(dnic_iface_create(&it, NULL, 4, 4, 2, 8, 0.5f, 1), DNIC_ERR_NULL);
    CHECK(it == NULL, "*out must be NULL after a failed create");

    dnic_iface_desc b;
#define BAD(mod, dh, dout, want)                                                              \
    do {                                                                                      \
        dnic_iface_desc_defaults(&b, 0);                                                      \
        mod;                                                                                  \
        it = (dnic_iface_t *)&it;                                                             \
        dnic_status s_ = dnic_iface_create(&it, &b, dh, dout, 2, 8, 0.5f, 1);                 \
        CHECK((want) == DNIC_OK ? s_ != DNIC_OK : s_ == (want), "%s (dh %d dout %d) -> %s",  \
              #mod, dh, dout, dnic_status_str(s_));                                           \
        CHECK(it == NULL, "%s: *out must be NULL", #mod);                                     \
        if (s_ == DNIC_OK) dnic_iface_free(it);                                               \
    } while (0)
    /* want DNIC_OK here means "any error" */
    BAD(b.alpha = -0.5f, 4, 4, DNIC_ERR_ARG);
    BAD(b.alpha = NAN, 4, 4, DNIC_ERR_ARG);
    BAD((void)0, 4, 5, DNIC_OK);                         /* dout != dh, trainable */
    BAD(b.kind = DNIC_IFACE_SIGMOID, 4, 3, DNIC_OK);
    BAD(b.kind = DNIC_IFACE_IDENTITY; b.loss = DNIC_IFACE_LOSS_INNER; b.signal = DNIC_SIGNAL_PROP, 4, 3, DNIC_OK);
    BAD(b.kind = DNIC_IFACE_RANDOM; b.loss = DNIC_IFACE_LOSS_INNER, 4, 3, DNIC_OK); /* PRED on fixed */
    BAD(b.kind = DNIC_IFACE_ONES; b.loss = DNIC_IFACE_LOSS_INNER, 4, 3, DNIC_OK);
    BAD(b.kind = (dnic_iface_kind)8, 4, 4, DNIC_ERR_ARG);
    BAD(b.kind = (dnic_iface_kind)-1, 4, 4, DNIC_ERR_ARG);
    BAD(b.target = (dnic_iface_target)4, 4, 4, DNIC_ERR_ARG);
    BAD(b.loss = (dnic_iface_loss)2, 4, 4, DNIC_ERR_ARG);
    BAD(b.signal = (dnic_iface_signal)3, 4, 4, DNIC_ERR_ARG);
    BAD(b.signal = (dnic_iface_signal)-1, 4, 4, DNIC_ERR_ARG);
    BAD(b.kind = DNIC_IFACE_MLP; b.mlp_layers = 2; b.mlp_widths = NULL, 4, 4, DNIC_ERR_NULL);
    BAD(b.kind = DNIC_IFACE_MLP; b.mlp_layers = -1, 4, 4, DNIC_OK);
    static const int zero_w[2] = {5, 0}, neg_w[1] = {-3}, good_w[1] = {5};
    BAD(b.kind = DNIC_IFACE_MLP; b.mlp_layers = 2; b.mlp_widths = zero_w, 4, 4, DNIC_ERR_SIZE);
    BAD(b.kind = DNIC_IFACE_MLP; b.mlp_layers = 1; b.mlp_widths = neg_w, 4, 4, DNIC_ERR_SIZE);
    BAD(b.kind = DNIC_IFACE_MLP; b.mlp_batchnorm = 2; b.mlp_layers = 1; b.mlp_widths = good_w, 4, 4, DNIC_OK);
    BAD((void)0, 0, 0, DNIC_ERR_SIZE);
    BAD((void)0, -2, -2, DNIC_ERR_SIZE);
#undef BAD
    it = (dnic_iface_t *)&it;
    EXPECT(dnic_iface_create(&it, &d, 4, 4, 2, 0, 0.5f, 1), DNIC_ERR_SIZE); /* max_batch 0 */
    CHECK(it == NULL, "*out NULL");
    EXPECT(dnic_iface_create(&it, &d, 4, 4, -1, 8, 0.5f, 1), DNIC_ERR_SIZE); /* n_labels < 0 */
    CHECK(it == NULL, "*out NULL");

    /* calls on a good interface */
    dnic_iface_desc_defaults(&d, 0);
    it = NULL;
    if (dnic_iface_create(&it, &d, 4, 4, 3, 8, 0.5f, 1) != DNIC_OK || !it) {
        CHECK(0, "good create");
        return;
    }
    float h[9 * 4] = {0}, g[9 * 4] = {0}, sig[9 * 4];
    int32_t y[9] = {0}, ybad[8] = {0, 1, 2, 3, 0, 0, 0, 0}, yneg[8] = {0, -1, 0, 0, 0, 0, 0, 0};
    EXPECT(dnic_iface_backward(it, 8), DNIC_ERR_STATE);          /* before any forward */
    EXPECT(dnic_iface_loss_value(it, 8, NULL), DNIC_ERR_STATE);
    EXPECT(dnic_iface_forward(NULL, h, y, NULL, 8), DNIC_ERR_NULL);
    EXPECT(dnic_iface_forward(it, NULL, y, NULL, 8), DNIC_ERR_NULL);
    EXPECT(dnic_iface_forward(it, h, y, NULL, 9), DNIC_ERR_BATCH_TOO_LARGE);
    EXPECT(dnic_iface_forward(it, h, y, NULL, 0), DNIC_ERR_SIZE);
    EXPECT(dnic_iface_forward(it, h, y, NULL, -1), DNIC_ERR_SIZE);
    EXPECT(dnic_iface_forward(it, h, ybad, NULL, 8), DNIC_ERR_LABEL);
    EXPECT(dnic_iface_forward(it, h, yneg, NULL, 8), DNIC_ERR_LABEL);
    EXPECT(dnic_iface_set_target(NULL, g, 8), DNIC_ERR_NULL);
    EXPECT(dnic_iface_set_target(it, NULL, 8), DNIC_ERR_NULL);
    EXPECT(dnic_iface_set_target(it, g, 9), DNIC_ERR_BATCH_TOO_LARGE);
    EXPECT(dnic_iface_forward(it, h, y, NULL, 8), DNIC_OK);
    EXPECT(dnic_iface_set_target(it, g, 8), DNIC_OK);
    EXPECT(dnic_iface_loss_value(NULL, 8, NULL), DNIC_ERR_NULL);
    {   /* B above max_batch (and different from the forward's B) */
        dnic_status s_ = dnic_iface_loss_value(it, 9, NULL);
        CHECK(s_ == DNIC_ERR_BATCH_TOO_LARGE || s_ == DNIC_ERR_STATE, "dnic_iface_loss_value(it, 9, NULL) -> %s", dnic_status_str(s_));
    }
    EXPECT(dnic_iface_loss_value(it, 8, NULL), DNIC_OK);
    EXPECT(dnic_iface_backward(NULL, 8), DNIC_ERR_NULL);
    {   /* B above max_batch (and different from the forward's B) */
        dnic_status s_ = dnic_iface_backward(it, 9);
        CHECK(s_ == DNIC_ERR_BATCH_TOO_LARGE || s_ == DNIC_ERR_STATE, "dnic_iface_backward(it, 9) -> %s", dnic_status_str(s_));
    }
    EXPECT(dnic_iface_backward(it, 8), DNIC_OK);
    EXPECT(dnic_iface_write_signal(NULL, sig, 8), DNIC_ERR_NULL);
    EXPECT(dnic_iface_write_signal(it, NULL, 8), DNIC_ERR_NULL);
    {   /* B above max_batch (and different from the forward's B) */
        dnic_status s_ = dnic_iface_write_signal(it, sig, 9);
        CHECK(s_ == DNIC_ERR_BATCH_TOO_LARGE || s_ == DNIC_ERR_STATE, "dnic_iface_write_signal(it, sig, 9) -> %s", dnic_status_str(s_));
    }
    EXPECT(dnic_iface_write_signal(it, sig, 8), DNIC_OK);
    EXPECT(dnic_iface_set_optimizer(NULL, NULL), DNIC_ERR_NULL);
    EXPECT(dnic_iface_set_optimizer(it, NULL), DNIC_ERR_NULL);
    dnic_optim_config oc = dnic_optim_default(DNIC_OPT_SGD);
    oc.lr = -1;
    CHECK(dnic_iface_set_optimizer(it, &oc) != DNIC_OK, "negative lr accepted");
    oc = dnic_optim_default(DNIC_OPT_SGD);
    oc.kind = (dnic_optimizer)9;
    CHECK(dnic_iface_set_optimizer(it, &oc) != DNIC_OK, "bad optimizer kind accepted");
    EXPECT(dnic_iface_update(NULL), DNIC_ERR_NULL);
    dnic_tensor_info t;
    EXPECT(dnic_iface_tensor(it, -1, &t), DNIC_ERR_ARG);
    EXPECT(dnic_iface_tensor(it, dnic_iface_num_tensors(it), &t), DNIC_ERR_ARG);
    EXPECT(dnic_iface_tensor(it, 0, NULL), DNIC_ERR_NULL);
    CHECK(dnic_iface_prediction(NULL) == NULL && dnic_iface_input_grad(NULL) == NULL &&
              dnic_iface_target_buf(NULL) == NULL && dnic_iface_params(NULL, NULL) == NULL,
          "NULL interface queries return NULL");
    dnic_iface_free(it);
    dnic_iface_free(NULL);

    /* ORACLE forward before its target was ever set */
    dnic_iface_desc_defaults(&d, 0);
    d.kind = DNIC_IFACE_ORACLE;
    it = NULL;
    if (dnic_iface_create(&it, &d, 4, 4, 0, 8, 0.5f, 1) == DNIC_OK && it) {
        EXPECT(dnic_iface_forward(it, h, NULL, NULL, 8), DNIC_ERR_STATE);
        dnic_iface_free(it);
    } else {
        CHECK(0, "oracle create");
    }
}


int main(void) {
    HARNESS_FOR_EACH_ISA(level) {
        for (int threads = 1; threads <= 2; threads++) {
            dnic_set_num_threads(threads);
            test_bad_calls();
        }
    }
    return harness_finish("iface_badcalls");
}
