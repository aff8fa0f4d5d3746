/* test_predict.c — dnic_net_predict: for any number of rows (0, 1,
 * max_batch + 1, 3 max_batch + 7) the same bytes as dnic_net_activations
 * of the output layer, in evaluation mode (batch norm from its running
 * statistics, so a row's output does not depend on the rows beside it);
 * a row alone gives the values it has in a batch; proba = 1 gives the softmax / sigmoid of those outputs; MSE has no
 * probabilities; NULL arguments are refused with a detail.
 */
#include "harness.h"

#include <string.h>

enum { IN = 7, MB = 8 };

static dnic_net_t *trained_net(dnic_loss loss, int k) {
    dnic_layer_desc L[3] = {{10, DNIC_ACT_RELU, 1}, {9, DNIC_ACT_TANH, 1}, {k, DNIC_ACT_IDENTITY, 0}};
    dnic_net_t *n = make_net(IN, 3, L, loss, MB, DNIC_INIT_HE_UNIFORM, 3);
    if (!n) return NULL;
    set_sgd(n, 0.05f);
    /* a few steps, so batch norm's running statistics are not their start */
    float x[MB * IN], t[MB * 4];
    int32_t y[MB];
    uint64_t rng = 11;
    for (int s = 0; s < 5; s++) {
        fill_normal(x, MB * IN, 1.0f, &rng);
        for (int r = 0; r < MB; r++) y[r] = (int32_t)(dnic_rng_next(&rng) % (uint64_t)(k == 1 ? 2 : k));
        for (int i = 0; i < MB * k; i++) t[i] = dnic_rng_uniform(&rng);
        dnic_status st = dnic_net_train_step(n, x, loss == DNIC_LOSS_MSE ? NULL : y, loss == DNIC_LOSS_MSE ? t : NULL,
                                             MB, NULL);
        CHECK(st == DNIC_OK, "train step: %s (%s)", dnic_status_str(st), dnic_last_error());
    }
    return n;
}

static void test_rows(void) {
    dnic_net_t *n = trained_net(DNIC_LOSS_SOFTMAX_CE, 4);
    if (!n) return;
    const size_t counts[] = {0, 1, MB + 1, 3 * MB + 7};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        size_t rows = counts[c];
        float *X = falloc(rows * IN + 1), *got = falloc(rows * 4 + 1), *want = falloc(rows * 4 + 1);
        uint64_t rng = 100 + rows;
        fill_normal(X, rows * IN, 1.0f, &rng);
        fill_const(got, rows * 4 + 1, -7.0f);
        EXPECT(dnic_net_predict(n, X, rows, 0, got), DNIC_OK);
        CHECK(got[rows * 4] == -7.0f, "n = %zu: wrote past the last row", rows);
        if (rows > 0) {
            EXPECT(dnic_net_activations(n, X, rows, 2, NULL, rows, want), DNIC_OK);
            CHECK(memcmp(got, want, rows * 4 * sizeof(float)) == 0, "n = %zu: predict differs from activations", rows);
            /* a row predicted alone gives the same values as in a batch
             * (up to the GEMM's rounding for another number of rows) */
            float one[4];
            EXPECT(dnic_net_predict(n, X + (rows - 1) * IN, 1, 0, one), DNIC_OK);
            CHECK_SAME(MSG("n = %zu: the last row alone", rows), one, got + (rows - 1) * 4, 4, 1e-4);
            /* probabilities: the softmax of each row, in double */
            EXPECT(dnic_net_predict(n, X, rows, 1, got), DNIC_OK);
            double worst = 0;
            for (size_t r = 0; r < rows; r++) {
                double top = want[r * 4], total = 0, sum = 0;
                for (int k = 1; k < 4; k++) top = want[r * 4 + k] > top ? want[r * 4 + k] : top;
                for (int k = 0; k < 4; k++) total += exp(want[r * 4 + k] - top);
                for (int k = 0; k < 4; k++) {
                    double d = fabs(got[r * 4 + k] - exp(want[r * 4 + k] - top) / total);
                    worst = d > worst ? d : worst;
                    sum += got[r * 4 + k];
                }
                CHECK(fabs(sum - 1) < 1e-5, "n = %zu row %zu: probabilities sum to %g", rows, r, sum);
            }
            CHECK(worst < 1e-7, "n = %zu: softmax off by %g", rows, worst);
        }
        free(X);
        free(got);
        free(want);
    }
    dnic_net_free(n);
}

static void test_links(void) {
    dnic_net_t *n = trained_net(DNIC_LOSS_LOGISTIC, 1);
    float X[3 * IN], logit[3], p[3];
    uint64_t rng = 9;
    fill_normal(X, 3 * IN, 1.0f, &rng);
    if (n) {
        EXPECT(dnic_net_predict(n, X, 3, 0, logit), DNIC_OK);
        EXPECT(dnic_net_predict(n, X, 3, 1, p), DNIC_OK);
        for (int r = 0; r < 3; r++)
            CHECK(fabs(p[r] - 1 / (1 + exp(-(double)logit[r]))) < 1e-7, "row %d: sigmoid(%g) = %g", r, logit[r], p[r]);
        dnic_net_free(n);
    }
    n = trained_net(DNIC_LOSS_MSE, 2);
    if (n) {
        float out[6];
        EXPECT(dnic_net_predict(n, X, 3, 0, out), DNIC_OK);
        EXPECT(dnic_net_predict(n, X, 3, 1, out), DNIC_ERR_ARG);
        CHECK(strstr(dnic_last_error(), "dnic_net_predict: proba = 1 with the MSE loss") != NULL, "detail: %s",
              dnic_last_error());
        dnic_net_free(n);
    }
}

/* The link on its own: what predict's proba applies, in place too. */
static void test_probabilities(void) {
    float p[6] = {1, 2, 3, -1000, 0, 1000}, q[6];
    EXPECT(dnic_loss_probabilities(DNIC_LOSS_SOFTMAX_CE, p, 2, 3, q), DNIC_OK);
    CHECK(fabs(q[0] - 0.09003057) < 1e-7 && fabs(q[2] - 0.66524096) < 1e-7, "softmax(1,2,3) = %g %g %g", q[0], q[1],
          q[2]);
    CHECK(q[3] == 0 && q[4] == 0 && q[5] == 1, "softmax of extremes: %g %g %g", q[3], q[4], q[5]);
    EXPECT(dnic_loss_probabilities(DNIC_LOSS_LOGISTIC, p, 1, 6, p), DNIC_OK); /* in place */
    CHECK(p[3] == 0 && p[4] == 0.5f && p[5] == 1 && fabs(p[0] - 0.7310586) < 1e-7, "sigmoids %g %g %g %g", p[0], p[3],
          p[4], p[5]);
    EXPECT(dnic_loss_probabilities(DNIC_LOSS_MSE, p, 1, 6, q), DNIC_ERR_ARG);
    CHECK(strstr(dnic_last_error(), "dnic_loss_probabilities: kind = 0") != NULL, "detail: %s", dnic_last_error());
    EXPECT(dnic_loss_probabilities(DNIC_LOSS_SOFTMAX_CE, p, 1, 1, q), DNIC_ERR_SIZE);
    EXPECT(dnic_loss_probabilities(DNIC_LOSS_SOFTMAX_CE, NULL, 0, 3, NULL), DNIC_OK);
    EXPECT(dnic_loss_probabilities(DNIC_LOSS_SOFTMAX_CE, NULL, 1, 3, q), DNIC_ERR_NULL);
}

static void test_bad_args(void) {
    dnic_net_t *n = trained_net(DNIC_LOSS_SOFTMAX_CE, 4);
    float X[IN] = {0}, out[4];
    EXPECT(dnic_net_predict(NULL, X, 1, 0, out), DNIC_ERR_NULL);
    CHECK(strstr(dnic_last_error(), "dnic_net_predict: net is NULL") != NULL, "detail: %s", dnic_last_error());
    if (!n) return;
    EXPECT(dnic_net_predict(n, NULL, 1, 0, out), DNIC_ERR_NULL);
    CHECK(strstr(dnic_last_error(), "dnic_net_predict: X is NULL") != NULL, "detail: %s", dnic_last_error());
    EXPECT(dnic_net_predict(n, X, 1, 0, NULL), DNIC_ERR_NULL);
    CHECK(strstr(dnic_last_error(), "dnic_net_predict: out is NULL") != NULL, "detail: %s", dnic_last_error());
    EXPECT(dnic_net_predict(n, NULL, 0, 0, NULL), DNIC_OK); /* nothing to read or write */
    EXPECT(dnic_net_predict(n, X, 1, 2, out), DNIC_ERR_ARG);
    CHECK(strstr(dnic_last_error(), "proba = 2") != NULL, "detail: %s", dnic_last_error());
    /* predict leaves no training batch behind: backward must refuse */
    EXPECT(dnic_net_predict(n, X, 1, 0, out), DNIC_OK);
    EXPECT(dnic_net_backward(n, 1), DNIC_ERR_STATE);
    dnic_net_free(n);
}

int main(void) {
    for (int t = 0; t < 2; t++) {
        dnic_set_num_threads(thread_counts[t]);
        test_rows();
        test_links();
        test_bad_args();
    }
    test_probabilities();
    return harness_finish("predict");
}
