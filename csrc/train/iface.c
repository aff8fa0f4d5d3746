/* iface.c — one decoupled neural interface: a prediction s = S(h, y) of the
 * learning signal at a block boundary, its loss against a target, its own
 * parameters and optimizer, and the signal it delivers to the block below.
 * Every rule of the paper's Table 1 is a choice of kind / target / loss /
 * signal here; dni.c places interfaces in a network.
 *
 * Units (see dnic.h): targets g arrive in batch-mean units (row i is
 * (1/B) dL_i/dh_i, what the network's buffers hold); trainable predictions
 * estimate the per-example gradient B g_i.
 */
#include "gemm/threads.h"
#include "kernels/kernels_internal.h"
#include "train/train_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE ((size_t)-1)

/* Values per thread below which the prediction's, the loss's and the
 * gradients' streaming passes stay on one thread, as the network's
 * (activation.c): a 2-thread region costs about what it saves on a pass of
 * 16k values, and each is one more wait for a descheduled peer. */
#define PAR_STREAM 16384

struct dnic_iface_s {
    dnic_iface_desc d;
    int dh, dout, nl, max_batch;
    int *mlp_widths;
    size_t oA, oB, oC, od;           /* offsets into params (NONE if absent) */
    int n_tensors;
    dnic_tensor_info tensors[4];
    float *params, *grads, *optim;   /* own blocks (not used by MLP) */
    size_t n_params;
    dnic_net_t *mlp;                 /* MLP kind: the predictor network */
    float *mlp_in;                   /* (max_batch, dh + nl) = [h, y] */
    float *s, *g, *delta, *dLdh, *z, *sig; /* (max_batch, dout) except dLdh (max_batch, dh) */
    const float *h;
    const int32_t *labels;
    const float *ycond;
    int fwd_B, target_B, loss_B, back_B;
    int want_input_grad; /* compute dL_S/dh even for the PRED signal */
    dnic_optim_config opt;
    dnic_lr_schedule sched; /* the rate's schedule over `step` (default: constant) */
    int64_t step;
    float clip;
    int fault_tensor, fault_grad;
    int loss_fault; /* the last interface loss was not finite as a float */
    int owned; /* a DNI's interface: the DNI frees it */
    int centre;  /* centre s and dL_S/ds over the batch (dnic_iface_centre ON) */
    size_t mlp_out_bias; /* MLP: offset of the output layer's bias in its gradients */
    int dA_pending; /* a boundary step zeroed the gradients but dA's memset has not happened (see zero_grad_lazy) */
};

/* Subtracts each column's batch mean from m (B, n): a centred prediction
 * sums to zero over the batch, as its target does under batch norm. */
static void centre_columns(float *m, int B, int n) {
    for (int c = 0; c < n; c++) {
        double sum = 0;
        for (int r = 0; r < B; r++) sum += m[(size_t)r * n + c];
        float mean = (float)(sum / B);
        for (int r = 0; r < B; r++) m[(size_t)r * n + c] -= mean;
    }
}

int dnic__iface_kind_trainable(dnic_iface_kind k) {
    return k == DNIC_IFACE_LINEAR || k == DNIC_IFACE_NOLABEL || k == DNIC_IFACE_SIGMOID || k == DNIC_IFACE_MLP;
}

void dnic_iface_desc_defaults(dnic_iface_desc *d, int layer) {
    if (!d) return;
    memset(d, 0, sizeof *d);
    d->layer = layer;
    d->kind = DNIC_IFACE_LINEAR;
    d->target = DNIC_TARGET_BOOTSTRAP;
    d->loss = DNIC_IFACE_LOSS_L2;
    d->signal = DNIC_SIGNAL_PRED;
}

#define FN "dnic_iface_create: "

static dnic_status validate(const dnic_iface_desc *d, int dh, int dout, int nl, int max_batch) {
    const int big = 1 << 22;
    if (dh < 1 || dh > big) return dnic__fail(DNIC_ERR_SIZE, FN "dh = %d is outside 1..%d", dh, big);
    if (dout < 1 || dout > big) return dnic__fail(DNIC_ERR_SIZE, FN "dout = %d is outside 1..%d", dout, big);
    if (nl < 0 || nl > big) return dnic__fail(DNIC_ERR_SIZE, FN "n_labels = %d is outside 0..%d", nl, big);
    if (max_batch < 1 || max_batch > DNIC_MAX_DIM)
        return dnic__fail(DNIC_ERR_SIZE, FN "max_batch = %d is outside 1..%d", max_batch, DNIC_MAX_DIM);
    if ((unsigned)d->kind > DNIC_IFACE_ORACLE)
        return dnic__fail(DNIC_ERR_ARG, FN "kind = %d is not a dnic_iface_kind "
                          "(0..%d)", (int)d->kind, DNIC_IFACE_ORACLE);
    if ((unsigned)d->target > DNIC_TARGET_NEXT_ERROR)
        return dnic__fail(DNIC_ERR_ARG, FN "target = %d is not a dnic_iface_target (0..%d)", (int)d->target,
                          DNIC_TARGET_NEXT_ERROR);
    if ((unsigned)d->loss > DNIC_IFACE_LOSS_INNER)
        return dnic__fail(DNIC_ERR_ARG, FN "loss = %d is not a dnic_iface_loss (0..%d)", (int)d->loss,
                          DNIC_IFACE_LOSS_INNER);
    if ((unsigned)d->signal > DNIC_SIGNAL_PRED_PROP)
        return dnic__fail(DNIC_ERR_ARG, FN "signal = %d is not a dnic_iface_signal (0..%d)", (int)d->signal,
                          DNIC_SIGNAL_PRED_PROP);
    if (!(d->alpha >= 0.0f) || !isfinite(d->alpha))
        return dnic__fail(DNIC_ERR_ARG, FN "alpha = %g must be finite and >= 0", (double)d->alpha);
    if (d->warmup_steps < 0)
        return dnic__fail(DNIC_ERR_ARG, FN "warmup_steps = %lld must be >= 0", (long long)d->warmup_steps);
    int square = dout == dh;
    /* a prediction of the signal itself must have the signal's shape */
    if ((dnic__iface_kind_trainable(d->kind) || d->kind == DNIC_IFACE_IDENTITY || d->kind == DNIC_IFACE_ORACLE) && !square)
        return dnic__fail(DNIC_ERR_ARG, FN "kind %d predicts the signal itself: dout = %d must equal dh = %d",
                          (int)d->kind, dout, dh);
    if (d->signal != DNIC_SIGNAL_PROP && !square)
        return dnic__fail(DNIC_ERR_ARG, FN "signal %d delivers the prediction: dout = %d must equal dh = %d (or use "
                          "signal PROP)", (int)d->signal, dout, dh);
    /* a fixed projection's prediction is no gradient estimate */
    if (d->signal != DNIC_SIGNAL_PROP && (d->kind == DNIC_IFACE_RANDOM || d->kind == DNIC_IFACE_ONES))
        return dnic__fail(DNIC_ERR_ARG, FN "kind %d (a fixed projection) takes signal PROP (1), not %d", (int)d->kind,
                          (int)d->signal);
    if (d->warmup_steps > 0 && !square)
        return dnic__fail(DNIC_ERR_ARG, FN "warmup_steps = %lld delivers the target: dout = %d must equal dh = %d",
                          (long long)d->warmup_steps, dout, dh);
    if (d->kind == DNIC_IFACE_MLP) {
        if (d->mlp_layers < 0 || d->mlp_layers > 64)
            return dnic__fail(DNIC_ERR_SIZE, FN "mlp_layers = %d is outside 0..64", d->mlp_layers);
        if (d->mlp_layers > 0 && !d->mlp_widths)
            return dnic__fail(DNIC_ERR_NULL, FN "mlp_widths is NULL (mlp_layers = %d)", d->mlp_layers);
        for (int i = 0; i < d->mlp_layers; i++)
            if (d->mlp_widths[i] < 1 || d->mlp_widths[i] > (1 << 20))
                return dnic__fail(DNIC_ERR_SIZE, FN "mlp_widths[%d] = %d is outside "
                                  "1..%d", i, d->mlp_widths[i], 1 << 20);
        if (d->mlp_batchnorm != 0 && d->mlp_batchnorm != 1)
            return dnic__fail(DNIC_ERR_ARG, FN "mlp_batchnorm = %d is not 0 or 1", d->mlp_batchnorm);
    }
    if ((unsigned)d->centre > DNIC_CENTRE_ON)
        return dnic__fail(DNIC_ERR_ARG, FN "centre = %d is not a dnic_iface_centre (0..%d)", (int)d->centre,
                          DNIC_CENTRE_ON);
    if (d->centre == DNIC_CENTRE_ON && !dnic__iface_kind_trainable(d->kind))
        return dnic__fail(DNIC_ERR_ARG, FN "centre ON needs a trainable kind (LINEAR, NOLABEL, SIGMOID, MLP), not %d",
                          (int)d->kind);
    return DNIC_OK;
}

static void add_tensor(dnic_iface_t *it, const char *name, size_t *off, int rows, int cols, int trainable,
                       int decay, size_t *where) {
    dnic__tensor_info_set(&it->tensors[it->n_tensors++], name, *off, rows, cols, trainable, decay, 1);
    *where = *off;
    *off += (size_t)rows * cols;
}

void dnic__iface_set_owned(dnic_iface_t *it, int owned) { it->owned = owned; }

void dnic_iface_free(dnic_iface_t *it) {
    if (!it || it->owned) return; /* a DNI's interface goes with the DNI */
    dnic_net_free(it->mlp);
    free(it->mlp_widths);
    free(it->params);
    free(it->grads);
    free(it->optim);
    free(it->mlp_in);
    free(it->s);
    free(it);
}

static dnic_status create_mlp(dnic_iface_t *it, uint64_t seed) {
    int n = it->d.mlp_layers + 1;
    dnic_layer_desc *layers = calloc((size_t)n, sizeof *layers);
    if (!layers) return dnic__fail(DNIC_ERR_NOMEM, "dnic_iface_create: out of memory");
    for (int i = 0; i < it->d.mlp_layers; i++) {
        layers[i].width = it->d.mlp_widths[i];
        layers[i].act = DNIC_ACT_RELU;
        layers[i].batchnorm = it->d.mlp_batchnorm;
    }
    layers[n - 1].width = it->dout;
    layers[n - 1].act = DNIC_ACT_IDENTITY;
    dnic_net_desc nd;
    dnic_net_desc_defaults(&nd);
    nd.input_dim = it->dh + it->nl;
    nd.n_layers = n;
    nd.layers = layers;
    nd.loss = DNIC_LOSS_MSE; /* unused: the interface computes its own loss */
    nd.max_batch = it->max_batch;
    dnic_status st = dnic_net_create(&it->mlp, &nd, seed);
    free(layers);
    if (st != DNIC_OK) return st;
    st = dnic_net_set_input_grad(it->mlp, 1);
    if (st != DNIC_OK) return st;
    /* zero-initialised output layer: the interface starts by predicting 0 */
    size_t np;
    float *P = dnic_net_params(it->mlp, &np);
    for (int i = 0; i < dnic_net_num_tensors(it->mlp); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(it->mlp, i, &t);
        char want[32];
        snprintf(want, sizeof want, "layer%d.", n - 1);
        if (strncmp(t.name, want, strlen(want)) != 0) continue;
        memset(P + t.offset, 0, t.size * sizeof(float));
        if (strcmp(t.name + strlen(want), "bias") == 0) it->mlp_out_bias = t.offset;
    }
    return DNIC_OK;
}

dnic_status dnic_iface_create(dnic_iface_t **out, const dnic_iface_desc *desc, int dh, int dout, int n_labels,
                              int max_batch, float rand_scale, uint64_t seed) {
    if (!out) return dnic__fail(DNIC_ERR_NULL, FN "out is NULL");
    *out = NULL;
    if (!desc) return dnic__fail(DNIC_ERR_NULL, FN "desc is NULL");
    dnic_status st = validate(desc, dh, dout, n_labels, max_batch);
    if (st != DNIC_OK) return st;
    if (!(rand_scale >= 0.0f) || !isfinite(rand_scale))
        return dnic__fail(DNIC_ERR_ARG, FN "rand_scale = %g must be finite and >= 0", (double)rand_scale);

    dnic_iface_t *it = calloc(1, sizeof *it);
    if (!it) return dnic__fail(DNIC_ERR_NOMEM, FN "out of memory");
    it->d = *desc;
    it->dh = dh;
    it->dout = dout;
    it->nl = n_labels;
    it->max_batch = max_batch;
    it->oA = it->oB = it->oC = it->od = NONE;
    it->opt = dnic_optim_default(DNIC_OPT_SGD);
    it->sched = dnic_lr_schedule_default();
    it->fault_tensor = -1;
    it->centre = desc->centre == DNIC_CENTRE_ON;
    it->mlp_out_bias = NONE;
    if (desc->kind == DNIC_IFACE_MLP && desc->mlp_layers > 0) {
        it->mlp_widths = malloc(sizeof(int) * (size_t)desc->mlp_layers);
        if (!it->mlp_widths) goto nomem;
        memcpy(it->mlp_widths, desc->mlp_widths, sizeof(int) * (size_t)desc->mlp_layers);
        it->d.mlp_widths = it->mlp_widths;
    }

    size_t off = 0;
    switch (desc->kind) {
    case DNIC_IFACE_LINEAR:
    case DNIC_IFACE_SIGMOID:
        add_tensor(it, "A", &off, dh, dout, 1, 1, &it->oA);
        if (n_labels > 0) add_tensor(it, "B", &off, n_labels, dout, 1, 0, &it->oB);
        add_tensor(it, "C", &off, dout, 1, 1, 0, &it->oC);
        if (desc->kind == DNIC_IFACE_SIGMOID) add_tensor(it, "d", &off, dout, 1, 1, 0, &it->od);
        break;
    case DNIC_IFACE_NOLABEL:
        add_tensor(it, "A", &off, dh, dout, 1, 1, &it->oA);
        add_tensor(it, "C", &off, dout, 1, 1, 0, &it->oC);
        break;
    case DNIC_IFACE_RANDOM:
    case DNIC_IFACE_ONES:
        add_tensor(it, "A", &off, dh, dout, 0, 0, &it->oA);
        break;
    default:
        break;
    }
    it->n_params = off;
    if (off > 0) {
        it->params = calloc(off, sizeof(float));
        it->grads = calloc(off, sizeof(float));
        it->optim = calloc(2 * off, sizeof(float));
        if (!it->params || !it->grads || !it->optim) goto nomem;
    }
    uint64_t rng = seed;
    if (desc->kind == DNIC_IFACE_SIGMOID) {
        st = dnic_init_weights(it->params + it->oA, dh, dout, DNIC_INIT_GLOROT_UNIFORM, &rng);
        if (st != DNIC_OK) { dnic_iface_free(it); return st; }
    } else if (desc->kind == DNIC_IFACE_RANDOM) {
        for (size_t i = 0; i < (size_t)dh * dout; i++)
            it->params[i] = rand_scale * (2.0f * dnic_rng_uniform(&rng) - 1.0f);
    } else if (desc->kind == DNIC_IFACE_ONES) {
        for (size_t i = 0; i < (size_t)dh * dout; i++) it->params[i] = 1.0f;
    } else if (desc->kind == DNIC_IFACE_MLP) {
        st = create_mlp(it, seed);
        if (st != DNIC_OK) { dnic_iface_free(it); return st; }
        it->mlp_in = malloc(sizeof(float) * (size_t)max_batch * (size_t)(dh + n_labels));
        if (!it->mlp_in) goto nomem;
    }
    /* s, g, delta, z, sig (dout wide) and dLdh (dh wide) in one block */
    size_t rows = (size_t)max_batch;
    it->s = calloc(rows * (5 * (size_t)dout + (size_t)dh), sizeof(float));
    if (!it->s) goto nomem;
    it->g = it->s + rows * dout;
    it->delta = it->g + rows * dout;
    it->z = it->delta + rows * dout;
    it->sig = it->z + rows * dout;
    it->dLdh = it->sig + rows * dout;
    *out = it;
    return DNIC_OK;
nomem:
    dnic_iface_free(it);
    return dnic__fail(DNIC_ERR_NOMEM, FN "out of memory");
}
#undef FN

/* ------------------------------------------------------------ gradients */

/* Inside a boundary step zeroing dA (h x s wide: nearly all of the
 * gradients) is lazy, as the network's (net.c): the backward writes it
 * with beta = 0, with no memset and no read of the old values; whoever
 * reads the gradients before that (dnic_iface_grads, an update without a
 * backward) materialises the zeros first. LINEAR and NOLABEL only: the
 * kinds whose backward writes dA in one GEMM. */
static void zero_grad_lazy(dnic_iface_t *it) {
    int lazy = !it->mlp && it->oA == 0 && (it->d.kind == DNIC_IFACE_LINEAR || it->d.kind == DNIC_IFACE_NOLABEL);
    if (!lazy) {
        dnic_iface_zero_grad(it);
        return;
    }
    size_t nA = (size_t)it->dh * (size_t)it->dout; /* A comes first in the block */
    memset(it->grads + nA, 0, sizeof(float) * (it->n_params - nA));
    it->dA_pending = 1;
}

static void materialize_dA_zeros(dnic_iface_t *it) {
    if (!it->dA_pending) return;
    memset(it->grads + it->oA, 0, sizeof(float) * (size_t)it->dh * (size_t)it->dout);
    it->dA_pending = 0;
}

/* ---------------------------------------------------------------- forward */

static dnic_status check_labels(const dnic_iface_t *it, const int32_t *labels, int B) {
    if (!labels) return DNIC_OK;
    for (int r = 0; r < B; r++)
        if (labels[r] < 0 || labels[r] >= it->nl)
            return dnic__fail(DNIC_ERR_LABEL, "dnic_iface_forward: labels[%d] = %d is outside 0..%d (n_labels %d)", r,
                              (int)labels[r], it->nl - 1, it->nl);
    return DNIC_OK;
}

/* The batch-size checks every call taking B makes, in its name. */
static dnic_status check_batch(const dnic_iface_t *it, int B, const char *fn) {
    if (B < 1) return dnic__fail(DNIC_ERR_SIZE, "%s: B = %d, a batch needs >= 1 row", fn, B);
    if (B > it->max_batch)
        return dnic__fail(DNIC_ERR_BATCH_TOO_LARGE, "%s: B = %d exceeds the interface's max_batch %d", fn, B,
                          it->max_batch);
    return DNIC_OK;
}

/* A call that needs an earlier one on the same batch size. */
static dnic_status out_of_order(const char *fn, const char *needs, int have, int B) {
    return dnic__fail(DNIC_ERR_STATE, "%s: B = %d but %s%s had %d rows (call order: set_target, forward, loss_value, "
                      "backward, write_signal)", fn, B, needs, have ? "" : " never ran or", have);
}

/* s (B,dout) += C (bias, or NULL) + y B: a row lookup for labels (in the
 * same pass as C), a GEMM for float conditioning. Small batches stay on
 * this thread with no parallel region at all. */
static void add_bias_label_term(dnic_iface_t *it, float *s, const float *bias, int B) {
    const float *Bm = it->oB == NONE ? NULL : it->params + it->oB;
    const int32_t *labels = Bm ? it->labels : NULL;
    int dout = it->dout;
    if (bias || labels) {
        int nt = dnic__par_threads((size_t)B * dout, PAR_STREAM);
        if (nt <= 1) {
            dnic__sg_add_rows(s, bias, Bm, labels, 0, B, dout);
        } else {
#pragma omp parallel for num_threads(nt)
            for (int k = 0; k < nt; k++)
                dnic__sg_add_rows(s, bias, Bm, labels, (int)((long)B * k / nt), (int)((long)B * (k + 1) / nt), dout);
        }
    }
    if (Bm && !it->labels && it->ycond)
        dnic_sgemm(0, 0, B, dout, it->nl, 1.0f, it->ycond, it->nl, Bm, dout, 1.0f, s, dout);
}

dnic_status dnic_iface_forward(dnic_iface_t *it, const float *h, const int32_t *labels, const float *ycond,
                               int B) {
    if (!it || !h) return dnic__fail(DNIC_ERR_NULL, "dnic_iface_forward: %s is NULL", !it ? "it" : "h");
    dnic_status st = check_batch(it, B, "dnic_iface_forward");
    if (st != DNIC_OK) return st;
    st = check_labels(it, labels, B);
    if (st != DNIC_OK) return st;
    it->h = h;
    it->labels = labels;
    it->ycond = labels ? NULL : ycond;
    int dh = it->dh, dout = it->dout;
    size_t n = (size_t)B * dout;
    float *P = it->params;
    switch (it->d.kind) {
    case DNIC_IFACE_LINEAR:
    case DNIC_IFACE_NOLABEL:
        /* s = (hA + C) + y B: the GEMM writes hA, then one pass adds both */
        dnic_sgemm(0, 0, B, dout, dh, 1.0f, h, dh, P + it->oA, dout, 0.0f, it->s, dout);
        add_bias_label_term(it, it->s, P + it->oC, B);
        break;
    case DNIC_IFACE_SIGMOID: {
        dnic_sgemm(0, 0, B, dout, dh, 1.0f, h, dh, P + it->oA, dout, 0.0f, it->z, dout);
        dnic_act_forward(DNIC_ACT_SIGMOID, it->sig, it->z, n);
        const float *d = P + it->od, *C = P + it->oC;
#pragma omp parallel for if (n > DNIC_PAR_MIN)
        for (int r = 0; r < B; r++)
            for (int c = 0; c < dout; c++) {
                size_t k = (size_t)r * dout + c;
                it->s[k] = d[c] * it->sig[k] + C[c];
            }
        add_bias_label_term(it, it->s, NULL, B);
        break;
    }
    case DNIC_IFACE_MLP: {
        int w = dh + it->nl;
        for (int r = 0; r < B; r++) {
            float *row = it->mlp_in + (size_t)r * w;
            memcpy(row, h + (size_t)r * dh, sizeof(float) * (size_t)dh);
            if (it->nl == 0) continue;
            if (labels) {
                memset(row + dh, 0, sizeof(float) * (size_t)it->nl);
                row[dh + labels[r]] = 1.0f;
            } else if (ycond) {
                memcpy(row + dh, ycond + (size_t)r * it->nl, sizeof(float) * (size_t)it->nl);
            } else {
                memset(row + dh, 0, sizeof(float) * (size_t)it->nl);
            }
        }
        st = dnic_net_forward(it->mlp, it->mlp_in, B, 1);
        if (st != DNIC_OK) return st;
        memcpy(it->s, dnic_net_output(it->mlp), sizeof(float) * n);
        break;
    }
    case DNIC_IFACE_IDENTITY:
        memcpy(it->s, h, sizeof(float) * n);
        break;
    case DNIC_IFACE_RANDOM:
    case DNIC_IFACE_ONES:
        dnic_sgemm(0, 0, B, dout, dh, 1.0f, h, dh, P + it->oA, dout, 0.0f, it->s, dout);
        break;
    case DNIC_IFACE_ORACLE:
        if (it->target_B != B) return out_of_order("dnic_iface_forward (ORACLE)", "the last set_target", it->target_B, B);
        for (size_t k = 0; k < n; k++) it->s[k] = (float)B * it->g[k];
        break;
    }
    if (it->centre) centre_columns(it->s, B, dout);
    it->fwd_B = B;
    it->loss_B = it->back_B = 0;
    return DNIC_OK;
}

dnic_status dnic_iface_set_target(dnic_iface_t *it, const float *g, int B) {
    if (!it || !g) return dnic__fail(DNIC_ERR_NULL, "dnic_iface_set_target: %s is NULL", !it ? "it" : "g");
    dnic_status st = check_batch(it, B, "dnic_iface_set_target");
    if (st != DNIC_OK) return st;
    memcpy(it->g, g, sizeof(float) * (size_t)B * it->dout);
    it->target_B = B;
    return DNIC_OK;
}

/* ------------------------------------------------------------------- loss */

dnic_status dnic_iface_loss_value(dnic_iface_t *it, int B, float *loss_out) {
    if (!it) return dnic__fail(DNIC_ERR_NULL, "dnic_iface_loss_value: it is NULL");
    dnic_status bst = check_batch(it, B, "dnic_iface_loss_value");
    if (bst != DNIC_OK) return bst;
    if (it->fwd_B != B) return out_of_order("dnic_iface_loss_value", "the last forward", it->fwd_B, B);
    if (it->target_B != B) return out_of_order("dnic_iface_loss_value", "the last set_target", it->target_B, B);
    size_t n = (size_t)B * it->dout;
    double total = 0;
    float fb = (float)B, inv_b = 1.0f / (float)B;
    int l2 = it->d.loss == DNIC_IFACE_LOSS_L2;
    int nt = dnic__par_threads(n, PAR_STREAM);
    if (nt <= 1) {
        total = dnic__sg_loss(l2, it->delta, it->s, it->g, 0, n, fb, inv_b);
    } else {
#pragma omp parallel for num_threads(nt) reduction(+ : total)
        for (int k = 0; k < nt; k++)
            total += dnic__sg_loss(l2, it->delta, it->s, it->g, n * k / nt, n * (k + 1) / nt, fb, inv_b);
    }
    if (l2) total /= B;
    /* a loss finite in double may still overflow the float it is reported in */
    if (loss_out) *loss_out = (float)total;
    it->loss_B = B;
    it->loss_fault = !isfinite((float)total);
    if (!it->loss_fault) return DNIC_OK;
    return dnic__fail(DNIC_ERR_NONFINITE, "dnic_iface_loss_value: the interface loss is NaN or infinite as a float");
}

/* --------------------------------------------------------------- backward */

/* dC += colsum(delta) (dC NULL: none) and dB (nl,dout) += y^T delta: one
 * pass over delta with labels (columns split across threads: rows of dB
 * are shared between examples), a GEMM for float conditioning */
static void bias_label_grads(dnic_iface_t *it, float *dC, const float *delta, int B) {
    float *dB = it->oB == NONE ? NULL : it->grads + it->oB;
    const int32_t *labels = dB ? it->labels : NULL;
    int dout = it->dout;
    if (dC || labels) {
        float *rows = labels ? dB : NULL;
        int strips = (dout + 63) / 64;
        int nt = dnic__par_threads((size_t)B * dout, PAR_STREAM);
        if (nt <= 1 || strips < 2) {
            dnic__sg_bias_label_grads(dC, rows, labels, delta, B, dout, 0, dout);
        } else {
#pragma omp parallel for num_threads(nt < strips ? nt : strips)
            for (int s = 0; s < strips; s++)
                dnic__sg_bias_label_grads(dC, rows, labels, delta, B, dout, s * 64, s * 64 + 64 < dout ? s * 64 + 64 : dout);
        }
    }
    if (dB && !it->labels && it->ycond)
        dnic_sgemm(1, 0, it->nl, dout, B, 1.0f, it->ycond, it->nl, delta, dout, 1.0f, dB, dout);
}

dnic_status dnic_iface_backward(dnic_iface_t *it, int B) {
    if (!it) return dnic__fail(DNIC_ERR_NULL, "dnic_iface_backward: it is NULL");
    dnic_status bst = check_batch(it, B, "dnic_iface_backward");
    if (bst != DNIC_OK) return bst;
    if (it->loss_B != B) return out_of_order("dnic_iface_backward", "the last loss_value", it->loss_B, B);
    int dh = it->dh, dout = it->dout;
    /* dL_S/dh costs a GEMM the PRED signal never reads: skip it there */
    int want_dh = it->d.signal != DNIC_SIGNAL_PRED || it->want_input_grad;
    size_t n = (size_t)B * dout;
    float *P = it->params, *G = it->grads;
    /* s was centred: the loss reaches the uncentred s through the centring */
    if (it->centre) centre_columns(it->delta, B, dout);
    switch (it->d.kind) {
    case DNIC_IFACE_LINEAR:
    case DNIC_IFACE_NOLABEL:
        /* dA += h^T delta, or = when a boundary step left its zeroing pending */
        dnic_sgemm(1, 0, dh, dout, B, 1.0f, it->h, dh, it->delta, dout, it->dA_pending ? 0.0f : 1.0f, G + it->oA,
                   dout);
        it->dA_pending = 0;
        bias_label_grads(it, G + it->oC, it->delta, B);
        if (want_dh) dnic_sgemm(0, 1, B, dh, dout, 1.0f, it->delta, dout, P + it->oA, dout, 0.0f, it->dLdh, dh);
        break;
    case DNIC_IFACE_SIGMOID: {
        const float *d = P + it->od;
        float *dd = G + it->od;
        /* dz reuses z: the pre-activation is not needed after forward */
        float *dz = it->z;
        for (int c = 0; c < dout; c++) {
            float acc = 0.0f;
            for (int r = 0; r < B; r++) acc += it->delta[(size_t)r * dout + c] * it->sig[(size_t)r * dout + c];
            dd[c] += acc;
        }
#pragma omp parallel for if (n > DNIC_PAR_MIN)
        for (int r = 0; r < B; r++)
            for (int c = 0; c < dout; c++) {
                size_t k = (size_t)r * dout + c;
                dz[k] = it->delta[k] * d[c] * it->sig[k] * (1.0f - it->sig[k]);
            }
        dnic_dense_backward(NULL, G + it->oA, NULL, dz, it->h, P + it->oA, B, dh, dout);
        bias_label_grads(it, G + it->oC, it->delta, B);
        if (want_dh) dnic_sgemm(0, 1, B, dh, dout, 1.0f, dz, dout, P + it->oA, dout, 0.0f, it->dLdh, dh);
        break;
    }
    case DNIC_IFACE_MLP: {
        int top = dnic_net_num_layers(it->mlp) - 1;
        memcpy(dnic_net_grad_at(it->mlp, top), it->delta, sizeof(float) * n);
        dnic_status st = dnic_net_backward(it->mlp, B);
        if (st != DNIC_OK) return st;
        const float *dx = dnic_net_input_grad(it->mlp);
        int w = dh + it->nl;
        for (int r = 0; r < B; r++) memcpy(it->dLdh + (size_t)r * dh, dx + (size_t)r * w, sizeof(float) * (size_t)dh);
        /* centring cancels the output bias: rounding, not a gradient */
        if (it->centre && it->mlp_out_bias != NONE)
            memset(dnic_net_grads(it->mlp, NULL) + it->mlp_out_bias, 0, sizeof(float) * (size_t)dout);
        break;
    }
    case DNIC_IFACE_IDENTITY:
        memcpy(it->dLdh, it->delta, sizeof(float) * n);
        break;
    case DNIC_IFACE_RANDOM:
    case DNIC_IFACE_ONES:
        dnic_sgemm(0, 1, B, dh, dout, 1.0f, it->delta, dout, P + it->oA, dout, 0.0f, it->dLdh, dh);
        break;
    case DNIC_IFACE_ORACLE:
        memset(it->dLdh, 0, sizeof(float) * (size_t)B * dh); /* s = B g does not depend on h */
        break;
    }
    /* centring cancels C: its gradient is rounding, which Adam would turn
     * into steps; exactly 0 keeps it where it is (and in every checkpoint) */
    if (it->centre && it->oC != NONE) memset(G + it->oC, 0, sizeof(float) * (size_t)dout);
    it->back_B = B;
    return DNIC_OK;
}

dnic_status dnic_iface_write_signal(dnic_iface_t *it, float *dst, int B) {
#define FN "dnic_iface_write_signal"
    if (!it || !dst) return dnic__fail(DNIC_ERR_NULL, FN ": %s is NULL", !it ? "it" : "dst");
    dnic_status bst = check_batch(it, B, FN);
    if (bst != DNIC_OK) return bst;
    size_t n = (size_t)B * it->dh;
    if (it->step < it->d.warmup_steps) { /* warmup: pass the target through */
        if (it->target_B != B) return out_of_order(FN " (warmup)", "the last set_target", it->target_B, B);
        memcpy(dst, it->g, sizeof(float) * n);
        return DNIC_OK;
    }
    float inv_b = 1.0f / (float)B, alpha = it->d.alpha;
    switch (it->d.signal) {
    case DNIC_SIGNAL_PRED: {
        if (it->fwd_B != B) return out_of_order(FN " (PRED)", "the last forward", it->fwd_B, B);
        int nt = dnic__par_threads(n, PAR_STREAM);
        if (nt <= 1) { /* no parallel region at all */
            dnic__sg_scale(dst, it->s, 0, n, inv_b);
        } else {
#pragma omp parallel for num_threads(nt)
            for (int k = 0; k < nt; k++) dnic__sg_scale(dst, it->s, n * k / nt, n * (k + 1) / nt, inv_b);
        }
        break;
    }
    case DNIC_SIGNAL_PROP:
        if (it->back_B != B) return out_of_order(FN " (PROP)", "the last backward", it->back_B, B);
        memcpy(dst, it->dLdh, sizeof(float) * n);
        break;
    case DNIC_SIGNAL_PRED_PROP:
        if (it->back_B != B) return out_of_order(FN " (PRED_PROP)", "the last backward", it->back_B, B);
#pragma omp parallel for simd if (n > DNIC_PAR_MIN)
        for (size_t k = 0; k < n; k++) dst[k] = it->s[k] * inv_b + alpha * it->dLdh[k];
        break;
    }
    return DNIC_OK;
#undef FN
}

dnic_status dnic_iface_boundary_step(dnic_iface_t *it, const float *h, const int32_t *labels,
                                     const float *ycond, const float *target, float *signal, int B,
                                     float *loss_out) {
    if (!it || !h || !target || !signal)
        return dnic__fail(DNIC_ERR_NULL, "dnic_iface_boundary_step: NULL pointer argument (it or h or target or "
                          "signal)");
    float loss = NAN;
    zero_grad_lazy(it);
    dnic_status st = dnic_iface_set_target(it, target, B);
    if (st == DNIC_OK) st = dnic_iface_forward(it, h, labels, ycond, B);
    if (st == DNIC_OK) st = dnic_iface_loss_value(it, B, &loss);
    if (st == DNIC_OK) st = dnic_iface_backward(it, B);
    if (st == DNIC_OK) st = dnic_iface_write_signal(it, signal, B);
    /* the caller's buffers may be reused for another batch before this
     * interface runs again: forget them, so nothing can read them stale */
    it->h = NULL;
    it->labels = NULL;
    it->ycond = NULL;
    it->loss_B = 0;
    if (loss_out) *loss_out = loss;
    return st;
}

dnic_status dnic_iface_predict_signal(dnic_iface_t *it, const float *h, const int32_t *labels,
                                      const float *ycond, float *signal, int B) {
    if (!it || !h || !signal)
        return dnic__fail(DNIC_ERR_NULL, "dnic_iface_predict_signal: NULL pointer argument (it or h or signal)");
    if (it->d.signal != DNIC_SIGNAL_PRED || it->d.kind == DNIC_IFACE_ORACLE || it->step < it->d.warmup_steps)
        return dnic__fail(DNIC_ERR_STATE, "dnic_iface_predict_signal: needs signal PRED (has %d), a kind other than "
                          "ORACLE (has %d) and warmup over (step %lld of %lld)", (int)it->d.signal, (int)it->d.kind,
                          (long long)it->step, (long long)it->d.warmup_steps);
    dnic_status st = dnic_iface_forward(it, h, labels, ycond, B);
    if (st == DNIC_OK) st = dnic_iface_write_signal(it, signal, B);
    it->h = NULL;
    it->labels = NULL;
    it->ycond = NULL;
    it->loss_B = 0;
    return st;
}

/* ------------------------------------------------------ parameters, update */

dnic_status dnic_iface_set_input_grad(dnic_iface_t *it, int on) {
    if (!it)
        return dnic__fail(DNIC_ERR_NULL, "dnic_iface_set_input_grad: NULL pointer argument (it)");
    it->want_input_grad = on ? 1 : 0;
    return DNIC_OK;
}

const float *dnic_iface_prediction(const dnic_iface_t *it) { return it ? it->s : NULL; }
const float *dnic_iface_input_grad(const dnic_iface_t *it) { return it ? it->dLdh : NULL; }
const float *dnic_iface_target_buf(const dnic_iface_t *it) { return it ? it->g : NULL; }
int dnic_iface_out_dim(const dnic_iface_t *it) { return it ? it->dout : 0; }
int dnic_iface_trainable(const dnic_iface_t *it) { return it ? dnic__iface_kind_trainable(it->d.kind) : 0; }
int dnic_iface_centred(const dnic_iface_t *it) { return it ? it->centre : 0; }
int64_t dnic_iface_step(const dnic_iface_t *it) { return it ? it->step : 0; }

int dnic_iface_num_tensors(const dnic_iface_t *it) {
    if (!it) return 0;
    return it->mlp ? dnic_net_num_tensors(it->mlp) : it->n_tensors;
}

dnic_status dnic_iface_tensor(const dnic_iface_t *it, int i, dnic_tensor_info *info) {
    if (!it || !info)
        return dnic__fail(DNIC_ERR_NULL, "dnic_iface_tensor: NULL pointer argument (it or info)");
    if (i < 0 || i >= dnic_iface_num_tensors(it))
        return dnic__fail(DNIC_ERR_ARG, "dnic_iface_tensor: i = %d is outside "
                          "0..%d", i, dnic_iface_num_tensors(it) - 1);
    if (!it->mlp) {
        *info = it->tensors[i];
        return DNIC_OK;
    }
    dnic_tensor_info t;
    dnic_net_tensor(it->mlp, i, &t);
    *info = t;
    snprintf(info->name, sizeof info->name, "mlp.%.58s", t.name);
    info->group = 1;
    return DNIC_OK;
}

float *dnic_iface_params(dnic_iface_t *it, size_t *n) {
    if (it && it->mlp) return dnic_net_params(it->mlp, n);
    if (n) *n = it ? it->n_params : 0;
    return it ? it->params : NULL;
}
float *dnic_iface_grads(dnic_iface_t *it, size_t *n) {
    if (it && it->mlp) return dnic_net_grads(it->mlp, n);
    if (it) materialize_dA_zeros(it); /* the caller may read them */
    if (n) *n = it ? it->n_params : 0;
    return it ? it->grads : NULL;
}
float *dnic_iface_optim_state(dnic_iface_t *it, size_t *n) {
    if (it && it->mlp) return dnic_net_optim_state(it->mlp, n);
    if (n) *n = it ? 2 * it->n_params : 0;
    return it ? it->optim : NULL;
}

void dnic_iface_zero_grad(dnic_iface_t *it) {
    if (!it) return;
    if (it->mlp) dnic_net_zero_grad(it->mlp);
    else if (it->n_params) memset(it->grads, 0, sizeof(float) * it->n_params);
    it->dA_pending = 0;
}

dnic_status dnic_iface_set_optimizer(dnic_iface_t *it, const dnic_optim_config *cfg) {
    if (!it || !cfg)
        return dnic__fail(DNIC_ERR_NULL, "dnic_iface_set_optimizer: NULL pointer argument (it or cfg)");
    dnic_status st = dnic_optim_validate(cfg);
    if (st != DNIC_OK) return st;
    it->opt = *cfg;
    return it->mlp ? dnic_net_set_optimizer(it->mlp, 0, cfg) : DNIC_OK;
}

dnic_status dnic_iface_set_lr_schedule(dnic_iface_t *it, const dnic_lr_schedule *sched) {
    if (!it) return dnic__fail(DNIC_ERR_NULL, "dnic_iface_set_lr_schedule: it is NULL");
    dnic_lr_schedule s = sched ? *sched : dnic_lr_schedule_default();
    dnic_status st = dnic_lr_schedule_validate(&s);
    if (st != DNIC_OK) return st;
    it->sched = s;
    /* an MLP interface's predictor network counts the same steps */
    return it->mlp ? dnic_net_set_lr_schedule(it->mlp, 0, &s) : DNIC_OK;
}

dnic_status dnic_iface_set_step(dnic_iface_t *it, int64_t t) {
    if (!it) return dnic__fail(DNIC_ERR_NULL, "dnic_iface_set_step: it is NULL");
    if (t < 0 || t > DNIC_MAX_STEP)
        return dnic__fail(DNIC_ERR_ARG, "dnic_iface_set_step: t = %lld is outside 0..2^53", (long long)t);
    it->step = t;
    return it->mlp ? dnic_net_set_optim_step(it->mlp, t) : DNIC_OK;
}

dnic_status dnic_iface_set_grad_clip(dnic_iface_t *it, float max_norm) {
    if (!it) return dnic__fail(DNIC_ERR_NULL, "dnic_iface_set_grad_clip: it is NULL");
    if (!(max_norm >= 0.0f) || !isfinite(max_norm))
        return dnic__fail(DNIC_ERR_ARG, "dnic_iface_set_grad_clip: max_norm = %g must be finite and >= 0 (0: off)",
                          (double)max_norm);
    it->clip = max_norm;
    return it->mlp ? dnic_net_set_grad_clip(it->mlp, max_norm) : DNIC_OK;
}

int dnic_iface_loss_faulted(const dnic_iface_t *it) { return it ? it->loss_fault : 0; }

int dnic_iface_fault_tensor(const dnic_iface_t *it, int *gradient_was_nonfinite) {
    if (it && it->mlp) return dnic_net_fault_tensor(it->mlp, gradient_was_nonfinite);
    if (gradient_was_nonfinite) *gradient_was_nonfinite = it ? it->fault_grad : 0;
    return it ? it->fault_tensor : -1;
}

dnic_status dnic_iface_update(dnic_iface_t *it) {
    if (!it)
        return dnic__fail(DNIC_ERR_NULL, "dnic_iface_update: NULL pointer argument (it)");
    if (it->step >= DNIC_MAX_STEP) /* the counter cannot go on */
        return dnic__fail(DNIC_ERR_SIZE, "dnic_iface_update: the step counter is at its largest, 2^53 (DNIC_MAX_STEP)");
    it->step++;
    it->fault_tensor = -1;
    it->fault_grad = 0;
    if (!dnic__iface_kind_trainable(it->d.kind)) return DNIC_OK;
    if (it->mlp) return dnic_net_update(it->mlp);
    materialize_dA_zeros(it); /* a step whose backward never ran updates with zeros */
    it->fault_tensor = dnic__update_tensors(it->tensors, it->n_tensors, it->params, it->grads, it->optim,
                                            it->optim + it->n_params, &it->opt, &it->sched, 1, it->clip, it->step, NULL, &it->fault_grad);
    if (it->fault_tensor < 0) return DNIC_OK;
    return dnic__fail(DNIC_ERR_NONFINITE, "dnic_iface_update: tensor %s became NaN or infinite at step %lld (%s)",
                      it->tensors[it->fault_tensor].name, (long long)it->step,
                      it->fault_grad ? "its gradient was already non-finite" : "the update overflowed");
}
