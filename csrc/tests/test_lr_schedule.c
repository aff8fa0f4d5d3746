/* test_lr_schedule.c — learning-rate schedules: each kind's rate at chosen
 * steps against its formula written out here, bad schedules refused with
 * their statuses, and a network's Adam updates under a schedule equal, bit
 * for bit, the same updates with the rate set by hand each step.
 */
#include "harness.h"

#include <math.h>

static dnic_lr_schedule make(dnic_lr_kind kind, int64_t warmup, double min_rate, int64_t total) {
    dnic_lr_schedule s = dnic_lr_schedule_default();
    s.kind = kind;
    s.warmup = warmup;
    s.min_rate = min_rate;
    s.total_steps = total;
    return s;
}

static void check_rate(const char *what, const dnic_lr_schedule *s, int64_t step, double want) {
    float got = dnic_lr_schedule_rate(s, step, 0.1f);
    CHECK(fabs(got - want) <= 1e-7 * fabs(want) + 1e-12, "%s step %lld: %.9g, want %.9g", what, (long long)step,
          got, want);
}

static void test_rates_follow_their_formulas(void) {
    const double pi = 3.14159265358979323846, base = (double)0.1f;
    dnic_lr_schedule c = make(DNIC_LR_CONSTANT, 10, 0, 100);
    check_rate("warm-up", &c, 1, base / 10);
    check_rate("warm-up", &c, 4, base * 0.4);
    check_rate("warm-up", &c, 10, base);
    check_rate("constant", &c, 77, base);
    check_rate("step 0 counts as 1", &c, 0, base / 10);
    dnic_lr_schedule none = dnic_lr_schedule_default();
    CHECK(dnic_lr_schedule_rate(&none, 5, 0.1f) == 0.1f, "the default schedule is the base rate exactly");
    CHECK(dnic_lr_schedule_rate(NULL, 5, 0.3f) == 0.3f, "no schedule is the base rate exactly");

    dnic_lr_schedule st = make(DNIC_LR_STEP, 0, 0, 100);
    st.n_milestones = 2;
    st.milestones[0] = 30;
    st.milestones[1] = 60;
    st.gamma = 0.5;
    check_rate("step", &st, 30, base);
    check_rate("step", &st, 31, base / 2);
    check_rate("step", &st, 60, base / 2);
    check_rate("step", &st, 61, base / 4);
    /* a gamma of 0 rounds to 0: the smallest positive float instead */
    st.gamma = 0;
    CHECK(dnic_lr_schedule_rate(&st, 31, 0.1f) == 0x1p-149f, "a rate of 0 is the smallest float");

    /* cosine over steps 11..100 after a warm-up of 10, to 0.01: p = (t - 11) / 90 */
    dnic_lr_schedule co = make(DNIC_LR_COSINE, 10, 0.01, 100);
    check_rate("cosine warm-up", &co, 4, base * 0.4);
    check_rate("cosine", &co, 11, base);
    check_rate("cosine", &co, 56, 0.01 + (base - 0.01) * 0.5);
    check_rate("cosine", &co, 41, 0.01 + (base - 0.01) * (1 + cos(pi / 3)) / 2);
    check_rate("cosine", &co, 100, 0.01 + (base - 0.01) * (1 + cos(pi * 89 / 90)) / 2);
    check_rate("cosine after the run", &co, 500, 0.01);

    dnic_lr_schedule li = make(DNIC_LR_LINEAR, 0, 0.02, 100);
    check_rate("linear", &li, 1, base);
    check_rate("linear", &li, 26, 0.02 + (base - 0.02) * 0.75);
    check_rate("linear", &li, 100, 0.02 + (base - 0.02) * 0.01);
    li.min_rate = 0;
    CHECK(dnic_lr_schedule_rate(&li, 100, 0.1f) > 0.0f, "a decay to 0 never sets 0 within the run");
}

static void test_bad_schedules_are_refused(void) {
    EXPECT(dnic_lr_schedule_validate(NULL), DNIC_ERR_NULL);
    dnic_lr_schedule ok = dnic_lr_schedule_default();
    EXPECT(dnic_lr_schedule_validate(&ok), DNIC_OK);
    dnic_lr_schedule s;
    s = ok; s.kind = (dnic_lr_kind)7;                 EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s = ok; s.warmup = -1;                            EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s = ok; s.warmup = 21; s.total_steps = 20;        EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s = ok; s.kind = DNIC_LR_STEP;                    EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s = ok; s.n_milestones = 1; s.milestones[0] = 5;  EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s = ok; s.kind = DNIC_LR_STEP; s.n_milestones = 2; s.milestones[0] = 5; s.milestones[1] = 3;
    EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s.milestones[1] = 5;                              EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s.milestones[1] = 6;                              EXPECT(dnic_lr_schedule_validate(&s), DNIC_OK);
    s.milestones[0] = 0;                              EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s.milestones[0] = 5; s.gamma = -1;                EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s.gamma = NAN;                                    EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s.gamma = 0.1; s.n_milestones = DNIC_LR_MAX_MILESTONES + 1; EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s = make(DNIC_LR_COSINE, 0, 0, 0);                EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s = make(DNIC_LR_COSINE, 0, -0.5, 10);            EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    s = make(DNIC_LR_LINEAR, 0, INFINITY, 10);        EXPECT(dnic_lr_schedule_validate(&s), DNIC_ERR_ARG);
    /* the setters validate too, and leave the old schedule */
    dnic_layer_desc layers[2] = {{6, DNIC_ACT_RELU, 0}, {3, DNIC_ACT_IDENTITY, 0}};
    dnic_net_desc d;
    dnic_net_desc_defaults(&d);
    d.input_dim = 4; d.n_layers = 2; d.layers = layers; d.max_batch = 8;
    dnic_net_t *net = NULL;
    if (dnic_net_create(&net, &d, 5) != DNIC_OK) { CHECK(0, "network"); return; }
    s = make(DNIC_LR_COSINE, 0, 0, 0);
    EXPECT(dnic_net_set_lr_schedule(net, 0, &s), DNIC_ERR_ARG);
    EXPECT(dnic_net_set_lr_schedule(net, 99, NULL), DNIC_ERR_ARG);
    EXPECT(dnic_net_set_lr_schedule(NULL, 0, NULL), DNIC_ERR_NULL);
    EXPECT(dnic_net_set_lr_schedule(net, 0, NULL), DNIC_OK);
    EXPECT(dnic_iface_set_lr_schedule(NULL, NULL), DNIC_ERR_NULL);
    EXPECT(dnic_dni_set_iface_lr_schedule(NULL, NULL), DNIC_ERR_NULL);
    dnic_net_free(net);
}

/* Two equal networks trained with Adam on the same batches: one under a
 * warm-up + step schedule, the other with its rate set by hand to the
 * formula's each step (float arithmetic in double, rounded once). */
static void test_scheduled_adam_equals_rate_by_hand(void) {
    enum { B = 8, IN = 4, STEPS = 12 };
    dnic_layer_desc layers[3] = {{6, DNIC_ACT_RELU, 0}, {5, DNIC_ACT_TANH, 0}, {3, DNIC_ACT_IDENTITY, 0}};
    dnic_net_desc d;
    dnic_net_desc_defaults(&d);
    d.input_dim = IN; d.n_layers = 3; d.layers = layers; d.max_batch = B;
    dnic_net_t *a = NULL, *b = NULL;
    if (dnic_net_create(&a, &d, 9) != DNIC_OK || dnic_net_create(&b, &d, 9) != DNIC_OK) {
        CHECK(0, "networks");
        return;
    }
    dnic_optim_config adam = dnic_optim_default(DNIC_OPT_ADAM);
    adam.lr = 0.01f;
    EXPECT(dnic_net_set_optimizer(a, 0, &adam), DNIC_OK);
    dnic_lr_schedule s = make(DNIC_LR_STEP, 4, 0, STEPS);
    s.n_milestones = 2; s.milestones[0] = 6; s.milestones[1] = 9; s.gamma = 0.3;
    EXPECT(dnic_net_set_lr_schedule(a, 0, &s), DNIC_OK);
    float x[B * IN];
    int32_t y[B];
    int moved_differently = 0;
    for (int t = 1; t <= STEPS; t++) {
        fill(x, B * IN, -1, 1);
        fill_labels(y, B, 3);
        double want = t <= 4 ? 0.01f * (double)t / 4 : 0.01f * pow(0.3, (t > 6) + (t > 9));
        dnic_optim_config by_hand = adam;
        by_hand.lr = (float)want;
        EXPECT(dnic_net_set_optimizer(b, 0, &by_hand), DNIC_OK);
        float la, lb;
        EXPECT(dnic_net_train_step(a, x, y, NULL, B, &la), DNIC_OK);
        EXPECT(dnic_net_train_step(b, x, y, NULL, B, &lb), DNIC_OK);
        moved_differently += want != 0.01f;
    }
    size_t n = 0;
    dnic_net_params(a, &n);
    float *pa = falloc(n), *pb = falloc(n);
    EXPECT(dnic_net_get_params(a, pa, n), DNIC_OK);
    EXPECT(dnic_net_get_params(b, pb, n), DNIC_OK);
    CHECK(memcmp(pa, pb, n * sizeof *pa) == 0, "scheduled Adam equals the rate set by hand, bit for bit");
    CHECK(moved_differently >= 8, "the schedule moved the rate");
    free(pa); free(pb);
    dnic_net_free(a);
    dnic_net_free(b);
}

/* An interface (linear, and an mlp whose predictor network counts the
 * same updates) under a cosine schedule with warm-up, over its own update
 * count, equals one with its rate set by hand; a bad schedule is refused. */
static void test_interface_schedule_equals_rate_by_hand(void) {
    enum { DH = 5, STEPS = 9 };
    int widths[1] = {4};
    for (int mlp = 0; mlp < 2; mlp++) {
        dnic_iface_desc d;
        dnic_iface_desc_defaults(&d, 0);
        if (mlp) {
            d.kind = DNIC_IFACE_MLP;
            d.mlp_layers = 1;
            d.mlp_widths = widths;
        }
        dnic_iface_t *a = NULL, *b = NULL;
        if (dnic_iface_create(&a, &d, DH, DH, 3, 4, 0.25f, 7) != DNIC_OK ||
            dnic_iface_create(&b, &d, DH, DH, 3, 4, 0.25f, 7) != DNIC_OK) {
            CHECK(0, "interfaces (mlp %d)", mlp);
            dnic_iface_free(a);
            return;
        }
        dnic_optim_config adam = dnic_optim_default(DNIC_OPT_ADAM);
        adam.lr = 0.02f;
        EXPECT(dnic_iface_set_optimizer(a, &adam), DNIC_OK);
        dnic_lr_schedule s = make(DNIC_LR_COSINE, 3, 0.001, STEPS);
        EXPECT(dnic_iface_set_lr_schedule(a, &s), DNIC_OK);
        dnic_lr_schedule bad = make(DNIC_LR_LINEAR, 3, 0.001, 0);
        EXPECT(dnic_iface_set_lr_schedule(a, &bad), DNIC_ERR_ARG);
        size_t n = 0, nb = 0;
        float *ga = dnic_iface_grads(a, &n), *gb = dnic_iface_grads(b, &nb);
        CHECK(ga && gb && n == nb && n > 0, "gradients (mlp %d)", mlp);
        if (!ga || !gb || n != nb) break;
        for (int t = 1; t <= STEPS; t++) {
            fill(ga, n, -1, 1);
            memcpy(gb, ga, n * sizeof *ga);
            double p = (double)(t - 3 - 1) / (STEPS - 3);
            double want = t <= 3 ? 0.02f * (double)t / 3
                                 : 0.001 + (0.02f - 0.001) * (1 + cos(3.14159265358979323846 * p)) / 2;
            dnic_optim_config by_hand = adam;
            by_hand.lr = (float)want;
            EXPECT(dnic_iface_set_optimizer(b, &by_hand), DNIC_OK);
            EXPECT(dnic_iface_update(a), DNIC_OK);
            EXPECT(dnic_iface_update(b), DNIC_OK);
        }
        float *pa = dnic_iface_params(a, &n), *pb = dnic_iface_params(b, &nb);
        CHECK(pa && pb && n == nb && memcmp(pa, pb, n * sizeof *pa) == 0,
              "scheduled interface (mlp %d) equals the rate set by hand, bit for bit", mlp);
        dnic_iface_free(a);
        dnic_iface_free(b);
    }
}

int main(void) {
    dnic_set_num_threads(1);
    test_rates_follow_their_formulas();
    test_bad_schedules_are_refused();
    test_scheduled_adam_equals_rate_by_hand();
    test_interface_schedule_equals_rate_by_hand();
    return harness_finish("lr_schedule");
}
