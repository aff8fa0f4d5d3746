/* test_loss.c — the losses (mse, softmax cross-entropy, logistic) at every
 * instruction-set level the CPU runs:
 *   1. loss and gradient against central differences of the loss in
 *      double, with labels and with float targets;
 *   2. edge cases and precision near a zero loss, by hand;
 *   3. the fast kernels vs their _ref twins at 1 and 2 threads;
 * and counting correct predictions.
 */
#include "harness.h"

/* ------------------------------------------------------------------ losses */

static const char *loss_name[3] = {"mse", "softmax_ce", "logistic"};

typedef struct {
    dnic_loss kind;
    double *p;
    const int32_t *labels;  /* used when targets is NULL */
    const double *targets;
    int B, K;
} loss_ctx;

/* Target t_ik as the header defines it: float targets, one-hot labels, or
 * for K == 1 the label itself. */
static double target_of(const loss_ctx *c, int i, int k) {
    if (c->targets) return c->targets[i * c->K + k];
    if (c->K == 1) return c->labels[i];
    return c->labels[i] == k ? 1.0 : 0.0;
}

/* softplus(p) = log(1 + e^p), without overflow for large |p|. */
static double softplus_d(double p) {
    return (p > 0 ? p : 0) + log1p(exp(-fabs(p)));
}

/* Mean over the batch of the per-example loss, in double. */
static double loss_obj(const void *vc) {
    const loss_ctx *c = vc;
    double total = 0;
    for (int i = 0; i < c->B; i++) {
        const double *p = c->p + (size_t)i * c->K;
        double L = 0;
        if (c->kind == DNIC_LOSS_SOFTMAX_CE) {
            double mx = p[0], se = 0;
            for (int k = 1; k < c->K; k++) mx = fmax(mx, p[k]);
            for (int k = 0; k < c->K; k++) se += exp(p[k] - mx);
            L = mx + log(se) - p[c->labels[i]];
        } else {
            for (int k = 0; k < c->K; k++) {
                double t = target_of(c, i, k);
                if (c->kind == DNIC_LOSS_MSE) L += 0.5 * (p[k] - t) * (p[k] - t);
                else L += softplus_d(p[k]) - t * p[k];
            }
        }
        total += L;
    }
    return total / c->B;
}

/* One loss configuration: value against the double loss, dp against its
 * central differences, dp overwritten rather than accumulated, NULL outputs. */
static void loss_grad_case(dnic_loss kind, int use_labels, int K) {
    enum { B = 5 };
    int n = B * K;
    float p[B * 4], targets[B * 4], dp[B * 4];
    int32_t labels[B];
    fill(p, n, -2, 2);
    if (kind == DNIC_LOSS_MSE) fill(targets, n, -1, 1);
    else fill(targets, n, 0, 1);  /* logistic targets are probabilities */
    fill_labels(labels, B, K == 1 ? 2 : K);
    double *pd = to_double(p, n), *td = to_double(targets, n);
    loss_ctx c = {kind, pd, labels, use_labels ? NULL : td, B, K};
    double want_loss = loss_obj(&c);
    double g[B * 4];
    fd_grad(g, pd, n, loss_obj, &c);
    const float *tg = use_labels ? NULL : targets;
    const int32_t *lb = use_labels ? labels : NULL;
    const char *how = use_labels ? "labels" : "targets";

    for (int useref = 0; useref < 2; useref++) {
        dnic_status (*lf)(dnic_loss, float *, float *, const float *, const int32_t *,
                          const float *, int, int) =
            useref ? dnic_loss_forward_backward_ref : dnic_loss_forward_backward;
        const char *tag = useref ? " (ref)" : "";
        float loss = -1;
        fill_const(dp, n, 9.0f); /* garbage that must be overwritten */
        dnic_status s = lf(kind, &loss, dp, p, lb, tg, B, K);
        CHECK(s == DNIC_OK, "%s %s K=%d%s: status %d", loss_name[kind], how, K, tag, (int)s);
        CHECK_CLOSE(MSG("%s %s K=%d loss%s", loss_name[kind], how, K, tag), &loss, &want_loss, 1,
                    1e-6, 1e-5);
        CHECK_CLOSE(MSG("%s %s K=%d dp (overwritten)%s", loss_name[kind], how, K, tag), dp, g, n,
                    1e-6, 1e-4);
        /* dp may be NULL; loss_out may be NULL */
        float loss2 = -1, dp2[B * 4];
        s = lf(kind, &loss2, NULL, p, lb, tg, B, K);
        CHECK(s == DNIC_OK && loss2 == loss, "%s %s K=%d dp=NULL%s: status %d loss %g vs %g",
              loss_name[kind], how, K, tag, (int)s, loss2, loss);
        s = lf(kind, NULL, dp2, p, lb, tg, B, K);
        CHECK(s == DNIC_OK, "%s %s K=%d loss_out=NULL%s: status %d", loss_name[kind], how, K, tag,
              (int)s);
        CHECK_SAME(MSG("%s %s K=%d loss_out=NULL dp%s", loss_name[kind], how, K, tag), dp2, dp, n,
                   0.0);
    }
    free(pd); free(td);
}

static void test_loss_grad(void) {
    static const int Ks[2] = {1, 4};
    for (int kind = DNIC_LOSS_MSE; kind <= DNIC_LOSS_LOGISTIC; kind += 2)
        for (int lab = 0; lab < 2; lab++)
            for (int k = 0; k < 2; k++) loss_grad_case((dnic_loss)kind, lab, Ks[k]);
    /* softmax CE takes labels only, with K >= 2 */
    loss_grad_case(DNIC_LOSS_SOFTMAX_CE, 1, 4);
    loss_grad_case(DNIC_LOSS_SOFTMAX_CE, 1, 2);
}

static void test_loss_edges(void) {
    /* Huge logits: a naive exp() overflows; log-sum-exp gives exact answers.
     * Row 0: label 0 is the max, loss ~ 0, dp ~ 0.
     * Row 1: label 1 is 2e4 below the max, loss = 2e4, dp = (1, -1, 0). */
    {
        float p[6] = {1e4f, -1e4f, 0.0f, 1e4f, -1e4f, 0.0f}, dp[6], loss = 0;
        int32_t y[2] = {0, 1};
        for (int useref = 0; useref < 2; useref++) {
            dnic_status s = (useref ? dnic_loss_forward_backward_ref : dnic_loss_forward_backward)(
                DNIC_LOSS_SOFTMAX_CE, &loss, dp, p, y, NULL, 2, 3);
            double want_loss = 1e4, want_dp[6] = {0, 0, 0, 0.5, -0.5, 0};
            CHECK(s == DNIC_OK, "softmax huge logits%s: status %d", useref ? " (ref)" : "",
                  (int)s);
            CHECK_CLOSE(MSG("softmax huge logits loss%s", useref ? " (ref)" : ""), &loss,
                        &want_loss, 1, 1e-3, 1e-6);
            CHECK_CLOSE(MSG("softmax huge logits dp%s", useref ? " (ref)" : ""), dp, want_dp, 6,
                        1e-7, 1e-6);
        }
    }
    /* Logistic at |p| = 1e4 against the wrong target: loss = |p|, dp = +-1/B. */
    {
        float p[2] = {1e4f, -1e4f}, dp[2], loss = 0;
        int32_t y[2] = {0, 1};
        for (int useref = 0; useref < 2; useref++) {
            dnic_status s = (useref ? dnic_loss_forward_backward_ref : dnic_loss_forward_backward)(
                DNIC_LOSS_LOGISTIC, &loss, dp, p, y, NULL, 2, 1);
            double want_loss = 1e4, want_dp[2] = {0.5, -0.5};
            CHECK(s == DNIC_OK, "logistic large |p|%s: status %d", useref ? " (ref)" : "", (int)s);
            CHECK_CLOSE(MSG("logistic large |p| loss%s", useref ? " (ref)" : ""), &loss,
                        &want_loss, 1, 1e-3, 1e-6);
            CHECK_CLOSE(MSG("logistic large |p| dp%s", useref ? " (ref)" : ""), dp, want_dp, 2,
                        1e-7, 1e-6);
        }
        /* and against the right target: loss ~ 0 (log1p(e^-1e4)), dp ~ 0 */
        int32_t yr[2] = {1, 0};
        double zero2[2] = {0, 0}, zero = 0;
        dnic_status s = dnic_loss_forward_backward(DNIC_LOSS_LOGISTIC, &loss, dp, p, yr, NULL, 2, 1);
        CHECK(s == DNIC_OK, "logistic large |p| right target: status %d", (int)s);
        CHECK_CLOSE("logistic large |p| right target loss", &loss, &zero, 1, 1e-7, 0);
        CHECK_CLOSE("logistic large |p| right target dp", dp, zero2, 2, 1e-7, 0);
    }
    /* Labels outside [0, K) (or [0, 1] for K == 1) are DNIC_ERR_LABEL. */
    {
        float p[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f}, dp[8], loss;
        int32_t high[2] = {0, 4}, neg[2] = {-1, 0}, two[2] = {1, 2};
        for (int useref = 0; useref < 2; useref++) {
            dnic_status (*lf)(dnic_loss, float *, float *, const float *, const int32_t *,
                              const float *, int, int) =
                useref ? dnic_loss_forward_backward_ref : dnic_loss_forward_backward;
            const char *tag = useref ? " (ref)" : "";
            for (int kind = 0; kind < 3; kind++) {
                CHECK(lf((dnic_loss)kind, &loss, dp, p, high, NULL, 2, 4) == DNIC_ERR_LABEL,
                      "%s label = K is DNIC_ERR_LABEL%s", loss_name[kind], tag);
                CHECK(lf((dnic_loss)kind, &loss, dp, p, neg, NULL, 2, 4) == DNIC_ERR_LABEL,
                      "%s label -1 is DNIC_ERR_LABEL%s", loss_name[kind], tag);
            }
            CHECK(lf(DNIC_LOSS_MSE, &loss, dp, p, two, NULL, 2, 1) == DNIC_ERR_LABEL,
                  "mse K=1 label 2 is DNIC_ERR_LABEL%s", tag);
            CHECK(lf(DNIC_LOSS_LOGISTIC, &loss, dp, p, two, NULL, 2, 1) == DNIC_ERR_LABEL,
                  "logistic K=1 label 2 is DNIC_ERR_LABEL%s", tag);
            /* a NaN output makes the loss non-finite */
            float pn[2] = {0.5f, NAN};
            int32_t ok[2] = {0, 1};
            CHECK(lf(DNIC_LOSS_MSE, &loss, dp, pn, ok, NULL, 2, 1) == DNIC_ERR_NONFINITE,
                  "mse with a NaN output is DNIC_ERR_NONFINITE%s", tag);
            /* finite in double, beyond float: the float the caller gets is
             * infinite, so the status says so */
            float big[2] = {3e19f, -3e19f};
            CHECK(lf(DNIC_LOSS_MSE, &loss, dp, big, ok, NULL, 2, 1) == DNIC_ERR_NONFINITE && isinf(loss),
                  "mse of 3e19 outputs (a float loss of %g) is DNIC_ERR_NONFINITE%s", loss, tag);
        }
    }
}

/* The fast losses work in float: a confident batch's small loss must keep
 * its relative precision (no cancellation of lse - x_y, softplus - t x,
 * or of one-hot squares), and rows longer than the kernel's scratch block
 * (with and without a gradient) must come out right too. */
static void test_loss_precision(void) {
    enum { B = 37, K = 10 };
    float p[B * K], dp[B * K], dpr[B * K], loss, loss_r;
    int32_t y[B], bits[B];
    fill_labels(y, B, K);
    fill_labels(bits, B, 2);
    for (int kind = 0; kind < 3; kind++) {
        if (kind == DNIC_LOSS_SOFTMAX_CE) { /* the label's logit 14 above the others: loss ~ 9 e^-14 */
            fill(p, B * K, -1, 1);
            for (int r = 0; r < B; r++) p[r * K + y[r]] = 14.0f + (float)tr_u01();
        }
        if (kind == DNIC_LOSS_MSE) { /* near one-hot outputs: loss ~ 1e-6 */
            for (int i = 0; i < B * K; i++) p[i] = (float)(1e-3 * (tr_u01() - 0.5));
            for (int r = 0; r < B; r++) p[r * K + y[r]] = 1.0f + (float)(1e-3 * (tr_u01() - 0.5));
        }
        if (kind == DNIC_LOSS_LOGISTIC) /* one output per row, +-12 on the label's side */
            for (int r = 0; r < B; r++) p[r] = (bits[r] ? 12.0f : -12.0f) + (float)tr_u01();
        int k = kind == DNIC_LOSS_LOGISTIC ? 1 : K;
        const int32_t *lb = kind == DNIC_LOSS_LOGISTIC ? bits : y;
        dnic_status s = dnic_loss_forward_backward((dnic_loss)kind, &loss, dp, p, lb, NULL, B, k);
        dnic_status sr = dnic_loss_forward_backward_ref((dnic_loss)kind, &loss_r, dpr, p, lb, NULL, B, k);
        CHECK(s == DNIC_OK && sr == DNIC_OK, "%s confident: status %d ref %d", loss_name[kind], (int)s, (int)sr);
        CHECK(loss_r > 0 && loss_r < 1e-4, "%s confident: the test wants a small loss, got %g", loss_name[kind],
              loss_r);
        CHECK(fabs(loss - loss_r) <= 1e-4 * loss_r, "%s confident: loss %.8g vs ref %.8g (relative %.3g)",
              loss_name[kind], loss, loss_r, fabs(loss - loss_r) / loss_r);
        check_sum(MSG("%s confident dp", loss_name[kind]), dp, dpr, (size_t)B * k, 1e-5);
    }
    /* rows longer than any scratch block */
    enum { LB = 3, LK = 3001 };
    float *q = falloc((size_t)LB * LK), *tq = falloc((size_t)LB * LK), *dq = falloc((size_t)LB * LK);
    float *dqr = falloc((size_t)LB * LK);
    int32_t ly[LB] = {0, 1500, LK - 1};
    fill(q, (size_t)LB * LK, -5, 5);
    fill(tq, (size_t)LB * LK, 0, 1e-3);
    for (int kind = 0; kind < 3; kind++)
        for (int lab = 0; lab < 2; lab++) {
            const int32_t *lb = lab ? ly : NULL;
            const float *tg = lab ? NULL : tq;
            float l1, l2, lr;
            dnic_status s1 = dnic_loss_forward_backward((dnic_loss)kind, &l1, dq, q, lb, tg, LB, LK);
            dnic_status s2 = dnic_loss_forward_backward((dnic_loss)kind, &l2, NULL, q, lb, tg, LB, LK);
            dnic_loss_forward_backward_ref((dnic_loss)kind, &lr, dqr, q, lb, tg, LB, LK);
            CHECK(s1 == DNIC_OK && s2 == DNIC_OK, "%s K=%d: status %d %d", loss_name[kind], LK, (int)s1, (int)s2);
            CHECK(fabs(l1 - lr) <= 1e-5 * fabs(lr) && fabs(l2 - lr) <= 1e-5 * fabs(lr),
                  "%s %s K=%d: loss %.8g / %.8g (no dp) vs ref %.8g", loss_name[kind], lab ? "labels" : "targets",
                  LK, l1, l2, lr);
            check_sum(MSG("%s %s K=%d dp", loss_name[kind], lab ? "labels" : "targets", LK), dq, dqr,
                      (size_t)LB * LK, 1e-5);
        }
    free(q); free(tq); free(dq); free(dqr);
}

static void test_count_correct(void) {
    /* argmax, K = 3: rows predict 2, 0, 1, 1 */
    float p[12] = {0.1f, 0.2f, 0.9f, 3.0f, -1.0f, 2.0f, -5.0f, -4.0f, -4.5f, 0.0f, 0.3f, 0.2f};
    int32_t y[4] = {2, 1, 1, 1};
    for (int kind = 0; kind < 3; kind++)
        CHECK(dnic_count_correct((dnic_loss)kind, p, y, 4, 3) == 3, "%s count_correct argmax",
              loss_name[kind]);
    /* K = 1, logistic: correct when (p > 0) == label */
    float q[6] = {2.0f, -0.5f, 0.3f, -3.0f, 0.7f, -0.1f};
    int32_t z[6] = {1, 0, 0, 1, 1, 0};
    CHECK(dnic_count_correct(DNIC_LOSS_LOGISTIC, q, z, 6, 1) == 4,
          "logistic K=1 count_correct: %zu, want 4",
          dnic_count_correct(DNIC_LOSS_LOGISTIC, q, z, 6, 1));
    /* K = 1, MSE: the header's threshold is a regression output above 1/2,
     * so 0.3 predicts 0 (label 0 correct) and 0.7 predicts 1. */
    CHECK(dnic_count_correct(DNIC_LOSS_MSE, q, z, 6, 1) == 5,
          "mse K=1 count_correct (threshold 1/2): %zu, want 5",
          dnic_count_correct(DNIC_LOSS_MSE, q, z, 6, 1));
}

static void loss_vs_ref(int B, int K) {
    size_t n = (size_t)B * K;
    float *p = falloc(n), *targets = falloc(n);
    int32_t *labels = malloc((size_t)B * sizeof *labels), *bits = malloc((size_t)B * sizeof *bits);
    fill(p, n, -3, 3);
    fill(targets, n, 0, 1);
    fill_labels(labels, B, K);
    fill_labels(bits, B, 2);
    /* (kind, labels?, K) combinations the API allows */
    struct { dnic_loss kind; int lab; int K; } cases[] = {
        {DNIC_LOSS_SOFTMAX_CE, 1, K}, {DNIC_LOSS_MSE, 1, K},      {DNIC_LOSS_MSE, 0, K},
        {DNIC_LOSS_LOGISTIC, 1, K},   {DNIC_LOSS_LOGISTIC, 0, K}, {DNIC_LOSS_MSE, 1, 1},
        {DNIC_LOSS_LOGISTIC, 1, 1},   {DNIC_LOSS_LOGISTIC, 0, 1},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        int k = cases[ci].K;
        size_t m = (size_t)B * k;
        const int32_t *lb = cases[ci].lab ? (k == 1 ? bits : labels) : NULL;
        const float *tg = cases[ci].lab ? NULL : targets;
        float loss_r = 0, *dp_r = falloc(m);
        dnic_status sr = dnic_loss_forward_backward_ref(cases[ci].kind, &loss_r, dp_r, p, lb, tg,
                                                        B, k);
        for (int t = 0; t < 2; t++) {
            int th = thread_counts[t];
            dnic_set_num_threads(th);
            float loss = 0, *dp = falloc(m);
            dnic_status s = dnic_loss_forward_backward(cases[ci].kind, &loss, dp, p, lb, tg, B, k);
            const char *name = loss_name[cases[ci].kind];
            const char *how = cases[ci].lab ? "labels" : "targets";
            CHECK(s == DNIC_OK && sr == DNIC_OK, "%s %s %dx%d threads=%d: status %d, ref %d",
                  name, how, B, k, th, (int)s, (int)sr);
            CHECK_SAME(MSG("%s %s %dx%d loss threads=%d", name, how, B, k, th), &loss, &loss_r,
                       1, 1e-5);
            check_sum(MSG("%s %s %dx%d dp threads=%d", name, how, B, k, th), dp, dp_r, m, 1e-5);
            free(dp);
        }
        free(dp_r);
    }
    dnic_set_num_threads(1);
    free(p); free(targets); free(labels); free(bits);
}

int main(void) {
    /* every test starts at one thread (as they did in test_kernels, after
     * its thread test) */
    dnic_set_num_threads(1);
    HARNESS_FOR_EACH_ISA(level) {
        printf("loss at isa %s\n", dnic_isa_name((dnic_isa)level));
        test_loss_grad();
        loss_vs_ref(37, 7);
        loss_vs_ref(1000, 13);
        loss_vs_ref(256, 10);
        test_loss_edges();
        test_loss_precision();
    }
    /* runs no element-wise kernel of its own */
    test_count_correct();
    return harness_finish("loss");
}
