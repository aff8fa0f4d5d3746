/* test_dense.c — the thread count, dnic_sgemm and the dense layer:
 *   1. the dense backward (and its _ref twin) against central differences
 *      of an independent double-precision forward written here;
 *   2. fast vs _ref: sgemm against a double loop, the dense layer against
 *      its plain-loop twin, at 1 and 2 threads, on awkward shapes and on a
 *      training-size shape.
 * The GEMM backends one by one are test_gemm's.
 */
#include "harness.h"

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

int main(void) {
    test_threads();
    test_dense_grad();
    test_sgemm();
    dense_vs_ref(37, 53, 29);
    dense_vs_ref(256, 784, 256);
    return harness_finish("dense");
}
