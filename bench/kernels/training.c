/* training.c — bench_kernels' rows of whole steps: a training step of the
 * 784-256-256-256-10 relu network and one step of every interface kind
 * (against dnic_sgemm running the same GEMMs). */
#include "bench.h"

/* ------------------------------------------------------------ train step */

#define TRAIN_POOL 8 /* random batches cycled through */

typedef struct {
    dnic_net_t *net;
    const float *x;        /* TRAIN_POOL batches of (BATCH, 784) */
    const int32_t *labels; /* TRAIN_POOL batches of (BATCH) */
    int next;
    dnic_status status;
} train_ctx;

static void run_train_step(void *p) {
    train_ctx *tc = (train_ctx *)p;
    int k = tc->next;
    tc->next = (k + 1) % TRAIN_POOL;
    float loss = 0;
    dnic_status s = dnic_net_train_step(tc->net, tc->x + (size_t)k * BATCH * NET_DIMS[0],
                                        tc->labels + (size_t)k * BATCH, NULL, BATCH, &loss);
    if (s != DNIC_OK && tc->status == DNIC_OK) tc->status = s;
    sink += loss;
}

/* One SGD training step (zero_grad, forward, softmax CE, backward, update)
 * of the 784-256-256-256-10 relu network; its FLOPs are the GEMMs: per
 * layer forward and dW, plus din for every layer but the first. */
/* The 784-256-256-256-10 relu network, softmax cross-entropy, at batch B
 * (layers: the caller's, NET_LAYERS long, which desc points into). */
static void w1_desc(dnic_layer_desc *layers, dnic_net_desc *desc, int B) {
    for (int l = 0; l < NET_LAYERS; l++) {
        layers[l].width = NET_DIMS[l + 1];
        layers[l].act = l + 1 < NET_LAYERS ? DNIC_ACT_RELU : DNIC_ACT_IDENTITY;
        layers[l].batchnorm = 0;
    }
    dnic_net_desc_defaults(desc);
    desc->input_dim = NET_DIMS[0];
    desc->n_layers = NET_LAYERS;
    desc->layers = layers;
    desc->loss = DNIC_LOSS_SOFTMAX_CE;
    desc->max_batch = B;
}

void bench_train_step(void) {
    const char *name = "net_train_step";
    char shape[64];
    snprintf(shape, sizeof shape, "%d-%d-%d-%d-%d B%d", NET_DIMS[0], NET_DIMS[1], NET_DIMS[2],
             NET_DIMS[3], NET_DIMS[4], BATCH);
    dnic_layer_desc layers[NET_LAYERS];
    dnic_net_desc desc;
    w1_desc(layers, &desc, BATCH);

    gemm_shape g[3 * NET_LAYERS];
    int ng = 0;
    for (int l = 0; l < NET_LAYERS; l++) {
        int I = NET_DIMS[l], O = NET_DIMS[l + 1];
        g[ng++] = dense_fwd_gemm(I, O);
        g[ng++] = dense_dw_gemm(I, O);
        if (l > 0) g[ng++] = dense_din_gemm(I, O);
    }
    double flops = gemm_flops(g, ng);

    dnic_net_t *net = NULL;
    if (status_failed(dnic_net_create(&net, &desc, 42), name, shape)) return;
    dnic_optim_config sgd = dnic_optim_default(DNIC_OPT_SGD);
    if (status_failed(dnic_net_set_optimizer(net, 0, &sgd), name, shape)) {
        dnic_net_free(net);
        return;
    }
    size_t nx = (size_t)TRAIN_POOL * BATCH * NET_DIMS[0];
    float *x = falloc(nx);
    int32_t *labels = (int32_t *)xalloc((size_t)TRAIN_POOL * BATCH * sizeof(int32_t));
    fill_uniform(x, nx, 0, 1);
    for (int i = 0; i < TRAIN_POOL * BATCH; i++)
        labels[i] = (int32_t)(dnic_rng_next(&rng_state) % (uint64_t)NET_DIMS[NET_LAYERS]);

    train_ctx tc = {net, x, labels, 0, DNIC_OK};
    double t = time_median(run_train_step, &tc);
    if (!status_failed(tc.status, name, shape)) {
        double ref = sgemm_rate(g, ng);
        char ref_name[32];
        snprintf(ref_name, sizeof ref_name, "sgemm x%d", ng);
        print_row(name, shape, t, flops / t * 1e-9, "GFLOP/s", ref, ref_name, -1);
        printf("%-22s %-8s %-22s %11s %10.0f %-9s  (%d GEMMs, %.1f MFLOP per step)\n", name, row_isa, shape, "",
               BATCH / t, "samples/s", ng, flops * 1e-6);
    }
    dnic_net_free(net);
    free(x), free(labels);
}
/* -------------------------------------------------------------- interfaces */

typedef struct {
    dnic_iface_t *it;
    const float *h, *g;
    const int32_t *labels;
    float *signal;
    int B;
} iface_ctx;

/* One step's interface work: target, prediction, loss, backward, signal, update. */
static void run_iface(void *p) {
    iface_ctx *c = (iface_ctx *)p;
    dnic_iface_zero_grad(c->it);
    dnic_iface_set_target(c->it, c->g, c->B);
    dnic_iface_forward(c->it, c->h, c->labels, NULL, c->B);
    float loss;
    dnic_iface_loss_value(c->it, c->B, &loss);
    dnic_iface_backward(c->it, c->B);
    dnic_iface_write_signal(c->it, c->signal, c->B);
    dnic_iface_update(c->it);
    sink += c->signal[0];
}

void bench_interfaces(void) {
    enum { B = 256, DH = 256, K = 10 };
    float *h = falloc((size_t)B * DH), *g = falloc((size_t)B * DH), *sig = falloc((size_t)B * DH);
    float *want = falloc((size_t)B * DH);
    int32_t labels[B];
    fill_uniform(h, (size_t)B * DH, 0.0f, 1.0f);
    fill_uniform(g, (size_t)B * DH, -1e-3f, 1e-3f);
    for (int i = 0; i < B; i++) labels[i] = i % K;
    const int mlp_widths[1] = {256};
    struct {
        const char *name;
        dnic_iface_kind kind;
        dnic_iface_target target;
        dnic_iface_loss loss;
        dnic_iface_signal signal;
        int dout;
    } kinds[] = {
        {"iface linear (cDNI)", DNIC_IFACE_LINEAR, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, DH},
        {"iface nolabel", DNIC_IFACE_NOLABEL, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, DH},
        {"iface sigmoid", DNIC_IFACE_SIGMOID, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, DH},
        {"iface mlp 1x256", DNIC_IFACE_MLP, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED, DH},
        {"iface sgprop linear", DNIC_IFACE_LINEAR, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_L2, DNIC_SIGNAL_PRED_PROP, DH},
        {"iface identity", DNIC_IFACE_IDENTITY, DNIC_TARGET_BOOTSTRAP, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, DH},
        {"iface random (DFA)", DNIC_IFACE_RANDOM, DNIC_TARGET_OUTPUT_ERROR, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, K},
        {"iface ones (Kickback)", DNIC_IFACE_ONES, DNIC_TARGET_OUTPUT_ERROR, DNIC_IFACE_LOSS_INNER, DNIC_SIGNAL_PROP, K},
    };
    for (size_t q = 0; q < sizeof kinds / sizeof kinds[0]; q++) {
        dnic_iface_desc d;
        dnic_iface_desc_defaults(&d, 0);
        d.kind = kinds[q].kind;
        d.target = kinds[q].target;
        d.loss = kinds[q].loss;
        d.signal = kinds[q].signal;
        d.alpha = 0.1f;
        d.mlp_layers = kinds[q].kind == DNIC_IFACE_MLP ? 1 : 0;
        d.mlp_widths = mlp_widths;
        dnic_iface_t *it = NULL;
        char shape[64];
        snprintf(shape, sizeof shape, "B%d h%d s%d", B, DH, kinds[q].dout);
        if (status_failed(dnic_iface_create(&it, &d, DH, kinds[q].dout, K, B, 0.1f, 3), kinds[q].name, shape)) continue;
        /* random parameters so the work is real, then the prediction of the
         * linear kinds against a plain loop: s = hA + C (+ B[y]) */
        size_t np;
        float *P = dnic_iface_params(it, &np);
        if (kinds[q].kind != DNIC_IFACE_ONES) fill_uniform(P, np, -0.05f, 0.05f);
        iface_ctx ctx = {it, h, g, labels, sig, B};
        double maxdiff = -1;
        if (kinds[q].kind == DNIC_IFACE_LINEAR || kinds[q].kind == DNIC_IFACE_NOLABEL ||
            kinds[q].kind == DNIC_IFACE_RANDOM || kinds[q].kind == DNIC_IFACE_ONES) {
            dnic_iface_set_target(it, g, B);
            dnic_iface_forward(it, h, labels, NULL, B);
            int dout = kinds[q].dout;
            dnic_tensor_info tA, tB, tC;
            int nt = dnic_iface_num_tensors(it);
            dnic_iface_tensor(it, 0, &tA);
            for (int r = 0; r < B; r++)
                for (int o = 0; o < dout; o++) {
                    double v = 0;
                    for (int k = 0; k < DH; k++) v += (double)h[(size_t)r * DH + k] * P[tA.offset + (size_t)k * dout + o];
                    if (nt == 3) { dnic_iface_tensor(it, 1, &tB); v += P[tB.offset + (size_t)labels[r] * dout + o]; }
                    if (nt >= 2) { dnic_iface_tensor(it, nt - 1, &tC); v += P[tC.offset + o]; }
                    want[(size_t)r * dout + o] = (float)v;
                }
            check_t chk = {0};
            check_close(&chk, kinds[q].name, dnic_iface_prediction(it), want, (size_t)B * dout, 1e-4);
            if (check_failed(&chk, kinds[q].name, shape)) { dnic_iface_free(it); continue; }
            maxdiff = chk.maxdiff;
        }
        double sec = time_median(run_iface, &ctx);
        /* the GEMMs this interface's step performs, run by sgemm alone */
        gemm_shape shapes[6];
        int ns = 0;
        int dout = kinds[q].dout;
        if (kinds[q].kind == DNIC_IFACE_IDENTITY) {
            double traffic = 4.0 * B * DH * 4; /* copy h, delta, signal: read + write */
            print_row(kinds[q].name, shape, sec, traffic / sec * 1e-9, "GB/s", copy_rate((size_t)traffic), "copy", maxdiff);
        } else {
            shapes[ns++] = (gemm_shape){0, 0, B, dout, DH, 0.0f};                       /* prediction */
            if (kinds[q].kind != DNIC_IFACE_RANDOM && kinds[q].kind != DNIC_IFACE_ONES)
                shapes[ns++] = (gemm_shape){1, 0, DH, dout, B, 1.0f};                   /* dA */
            if (kinds[q].signal != DNIC_SIGNAL_PRED) shapes[ns++] = (gemm_shape){0, 1, B, DH, dout, 0.0f}; /* dL/dh */
            if (kinds[q].kind == DNIC_IFACE_MLP) { /* two layers of [h, y] -> 256 -> 256 */
                ns = 0;
                shapes[ns++] = (gemm_shape){0, 0, B, 256, DH + K, 0.0f};
                shapes[ns++] = (gemm_shape){0, 0, B, DH, 256, 0.0f};
                shapes[ns++] = (gemm_shape){1, 0, 256, DH, B, 1.0f};
                shapes[ns++] = (gemm_shape){1, 0, DH + K, 256, B, 1.0f};
                shapes[ns++] = (gemm_shape){0, 1, B, 256, DH, 0.0f};
                shapes[ns++] = (gemm_shape){0, 1, B, DH + K, 256, 0.0f};
            }
            double flops = gemm_flops(shapes, ns);
            print_row(kinds[q].name, shape, sec, flops / sec * 1e-9, "GFLOP/s", sgemm_rate(shapes, ns), "sgemm", maxdiff);
        }
        dnic_iface_free(it);
    }
    free(h); free(g); free(sig); free(want);
}

/* ---------------------------------------------------- locked sg vs backprop */

typedef struct {
    dnic_dni_t *dni;
    const float *x;
    const int32_t *labels;
    int B, next;
    dnic_status status;
} dni_ctx;

static void run_dni_step(void *p) {
    dni_ctx *c = (dni_ctx *)p;
    int k = c->next;
    c->next = (k + 1) % TRAIN_POOL;
    float loss = 0;
    dnic_status s = dnic_dni_train_step(c->dni, c->x + (size_t)k * c->B * NET_DIMS[0], c->labels + (size_t)k * c->B,
                                        NULL, c->B, &loss);
    if (s != DNIC_OK && c->status == DNIC_OK) c->status = s;
    sink += loss;
}

/* The locked DNI step of the 784-256-256-256-10 network with no interface
 * (backprop) and with one linear cDNI after hidden layer 2 (`dnic bench
 * train --rule sg`'s placement), SGD for both, at batch 64 and 256: the
 * step times, and sg's samples/s as a fraction of backprop's beside what
 * the interface's GEMM FLOPs alone predict (it adds the prediction hA and
 * dA = h^T delta). What the interface costs beyond its two GEMMs shows as
 * the gap between the two fractions. */
void bench_locked_sg(void) {
    static const int batches[2] = {64, 256};
    for (int q = 0; q < 2; q++) {
        int B = batches[q];
        char shape[64];
        snprintf(shape, sizeof shape, "W1 B%d", B);
        dnic_layer_desc layers[NET_LAYERS];
        dnic_net_desc desc;
        w1_desc(layers, &desc, B);
        dnic_optim_config sgd = dnic_optim_default(DNIC_OPT_SGD);
        dnic_iface_desc iface;
        dnic_iface_desc_defaults(&iface, 1); /* after hidden layer 2 (0-based layer 1) */
        size_t nx = (size_t)TRAIN_POOL * B * NET_DIMS[0];
        float *x = falloc(nx);
        int32_t *labels = (int32_t *)xalloc((size_t)TRAIN_POOL * B * sizeof(int32_t));
        fill_uniform(x, nx, 0, 1);
        for (int i = 0; i < TRAIN_POOL * B; i++) labels[i] = (int32_t)(dnic_rng_next(&rng_state) % 10);
        double sec[2] = {0, 0};
        int ok = 1;
        for (int sg = 0; sg < 2 && ok; sg++) {
            const char *name = sg ? "dni_step sg" : "dni_step backprop";
            dnic_net_t *net = NULL;
            dnic_dni_t *dni = NULL;
            ok = !status_failed(dnic_net_create(&net, &desc, 42), name, shape) &&
                 !status_failed(dnic_net_set_optimizer(net, 0, &sgd), name, shape) &&
                 !status_failed(dnic_dni_create(&dni, net, &iface, sg, 10, 5), name, shape) &&
                 !status_failed(dnic_dni_set_iface_optimizer(dni, &sgd), name, shape);
            if (ok) {
                dni_ctx c = {dni, x, labels, B, 0, DNIC_OK};
                sec[sg] = time_median(run_dni_step, &c);
                ok = !status_failed(c.status, name, shape);
                if (ok)
                    printf("%-22s %-8s %-22s %11.1f %10.0f %-9s\n", name, row_isa, shape, sec[sg] * 1e6, B / sec[sg],
                           "samples/s");
            }
            dnic_dni_free(dni);
            dnic_net_free(net);
        }
        if (ok) {
            /* GEMM FLOPs per example: the network's forward, dW and din (not
             * the first layer's), and the interface's two 256 x 256 GEMMs */
            double net_flops = 0, iface_flops = 2.0 * 2 * NET_DIMS[2] * NET_DIMS[2];
            for (int l = 0; l < NET_LAYERS; l++) net_flops += 2.0 * NET_DIMS[l] * NET_DIMS[l + 1] * (l > 0 ? 3 : 2);
            printf("%-22s %-8s %-22s sg/backprop samples/s %.3f (the interface's GEMM FLOPs alone: %.3f)\n",
                   "dni_step sg/backprop", row_isa, shape, sec[0] / sec[1], net_flops / (net_flops + iface_flops));
        }
        free(x), free(labels);
    }
}
