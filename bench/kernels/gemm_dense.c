/* gemm_dense.c — bench_kernels' sgemm rows (the dense layers' GEMM
 * shapes, checked against dnic_sgemm_ref, against a 1024^3 sgemm) and the
 * dense layer forward and backward (against dnic_sgemm on the same
 * shapes). */
#include "bench.h"

/* ----------------------------------------------------------------- sgemm */

/* One sgemm row: check against dnic_sgemm_ref, then time it. */
static void sgemm_row(const char *name, gemm_shape s, double square_rate) {
    char shape[64];
    snprintf(shape, sizeof shape, "%s M%d N%d K%d", s.ta ? (s.tb ? "TT" : "TN") : (s.tb ? "NT" : "NN"),
             s.M, s.N, s.K);
    size_t nc = (size_t)s.M * s.N;
    float *c_fast = falloc(nc), *c_ref = falloc(nc);
    fill_uniform(gemm_a, (size_t)s.M * s.K, -1, 1);
    fill_uniform(gemm_b, (size_t)s.K * s.N, -1, 1);
    fill_uniform(c_fast, nc, -1, 1);
    memcpy(c_ref, c_fast, nc * sizeof(float));
    sgemm_shape(&s, gemm_a, gemm_b, c_fast, 0);
    sgemm_shape(&s, gemm_a, gemm_b, c_ref, 1);
    check_t c = {0};
    check_close(&c, "C", c_fast, c_ref, nc, RTOL_GEMM);
    free(c_fast);
    free(c_ref);
    if (check_failed(&c, name, shape)) return;
    double rate = sgemm_rate(&s, 1);
    print_row(name, shape, gemm_flops(&s, 1) / rate * 1e-9, rate, "GFLOP/s", square_rate,
              "1024^3", c.maxdiff);
}

void bench_sgemm(void) {
    gemm_shape square = {0, 0, 1024, 1024, 1024, 0.0f};
    fill_uniform(gemm_a, GEMM_BUF_FLOATS, -1, 1);
    fill_uniform(gemm_b, GEMM_BUF_FLOATS, -1, 1);
    double square_rate = sgemm_rate(&square, 1);
    print_row("sgemm square", "NN M1024 N1024 K1024", gemm_flops(&square, 1) / square_rate * 1e-9,
              square_rate, "GFLOP/s", square_rate, "itself", -1);
    for (int l = 0; l < NET_LAYERS; l++) {
        int I = NET_DIMS[l], O = NET_DIMS[l + 1];
        if (l > 0 && I == NET_DIMS[l - 1] && O == NET_DIMS[l]) continue; /* same shapes */
        sgemm_row("sgemm fwd", dense_fwd_gemm(I, O), square_rate);
        sgemm_row("sgemm din", dense_din_gemm(I, O), square_rate);
        sgemm_row("sgemm dW", dense_dw_gemm(I, O), square_rate);
    }
}

/* --------------------------------------------------------- dense forward */

typedef struct {
    float *out, *din, *dW, *db;
    const float *in, *W, *b, *dout;
    int B, I, O;
} dense_ctx;

static void run_dense_forward(void *p) {
    dense_ctx *d = (dense_ctx *)p;
    dnic_dense_forward(d->out, d->in, d->W, d->b, d->B, d->I, d->O);
    sink += d->out[0];
}

static void run_dense_backward(void *p) {
    dense_ctx *d = (dense_ctx *)p;
    dnic_dense_backward(d->din, d->dW, d->db, d->dout, d->in, d->W, d->B, d->I, d->O);
    sink += d->din[0] + d->dW[0] + d->db[0];
}

static void dense_shape_str(char *buf, size_t n, int I, int O) {
    snprintf(buf, n, "B%d %d->%d", BATCH, I, O);
}

void bench_dense_forward(void) {
    for (int l = 0; l < NET_LAYERS; l++) {
        int B = BATCH, I = NET_DIMS[l], O = NET_DIMS[l + 1];
        if (l > 0 && I == NET_DIMS[l - 1] && O == NET_DIMS[l]) continue;
        char shape[64];
        dense_shape_str(shape, sizeof shape, I, O);
        float *in = falloc((size_t)B * I), *W = falloc((size_t)I * O), *b = falloc((size_t)O);
        float *out = falloc((size_t)B * O), *out_ref = falloc((size_t)B * O);
        fill_uniform(in, (size_t)B * I, -1, 1);
        fill_uniform(W, (size_t)I * O, -0.1f, 0.1f);
        fill_uniform(b, (size_t)O, -0.1f, 0.1f);
        dnic_dense_forward(out, in, W, b, B, I, O);
        dnic_dense_forward_ref(out_ref, in, W, b, B, I, O);
        check_t c = {0};
        check_close(&c, "out", out, out_ref, (size_t)B * O, RTOL_GEMM);
        if (!check_failed(&c, "dense_forward", shape)) {
            dense_ctx d = {0};
            d.out = out, d.in = in, d.W = W, d.b = b, d.B = B, d.I = I, d.O = O;
            double t = time_median(run_dense_forward, &d);
            gemm_shape g = dense_fwd_gemm(I, O);
            double flops = gemm_flops(&g, 1);
            print_row("dense_forward", shape, t, flops / t * 1e-9, "GFLOP/s", sgemm_rate(&g, 1),
                      "sgemm", c.maxdiff);
        }
        free(in), free(W), free(b), free(out), free(out_ref);
    }
}

/* -------------------------------------------------------- dense backward */

void bench_dense_backward(void) {
    for (int l = 0; l < NET_LAYERS; l++) {
        int B = BATCH, I = NET_DIMS[l], O = NET_DIMS[l + 1];
        if (l > 0 && I == NET_DIMS[l - 1] && O == NET_DIMS[l]) continue;
        char shape[64];
        dense_shape_str(shape, sizeof shape, I, O);
        size_t nin = (size_t)B * I, nw = (size_t)I * O, nout = (size_t)B * O;
        float *in = falloc(nin), *W = falloc(nw), *dout = falloc(nout);
        float *din = falloc(nin), *dW = falloc(nw), *db = falloc((size_t)O);
        float *din_r = falloc(nin), *dW_r = falloc(nw), *db_r = falloc((size_t)O);
        fill_uniform(in, nin, -1, 1);
        fill_uniform(W, nw, -0.1f, 0.1f);
        fill_uniform(dout, nout, -0.01f, 0.01f);
        /* non-zero starting gradients also check that the kernel accumulates */
        fill_uniform(din, nin, -1, 1);
        fill_uniform(dW, nw, -1, 1);
        fill_uniform(db, (size_t)O, -1, 1);
        memcpy(din_r, din, nin * sizeof(float));
        memcpy(dW_r, dW, nw * sizeof(float));
        memcpy(db_r, db, (size_t)O * sizeof(float));
        dnic_dense_backward(din, dW, db, dout, in, W, B, I, O);
        dnic_dense_backward_ref(din_r, dW_r, db_r, dout, in, W, B, I, O);
        check_t c = {0};
        check_close(&c, "din", din, din_r, nin, RTOL_GEMM);
        check_close(&c, "dW", dW, dW_r, nw, RTOL_GEMM);
        check_close(&c, "db", db, db_r, (size_t)O, RTOL_GEMM);
        if (!check_failed(&c, "dense_backward", shape)) {
            dense_ctx d = {0};
            d.din = din, d.dW = dW, d.db = db, d.dout = dout, d.in = in, d.W = W;
            d.B = B, d.I = I, d.O = O;
            double t = time_median(run_dense_backward, &d);
            gemm_shape g[2] = {dense_din_gemm(I, O), dense_dw_gemm(I, O)};
            double flops = gemm_flops(g, 2);
            print_row("dense_backward", shape, t, flops / t * 1e-9, "GFLOP/s", sgemm_rate(g, 2),
                      "sgemm x2", c.maxdiff);
        }
        free(in), free(W), free(dout), free(din), free(dW), free(db);
        free(din_r), free(dW_r), free(db_r);
    }
}
