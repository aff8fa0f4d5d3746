/* test_activation.c — the activations (identity, relu, sigmoid, tanh) at
 * every instruction-set level the CPU runs:
 *   1. forward and backward against central differences of the activation
 *      in double (harness.h's ref_act);
 *   2. the fast kernels vs their _ref twins at 1 and 2 threads, on odd
 *      sizes (some large enough to be split between threads) and a
 *      training shape.
 * The network's fused bias + activation passes are test_fused's.
 */
#include "harness.h"

/* -------------------------------------------------------------- activation */

static const char *act_name[4] = {"identity", "relu", "sigmoid", "tanh"};

typedef struct {
    dnic_activation act;
    double *x, *R;
    size_t n;
} act_ctx;

static double act_obj(const void *vc) {
    const act_ctx *c = vc;
    double s = 0;
    for (size_t i = 0; i < c->n; i++) s += ref_act(c->act, c->x[i]) * c->R[i];
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
        for (int i = 0; i < N; i++) want[i] = ref_act(act, c.x[i]);
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

int main(void) {
    /* every test starts at one thread (as they did in test_kernels, after
     * its thread test) */
    dnic_set_num_threads(1);
    HARNESS_FOR_EACH_ISA(level) {
        printf("activation at isa %s\n", dnic_isa_name((dnic_isa)level));
        test_act_grad();
        act_vs_ref(37 * 29);
        act_vs_ref(40009);
        act_vs_ref(256 * 784);
    }
    return harness_finish("activation");
}
