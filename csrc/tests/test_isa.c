/* test_isa.c — the instruction-set layer of dnic's own kernels:
 *   - names, parsing and dnic_set_isa_limit: bad values refused with a
 *     status code (the cap kept), a level above the CPU's capped, and
 *     dnic_get_isa reporting min(CPU, cap);
 *   - $DNIC_ISA, read once per process, so each case runs in a child
 *     process: each name caps, anything else is refused (env_status) and
 *     caps nothing;
 *   - a forced level really changes the code that runs (the dispatch picks
 *     that level's variant, and FMA changes exp's last bits);
 *   - determinism at every level: the same inputs twice give identical
 *     bytes, and so do 1 and 2 threads (work is split the same way at every
 *     level and reductions run in a fixed order), for every kernel and for
 *     whole training steps.
 * The kernels' accuracy at each level is tested against their _ref twins
 * in test_kernels and test_fused.
 */
#define _POSIX_C_SOURCE 200809L
#include "dnic.h"
#include "child.h"
#include "harness.h"

#include <string.h>

/* internal to libdnic (not in dnic.h); the static library exposes them */
void dnic__bias_act_forward(dnic_activation act, float *h, const float *b, int B, int C);
void dnic__act_backward_colsum(dnic_activation act, float *gz, float *db, const float *gh, const float *h,
                               int B, int C);
int dnic__update_checked(const dnic_optim_config *c, float *p, float *m, float *v, const float *g, size_t n,
                         float l2, int64_t t);
double dnic__sum_squares(const float *x, size_t n);
int dnic__isa_probe(void);

/* ------------------------------------------------------------------ API */

static void test_names_and_limit(void) {
    static const char *names[3] = {"baseline", "avx2", "avx512"};
    for (int l = 0; l < 3; l++) {
        dnic_isa got = (dnic_isa)99;
        CHECK(strcmp(dnic_isa_name((dnic_isa)l), names[l]) == 0, "dnic_isa_name(%d) = %s", l,
              dnic_isa_name((dnic_isa)l));
        CHECK(dnic_isa_from_name(names[l], &got) == DNIC_OK && (int)got == l, "from_name(%s) = %d", names[l],
              (int)got);
    }
    CHECK(strcmp(dnic_isa_name((dnic_isa)7), "unknown") == 0, "name of an unknown level");
    static const char *bad[] = {"", "AVX2", "avx512f", "sse2", "native", "avx2 ", "2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dnic_isa got = (dnic_isa)42;
        CHECK(dnic_isa_from_name(bad[i], &got) == DNIC_ERR_ARG && (int)got == 42,
              "from_name(\"%s\") must be DNIC_ERR_ARG and leave *out", bad[i]);
    }
    dnic_isa dummy;
    CHECK(dnic_isa_from_name(NULL, &dummy) == DNIC_ERR_NULL, "from_name(NULL)");
    CHECK(dnic_isa_from_name("avx2", NULL) == DNIC_ERR_NULL, "from_name(out NULL)");
    CHECK(dnic_isa_get_info(NULL) == DNIC_ERR_NULL, "get_info(NULL)");

    dnic_isa_info_t info;
    CHECK(dnic_isa_get_info(&info) == DNIC_OK, "get_info");
    printf("cpu isa %s, running %s, cap from %s\n", dnic_isa_name(info.cpu), dnic_isa_name(info.active),
           info.reason);
    int cpu = (int)info.cpu;
    CHECK(cpu >= DNIC_ISA_BASELINE && cpu <= DNIC_ISA_AVX512, "cpu level %d", cpu);
    for (int l = DNIC_ISA_BASELINE; l <= DNIC_ISA_AVX512; l++) {
        CHECK(dnic_set_isa_limit(l) == DNIC_OK, "set_isa_limit(%d)", l);
        int want = l < cpu ? l : cpu; /* above the CPU's: capped */
        CHECK((int)dnic_get_isa() == want, "limit %d on a %d CPU: get_isa %d, want %d", l, cpu,
              (int)dnic_get_isa(), want);
        dnic_isa_get_info(&info);
        CHECK((int)info.limit == l && (int)info.active == want && (int)info.cpu == cpu,
              "info after limit %d: limit %d active %d cpu %d", l, (int)info.limit, (int)info.active,
              (int)info.cpu);
        CHECK(strstr(info.reason, "dnic_set_isa_limit") != NULL, "reason after the call: %s", info.reason);
    }
    dnic_set_isa_limit(DNIC_ISA_AVX2);
    int before = (int)dnic_get_isa();
    static const int bad_levels[] = {-1, 3, 99, -2147483647 - 1};
    for (size_t i = 0; i < sizeof bad_levels / sizeof bad_levels[0]; i++) {
        CHECK(dnic_set_isa_limit(bad_levels[i]) == DNIC_ERR_ARG, "set_isa_limit(%d) must be DNIC_ERR_ARG",
              bad_levels[i]);
        dnic_isa_get_info(&info);
        CHECK((int)dnic_get_isa() == before && (int)info.limit == DNIC_ISA_AVX2,
              "a refused limit changed the level (%d -> %d)", before, (int)dnic_get_isa());
    }
    dnic_set_isa_limit(DNIC_ISA_AVX512);
    CHECK((int)dnic_get_isa() == cpu, "limit avx512 runs the CPU's level");
}

/* ------------------------------------------------------- $DNIC_ISA */

/* Child: print "active cpu limit env_status" for the given DNIC_ISA ("-" = unset). */
static int child(const char *value) {
    if (strcmp(value, "-") == 0) unsetenv("DNIC_ISA");
    else setenv("DNIC_ISA", value, 1);
    dnic_isa_info_t info;
    if (dnic_isa_get_info(&info) != DNIC_OK) return 3;
    if (dnic_get_isa() != info.active) return 4;
    printf("%d %d %d %d %s\n", (int)info.active, (int)info.cpu, (int)info.limit, (int)info.env_status,
           info.env[0] ? info.env : "-");
    return 0;
}

static void test_environment(const char *self) {
    struct {
        const char *value;
        int limit;      /* expected cap */
        int env_status; /* expected */
    } cases[] = {
        {"-", DNIC_ISA_AVX512, DNIC_OK},        {"", DNIC_ISA_AVX512, DNIC_OK},
        {"baseline", DNIC_ISA_BASELINE, DNIC_OK}, {"avx2", DNIC_ISA_AVX2, DNIC_OK},
        {"avx512", DNIC_ISA_AVX512, DNIC_OK},   {"avx-512", DNIC_ISA_AVX512, DNIC_ERR_ARG},
        {"AVX2", DNIC_ISA_AVX512, DNIC_ERR_ARG}, {"sse9", DNIC_ISA_AVX512, DNIC_ERR_ARG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256];
        int active, cpu, limit, env_status;
        char env[64];
        int rc = run_child(self, cases[i].value, out, sizeof out);
        CHECK(rc == 0, "child DNIC_ISA=%s exited %d", cases[i].value, rc);
        if (rc != 0) continue;
        if (sscanf(out, "%d %d %d %d %63s", &active, &cpu, &limit, &env_status, env) != 5) {
            CHECK(0, "unparsable child output for DNIC_ISA=%s: %s", cases[i].value, out);
            continue;
        }
        int want = cases[i].limit < cpu ? cases[i].limit : cpu;
        CHECK(limit == cases[i].limit && active == want && env_status == cases[i].env_status,
              "DNIC_ISA=\"%s\": limit %d active %d env_status %d, want %d %d %d", cases[i].value, limit, active,
              env_status, cases[i].limit, want, cases[i].env_status);
        if (cases[i].value[0] != '-' && cases[i].value[0])
            CHECK(strcmp(env, cases[i].value) == 0, "info.env \"%s\", want \"%s\"", env, cases[i].value);
    }
}

/* ------------------------------------------------ the level switches code */

/* The dispatch runs the variant compiled for the level in force; and that
 * variant really computes differently: exp (in sigmoid) fuses its
 * multiply-adds from AVX2 on, so some results change in the last bits. A
 * long sum stays accurate at every level. */
static void test_levels_differ(int cpu) {
    for (int l = DNIC_ISA_BASELINE; l <= DNIC_ISA_AVX512; l++) {
        dnic_set_isa_limit(l);
        int want = l < cpu ? l : cpu;
        CHECK(dnic__isa_probe() == want, "limit %s: the dispatch ran the %d variant, want %d",
              dnic_isa_name((dnic_isa)l), dnic__isa_probe(), want);
    }
    enum { N = 100003 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    uint64_t rng = 3;
    for (int i = 0; i < N; i++) x[i] = dnic_rng_normal(&rng) * 1.7f;
    double ss[3];
    float *sig[3] = {malloc(N * sizeof(float)), malloc(N * sizeof(float)), malloc(N * sizeof(float))};
    dnic_set_num_threads(1);
    for (int l = 0; l <= cpu; l++) {
        dnic_set_isa_limit(l);
        ss[l] = dnic__sum_squares(x, N);
        dnic_act_forward(DNIC_ACT_SIGMOID, sig[l], x, N);
    }
    for (int l = 1; l <= cpu; l++)
        CHECK(fabs(ss[l] - ss[0]) <= 1e-12 * ss[0], "sum of squares at %s off by %.3g",
              dnic_isa_name((dnic_isa)l), ss[l] - ss[0]);
    if (cpu >= DNIC_ISA_AVX2)
        CHECK(memcmp(sig[0], sig[1], N * sizeof(float)) != 0, "sigmoid identical at baseline and avx2 (no FMA?)");
    dnic_set_isa_limit(DNIC_ISA_AVX512);
    free(x); free(y); free(sig[0]); free(sig[1]); free(sig[2]);
}

/* -------------------------------------------------------- determinism */

/* Every output of every kernel on one input set, written into `out`
 * (which the caller compares byte for byte between runs). */
typedef struct {
    size_t n;
    float *data;
} outputs;

static float *take(outputs *o, size_t n) {
    float *p = o->data + o->n;
    o->n += n;
    return p;
}

enum { RB = 211, RC = 203, LK = 13, LB = 1000, NOPT = 100003 };

static void run_kernels(outputs *o) {
    size_t n = (size_t)RB * RC;
    uint64_t rng = 77;
    float *in = malloc(n * sizeof(float)), *g = malloc(n * sizeof(float)), *b = malloc(RC * sizeof(float));
    float *gamma = malloc(RC * sizeof(float)), *beta = malloc(RC * sizeof(float));
    for (size_t k = 0; k < n; k++) {
        in[k] = 2.0f * dnic_rng_normal(&rng);
        g[k] = dnic_rng_normal(&rng);
    }
    for (int c = 0; c < RC; c++) {
        b[c] = dnic_rng_normal(&rng);
        gamma[c] = 1.0f + 0.3f * dnic_rng_normal(&rng);
        beta[c] = 0.3f * dnic_rng_normal(&rng);
    }
    for (int a = 0; a < 4; a++) {
        float *h = take(o, n), *gz = take(o, n), *db = take(o, RC), *din = take(o, n), *f = take(o, n);
        memcpy(h, in, n * sizeof(float));
        dnic__bias_act_forward((dnic_activation)a, h, b, RB, RC);
        memset(db, 0, RC * sizeof(float));
        dnic__act_backward_colsum((dnic_activation)a, gz, db, g, h, RB, RC);
        dnic_act_forward((dnic_activation)a, f, in, n);
        memcpy(din, g, n * sizeof(float));
        dnic_act_backward((dnic_activation)a, din, g, f, n);
    }
    {
        float *out = take(o, n), *xhat = take(o, n), *mean = take(o, RC), *invstd = take(o, RC);
        float *rm = take(o, RC), *rv = take(o, RC), *ev = take(o, n), *din = take(o, n);
        float *dg = take(o, RC), *dbt = take(o, RC);
        for (int c = 0; c < RC; c++) rm[c] = 0.0f, rv[c] = 1.0f, dg[c] = dbt[c] = 0.0f;
        memset(din, 0, n * sizeof(float));
        dnic_batchnorm_forward_train(out, xhat, mean, invstd, rm, rv, in, gamma, beta, RB, RC, 0.1f, 1e-5f);
        dnic_batchnorm_forward_eval(ev, in, gamma, beta, rm, rv, RB, RC, 1e-5f);
        dnic_batchnorm_backward(din, dg, dbt, g, xhat, invstd, gamma, RB, RC);
    }
    {
        int32_t labels[LB];
        for (int r = 0; r < LB; r++) labels[r] = (int32_t)(dnic_rng_next(&rng) % LK);
        float *tg = malloc((size_t)LB * LK * sizeof(float));
        for (int k = 0; k < LB * LK; k++) tg[k] = dnic_rng_uniform(&rng);
        for (int kind = 0; kind < 3; kind++)
            for (int lab = 0; lab < 2; lab++) {
                float *loss = take(o, 1), *dp = take(o, (size_t)LB * LK);
                dnic_loss_forward_backward((dnic_loss)kind, loss, dp, in, lab ? labels : NULL, lab ? NULL : tg, LB,
                                           LK);
            }
        free(tg);
    }
    float *go = malloc((NOPT + 3) * sizeof(float));
    for (int k = 0; k < NOPT + 3; k++) go[k] = dnic_rng_normal(&rng);
    for (int kind = 0; kind < 3; kind++) {
        float *p = take(o, NOPT), *m = take(o, NOPT), *v = take(o, NOPT);
        dnic_optim_config c = dnic_optim_default((dnic_optimizer)kind);
        for (int k = 0; k < NOPT; k++) {
            p[k] = in[k % n];
            m[k] = 0.1f * go[k];
            v[k] = 0.01f * go[k] * go[k];
        }
        for (int t = 1; t <= 3; t++) dnic__update_checked(&c, p, m, v, go + t, NOPT, 1e-3f, t);
        dnic_adam_update(p, m, v, go, NOPT, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, 5);
        dnic_momentum_update(p, m, go, NOPT, 0.01f, 0.9f, 1e-4f);
        dnic_sgd_update(p, go, NOPT, 0.01f, 1e-4f);
    }
    free(go);
    double ss = dnic__sum_squares(in, n);
    memcpy(take(o, 2), &ss, sizeof ss);
    free(in); free(g); free(b); free(gamma); free(beta);
}

static size_t kernel_outputs(void) {
    size_t n = (size_t)RB * RC;
    return 4 * (4 * n + RC) + (4 * n + 6 * RC) + 6 * (1 + (size_t)LB * LK) + 9 * (size_t)NOPT + 2;
}

/* A few training steps of a net with batch norm, relu, tanh and sigmoid
 * layers, Adam and clipping; its parameters appended to o. */
static void run_training(outputs *o) {
    const dnic_layer_desc layers[] = {{67, DNIC_ACT_RELU, 1}, {45, DNIC_ACT_TANH, 0}, {33, DNIC_ACT_SIGMOID, 1},
                                      {7, DNIC_ACT_IDENTITY, 0}};
    dnic_net_desc d;
    dnic_net_desc_defaults(&d);
    d.input_dim = 29;
    d.n_layers = 4;
    d.layers = layers;
    d.max_batch = 200;
    dnic_net_t *net = NULL;
    CHECK(dnic_net_create(&net, &d, 9) == DNIC_OK, "net create");
    if (!net) return;
    dnic_optim_config c = dnic_optim_default(DNIC_OPT_ADAM);
    dnic_net_set_optimizer(net, 0, &c);
    dnic_net_set_grad_clip(net, 0.5f);
    float x[200 * 29];
    int32_t y[200];
    uint64_t rng = 5;
    for (int s = 0; s < 5; s++) {
        for (int i = 0; i < 200 * 29; i++) x[i] = dnic_rng_normal(&rng);
        for (int i = 0; i < 200; i++) y[i] = (int32_t)(dnic_rng_next(&rng) % 7);
        float loss;
        CHECK(dnic_net_train_step(net, x, y, NULL, 200, &loss) == DNIC_OK, "train step %d", s);
    }
    size_t np;
    const float *P = dnic_net_params(net, &np);
    memcpy(take(o, np), P, np * sizeof(float));
    dnic_net_free(net);
}

/* Runs 0 and 1 at one thread, 2 and 3 at two. dnic's own kernels split
 * their work the same way at every thread count, so their outputs must
 * match across thread counts too; whole training steps also run the GEMM
 * backend, which promises identical results only at one thread count. */
static void test_determinism(void) {
    size_t cap = kernel_outputs() + 100000;
    HARNESS_FOR_EACH_ISA(level) {
        outputs runs[4];
        const char *name = dnic_isa_name((dnic_isa)level);
        for (int r = 0; r < 4; r++) {
            runs[r].n = 0;
            runs[r].data = malloc(cap * sizeof(float));
            dnic_set_num_threads(r < 2 ? 1 : 2);
            run_kernels(&runs[r]);
            CHECK(runs[r].n == kernel_outputs(), "output count %zu, want %zu", runs[r].n, kernel_outputs());
            run_training(&runs[r]);
        }
        size_t nk = kernel_outputs() * sizeof(float);
        for (int r = 1; r < 4; r++)
            CHECK(memcmp(runs[0].data, runs[r].data, nk) == 0, "isa %s: kernels run %d (%d threads) differ from run 0",
                  name, r, r < 2 ? 1 : 2);
        for (int r = 1; r < 4; r += 2)
            CHECK(runs[r].n == runs[r - 1].n &&
                      memcmp(runs[r].data, runs[r - 1].data, runs[r].n * sizeof(float)) == 0,
                  "isa %s: two training runs at %d threads differ", name, r < 2 ? 1 : 2);
        for (int r = 0; r < 4; r++) free(runs[r].data);
    }
    dnic_set_num_threads(1);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--child") == 0) return child(argv[2]);
    dnic_isa_info_t info;
    dnic_isa_get_info(&info);
    int cpu = (int)info.cpu;
    test_names_and_limit();
    test_environment(argv[0]);
    test_levels_differ(cpu);
    test_determinism();
    return harness_finish("isa");
}
