/* elementwise.c — bench_kernels' rows of dnic's own element-wise
 * kernels: activations, the network's fused bias + activation passes,
 * batch norm (each against a streaming copy of its traffic). */
#include "bench.h"

/* the network's fused passes (bias + activation in place after the forward
 * GEMM; activation derivative + bias-gradient column sums): internal to
 * libdnic, not in dnic.h; the static library exposes them */
#include "kernels/kernels_internal.h"

/* ----------------------------------------------------------- activations */

typedef struct {
    dnic_activation act;
    float *out, *din;
    const float *in, *dout, *fwd_out;
    size_t n;
} act_ctx;

static void run_act_forward(void *p) {
    act_ctx *a = (act_ctx *)p;
    dnic_act_forward(a->act, a->out, a->in, a->n);
    sink += a->out[a->n - 1];
}

static void run_act_backward(void *p) {
    act_ctx *a = (act_ctx *)p;
    dnic_act_backward(a->act, a->din, a->dout, a->fwd_out, a->n);
    sink += a->din[a->n - 1];
}

void bench_activations(void) {
    static const struct {
        dnic_activation act;
        const char *fwd, *bwd;
    } acts[] = {{DNIC_ACT_RELU, "relu_forward", "relu_backward"},
                {DNIC_ACT_SIGMOID, "sigmoid_forward", "sigmoid_backward"},
                {DNIC_ACT_TANH, "tanh_forward", "tanh_backward"}};
    size_t n = (size_t)EW_ROWS * EW_COLS;
    char shape[64];
    snprintf(shape, sizeof shape, "%dx%d", EW_ROWS, EW_COLS);
    float *in = falloc(n), *out = falloc(n), *out_r = falloc(n);
    float *dout = falloc(n), *din = falloc(n), *din_r = falloc(n);
    fill_uniform(in, n, -4, 4);
    fill_uniform(dout, n, -1, 1);
    for (size_t k = 0; k < sizeof acts / sizeof acts[0]; k++) {
        act_ctx a = {0};
        a.act = acts[k].act, a.n = n;

        /* forward: in -> out */
        dnic_act_forward(a.act, out, in, n);
        dnic_act_forward_ref(a.act, out_r, in, n);
        check_t c = {0};
        check_close(&c, "out", out, out_r, n, RTOL_EW);
        if (!check_failed(&c, acts[k].fwd, shape)) {
            a.out = out, a.in = in;
            report_memory_bound(acts[k].fwd, shape, run_act_forward, &a,
                                2.0 * n * sizeof(float), c.maxdiff);
        }

        /* backward from the reference forward output: din += dout act' */
        dnic_act_forward_ref(a.act, out_r, in, n);
        fill_uniform(din, n, -1, 1);
        memcpy(din_r, din, n * sizeof(float));
        dnic_act_backward(a.act, din, dout, out_r, n);
        dnic_act_backward_ref(a.act, din_r, dout, out_r, n);
        check_t cb = {0};
        check_close(&cb, "din", din, din_r, n, RTOL_EW);
        if (!check_failed(&cb, acts[k].bwd, shape)) {
            a.din = din, a.dout = dout, a.fwd_out = out_r;
            /* reads dout, out, din; writes din */
            report_memory_bound(acts[k].bwd, shape, run_act_backward, &a,
                                4.0 * n * sizeof(float), cb.maxdiff);
        }
    }
    free(in), free(out), free(out_r), free(dout), free(din), free(din_r);
}

/* ------------------------------------------------------- fused passes */

typedef struct {
    dnic_activation act;
    float *h, *gz, *db;
    const float *b, *gh, *fwd_out;
    int B, C;
} fused_ctx;

static void run_bias_act(void *p) {
    fused_ctx *f = (fused_ctx *)p;
    /* in place, so h drifts from call to call: relu keeps it bounded, and
     * sigmoid / tanh outputs stay in their ranges */
    dnic__bias_act_forward(f->act, f->h, f->b, f->B, f->C);
    sink += f->h[0];
}

static void run_colsum(void *p) {
    fused_ctx *f = (fused_ctx *)p;
    dnic__act_backward_colsum(f->act, f->gz, f->db, f->gh, f->fwd_out, f->B, f->C);
    sink += f->gz[0] + f->db[0];
}

void bench_fused(void) {
    static const struct {
        dnic_activation act;
        const char *fwd, *bwd;
    } acts[] = {{DNIC_ACT_RELU, "bias_relu_fwd", "relu_bwd_colsum"},
                {DNIC_ACT_SIGMOID, "bias_sigmoid_fwd", "sigmoid_bwd_colsum"},
                {DNIC_ACT_TANH, "bias_tanh_fwd", "tanh_bwd_colsum"}};
    int B = EW_ROWS, C = EW_COLS;
    size_t n = (size_t)B * C;
    char shape[64];
    snprintf(shape, sizeof shape, "B%d C%d", B, C);
    float *h = falloc(n), *want = falloc(n), *b = falloc((size_t)C), *gh = falloc(n), *gz = falloc(n);
    float *db = falloc((size_t)C), *db_want = falloc((size_t)C), *tmp = falloc(n);
    fill_uniform(b, (size_t)C, -0.5f, 0.5f);
    fill_uniform(gh, n, -1, 1);
    for (size_t k = 0; k < sizeof acts / sizeof acts[0]; k++) {
        fused_ctx f = {acts[k].act, h, gz, db, b, gh, want, B, C};
        /* forward: h = act(h + b) against the reference activation */
        fill_uniform(h, n, -4, 4);
        for (size_t i = 0; i < n; i++) tmp[i] = h[i] + b[i % (size_t)C];
        dnic_act_forward_ref(acts[k].act, want, tmp, n);
        dnic__bias_act_forward(acts[k].act, h, b, B, C);
        check_t c = {0};
        check_close(&c, "h", h, want, n, RTOL_EW);
        if (!check_failed(&c, acts[k].fwd, shape))
            /* reads and writes h, reads b */
            report_memory_bound(acts[k].fwd, shape, run_bias_act, &f, (2.0 * n + C) * sizeof(float), c.maxdiff);

        /* backward from the reference output: gz = gh act', db += colsum(gz) */
        memset(tmp, 0, n * sizeof(float));
        dnic_act_backward_ref(acts[k].act, tmp, gh, want, n);
        for (int j = 0; j < C; j++) {
            double s = 0;
            for (int r = 0; r < B; r++) s += tmp[(size_t)r * C + j];
            db_want[j] = (float)s;
            db[j] = 0.0f;
        }
        dnic__act_backward_colsum(acts[k].act, gz, db, gh, want, B, C);
        check_t cb = {0};
        check_close(&cb, "gz", gz, tmp, n, RTOL_EW);
        check_close(&cb, "db", db, db_want, (size_t)C, RTOL_GEMM);
        if (!check_failed(&cb, acts[k].bwd, shape))
            /* reads gh, h; writes gz; db read and written */
            report_memory_bound(acts[k].bwd, shape, run_colsum, &f, (3.0 * n + 2.0 * C) * sizeof(float), cb.maxdiff);
    }
    free(h), free(want), free(b), free(gh), free(gz), free(db), free(db_want), free(tmp);
}

/* ------------------------------------------------------------ batch norm */

/* One set of batch-norm buffers: (B,C) tensors and (C) vectors. */
typedef struct {
    float *out, *xhat, *mean, *invstd, *run_mean, *run_var;
    float *din, *dgamma, *dbeta;
} bn_bufs;

typedef struct {
    bn_bufs *w;
    const float *in, *gamma, *beta, *dout;
    int B, C;
} bn_ctx;

static const float BN_MOMENTUM = 0.1f, BN_EPS = 1e-5f;

static void bn_alloc(bn_bufs *w, int B, int C) {
    size_t nb = (size_t)B * C, nc = (size_t)C;
    w->out = falloc(nb), w->xhat = falloc(nb), w->din = falloc(nb);
    w->mean = falloc(nc), w->invstd = falloc(nc), w->run_mean = falloc(nc);
    w->run_var = falloc(nc), w->dgamma = falloc(nc), w->dbeta = falloc(nc);
    for (size_t i = 0; i < nc; i++) w->run_mean[i] = 0.0f, w->run_var[i] = 1.0f;
}

static void bn_free(bn_bufs *w) {
    free(w->out), free(w->xhat), free(w->din), free(w->mean), free(w->invstd);
    free(w->run_mean), free(w->run_var), free(w->dgamma), free(w->dbeta);
}

static void run_bn_train(void *p) {
    bn_ctx *b = (bn_ctx *)p;
    bn_bufs *w = b->w;
    dnic_batchnorm_forward_train(w->out, w->xhat, w->mean, w->invstd, w->run_mean, w->run_var,
                                 b->in, b->gamma, b->beta, b->B, b->C, BN_MOMENTUM, BN_EPS);
    sink += w->out[0] + w->run_var[0];
}

static void run_bn_eval(void *p) {
    bn_ctx *b = (bn_ctx *)p;
    bn_bufs *w = b->w;
    dnic_batchnorm_forward_eval(w->out, b->in, b->gamma, b->beta, w->run_mean, w->run_var, b->B,
                                b->C, BN_EPS);
    sink += w->out[0];
}

static void run_bn_backward(void *p) {
    bn_ctx *b = (bn_ctx *)p;
    bn_bufs *w = b->w;
    dnic_batchnorm_backward(w->din, w->dgamma, w->dbeta, b->dout, w->xhat, w->invstd, b->gamma,
                            b->B, b->C);
    sink += w->din[0] + w->dgamma[0] + w->dbeta[0];
}

void bench_batchnorm(void) {
    int B = EW_ROWS, C = EW_COLS;
    size_t nb = (size_t)B * C, nc = (size_t)C;
    char shape[64];
    snprintf(shape, sizeof shape, "B%d C%d", B, C);
    float *in = falloc(nb), *dout = falloc(nb), *gamma = falloc(nc), *beta = falloc(nc);
    fill_uniform(in, nb, -2, 3);
    fill_uniform(dout, nb, -1, 1);
    fill_uniform(gamma, nc, 0.5f, 1.5f);
    fill_uniform(beta, nc, -0.5f, 0.5f);
    bn_bufs f, r; /* fast and reference outputs */
    bn_alloc(&f, B, C);
    bn_alloc(&r, B, C);
    bn_ctx ctx = {&f, in, gamma, beta, dout, B, C};

    /* forward, training mode */
    dnic_batchnorm_forward_train(f.out, f.xhat, f.mean, f.invstd, f.run_mean, f.run_var, in,
                                 gamma, beta, B, C, BN_MOMENTUM, BN_EPS);
    dnic_batchnorm_forward_train_ref(r.out, r.xhat, r.mean, r.invstd, r.run_mean, r.run_var, in,
                                     gamma, beta, B, C, BN_MOMENTUM, BN_EPS);
    check_t c = {0};
    check_close(&c, "out", f.out, r.out, nb, RTOL_GEMM);
    check_close(&c, "xhat", f.xhat, r.xhat, nb, RTOL_GEMM);
    check_close(&c, "mean", f.mean, r.mean, nc, RTOL_GEMM);
    check_close(&c, "invstd", f.invstd, r.invstd, nc, RTOL_GEMM);
    check_close(&c, "run_mean", f.run_mean, r.run_mean, nc, RTOL_GEMM);
    check_close(&c, "run_var", f.run_var, r.run_var, nc, RTOL_GEMM);
    if (!check_failed(&c, "batchnorm_fwd_train", shape)) {
        /* reads in; writes out, xhat; (C) vectors: gamma, beta read, mean,
         * invstd written, running mean / var read and written */
        double traffic = (3.0 * nb + 8.0 * nc) * sizeof(float);
        report_memory_bound("batchnorm_fwd_train", shape, run_bn_train, &ctx, traffic,
                            c.maxdiff);
    }

    /* forward, evaluation mode, with the running statistics of the reference */
    memcpy(f.run_mean, r.run_mean, nc * sizeof(float));
    memcpy(f.run_var, r.run_var, nc * sizeof(float));
    dnic_batchnorm_forward_eval(f.out, in, gamma, beta, f.run_mean, f.run_var, B, C, BN_EPS);
    dnic_batchnorm_forward_eval_ref(r.out, in, gamma, beta, r.run_mean, r.run_var, B, C, BN_EPS);
    check_t ce = {0};
    check_close(&ce, "out", f.out, r.out, nb, RTOL_EW);
    if (!check_failed(&ce, "batchnorm_fwd_eval", shape)) {
        double traffic = (2.0 * nb + 4.0 * nc) * sizeof(float);
        report_memory_bound("batchnorm_fwd_eval", shape, run_bn_eval, &ctx, traffic, ce.maxdiff);
    }

    /* backward from the reference forward's xhat / invstd; gradients start
     * non-zero so that accumulation is checked too */
    memcpy(f.xhat, r.xhat, nb * sizeof(float));
    memcpy(f.invstd, r.invstd, nc * sizeof(float));
    fill_uniform(f.din, nb, -1, 1);
    fill_uniform(f.dgamma, nc, -1, 1);
    fill_uniform(f.dbeta, nc, -1, 1);
    memcpy(r.din, f.din, nb * sizeof(float));
    memcpy(r.dgamma, f.dgamma, nc * sizeof(float));
    memcpy(r.dbeta, f.dbeta, nc * sizeof(float));
    dnic_batchnorm_backward(f.din, f.dgamma, f.dbeta, dout, f.xhat, f.invstd, gamma, B, C);
    dnic_batchnorm_backward_ref(r.din, r.dgamma, r.dbeta, dout, r.xhat, r.invstd, gamma, B, C);
    check_t cb = {0};
    check_close(&cb, "din", f.din, r.din, nb, RTOL_GEMM);
    check_close(&cb, "dgamma", f.dgamma, r.dgamma, nc, RTOL_GEMM);
    check_close(&cb, "dbeta", f.dbeta, r.dbeta, nc, RTOL_GEMM);
    if (!check_failed(&cb, "batchnorm_backward", shape)) {
        /* reads dout, xhat, din, invstd, gamma, dgamma, dbeta; writes din,
         * dgamma, dbeta */
        double traffic = (4.0 * nb + 6.0 * nc) * sizeof(float);
        report_memory_bound("batchnorm_backward", shape, run_bn_backward, &ctx, traffic,
                            cb.maxdiff);
    }

    bn_free(&f);
    bn_free(&r);
    free(in), free(dout), free(gamma), free(beta);
}
