/* test_batchnorm.c — batch normalisation at every instruction-set level
 * the CPU runs:
 *   1. the training-mode backward against central differences of a
 *      textbook forward in double (biased batch variance);
 *   2. evaluation mode and the running statistics, by hand;
 *   3. the fast kernels vs their _ref twins at 1 and 2 threads, on odd
 *      shapes (fewer rows than row groups, channels in several column
 *      blocks) and a training shape.
 */
#include "harness.h"

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

int main(void) {
    /* every test starts at one thread (as they did in test_kernels, after
     * its thread test) */
    dnic_set_num_threads(1);
    HARNESS_FOR_EACH_ISA(level) {
        printf("batchnorm at isa %s\n", dnic_isa_name((dnic_isa)level));
        bn_grad_case(6, 3);
        bn_grad_case(8, 4);
        test_bn_eval();
        bn_vs_ref(37, 29);
        bn_vs_ref(3, 40);     /* fewer rows than row groups */
        bn_vs_ref(517, 83);
        bn_vs_ref(67, 1031);  /* channels in several column blocks */
        bn_vs_ref(256, 256);
    }
    return harness_finish("batchnorm");
}
