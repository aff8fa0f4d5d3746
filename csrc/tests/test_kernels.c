/* test_kernels.c — every numerical kernel of dnic.h, proved three ways:
 *
 *   1. gradient checks: the library's float backward (and its _ref twin) is
 *      compared with central differences of an independent double-precision
 *      forward written here, never with the library's own forward;
 *   2. fast vs _ref: each threaded / BLAS kernel against its plain-loop twin
 *      at 1 and 2 threads, on awkward shapes and on a training-size shape;
 *   3. hand-computed values: optimizer steps, batch-norm running statistics,
 *      loss edge cases, rng / init statistics.
 *
 * The element-wise kernels (activations, batch norm, losses, optimizers)
 * go through all three at every instruction-set level the CPU runs.
 *
 * The network object is not tested here (test_net does that), nor whether an
 * OpenMP team really runs more than one thread (another test does that).
 */
#include "dnic.h"
#include "harness.h"

#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------ helpers */

/* Test data comes from a local xorshift64*, independent of dnic's rng, so a
 * broken library rng cannot hide a broken kernel. */
static uint64_t tstate = 0x9d2c5680a5b1c3e7ULL;

static double tr_u01(void) {
    tstate ^= tstate >> 12;
    tstate ^= tstate << 25;
    tstate ^= tstate >> 27;
    return (double)((tstate * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0);
}

static void fill(float *x, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * tr_u01());
}

/* |x| in [lo, hi] with a random sign: keeps relu inputs away from its kink. */
static void fill_away(float *x, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) {
        double m = lo + (hi - lo) * tr_u01();
        x[i] = (float)(tr_u01() < 0.5 ? -m : m);
    }
}

static void fill_const(float *x, size_t n, float c) {
    for (size_t i = 0; i < n; i++) x[i] = c;
}

static void fill_labels(int32_t *y, int B, int classes) {
    for (int i = 0; i < B; i++) y[i] = (int32_t)(tr_u01() * classes) % classes;
}

static float *falloc(size_t n) {
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

static double *dalloc(size_t n) {
    double *p = calloc(n ? n : 1, sizeof *p);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

static double *to_double(const float *f, size_t n) {
    double *d = dalloc(n);
    for (size_t i = 0; i < n; i++) d[i] = f[i];
    return d;
}

static float *fdup(const float *f, size_t n) {
    float *p = falloc(n);
    memcpy(p, f, n * sizeof *p);
    return p;
}

/* Message buffer for CHECK_* names built at run time. */
static char msgbuf[192];
#define MSG(...) (snprintf(msgbuf, sizeof msgbuf, __VA_ARGS__), msgbuf)

/* Fast vs _ref for kernels that sum many products (sgemm, dense, batch
 * norm, losses): BLAS blocks and rounds differently from a double loop, so
 * an element that cancels to near zero can differ by more than rtol times
 * itself. The absolute floor is therefore rtol/10 of the largest |ref|. */
static void check_sum(const char *what, const float *fast, const float *ref, size_t n,
                      double rtol) {
    double *want = to_double(ref, n), big = 0;
    for (size_t i = 0; i < n; i++) big = fmax(big, fabs(want[i]));
    CHECK_CLOSE(what, fast, want, n, 1e-6 + 0.1 * rtol * big, rtol);
    free(want);
}

/* Central differences of f() with respect to every x[i], in double. x is
 * perturbed in place and restored; the step is divided by the difference
 * actually taken, not by 2h, so rounding of x +- h does not bias it. */
typedef double (*objective_fn)(const void *ctx);

static void fd_grad(double *grad, double *x, size_t n, objective_fn f, const void *ctx) {
    for (size_t i = 0; i < n; i++) {
        double save = x[i], h = 1e-6 * fmax(1.0, fabs(save));
        double xp = save + h, xm = save - h;
        x[i] = xp;
        double fp = f(ctx);
        x[i] = xm;
        double fm = f(ctx);
        x[i] = save;
        grad[i] = (fp - fm) / (xp - xm);
    }
}

static void add_const(double *d, size_t n, double c) {
    for (size_t i = 0; i < n; i++) d[i] += c;
}

static const int thread_counts[2] = {1, 2};

/* ------------------------------------------------------------------ threads */

static void test_threads(void) {
    CHECK(dnic_set_num_threads(0) == DNIC_ERR_SIZE, "set_num_threads(0) is DNIC_ERR_SIZE");
    CHECK(dnic_set_num_threads(-3) == DNIC_ERR_SIZE, "set_num_threads(-3) is DNIC_ERR_SIZE");
    CHECK(dnic_set_num_threads(2) == DNIC_OK, "set_num_threads(2)");
    int want = dnic_has_openmp() ? 2 : 1;
    CHECK(dnic_get_num_threads() == want, "get_num_threads after set(2): %d, want %d",
          dnic_get_num_threads(), want);
    CHECK(dnic_set_num_threads(1) == DNIC_OK, "set_num_threads(1)");
    CHECK(dnic_get_num_threads() == 1, "get_num_threads after set(1): %d",
          dnic_get_num_threads());
}

/* ------------------------------------------------------------------- sgemm */

/* C = alpha op(A) op(B) + beta C in double, written out element by element. */
static void sgemm_d(int ta, int tb, int M, int N, int K, double alpha, const float *A, int lda,
                    const float *B, int ldb, double beta, const float *C0, double *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
            }
            C[(size_t)i * ldc + j] = alpha * s + beta * C0[(size_t)i * ldc + j];
        }
}

/* One shape, all four transpose combinations, two (alpha, beta) pairs.
 * Leading dimensions are padded beyond the columns; C's padding holds a
 * sentinel that must survive. check_ref also proves dnic_sgemm_ref itself
 * against the double loop above (skipped on the big shape to save time). */
static void sgemm_case(int M, int N, int K, int pad, int check_ref) {
    static const float ab[2][2] = {{0.75f, -0.5f}, {1.0f, 0.0f}};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int s = 0; s < 2; s++) {
                float alpha = ab[s][0], beta = ab[s][1];
                int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
                size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
                size_t nc = (size_t)M * ldc;
                float *A = falloc(na), *Bm = falloc(nb), *C0 = falloc(nc);
                fill(A, na, -1, 1);
                fill(Bm, nb, -1, 1);
                fill(C0, nc, -1, 1);
                for (int i = 0; i < M; i++)
                    for (int j = N; j < ldc; j++) C0[(size_t)i * ldc + j] = 12345.0f;
                float *Cref = fdup(C0, nc);
                dnic_sgemm_ref(ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, Cref, ldc);
                if (check_ref) {
                    double *Cd = dalloc(nc);
                    for (size_t i = 0; i < nc; i++) Cd[i] = C0[i]; /* padding stays */
                    sgemm_d(ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, C0, Cd, ldc);
                    CHECK_CLOSE(MSG("sgemm_ref vs double ta=%d tb=%d %dx%dx%d a=%g b=%g", ta, tb,
                                    M, N, K, alpha, beta),
                                Cref, Cd, nc, 1e-5, 1e-5);
                    free(Cd);
                }
                for (int t = 0; t < 2; t++) {
                    dnic_set_num_threads(thread_counts[t]);
                    float *C = fdup(C0, nc);
                    dnic_sgemm(ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, C, ldc);
                    check_sum(MSG("sgemm ta=%d tb=%d %dx%dx%d a=%g b=%g threads=%d", ta, tb, M, N,
                                  K, alpha, beta, thread_counts[t]),
                              C, Cref, nc, 1e-4);
                    int pad_ok = 1;
                    for (int i = 0; i < M; i++)
                        for (int j = N; j < ldc; j++)
                            if (C[(size_t)i * ldc + j] != 12345.0f) pad_ok = 0;
                    CHECK(pad_ok, "sgemm ta=%d tb=%d wrote past N into ldc padding", ta, tb);
                    free(C);
                }
                free(A); free(Bm); free(C0); free(Cref);
            }
}

static void test_sgemm(void) {
    sgemm_case(37, 29, 53, 3, 1);
    sgemm_case(1, 1, 1, 0, 1);     /* degenerate sizes still go through BLAS */
    sgemm_case(1, 17, 9, 2, 1);    /* a row vector times a matrix */
    sgemm_case(256, 256, 784, 0, 0);
    dnic_set_num_threads(1);
}

/* ------------------------------------------------------------------- dense */

typedef struct {
    double *in, *W, *b, *R;
    int B, I, O;
} dense_ctx;

static void dense_fwd_d(double *out, const dense_ctx *c) {
    for (int r = 0; r < c->B; r++)
        for (int o = 0; o < c->O; o++) {
            double a = c->b ? c->b[o] : 0;
            for (int i = 0; i < c->I; i++) a += c->in[r * c->I + i] * c->W[i * c->O + o];
            out[r * c->O + o] = a;
        }
}

static double dense_obj(const void *vc) {
    const dense_ctx *c = vc;
    double *out = dalloc((size_t)c->B * c->O), s = 0;
    dense_fwd_d(out, c);
    for (int i = 0; i < c->B * c->O; i++) s += out[i] * c->R[i];
    free(out);
    return s;
}

static void test_dense_grad(void) {
    enum { B = 4, I = 5, O = 3 };
    float in[B * I], W[I * O], b[O], R[B * O], out[B * O];
    fill(in, B * I, -1, 1);
    fill(W, I * O, -1, 1);
    fill(b, O, -1, 1);
    fill(R, B * O, -1, 1);
    dense_ctx c = {to_double(in, B * I), to_double(W, I * O), to_double(b, O),
                   to_double(R, B * O), B, I, O};
    double want_out[B * O];

    for (int useref = 0; useref < 2; useref++) {
        const char *tag = useref ? " (ref)" : "";
        dense_ctx cn = c;
        /* forward, with and without bias */
        dense_fwd_d(want_out, &c);
        (useref ? dnic_dense_forward_ref : dnic_dense_forward)(out, in, W, b, B, I, O);
        CHECK_CLOSE(MSG("dense forward%s", tag), out, want_out, B * O, 1e-6, 1e-5);
        cn.b = NULL;
        dense_fwd_d(want_out, &cn);
        (useref ? dnic_dense_forward_ref : dnic_dense_forward)(out, in, W, NULL, B, I, O);
        CHECK_CLOSE(MSG("dense forward no bias%s", tag), out, want_out, B * O, 1e-6, 1e-5);

        /* backward accumulates onto known nonzero contents */
        float din[B * I], dW[I * O], db[O];
        fill_const(din, B * I, 0.25f);
        fill_const(dW, I * O, -0.5f);
        fill_const(db, O, 1.0f);
        (useref ? dnic_dense_backward_ref : dnic_dense_backward)(din, dW, db, R, in, W, B, I, O);
        double gin[B * I], gW[I * O], gb[O];
        fd_grad(gin, c.in, B * I, dense_obj, &c);
        fd_grad(gW, c.W, I * O, dense_obj, &c);
        fd_grad(gb, c.b, O, dense_obj, &c);
        add_const(gin, B * I, 0.25);
        add_const(gW, I * O, -0.5);
        add_const(gb, O, 1.0);
        CHECK_CLOSE(MSG("dense din%s", tag), din, gin, B * I, 1e-5, 1e-4);
        CHECK_CLOSE(MSG("dense dW%s", tag), dW, gW, I * O, 1e-5, 1e-4);
        CHECK_CLOSE(MSG("dense db%s", tag), db, gb, O, 1e-5, 1e-4);

        /* each output may be NULL: only dW asked for */
        float dW2[I * O];
        fill_const(dW2, I * O, 0.0f);
        (useref ? dnic_dense_backward_ref : dnic_dense_backward)(NULL, dW2, NULL, R, in, W, B,
                                                                 I, O);
        add_const(gW, I * O, 0.5);
        CHECK_CLOSE(MSG("dense dW alone%s", tag), dW2, gW, I * O, 1e-5, 1e-4);
    }
    free(c.in); free(c.W); free(c.b); free(c.R);
}

static void dense_vs_ref(int B, int I, int O) {
    size_t nin = (size_t)B * I, nw = (size_t)I * O, nout = (size_t)B * O;
    float *in = falloc(nin), *W = falloc(nw), *b = falloc(O), *dout = falloc(nout);
    fill(in, nin, -1, 1);
    fill(W, nw, -0.2, 0.2);
    fill(b, O, -1, 1);
    fill(dout, nout, -1, 1);

    float *out_ref = falloc(nout), *out_nb_ref = falloc(nout);
    dnic_dense_forward_ref(out_ref, in, W, b, B, I, O);
    dnic_dense_forward_ref(out_nb_ref, in, W, NULL, B, I, O);
    /* gradients start from a nonzero pattern so accumulation is compared too */
    float *din_ref = falloc(nin), *dW_ref = falloc(nw), *db_ref = falloc(O);
    fill_const(din_ref, nin, 0.5f);
    fill_const(dW_ref, nw, -0.25f);
    fill_const(db_ref, O, 2.0f);
    dnic_dense_backward_ref(din_ref, dW_ref, db_ref, dout, in, W, B, I, O);

    for (int t = 0; t < 2; t++) {
        int th = thread_counts[t];
        dnic_set_num_threads(th);
        float *out = falloc(nout);
        dnic_dense_forward(out, in, W, b, B, I, O);
        check_sum(MSG("dense forward %dx%d->%d threads=%d", B, I, O, th), out, out_ref, nout,
                  1e-4);
        dnic_dense_forward(out, in, W, NULL, B, I, O);
        check_sum(MSG("dense forward no bias %dx%d->%d threads=%d", B, I, O, th), out,
                  out_nb_ref, nout, 1e-4);
        float *din = falloc(nin), *dW = falloc(nw), *db = falloc(O);
        fill_const(din, nin, 0.5f);
        fill_const(dW, nw, -0.25f);
        fill_const(db, O, 2.0f);
        dnic_dense_backward(din, dW, db, dout, in, W, B, I, O);
        check_sum(MSG("dense din %dx%d->%d threads=%d", B, I, O, th), din, din_ref, nin, 1e-4);
        check_sum(MSG("dense dW %dx%d->%d threads=%d", B, I, O, th), dW, dW_ref, nw, 1e-4);
        check_sum(MSG("dense db %dx%d->%d threads=%d", B, I, O, th), db, db_ref, O, 1e-4);
        free(out); free(din); free(dW); free(db);
    }
    dnic_set_num_threads(1);
    free(in); free(W); free(b); free(dout); free(out_ref); free(out_nb_ref);
    free(din_ref); free(dW_ref); free(db_ref);
}

/* -------------------------------------------------------------- activation */

static const char *act_name[4] = {"identity", "relu", "sigmoid", "tanh"};

static double act_d(dnic_activation a, double x) {
    switch (a) {
    case DNIC_ACT_RELU: return x > 0 ? x : 0;
    case DNIC_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case DNIC_ACT_TANH: return tanh(x);
    default: return x;
    }
}

typedef struct {
    dnic_activation act;
    double *x, *R;
    size_t n;
} act_ctx;

static double act_obj(const void *vc) {
    const act_ctx *c = vc;
    double s = 0;
    for (size_t i = 0; i < c->n; i++) s += act_d(c->act, c->x[i]) * c->R[i];
    return s;
}

static void test_act_grad(void) {
    enum { N = 24 };
    for (int a = 0; a < 4; a++) {
        dnic_activation act = (dnic_activation)a;
        float x[N], R[N];
        if (act == DNIC_ACT_RELU) fill_away(x, N, 0.05, 2.0);
        else fill(x, N, -3, 3);
        fill(R, N, -1, 1);
        act_ctx c = {act, to_double(x, N), to_double(R, N), N};
        double want[N], g[N];
        for (int i = 0; i < N; i++) want[i] = act_d(act, c.x[i]);
        fd_grad(g, c.x, N, act_obj, &c);
        add_const(g, N, 0.5);
        for (int useref = 0; useref < 2; useref++) {
            const char *tag = useref ? " (ref)" : "";
            float out[N], inplace[N], din[N];
            (useref ? dnic_act_forward_ref : dnic_act_forward)(act, out, x, N);
            CHECK_CLOSE(MSG("%s forward%s", act_name[a], tag), out, want, N, 1e-6, 1e-5);
            memcpy(inplace, x, sizeof inplace);
            (useref ? dnic_act_forward_ref : dnic_act_forward)(act, inplace, inplace, N);
            CHECK_SAME(MSG("%s forward in place%s", act_name[a], tag), inplace, out, N, 0.0);
            fill_const(din, N, 0.5f);
            (useref ? dnic_act_backward_ref : dnic_act_backward)(act, din, R, out, N);
            CHECK_CLOSE(MSG("%s din%s", act_name[a], tag), din, g, N, 1e-5, 1e-4);
        }
        free(c.x); free(c.R);
    }
}

static void act_vs_ref(size_t n) {
    float *x = falloc(n), *dout = falloc(n);
    fill(x, n, -4, 4);
    fill(dout, n, -1, 1);
    for (int a = 0; a < 4; a++) {
        dnic_activation act = (dnic_activation)a;
        float *out_ref = falloc(n), *din_ref = falloc(n);
        dnic_act_forward_ref(act, out_ref, x, n);
        fill_const(din_ref, n, 0.5f);
        dnic_act_backward_ref(act, din_ref, dout, out_ref, n);
        for (int t = 0; t < 2; t++) {
            dnic_set_num_threads(thread_counts[t]);
            float *out = falloc(n), *din = falloc(n);
            dnic_act_forward(act, out, x, n);
            CHECK_SAME(MSG("%s forward n=%zu threads=%d", act_name[a], n, thread_counts[t]), out,
                       out_ref, n, 1e-6);
            fill_const(din, n, 0.5f);
            dnic_act_backward(act, din, dout, out_ref, n);
            CHECK_SAME(MSG("%s backward n=%zu threads=%d", act_name[a], n, thread_counts[t]),
                       din, din_ref, n, 1e-6);
            free(out); free(din);
        }
        free(out_ref); free(din_ref);
    }
    dnic_set_num_threads(1);
    free(x); free(dout);
}

/* -------------------------------------------------------------- batch norm */

typedef struct {
    double *in, *gamma, *beta, *R;
    int B, C;
    double eps;
} bn_ctx;

/* Textbook training-mode batch norm in double: biased batch variance. */
static void bn_fwd_d(double *out, double *xhat, double *mean, double *var, const bn_ctx *c) {
    for (int j = 0; j < c->C; j++) {
        double m = 0, v = 0;
        for (int r = 0; r < c->B; r++) m += c->in[r * c->C + j];
        m /= c->B;
        for (int r = 0; r < c->B; r++) {
            double d = c->in[r * c->C + j] - m;
            v += d * d;
        }
        v /= c->B;
        double is = 1.0 / sqrt(v + c->eps);
        for (int r = 0; r < c->B; r++) {
            double xh = (c->in[r * c->C + j] - m) * is;
            if (xhat) xhat[r * c->C + j] = xh;
            out[r * c->C + j] = c->gamma[j] * xh + c->beta[j];
        }
        if (mean) mean[j] = m;
        if (var) var[j] = v;
    }
}

static double bn_obj(const void *vc) {
    const bn_ctx *c = vc;
    size_t n = (size_t)c->B * c->C;
    double *out = dalloc(n), s = 0;
    bn_fwd_d(out, NULL, NULL, NULL, c);
    for (size_t i = 0; i < n; i++) s += out[i] * c->R[i];
    free(out);
    return s;
}

static void bn_grad_case(int B, int C) {
    size_t n = (size_t)B * C;
    const float eps = 1e-5f, mom = 0.1f;
    float *in = falloc(n), *R = falloc(n), *gamma = falloc(C), *beta = falloc(C);
    fill(in, n, -1, 1);
    for (size_t i = 0; i < n; i++) in[i] += (float)(i % C) - 1.0f; /* channel offsets */
    fill(R, n, -1, 1);
    fill(gamma, C, 0.5, 1.5);
    fill(beta, C, -0.5, 0.5);
    bn_ctx c = {to_double(in, n), to_double(gamma, C), to_double(beta, C), to_double(R, n), B, C,
                (double)eps};
    double *out_d = dalloc(n), *xhat_d = dalloc(n), *mean_d = dalloc(C), *var_d = dalloc(C);
    double *invstd_d = dalloc(C), *rm_d = dalloc(C), *rv_d = dalloc(C);
    bn_fwd_d(out_d, xhat_d, mean_d, var_d, &c);
    for (int j = 0; j < C; j++) {
        invstd_d[j] = 1.0 / sqrt(var_d[j] + c.eps);
        /* running statistics start at 0.1 j and 1 + 0.2 j; unbiased variance */
        rm_d[j] = (1 - (double)mom) * (0.1f * j) + (double)mom * mean_d[j];
        rv_d[j] = (1 - (double)mom) * (1.0f + 0.2f * j) + (double)mom * var_d[j] * B / (B - 1);
    }
    double *gin = dalloc(n), *ggamma = dalloc(C), *gbeta = dalloc(C);
    fd_grad(gin, c.in, n, bn_obj, &c);
    fd_grad(ggamma, c.gamma, C, bn_obj, &c);
    fd_grad(gbeta, c.beta, C, bn_obj, &c);
    add_const(gin, n, 0.3);
    add_const(ggamma, C, -0.2);
    add_const(gbeta, C, 0.7);

    for (int useref = 0; useref < 2; useref++) {
        const char *tag = useref ? " (ref)" : "";
        float *out = falloc(n), *xhat = falloc(n), *mean = falloc(C), *invstd = falloc(C);
        float *rm = falloc(C), *rv = falloc(C);
        for (int j = 0; j < C; j++) {
            rm[j] = 0.1f * j;
            rv[j] = 1.0f + 0.2f * j;
        }
        (useref ? dnic_batchnorm_forward_train_ref : dnic_batchnorm_forward_train)(
            out, xhat, mean, invstd, rm, rv, in, gamma, beta, B, C, mom, eps);
        CHECK_CLOSE(MSG("bn train out B=%d C=%d%s", B, C, tag), out, out_d, n, 1e-5, 1e-4);
        CHECK_CLOSE(MSG("bn train xhat B=%d C=%d%s", B, C, tag), xhat, xhat_d, n, 1e-5, 1e-4);
        CHECK_CLOSE(MSG("bn train mean B=%d C=%d%s", B, C, tag), mean, mean_d, C, 1e-6, 1e-5);
        CHECK_CLOSE(MSG("bn train invstd B=%d C=%d%s", B, C, tag), invstd, invstd_d, C, 1e-6,
                    1e-4);
        CHECK_CLOSE(MSG("bn running mean B=%d C=%d%s", B, C, tag), rm, rm_d, C, 1e-6, 1e-5);
        CHECK_CLOSE(MSG("bn running var (unbiased) B=%d C=%d%s", B, C, tag), rv, rv_d, C, 1e-6,
                    1e-5);

        float *din = falloc(n), *dgamma = falloc(C), *dbeta = falloc(C);
        fill_const(din, n, 0.3f);
        fill_const(dgamma, C, -0.2f);
        fill_const(dbeta, C, 0.7f);
        (useref ? dnic_batchnorm_backward_ref : dnic_batchnorm_backward)(
            din, dgamma, dbeta, R, xhat, invstd, gamma, B, C);
        CHECK_CLOSE(MSG("bn din B=%d C=%d%s", B, C, tag), din, gin, n, 1e-4, 1e-3);
        CHECK_CLOSE(MSG("bn dgamma B=%d C=%d%s", B, C, tag), dgamma, ggamma, C, 1e-4, 1e-3);
        CHECK_CLOSE(MSG("bn dbeta B=%d C=%d%s", B, C, tag), dbeta, gbeta, C, 1e-4, 1e-3);

        /* NULL outputs: din alone, and forward without running statistics */
        float *din2 = falloc(n), *out2 = falloc(n);
        fill_const(din2, n, 0.3f);
        (useref ? dnic_batchnorm_backward_ref : dnic_batchnorm_backward)(
            din2, NULL, NULL, R, xhat, invstd, gamma, B, C);
        CHECK_CLOSE(MSG("bn din alone B=%d C=%d%s", B, C, tag), din2, gin, n, 1e-4, 1e-3);
        (useref ? dnic_batchnorm_forward_train_ref : dnic_batchnorm_forward_train)(
            out2, xhat, mean, invstd, NULL, NULL, in, gamma, beta, B, C, mom, eps);
        CHECK_CLOSE(MSG("bn train out, no running stats B=%d C=%d%s", B, C, tag), out2, out_d,
                    n, 1e-5, 1e-4);
        free(out); free(xhat); free(mean); free(invstd); free(rm); free(rv);
        free(din); free(dgamma); free(dbeta); free(din2); free(out2);
    }
    free(in); free(R); free(gamma); free(beta);
    free(c.in); free(c.gamma); free(c.beta); free(c.R);
    free(out_d); free(xhat_d); free(mean_d); free(var_d); free(invstd_d); free(rm_d); free(rv_d);
    free(gin); free(ggamma); free(gbeta);
}

/* Eval mode against its formula, and training with a batch of one. */
static void test_bn_eval(void) {
    enum { B = 5, C = 3 };
    const float eps = 1e-5f;
    float in[B * C], gamma[C], beta[C], rm[C], rv[C], out[B * C];
    fill(in, B * C, -2, 2);
    fill(gamma, C, 0.5, 1.5);
    fill(beta, C, -0.5, 0.5);
    fill(rm, C, -1, 1);
    fill(rv, C, 0.2, 3);
    double want[B * C];
    for (int r = 0; r < B; r++)
        for (int j = 0; j < C; j++)
            want[r * C + j] = (double)gamma[j] * ((double)in[r * C + j] - rm[j]) /
                                  sqrt((double)rv[j] + (double)eps) +
                              beta[j];
    dnic_batchnorm_forward_eval(out, in, gamma, beta, rm, rv, B, C, eps);
    CHECK_CLOSE("bn eval vs formula", out, want, B * C, 1e-6, 1e-5);
    dnic_batchnorm_forward_eval_ref(out, in, gamma, beta, rm, rv, B, C, eps);
    CHECK_CLOSE("bn eval vs formula (ref)", out, want, B * C, 1e-6, 1e-5);

    /* B = 1: the batch is its own mean, so xhat = 0 and out = beta. */
    float one_out[C], one_xhat[C], one_mean[C], one_invstd[C];
    dnic_batchnorm_forward_train(one_out, one_xhat, one_mean, one_invstd, NULL, NULL, in, gamma,
                                 beta, 1, C, 0.1f, eps);
    double wbeta[C], wzero[C] = {0, 0, 0};
    for (int j = 0; j < C; j++) wbeta[j] = beta[j];
    CHECK_CLOSE("bn train B=1 out = beta", one_out, wbeta, C, 1e-6, 1e-6);
    CHECK_CLOSE("bn train B=1 xhat = 0", one_xhat, wzero, C, 1e-6, 0);
}

static void bn_vs_ref(int B, int C) {
    size_t n = (size_t)B * C;
    const float eps = 1e-5f, mom = 0.1f;
    float *in = falloc(n), *gamma = falloc(C), *beta = falloc(C), *dout = falloc(n);
    float *rm0 = falloc(C), *rv0 = falloc(C);
    fill(in, n, -1, 1);
    for (size_t i = 0; i < n; i++) in[i] += (float)((i % C) % 5) - 2.0f;
    fill(gamma, C, 0.5, 1.5);
    fill(beta, C, -0.5, 0.5);
    fill(dout, n, -1, 1);
    fill(rm0, C, -1, 1);
    fill(rv0, C, 0.5, 2);

    float *out_r = falloc(n), *xhat_r = falloc(n), *mean_r = falloc(C), *invstd_r = falloc(C);
    float *rm_r = fdup(rm0, C), *rv_r = fdup(rv0, C), *eval_r = falloc(n);
    float *din_r = falloc(n), *dg_r = falloc(C), *db_r = falloc(C);
    dnic_batchnorm_forward_train_ref(out_r, xhat_r, mean_r, invstd_r, rm_r, rv_r, in, gamma, beta,
                                     B, C, mom, eps);
    dnic_batchnorm_forward_eval_ref(eval_r, in, gamma, beta, rm_r, rv_r, B, C, eps);
    fill_const(din_r, n, 0.5f);
    fill_const(dg_r, C, -1.0f);
    fill_const(db_r, C, 1.0f);
    dnic_batchnorm_backward_ref(din_r, dg_r, db_r, dout, xhat_r, invstd_r, gamma, B, C);

    for (int t = 0; t < 2; t++) {
        int th = thread_counts[t];
        dnic_set_num_threads(th);
        float *out = falloc(n), *xhat = falloc(n), *mean = falloc(C), *invstd = falloc(C);
        float *rm = fdup(rm0, C), *rv = fdup(rv0, C), *ev = falloc(n);
        float *din = falloc(n), *dg = falloc(C), *db = falloc(C);
        dnic_batchnorm_forward_train(out, xhat, mean, invstd, rm, rv, in, gamma, beta, B, C, mom,
                                     eps);
        check_sum(MSG("bn train out %dx%d threads=%d", B, C, th), out, out_r, n, 1e-4);
        check_sum(MSG("bn train xhat %dx%d threads=%d", B, C, th), xhat, xhat_r, n, 1e-4);
        check_sum(MSG("bn train mean %dx%d threads=%d", B, C, th), mean, mean_r, C, 1e-4);
        check_sum(MSG("bn train invstd %dx%d threads=%d", B, C, th), invstd, invstd_r, C, 1e-4);
        check_sum(MSG("bn running mean %dx%d threads=%d", B, C, th), rm, rm_r, C, 1e-4);
        check_sum(MSG("bn running var %dx%d threads=%d", B, C, th), rv, rv_r, C, 1e-4);
        /* eval reads the reference's running statistics, so only eval is compared */
        dnic_batchnorm_forward_eval(ev, in, gamma, beta, rm_r, rv_r, B, C, eps);
        check_sum(MSG("bn eval %dx%d threads=%d", B, C, th), ev, eval_r, n, 1e-4);
        fill_const(din, n, 0.5f);
        fill_const(dg, C, -1.0f);
        fill_const(db, C, 1.0f);
        /* backward from the reference's xhat / invstd: isolates the backward */
        dnic_batchnorm_backward(din, dg, db, dout, xhat_r, invstd_r, gamma, B, C);
        check_sum(MSG("bn din %dx%d threads=%d", B, C, th), din, din_r, n, 1e-4);
        check_sum(MSG("bn dgamma %dx%d threads=%d", B, C, th), dg, dg_r, C, 1e-4);
        check_sum(MSG("bn dbeta %dx%d threads=%d", B, C, th), db, db_r, C, 1e-4);
        free(out); free(xhat); free(mean); free(invstd); free(rm); free(rv); free(ev);
        free(din); free(dg); free(db);
    }
    dnic_set_num_threads(1);
    free(in); free(gamma); free(beta); free(dout); free(rm0); free(rv0);
    free(out_r); free(xhat_r); free(mean_r); free(invstd_r); free(rm_r); free(rv_r); free(eval_r);
    free(din_r); free(dg_r); free(db_r);
}

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

/* -------------------------------------------------------------- optimizers */

static void test_optim_by_hand(void) {
    const float p0[3] = {1.0f, -2.0f, 0.5f};
    const float g1[3] = {0.1f, 0.2f, -0.3f}, g2[3] = {0.2f, -0.1f, 0.0f},
                g3[3] = {-0.1f, 0.1f, 0.4f};
    const float *gs[3] = {g1, g2, g3};

    for (int useref = 0; useref < 2; useref++) {
        const char *tag = useref ? " (ref)" : "";
        void (*sgd)(float *, const float *, size_t, float, float) =
            useref ? dnic_sgd_update_ref : dnic_sgd_update;
        void (*mom)(float *, float *, const float *, size_t, float, float, float) =
            useref ? dnic_momentum_update_ref : dnic_momentum_update;
        void (*adam)(float *, float *, float *, const float *, size_t, float, float, float, float,
                     float, int64_t) = useref ? dnic_adam_update_ref : dnic_adam_update;
        float p[3], v[3], m[3], g[3];

        /* SGD lr 0.1: p - 0.1 g */
        memcpy(p, p0, sizeof p);
        memcpy(g, g1, sizeof g);
        sgd(p, g, 3, 0.1f, 0.0f);
        double w_sgd[3] = {0.99, -2.02, 0.53};
        CHECK_CLOSE(MSG("sgd step%s", tag), p, w_sgd, 3, 1e-6, 1e-6);
        CHECK(memcmp(g, g1, sizeof g) == 0, "sgd left g unchanged%s", tag);
        /* SGD lr 0.1, l2 0.5: g' = g + 0.5 p = (0.6, -0.8, -0.05) */
        memcpy(p, p0, sizeof p);
        sgd(p, g, 3, 0.1f, 0.5f);
        double w_sgd_l2[3] = {0.94, -1.92, 0.505};
        CHECK_CLOSE(MSG("sgd step with l2%s", tag), p, w_sgd_l2, 3, 1e-6, 1e-6);

        /* Momentum lr 0.1, mu 0.9 over three steps, worked by hand:
         *   v1 = g1                 = ( 0.1,  0.2,  -0.3 )  p1 = (0.99,  -2.02,   0.53)
         *   v2 = 0.9 v1 + g2        = ( 0.29, 0.08, -0.27)  p2 = (0.961, -2.028,  0.557)
         *   v3 = 0.9 v2 + g3        = ( 0.161,0.172, 0.157) p3 = (0.9449,-2.0452, 0.5413) */
        static const double w_mv[3][3] = {{0.1, 0.2, -0.3}, {0.29, 0.08, -0.27},
                                          {0.161, 0.172, 0.157}};
        static const double w_mp[3][3] = {{0.99, -2.02, 0.53}, {0.961, -2.028, 0.557},
                                          {0.9449, -2.0452, 0.5413}};
        memcpy(p, p0, sizeof p);
        fill_const(v, 3, 0.0f);
        for (int s = 0; s < 3; s++) {
            mom(p, v, gs[s], 3, 0.1f, 0.9f, 0.0f);
            CHECK_CLOSE(MSG("momentum v step %d%s", s + 1, tag), v, w_mv[s], 3, 1e-6, 1e-6);
            CHECK_CLOSE(MSG("momentum p step %d%s", s + 1, tag), p, w_mp[s], 3, 1e-6, 1e-6);
        }
        /* with l2 0.1: g' = g1 + 0.1 p0 = (0.2, 0, -0.25) = v; p = p0 - 0.1 v */
        memcpy(p, p0, sizeof p);
        fill_const(v, 3, 0.0f);
        mom(p, v, g1, 3, 0.1f, 0.9f, 0.1f);
        double w_ml2v[3] = {0.2, 0.0, -0.25}, w_ml2p[3] = {0.98, -2.0, 0.525};
        CHECK_CLOSE(MSG("momentum v with l2%s", tag), v, w_ml2v, 3, 1e-6, 1e-6);
        CHECK_CLOSE(MSG("momentum p with l2%s", tag), p, w_ml2p, 3, 1e-6, 1e-6);

        /* Adam lr 0.1: at t = 1 the bias-corrected step is lr * sign(g), so
         * p1 = p0 - 0.1 sign(g1) = (0.9, -2.1, 0.6) by hand. Steps 1..3
         * (without and with l2) follow the header's formula in double. */
        for (int withl2 = 0; withl2 < 2; withl2++) {
            const float lr = 0.1f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
            const float l2 = withl2 ? 0.01f : 0.0f;
            double dp_[3], dm[3] = {0, 0, 0}, dv[3] = {0, 0, 0};
            for (int i = 0; i < 3; i++) dp_[i] = p0[i];
            memcpy(p, p0, sizeof p);
            fill_const(m, 3, 0.0f);
            fill_const(v, 3, 0.0f);
            for (int t = 1; t <= 3; t++) {
                for (int i = 0; i < 3; i++) {
                    double gg = (double)gs[t - 1][i] + (double)l2 * dp_[i];
                    dm[i] = (double)b1 * dm[i] + (1 - (double)b1) * gg;
                    dv[i] = (double)b2 * dv[i] + (1 - (double)b2) * gg * gg;
                    double mh = dm[i] / (1 - pow(b1, t)), vh = dv[i] / (1 - pow(b2, t));
                    dp_[i] -= (double)lr * mh / (sqrt(vh) + (double)eps);
                }
                adam(p, m, v, gs[t - 1], 3, lr, b1, b2, eps, l2, t);
                CHECK_CLOSE(MSG("adam p t=%d l2=%g%s", t, l2, tag), p, dp_, 3, 1e-6, 1e-5);
                CHECK_CLOSE(MSG("adam m t=%d l2=%g%s", t, l2, tag), m, dm, 3, 1e-7, 1e-5);
                CHECK_CLOSE(MSG("adam v t=%d l2=%g%s", t, l2, tag), v, dv, 3, 1e-9, 1e-5);
                if (t == 1 && !withl2) {
                    double w_a1[3] = {0.9, -2.1, 0.6};
                    CHECK_CLOSE(MSG("adam t=1 is lr*sign(g)%s", tag), p, w_a1, 3, 1e-6, 1e-6);
                }
            }
        }
    }
}

static void optim_vs_ref(size_t n) {
    float *p0 = falloc(n), *g = falloc(n), *m0 = falloc(n), *v0 = falloc(n);
    fill(p0, n, -1, 1);
    fill(g, n, -1, 1);
    fill(m0, n, -0.1, 0.1);
    fill(v0, n, 0, 0.01);
    float *ps = fdup(p0, n), *pm = fdup(p0, n), *vm = fdup(m0, n);
    float *pa = fdup(p0, n), *ma = fdup(m0, n), *va = fdup(v0, n);
    dnic_sgd_update_ref(ps, g, n, 0.05f, 1e-3f);
    dnic_momentum_update_ref(pm, vm, g, n, 0.05f, 0.9f, 1e-3f);
    dnic_adam_update_ref(pa, ma, va, g, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-3f, 7);
    for (int t = 0; t < 2; t++) {
        int th = thread_counts[t];
        dnic_set_num_threads(th);
        float *p = fdup(p0, n), *m = fdup(m0, n), *v = fdup(v0, n);
        dnic_sgd_update(p, g, n, 0.05f, 1e-3f);
        CHECK_SAME(MSG("sgd n=%zu threads=%d", n, th), p, ps, n, 1e-6);
        memcpy(p, p0, n * sizeof *p);
        dnic_momentum_update(p, m, g, n, 0.05f, 0.9f, 1e-3f);
        CHECK_SAME(MSG("momentum p n=%zu threads=%d", n, th), p, pm, n, 1e-6);
        CHECK_SAME(MSG("momentum v n=%zu threads=%d", n, th), m, vm, n, 1e-6);
        memcpy(p, p0, n * sizeof *p);
        memcpy(m, m0, n * sizeof *m);
        dnic_adam_update(p, m, v, g, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-3f, 7);
        CHECK_SAME(MSG("adam p n=%zu threads=%d", n, th), p, pa, n, 1e-6);
        CHECK_SAME(MSG("adam m n=%zu threads=%d", n, th), m, ma, n, 1e-6);
        CHECK_SAME(MSG("adam v n=%zu threads=%d", n, th), v, va, n, 1e-6);
        free(p); free(m); free(v);
    }
    dnic_set_num_threads(1);
    free(p0); free(g); free(m0); free(v0); free(ps); free(pm); free(vm);
    free(pa); free(ma); free(va);
}

/* ------------------------------------------------------------------ gather */

static void gather_vs_ref(int B, size_t row_len, size_t n_rows) {
    size_t n = (size_t)B * row_len;
    float *src = falloc(n_rows * row_len), *want = falloc(n), *ref = falloc(n);
    int32_t *idx = malloc((size_t)B * sizeof *idx), *lsrc = malloc(n_rows * sizeof *lsrc);
    int32_t *ldst = malloc((size_t)B * sizeof *ldst);
    fill(src, n_rows * row_len, -1, 1);
    for (size_t i = 0; i < n_rows; i++) lsrc[i] = (int32_t)(i * 7 % 10);
    for (int r = 0; r < B; r++) idx[r] = (int32_t)(tr_u01() * (double)n_rows) % (int32_t)n_rows;
    idx[0] = 0;
    idx[B - 1] = (int32_t)n_rows - 1; /* both ends of the valid range */
    for (int r = 0; r < B; r++)
        memcpy(want + (size_t)r * row_len, src + (size_t)idx[r] * row_len, row_len * sizeof(float));
    dnic_status s = dnic_gather_rows_ref(ref, src, idx, B, row_len, n_rows);
    CHECK(s == DNIC_OK && memcmp(ref, want, n * sizeof(float)) == 0,
          "gather_rows_ref %dx%zu: status %d", B, row_len, (int)s);
    for (int t = 0; t < 2; t++) {
        dnic_set_num_threads(thread_counts[t]);
        float *dst = falloc(n);
        s = dnic_gather_rows(dst, src, idx, B, row_len, n_rows);
        CHECK(s == DNIC_OK && memcmp(dst, want, n * sizeof(float)) == 0,
              "gather_rows %dx%zu threads=%d: status %d", B, row_len, thread_counts[t], (int)s);
        free(dst);
    }
    dnic_set_num_threads(1);
    s = dnic_gather_labels(ldst, lsrc, idx, B, n_rows);
    int ok = s == DNIC_OK;
    for (int r = 0; r < B && ok; r++) ok = ldst[r] == lsrc[idx[r]];
    CHECK(ok, "gather_labels B=%d: status %d", B, (int)s);
    /* an index outside [0, n_rows) is refused, by both twins */
    idx[1] = (int32_t)n_rows;
    CHECK(dnic_gather_rows(ref, src, idx, B, row_len, n_rows) != DNIC_OK,
          "gather_rows index = n_rows refused");
    CHECK(dnic_gather_rows_ref(ref, src, idx, B, row_len, n_rows) != DNIC_OK,
          "gather_rows_ref index = n_rows refused");
    CHECK(dnic_gather_labels(ldst, lsrc, idx, B, n_rows) != DNIC_OK,
          "gather_labels index = n_rows refused");
    idx[1] = -1;
    CHECK(dnic_gather_rows(ref, src, idx, B, row_len, n_rows) != DNIC_OK,
          "gather_rows index -1 refused");
    CHECK(dnic_gather_rows(NULL, src, idx, B, row_len, n_rows) == DNIC_ERR_NULL,
          "gather_rows NULL dst is DNIC_ERR_NULL");
    CHECK(dnic_gather_rows(ref, src, idx, 0, row_len, n_rows) != DNIC_OK,
          "gather_rows B = 0 refused");
    free(src); free(want); free(ref); free(idx); free(lsrc); free(ldst);
}

/* --------------------------------------------------------------------- rng */

/* splitmix64 written out from its published definition. */
static uint64_t splitmix64_ref(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void test_rng(void) {
    uint64_t a = 42, b = 42, c = 43, r = 42;
    int same = 1, differs = 0, matches = 1;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = dnic_rng_next(&a), y = dnic_rng_next(&b), z = dnic_rng_next(&c);
        same &= x == y;
        differs |= x != z;
        matches &= x == splitmix64_ref(&r);
    }
    CHECK(same, "rng: same seed gives the same stream");
    CHECK(differs, "rng: a different seed gives a different stream");
    CHECK(matches, "rng_next is splitmix64");
    uint64_t s0 = 0;
    CHECK(dnic_rng_next(&s0) == 0xE220A8397B1DCDAFULL, "splitmix64(0) known first value");

    /* uniform in [0, 1), mean 1/2, variance 1/12; normal mean 0 variance 1 */
    enum { N = 200000 };
    uint64_t su = 7, sn = 7;
    double sum = 0, sum2 = 0, nsum = 0, nsum2 = 0;
    int in_range = 1, finite = 1;
    for (int i = 0; i < N; i++) {
        double u = dnic_rng_uniform(&su), g = dnic_rng_normal(&sn);
        in_range &= u >= 0.0 && u < 1.0;
        finite &= isfinite(g) != 0;
        sum += u;
        sum2 += u * u;
        nsum += g;
        nsum2 += g * g;
    }
    double mu = sum / N, vu = sum2 / N - mu * mu, mn = nsum / N, vn = nsum2 / N - mn * mn;
    CHECK(in_range, "rng_uniform in [0, 1)");
    CHECK(fabs(mu - 0.5) < 0.005 && fabs(vu - 1.0 / 12) < 0.002,
          "rng_uniform mean %g var %g, want 0.5 and 0.0833", mu, vu);
    CHECK(finite, "rng_normal finite");
    CHECK(fabs(mn) < 0.01 && fabs(vn - 1.0) < 0.02, "rng_normal mean %g var %g, want 0 and 1", mn,
          vn);
}

static void test_shuffle(void) {
    enum { N = 1000 };
    int32_t x[N], y[N];
    int count[N];
    for (int i = 0; i < N; i++) x[i] = y[i] = i;
    uint64_t s1 = 99, s2 = 99;
    CHECK(dnic_shuffle(x, N, &s1) == DNIC_OK, "shuffle status");
    dnic_shuffle(y, N, &s2);
    memset(count, 0, sizeof count);
    int perm = 1, moved = 0;
    for (int i = 0; i < N; i++) {
        if (x[i] < 0 || x[i] >= N) perm = 0;
        else count[x[i]]++;
        moved += x[i] != i;
    }
    for (int i = 0; i < N; i++) perm &= count[i] == 1;
    CHECK(perm, "shuffle yields a permutation");
    CHECK(moved > N / 2, "shuffle moved only %d of %d", moved, N);
    CHECK(memcmp(x, y, sizeof x) == 0, "shuffle is seed-deterministic");
    for (int i = 0; i < N; i++) y[i] = i;
    uint64_t s3 = 100;
    dnic_shuffle(y, N, &s3);
    CHECK(memcmp(x, y, sizeof x) != 0, "shuffle with another seed differs");
    CHECK(dnic_shuffle(NULL, 5, &s3) == DNIC_ERR_NULL, "shuffle NULL idx is DNIC_ERR_NULL");
    CHECK(dnic_shuffle(NULL, 0, &s3) == DNIC_OK, "shuffle of nothing is fine");

    /* Uniformity: where element 0 lands among 5 slots over 50000 shuffles.
     * Each slot expects 10000 (sd ~ 90); an off-by-one Fisher-Yates (e.g.
     * Sattolo's, which never leaves an element in place) fails this. */
    int land[5] = {0, 0, 0, 0, 0};
    uint64_t s4 = 5;
    for (int k = 0; k < 50000; k++) {
        int32_t z[5] = {0, 1, 2, 3, 4};
        dnic_shuffle(z, 5, &s4);
        for (int i = 0; i < 5; i++)
            if (z[i] == 0) land[i]++;
    }
    int uniform = 1;
    for (int i = 0; i < 5; i++) uniform &= abs(land[i] - 10000) < 500;
    CHECK(uniform, "shuffle uniform: element 0 landed %d %d %d %d %d times", land[0], land[1],
          land[2], land[3], land[4]);
}

static void test_init(void) {
    enum { FI = 400, FO = 300, N = FI * FO };
    float *W = falloc(N), *W2 = falloc(N);
    static const char *names[4] = {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal"};
    const double var_want[4] = {2.0 / (FI + FO), 2.0 / (FI + FO), 2.0 / FI, 2.0 / FI};
    for (int kind = 0; kind < 4; kind++) {
        uint64_t s = 1234, s2 = 1234;
        fill_const(W, N, 7.0f);
        dnic_status st = dnic_init_weights(W, FI, FO, (dnic_init)kind, &s);
        CHECK(st == DNIC_OK, "init %s status %d", names[kind], (int)st);
        double sum = 0, sum2 = 0, amax = 0;
        for (int i = 0; i < N; i++) {
            sum += W[i];
            sum2 += (double)W[i] * W[i];
            amax = fmax(amax, fabs(W[i]));
        }
        double mean = sum / N, var = sum2 / N - mean * mean, sd = sqrt(var_want[kind]);
        /* the mean's standard error is sd/sqrt(N) ~ 0.003 sd: allow 5 of them */
        CHECK(fabs(mean) < 0.015 * sd, "init %s mean %g (sd %g)", names[kind], mean, sd);
        CHECK(fabs(var / var_want[kind] - 1) < 0.03, "init %s variance %g, want %g", names[kind],
              var, var_want[kind]);
        if (kind == DNIC_INIT_GLOROT_UNIFORM || kind == DNIC_INIT_HE_UNIFORM) {
            double a = sqrt(6.0 / (kind == DNIC_INIT_HE_UNIFORM ? FI : FI + FO));
            CHECK(amax <= a * (1 + 1e-6) && amax > 0.99 * a, "init %s max |w| %g, bound %g",
                  names[kind], amax, a);
        } else {
            /* a normal reaches past 3 sd now and then (~0.27% of draws) */
            CHECK(amax > 3.5 * sd, "init %s max |w| %g looks truncated (sd %g)", names[kind],
                  amax, sd);
        }
        dnic_init_weights(W2, FI, FO, (dnic_init)kind, &s2);
        CHECK(memcmp(W, W2, N * sizeof(float)) == 0, "init %s seed-deterministic", names[kind]);
    }
    uint64_t s = 1;
    fill_const(W, N, 7.0f);
    CHECK(dnic_init_weights(W, FI, FO, DNIC_INIT_ZERO, &s) == DNIC_OK, "init zero status");
    int zero = 1;
    for (int i = 0; i < N; i++) zero &= W[i] == 0.0f;
    CHECK(zero, "init zero is all zeros");
    CHECK(dnic_init_weights(NULL, FI, FO, DNIC_INIT_HE_NORMAL, &s) == DNIC_ERR_NULL,
          "init NULL W is DNIC_ERR_NULL");
    CHECK(dnic_init_weights(W, 0, FO, DNIC_INIT_HE_NORMAL, &s) == DNIC_ERR_SIZE,
          "init fan_in 0 is DNIC_ERR_SIZE");
    CHECK(dnic_init_weights(W, FI, FO, (dnic_init)99, &s) == DNIC_ERR_ARG,
          "init unknown kind is DNIC_ERR_ARG");
    free(W); free(W2);
}

/* -------------------------------------------------------------------- main */

int main(void) {
    test_threads();

    /* The element-wise kernels at every instruction-set level this CPU
     * runs (lower ones forced): gradient checks, fast vs _ref on odd shapes
     * (some large enough to be split between threads) and training shapes,
     * and the hand-computed values. */
    HARNESS_FOR_EACH_ISA(level) {
        printf("kernels at isa %s\n", dnic_isa_name((dnic_isa)level));
        /* 1. gradient checks against independent double forwards */
        test_act_grad();
        bn_grad_case(6, 3);
        bn_grad_case(8, 4);
        test_bn_eval();
        test_loss_grad();

        /* 2. fast kernels vs their _ref twins at 1 and 2 threads */
        act_vs_ref(37 * 29);
        act_vs_ref(40009);
        act_vs_ref(256 * 784);
        bn_vs_ref(37, 29);
        bn_vs_ref(3, 40);     /* fewer rows than row groups */
        bn_vs_ref(517, 83);
        bn_vs_ref(67, 1031);  /* channels in several column blocks */
        bn_vs_ref(256, 256);
        loss_vs_ref(37, 7);
        loss_vs_ref(1000, 13);
        loss_vs_ref(256, 10);
        optim_vs_ref(100003);
        optim_vs_ref(784 * 256 + 256);

        /* 3. hand-computed values and edge cases */
        test_optim_by_hand();
        test_loss_edges();
        test_loss_precision();
    }

    /* the rest runs no element-wise kernel of its own */
    test_dense_grad();
    test_sgemm();
    dense_vs_ref(37, 53, 29);
    dense_vs_ref(256, 784, 256);
    gather_vs_ref(37, 53, 101);
    gather_vs_ref(256, 784, 1000);
    test_count_correct();
    test_rng();
    test_shuffle();
    test_init();

    return harness_finish("kernels");
}
