/* test_theorem1.c — synthetic gradients reach what least squares reaches:
 *   - Theorem 1 (paper Section 3/4): linear regression with a linear SG on
 *     its output converges to the least-squares solution (LAPACKE_dgels),
 *     with TRUE and with bootstrapped targets;
 *   - a deep linear network (10 hidden layers) with a linear SG in the
 *     middle reaches the least-squares loss.
 * Both at 1 and 2 threads.
 */
#include "textbook.h"

#include <lapacke.h>

#include "lapacke_ref.h"

/* ------------------------------------------------- least squares (LAPACK) */

/* Solves min |[X 1] Wb - Y| in double: Wb (D+1, K), last row the bias.
 * Returns the loss (1/2N) |[X 1] Wb - Y|^2 (the dnic MSE convention). */
static double lstsq(const float *X, const float *Y, int N, int Dx, int K, double *Wb) {
    double *A = malloc(sizeof(double) * N * (Dx + 1)), *Bm = malloc(sizeof(double) * N * K);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < Dx; k++) A[i * (Dx + 1) + k] = X[i * Dx + k];
        A[i * (Dx + 1) + Dx] = 1.0;
        for (int j = 0; j < K; j++) Bm[i * K + j] = Y[i * K + j];
    }
    dgels_fn dgels = find_dgels();
    CHECK(dgels != NULL, "LAPACKE_dgels: neither linked nor loadable (liblapacke.so.3)");
    lapack_int info = dgels ? dgels(LAPACK_ROW_MAJOR, 'N', N, Dx + 1, K, A, Dx + 1, Bm, K) : -1;
    CHECK(info == 0, "LAPACKE_dgels info %d", (int)info);
    for (int k = 0; k < (Dx + 1) * K; k++) Wb[k] = Bm[k];
    double L = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < K; j++) {
            double p = Wb[Dx * K + j];
            for (int k = 0; k < Dx; k++) p += X[i * Dx + k] * Wb[k * K + j];
            L += 0.5 * (p - Y[i * K + j]) * (p - Y[i * K + j]);
        }
    free(A);
    free(Bm);
    return L / N;
}

static void make_regression(float *X, float *Y, int N, int Dx, int K, double noise, uint64_t seed) {
    uint64_t rng = seed;
    double W[16 * 4], b[4];
    for (int k = 0; k < Dx * K; k++) W[k] = dnic_rng_normal(&rng);
    for (int j = 0; j < K; j++) b[j] = dnic_rng_normal(&rng);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < Dx; k++) X[i * Dx + k] = dnic_rng_normal(&rng);
        for (int j = 0; j < K; j++) {
            double v = b[j] + noise * dnic_rng_normal(&rng);
            for (int k = 0; k < Dx; k++) v += X[i * Dx + k] * W[k * K + j];
            Y[i * K + j] = (float)v;
        }
    }
}

/* Theorem 1: linear regression p = xW + b, MSE, a LINEAR SG (conditioned
 * on the float targets) between the output and the loss, full batch SGD:
 * converges to the least-squares solution.
 * Learning rates: SG 0.1, network 0.05 (the SG learns on a faster time
 * scale than the model it serves; both are full-batch gradient steps on
 * well-conditioned quadratics: the SG's inputs [p, y, 1] have covariance
 * eigenvalues up to ~10 here, so its lr must stay below ~0.2). Reaches a
 * relative error ~1e-6 in about 600 steps; the float32 floor is ~1e-6. */
static void test_theorem1(dnic_iface_target target, double *rel_out) {
    enum { N = 64, DX = 4, K = 2 };
    static float X[N * DX], Y[N * K];
    make_regression(X, Y, N, DX, K, 1.0, 1234);
    double Wb[(DX + 1) * K];
    lstsq(X, Y, N, DX, K, Wb);
    const dnic_layer_desc L[] = {{K, DNIC_ACT_IDENTITY, 0}};
    dnic_net_t *net = make_net(DX, 1, L, DNIC_LOSS_MSE, N, DNIC_INIT_GLOROT_UNIFORM, 3);
    if (!net) return;
    set_sgd(net, 0.05f);
    dnic_iface_desc d = iface(0, DNIC_IFACE_LINEAR, target, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED);
    dnic_dni_t *dni = make_dni(net, &d, 1, K, 4, 0.1f);
    if (!dni) {
        dnic_net_free(net);
        return;
    }
    int steps = 0;
    double rel = INFINITY;
    long oW = net_tensor(net, "layer0.weight"), ob = net_tensor(net, "layer0.bias");
    size_t np;
    float *P = dnic_net_params(net, &np);
    double nW = 0, nb = 0;
    for (int k = 0; k < DX * K; k++) nW += Wb[k] * Wb[k];
    for (int j = 0; j < K; j++) nb += Wb[DX * K + j] * Wb[DX * K + j];
    double relW = INFINITY, relb = INFINITY;
    for (steps = 1; steps <= 5000; steps++) {
        dnic_status st = dnic_dni_train_step(dni, X, NULL, Y, N, NULL);
        if (st != DNIC_OK) {
            CHECK(0, "theorem 1 step %d: %s", steps, dnic_status_str(st));
            break;
        }
        if (steps % 100 == 0) {
            double eW = 0, eb = 0;
            for (int k = 0; k < DX * K; k++) eW += (P[oW + k] - Wb[k]) * (P[oW + k] - Wb[k]);
            for (int j = 0; j < K; j++) eb += (P[ob + j] - Wb[DX * K + j]) * (P[ob + j] - Wb[DX * K + j]);
            relW = sqrt(eW / nW);
            relb = sqrt(eb / nb);
            rel = fmax(relW, relb);
            if (rel < 2e-6) break;
        }
    }
    if (rel_out) *rel_out = rel;
    CHECK(relW <= 1e-4 && relb <= 1e-4, "theorem 1 (%s target): relative error of W %.3g, of b %.3g after %d steps",
          target == DNIC_TARGET_TRUE ? "true" : "bootstrap", relW, relb, steps);
    if (getenv("DNIC_TEST_VERBOSE"))
        printf("theorem 1 (%s): rel err W %.3g b %.3g after %d steps\n",
               target == DNIC_TARGET_TRUE ? "true" : "bootstrap", relW, relb, steps);
    dnic_dni_free(dni);
    dnic_net_free(net);
}

/* (1/2N) sum |p_i - y_i|^2 of a deep linear library net (identity
 * activations everywhere), my own double forward of its parameters. */
static double deep_loss(dnic_net_t *net, const float *X, const float *Y, int N, int DX, int K, int H, int W) {
    size_t np;
    const float *P = dnic_net_params(net, &np);
    long oW[MAXL], ob[MAXL];
    for (int l = 0; l <= H; l++) {
        char name[64];
        snprintf(name, sizeof name, "layer%d.weight", l);
        oW[l] = net_tensor(net, name);
        snprintf(name, sizeof name, "layer%d.bias", l);
        ob[l] = net_tensor(net, name);
        if (oW[l] < 0 || ob[l] < 0) return INFINITY;
    }
    double L = 0;
    for (int i = 0; i < N; i++) {
        double h[MAXL], hn[MAXL];
        for (int k = 0; k < DX; k++) h[k] = X[i * DX + k];
        int win = DX;
        for (int l = 0; l <= H; l++) {
            int out = l < H ? W : K;
            for (int c = 0; c < out; c++) {
                double v = P[ob[l] + c];
                for (int r = 0; r < win; r++) v += h[r] * P[oW[l] + r * out + c];
                hn[c] = v;
            }
            memcpy(h, hn, sizeof(double) * out);
            win = out;
        }
        for (int j = 0; j < K; j++) L += 0.5 * (h[j] - Y[i * K + j]) * (h[j] - Y[i * K + j]);
    }
    return L / N;
}

/* Deep linear network, 10 hidden identity layers of width 4, MSE, one
 * LINEAR SG in the middle (after hidden layer 5, conditioned on the float
 * targets), full batch from the library's Glorot-uniform init: reaches the
 * loss of the least-squares solution. Network lr 0.01, SG lr 0.1; the gap
 * falls from ~5.6 to < 5e-6 in ~1000-2000 steps (the float32 floor is
 * ~1.5e-6 here). */
static void test_deep_linear(double *gap_out) {
    enum { N = 64, DX = 4, K = 2, H = 10, W = 4 };
    static float X[N * DX], Y[N * K];
    make_regression(X, Y, N, DX, K, 1.0, 4321);
    double Wb[(DX + 1) * K];
    double Lstar = lstsq(X, Y, N, DX, K, Wb);
    dnic_layer_desc L[H + 1];
    for (int l = 0; l < H; l++) L[l] = (dnic_layer_desc){W, DNIC_ACT_IDENTITY, 0};
    L[H] = (dnic_layer_desc){K, DNIC_ACT_IDENTITY, 0};
    dnic_net_t *net = make_net(DX, H + 1, L, DNIC_LOSS_MSE, N, DNIC_INIT_GLOROT_UNIFORM, 17);
    if (!net) return;
    set_sgd(net, 0.01f);
    dnic_iface_desc d = iface(H / 2 - 1, DNIC_IFACE_LINEAR, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED);
    dnic_dni_t *dni = make_dni(net, &d, 1, K, 4, 0.1f);
    if (!dni) {
        dnic_net_free(net);
        return;
    }
    double gap = INFINITY, gap0 = deep_loss(net, X, Y, N, DX, K, H, W) - Lstar;
    int steps;
    for (steps = 1; steps <= 30000; steps++) {
        dnic_status st = dnic_dni_train_step(dni, X, NULL, Y, N, NULL);
        if (st != DNIC_OK) {
            CHECK(0, "deep linear step %d: %s", steps, dnic_status_str(st));
            break;
        }
        if (steps % 200 == 0) {
            gap = deep_loss(net, X, Y, N, DX, K, H, W) - Lstar;
            if (gap < 5e-6) break;
        }
    }
    if (gap_out) *gap_out = gap;
    CHECK(gap <= 1e-4 && gap > -1e-6, "deep linear + SG: loss gap to least squares %.3g (L* %.6g) after %d steps",
          gap, Lstar, steps);
    if (getenv("DNIC_TEST_VERBOSE"))
        printf("deep linear: loss gap %.3g (L* %.6g, initial gap %.3g) after %d steps\n", gap, Lstar, gap0, steps);
    /* the lower block really learnt from the SG: its parameters moved */
    dnic_iface_t *it = dnic_dni_iface(dni, 0);
    size_t ni;
    const float *S = it ? dnic_iface_params(it, &ni) : NULL;
    double sn = 0;
    for (size_t k = 0; S && k < ni; k++) sn += fabs(S[k]);
    CHECK(sn > 0.1, "deep linear: the SG parameters are still (near) zero (sum |.| %g)", sn);
    dnic_dni_free(dni);
    dnic_net_free(net);
}


int main(void) {
    double rel_true[2] = {0}, rel_boot[2] = {0}, gap[2] = {0};
    for (int threads = 1; threads <= 2; threads++) {
        dnic_set_num_threads(threads);
        test_theorem1(DNIC_TARGET_TRUE, &rel_true[threads - 1]);
        test_theorem1(DNIC_TARGET_BOOTSTRAP, &rel_boot[threads - 1]);
        test_deep_linear(&gap[threads - 1]);
    }
    printf("theorem 1: relative error of W, b %.2g (true target) %.2g (bootstrap); deep linear: loss gap %.2g\n",
           fmax(rel_true[0], rel_true[1]), fmax(rel_boot[0], rel_boot[1]), fmax(gap[0], gap[1]));
    return harness_finish("theorem1");
}
