/* loss_optim.c — bench_kernels' rows of the losses, the optimizer updates and
 * gather_rows (each against a streaming copy of its traffic). */
#include "bench.h"

/* ---------------------------------------------------------------- losses */

typedef struct {
    dnic_loss kind;
    float *dp;
    const float *p;
    const int32_t *labels;
    int B, K;
    dnic_status status; /* first error seen while timing */
} loss_ctx;

static void run_loss(void *p) {
    loss_ctx *l = (loss_ctx *)p;
    float loss = 0;
    dnic_status s = dnic_loss_forward_backward(l->kind, &loss, l->dp, l->p, l->labels, NULL,
                                               l->B, l->K);
    if (s != DNIC_OK && l->status == DNIC_OK) l->status = s;
    sink += loss + l->dp[0];
}

void bench_losses(void) {
    static const struct {
        dnic_loss kind;
        const char *name;
    } losses[] = {{DNIC_LOSS_MSE, "loss_mse"},
                  {DNIC_LOSS_SOFTMAX_CE, "loss_softmax_ce"},
                  {DNIC_LOSS_LOGISTIC, "loss_logistic"}};
    int B = BATCH, K = CLASSES;
    size_t n = (size_t)B * K;
    char shape[64];
    snprintf(shape, sizeof shape, "B%d K%d labels", B, K);
    float *p = falloc(n), *dp = falloc(n), *dp_r = falloc(n);
    int32_t *labels = (int32_t *)xalloc((size_t)B * sizeof(int32_t));
    fill_uniform(p, n, -3, 3);
    for (int i = 0; i < B; i++) labels[i] = (int32_t)(dnic_rng_next(&rng_state) % (uint64_t)K);
    for (size_t k = 0; k < sizeof losses / sizeof losses[0]; k++) {
        float loss = 0, loss_r = 0;
        dnic_status s = dnic_loss_forward_backward(losses[k].kind, &loss, dp, p, labels, NULL, B, K);
        dnic_status sr =
            dnic_loss_forward_backward_ref(losses[k].kind, &loss_r, dp_r, p, labels, NULL, B, K);
        if (status_failed(s, losses[k].name, shape) || status_failed(sr, losses[k].name, shape))
            continue;
        check_t c = {0};
        check_close(&c, "loss", &loss, &loss_r, 1, RTOL_EW);
        check_close(&c, "dp", dp, dp_r, n, RTOL_EW);
        if (check_failed(&c, losses[k].name, shape)) continue;
        loss_ctx l = {losses[k].kind, dp, p, labels, B, K, DNIC_OK};
        /* reads p and labels, writes dp */
        double traffic = 2.0 * n * sizeof(float) + (double)B * sizeof(int32_t);
        double t = time_median(run_loss, &l);
        if (status_failed(l.status, losses[k].name, shape)) continue;
        print_row(losses[k].name, shape, t, traffic / t * 1e-9, "GB/s",
                  copy_rate((size_t)traffic), "copy", c.maxdiff);
    }
    free(p), free(dp), free(dp_r), free(labels);
}

/* ------------------------------------------------------------ optimizers */

typedef struct {
    float *p, *m, *v;
    const float *g;
    size_t n;
    int64_t t; /* Adam step, advanced every call */
} optim_ctx;

static const float LR = 1e-3f, MU = 0.9f, BETA1 = 0.9f, BETA2 = 0.999f, ADAM_EPS = 1e-8f,
                   L2 = 1e-4f;

static void run_sgd(void *p) {
    optim_ctx *o = (optim_ctx *)p;
    dnic_sgd_update(o->p, o->g, o->n, LR, L2);
    sink += o->p[o->n - 1];
}

static void run_momentum(void *p) {
    optim_ctx *o = (optim_ctx *)p;
    dnic_momentum_update(o->p, o->m, o->g, o->n, LR, MU, L2);
    sink += o->p[o->n - 1];
}

static void run_adam(void *p) {
    optim_ctx *o = (optim_ctx *)p;
    dnic_adam_update(o->p, o->m, o->v, o->g, o->n, LR, BETA1, BETA2, ADAM_EPS, L2, ++o->t);
    sink += o->p[o->n - 1];
}

/* Trainable parameters of the benchmark network: weights and biases. */
static size_t net_param_count(void) {
    size_t n = 0;
    for (int l = 0; l < NET_LAYERS; l++)
        n += (size_t)NET_DIMS[l] * NET_DIMS[l + 1] + (size_t)NET_DIMS[l + 1];
    return n;
}

void bench_optimizers(void) {
    size_t n = net_param_count();
    char shape[64];
    snprintf(shape, sizeof shape, "n=%zu", n);
    float *p = falloc(n), *m = falloc(n), *v = falloc(n), *g = falloc(n);
    float *p_r = falloc(n), *m_r = falloc(n), *v_r = falloc(n);
    fill_uniform(g, n, -1, 1);
    optim_ctx o = {p, m, v, g, n, 0};
    double bytes = (double)n * sizeof(float);

    /* SGD: reads p, g; writes p */
    fill_uniform(p, n, -0.1f, 0.1f);
    memcpy(p_r, p, n * sizeof(float));
    dnic_sgd_update(p, g, n, LR, L2);
    dnic_sgd_update_ref(p_r, g, n, LR, L2);
    check_t c = {0};
    check_close(&c, "p", p, p_r, n, RTOL_EW);
    if (!check_failed(&c, "sgd_update", shape))
        report_memory_bound("sgd_update", shape, run_sgd, &o, 3 * bytes, c.maxdiff);

    /* momentum: reads p, v, g; writes p, v (the velocity lives in m here) */
    fill_uniform(p, n, -0.1f, 0.1f);
    fill_uniform(m, n, -0.1f, 0.1f);
    memcpy(p_r, p, n * sizeof(float));
    memcpy(m_r, m, n * sizeof(float));
    dnic_momentum_update(p, m, g, n, LR, MU, L2);
    dnic_momentum_update_ref(p_r, m_r, g, n, LR, MU, L2);
    check_t cm = {0};
    check_close(&cm, "p", p, p_r, n, RTOL_EW);
    check_close(&cm, "v", m, m_r, n, RTOL_EW);
    if (!check_failed(&cm, "momentum_update", shape))
        report_memory_bound("momentum_update", shape, run_momentum, &o, 5 * bytes, cm.maxdiff);

    /* Adam: reads p, m, v, g; writes p, m, v. Checked at step 3 from a
     * state with non-zero moments. */
    fill_uniform(p, n, -0.1f, 0.1f);
    fill_uniform(m, n, -0.01f, 0.01f);
    fill_uniform(v, n, 0.0f, 1e-4f);
    memcpy(p_r, p, n * sizeof(float));
    memcpy(m_r, m, n * sizeof(float));
    memcpy(v_r, v, n * sizeof(float));
    dnic_adam_update(p, m, v, g, n, LR, BETA1, BETA2, ADAM_EPS, L2, 3);
    dnic_adam_update_ref(p_r, m_r, v_r, g, n, LR, BETA1, BETA2, ADAM_EPS, L2, 3);
    check_t ca = {0};
    check_close(&ca, "p", p, p_r, n, RTOL_EW);
    check_close(&ca, "m", m, m_r, n, RTOL_EW);
    check_close(&ca, "v", v, v_r, n, RTOL_EW);
    if (!check_failed(&ca, "adam_update", shape)) {
        o.t = 3;
        report_memory_bound("adam_update", shape, run_adam, &o, 7 * bytes, ca.maxdiff);
    }
    free(p), free(m), free(v), free(g), free(p_r), free(m_r), free(v_r);
}

/* ----------------------------------------------------------- gather_rows */

typedef struct {
    float *dst;
    const float *src;
    const int32_t *perm; /* a permutation of the source rows */
    size_t pos;          /* next window of BATCH indices into perm */
    dnic_status status;
} gather_ctx;

static void run_gather(void *p) {
    gather_ctx *g = (gather_ctx *)p;
    if (g->pos + BATCH > DATA_ROWS) g->pos = 0;
    dnic_status s = dnic_gather_rows(g->dst, g->src, g->perm + g->pos, BATCH, DATA_COLS, DATA_ROWS);
    if (s != DNIC_OK && g->status == DNIC_OK) g->status = s;
    g->pos += BATCH;
    sink += g->dst[0];
}

/* Each call gathers the next 256 indices of a shuffled epoch, so the rows
 * come from a 188 MB source mostly out of cache, as in training. The copy
 * reference reads 256 consecutive rows of the same source, also moving on. */
void bench_gather(void) {
    const char *name = "gather_rows";
    char shape[64];
    snprintf(shape, sizeof shape, "%dx%d of %dx%d", BATCH, DATA_COLS, DATA_ROWS, DATA_COLS);
    size_t n_src = (size_t)DATA_ROWS * DATA_COLS, n_dst = (size_t)BATCH * DATA_COLS;
    float *src = falloc(n_src), *dst = falloc(n_dst), *dst_r = falloc(n_dst);
    int32_t *perm = (int32_t *)xalloc((size_t)DATA_ROWS * sizeof(int32_t));
    for (size_t i = 0; i < n_src; i++) src[i] = (float)(i % 4099) * (1.0f / 4099.0f);
    for (int i = 0; i < DATA_ROWS; i++) perm[i] = i;
    if (status_failed(dnic_shuffle(perm, DATA_ROWS, &rng_state), name, shape)) goto done;

    dnic_status s = dnic_gather_rows(dst, src, perm, BATCH, DATA_COLS, DATA_ROWS);
    dnic_status sr = dnic_gather_rows_ref(dst_r, src, perm, BATCH, DATA_COLS, DATA_ROWS);
    if (status_failed(s, name, shape) || status_failed(sr, name, shape)) goto done;
    check_t c = {0};
    check_close(&c, "dst", dst, dst_r, n_dst, 0.0);
    if (check_failed(&c, name, shape)) goto done;

    gather_ctx g = {dst, src, perm, 0, DNIC_OK};
    double t = time_median(run_gather, &g);
    if (status_failed(g.status, name, shape)) goto done;
    double traffic = 2.0 * n_dst * sizeof(float) + (double)BATCH * sizeof(int32_t);
    copy_ctx cc;
    memset(&cc, 0, sizeof cc);
    cc.dst = dst_r, cc.src = src, cc.n = n_dst, cc.rows = DATA_ROWS, cc.row_len = DATA_COLS;
    double ref = copy_rate_ctx(&cc);
    print_row(name, shape, t, traffic / t * 1e-9, "GB/s", ref, "cold copy", c.maxdiff);
done:
    free(src), free(dst), free(dst_r), free(perm);
}
