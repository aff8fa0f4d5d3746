/* net.c — a feed-forward network on flat buffers: one allocation each for
 * parameters, gradients and optimizer state (llm.c style), activations and
 * workspace sized for max_batch, and a locked training step that allocates
 * nothing.
 *
 * The backward pass runs layer range by layer range from the gradient
 * buffer at the top of the range (dnic_net_backward_range), so a trainer
 * can start each block from whatever signal its boundary delivers:
 * backprop from the block above, or an interface's prediction.
 * Not here: interfaces and schedules (they drive this API).
 */
#include "kernels/kernels_internal.h"
#include "train/train_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS 8
#define MAX_LAYERS 4096
#define MAX_WIDTH (1 << 22)
/* 2^36 floats = 256 GiB: anything above is a lying description, not a plan */
#define MAX_FLOATS 68719476736.0

typedef struct {
    int in, out;
    dnic_activation act;
    int bn;
    /* offsets into the held parameter block; (size_t)-1 when absent or not held */
    size_t w, b, gamma, beta, run_mean, run_var;
    /* activations for max_batch rows */
    float *a;      /* dense output (B,out) */
    float *xhat;   /* batch norm: normalised a (B,out) */
    float *z;      /* pre-activation: BN output, or a itself */
    float *h;      /* layer output; aliases z for the identity activation */
    float *mean, *invstd; /* batch norm statistics of the last training batch (out) */
    float *gh;     /* dL/dh (B,out) */
    float *gz;     /* dL/dz (B,out) when the activation is not the identity */
    float *ga;     /* dL/da (B,out) when batch norm is on */
    const float *preact_grad; /* dL/da of the last backward: ga, gz or gh */
    int grads_zero_pending;   /* zero_grad happened, the memset has not (see below) */
} layer_t;

struct dnic_net_s {
    int n_layers, input_dim, max_batch, max_width;
    dnic_loss loss;
    int first_layer, hidden_top; /* a block of a larger network (desc) */
    float bn_momentum, bn_eps;
    layer_t *layers;
    int n_tensors;
    dnic_tensor_info *tensors;
    /* layers [held_first, held_last] have values (every layer unless made by
     * dnic_net_create_range; none: held_first > held_last); the others are
     * shape only. The flat blocks hold the held layers' span, which starts
     * at float held_base of the whole numbering (the tensor table's) */
    int held_first, held_last;
    size_t held_base, held_floats, bytes_held;
    float *params, *grads, *optim; /* optim: 2 x held_floats (owned unless a view) */
    float *m, *v;                  /* the optimizer's two moments, in optim or a whole's */
    size_t n_params;
    int view;                      /* a block view: params, grads, m, v are the whole's */
    int tensor_base;               /* a view: the whole's index of its first tensor */
    float *acts;          /* one block for every activation buffer */
    float *dx;            /* dL/dx (max_batch, input_dim) when asked for */
    int want_dx;
    dnic_optim_config opt[MAX_GROUPS];
    dnic_lr_schedule sched[MAX_GROUPS]; /* each group's rate schedule (default: constant) */
    int64_t step;
    float clip, last_norm;
    int fault_tensor, fault_grad;
    const float *x;       /* input of the last forward (caller-owned) */
    int last_B;           /* rows of the last forward, 0 = none */
    int last_training;
    /* lifetimes (dnic.h): DNIs built on this network, whether the caller
     * freed it while they lived, whether a DNI owns it (one of its blocks) */
    int borrowers, freed, owned;
};

static const size_t NONE = (size_t)-1;

/* ------------------------------------------------------------ description */

void dnic_net_desc_defaults(dnic_net_desc *d) {
    if (!d) return;
    memset(d, 0, sizeof *d);
    d->loss = DNIC_LOSS_SOFTMAX_CE;
    d->init = DNIC_INIT_HE_UNIFORM;
    d->max_batch = 256;
    d->bn_momentum = 0.1f;
    d->bn_eps = 1e-5f;
}

#define FN "dnic_net_create: "

static dnic_status validate(const dnic_net_desc *d) {
    if (d->n_layers < 1 || d->n_layers > MAX_LAYERS)
        return dnic__fail(DNIC_ERR_SIZE, FN "n_layers = %d is outside 1..%d", d->n_layers, MAX_LAYERS);
    if (d->input_dim < 1 || d->input_dim > MAX_WIDTH)
        return dnic__fail(DNIC_ERR_SIZE, FN "input_dim = %d is outside 1..%d", d->input_dim, MAX_WIDTH);
    if (d->max_batch < 1 || d->max_batch > DNIC_MAX_DIM)
        return dnic__fail(DNIC_ERR_SIZE, FN "max_batch = %d is outside 1..%d", d->max_batch, DNIC_MAX_DIM);
    if (d->first_layer < 0 || d->first_layer > MAX_LAYERS)
        return dnic__fail(DNIC_ERR_ARG, FN "first_layer = %d is outside 0..%d", d->first_layer, MAX_LAYERS);
    if (!d->layers) return dnic__fail(DNIC_ERR_NULL, FN "layers is NULL (n_layers = %d)", d->n_layers);
    if ((unsigned)d->loss > DNIC_LOSS_LOGISTIC)
        return dnic__fail(DNIC_ERR_ARG, FN "loss = %d is not a dnic_loss (0..%d)", (int)d->loss, DNIC_LOSS_LOGISTIC);
    if ((unsigned)d->init > DNIC_INIT_ZERO)
        return dnic__fail(DNIC_ERR_ARG, FN "init = %d is not a dnic_init (0..%d)", (int)d->init, DNIC_INIT_ZERO);
    if (!(d->bn_momentum >= 0.0f && d->bn_momentum <= 1.0f))
        return dnic__fail(DNIC_ERR_ARG, FN "bn_momentum = %g is outside [0, 1]", (double)d->bn_momentum);
    if (!(d->bn_eps > 0.0f))
        return dnic__fail(DNIC_ERR_ARG, FN "bn_eps = %g must be > 0", (double)d->bn_eps);
    double floats = 0;
    int prev = d->input_dim;
    for (int l = 0; l < d->n_layers; l++) {
        const dnic_layer_desc *L = &d->layers[l];
        if (L->width < 1 || L->width > MAX_WIDTH)
            return dnic__fail(DNIC_ERR_SIZE, FN "layers[%d].width = %d is outside 1..%d", l, L->width, MAX_WIDTH);
        if ((unsigned)L->act > DNIC_ACT_TANH)
            return dnic__fail(DNIC_ERR_ARG, FN "layers[%d].act = %d is not a dnic_activation (0..%d)", l,
                              (int)L->act, DNIC_ACT_TANH);
        if (L->batchnorm != 0 && L->batchnorm != 1)
            return dnic__fail(DNIC_ERR_ARG, FN "layers[%d].batchnorm = %d is not 0 or 1", l, L->batchnorm);
        floats += 4.0 * ((double)prev * L->width + 6.0 * L->width);  /* params, grads, optim */
        floats += 7.0 * (double)d->max_batch * L->width;             /* activations */
        prev = L->width;
    }
    if (d->hidden_top != 0 && d->hidden_top != 1)
        return dnic__fail(DNIC_ERR_ARG, FN "hidden_top = %d is not 0 or 1", d->hidden_top);
    int t = d->n_layers - 1;
    const dnic_layer_desc *top = &d->layers[t];
    if (!d->hidden_top) {
        if (top->act != DNIC_ACT_IDENTITY)
            return dnic__fail(DNIC_ERR_ARG, FN "layers[%d].act = %d: the output layer's activation must be "
                              "DNIC_ACT_IDENTITY (0; the loss applies the link), or set hidden_top", t, (int)top->act);
        if (top->batchnorm)
            return dnic__fail(DNIC_ERR_ARG, FN "layers[%d].batchnorm = 1: the output layer has no batch norm", t);
        if (d->loss == DNIC_LOSS_SOFTMAX_CE && top->width < 2)
            return dnic__fail(DNIC_ERR_ARG, FN "layers[%d].width = %d: softmax cross-entropy needs an output "
                              "layer of >= 2 units", t, top->width);
    }
    if (floats > MAX_FLOATS)
        return dnic__fail(DNIC_ERR_SIZE, FN "the description needs %.3g floats, more than %.3g", floats, MAX_FLOATS);
    return DNIC_OK;
}
#undef FN

/* ---------------------------------------------------------------- create */

void dnic__tensor_info_set(dnic_tensor_info *t, const char *name, size_t offset, int rows, int cols,
                           int trainable, int decay, int group) {
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->offset = offset;
    t->rows = rows;
    t->cols = cols;
    t->size = (size_t)rows * cols;
    t->trainable = trainable;
    t->decay = decay;
    t->group = group;
}

static void add_tensor(dnic_net_t *n, const char *name, int l, size_t *off, int rows, int cols,
                       int trainable, int decay, size_t *where) {
    char full[64];
    snprintf(full, sizeof full, "layer%d.%s", n->first_layer + l, name);
    dnic__tensor_info_set(&n->tensors[n->n_tensors++], full, *off, rows, cols, trainable, decay, 0);
    *where = *off;
    *off += (size_t)rows * cols;
}

static void destroy(dnic_net_t *net) {
    free(net->layers);
    free(net->tensors);
    if (!net->view) {
        free(net->params);
        free(net->grads);
        free(net->optim);
    }
    free(net->acts);
    free(net->dx);
    free(net);
}

/* A network a DNI borrows goes with the last such DNI; a DNI's own block
 * goes with its DNI (dnic.h, Lifetimes). */
void dnic_net_free(dnic_net_t *net) {
    if (!net || net->owned) return;
    if (net->borrowers > 0) {
        net->freed = 1;
        return;
    }
    destroy(net);
}

void dnic__net_borrow(dnic_net_t *net) { net->borrowers++; }

void dnic__net_release(dnic_net_t *net) {
    if (--net->borrowers == 0 && net->freed) destroy(net);
}

void dnic__net_set_owned(dnic_net_t *net, int owned) { net->owned = owned; }

static int holds(const dnic_net_t *n, int l) { return l >= n->held_first && l <= n->held_last; }

/* Every creator: values for layers [first, last] only (parameters,
 * gradients, optimizer moments, initial weights), unless the caller lends
 * them (a view). Activations only when it holds every layer: a network
 * holding a range runs no pass itself (its blocks, views, have their own). */
static dnic_status create_held(dnic_net_t **out, const dnic_net_desc *d, uint64_t seed, int first, int last,
                               int own_values) {
    dnic_status st;
    int every = first == 0 && last == d->n_layers - 1;

    dnic_net_t *n = calloc(1, sizeof *n);
    if (!n) return dnic__fail(DNIC_ERR_NOMEM, "dnic_net_create: out of memory");
    n->n_layers = d->n_layers;
    n->input_dim = d->input_dim;
    n->max_batch = d->max_batch;
    n->loss = d->loss;
    n->first_layer = d->first_layer;
    n->hidden_top = d->hidden_top;
    n->held_first = first;
    n->held_last = last;
    n->bn_momentum = d->bn_momentum;
    n->bn_eps = d->bn_eps;
    n->layers = calloc((size_t)d->n_layers, sizeof *n->layers);
    n->tensors = calloc((size_t)d->n_layers * 6, sizeof *n->tensors);
    if (!n->layers || !n->tensors) goto nomem;

    /* parameter table, in block order */
    size_t off = 0, act_floats = 0;
    int prev = d->input_dim;
    for (int l = 0; l < d->n_layers; l++) {
        layer_t *L = &n->layers[l];
        L->in = prev;
        L->out = d->layers[l].width;
        L->act = d->layers[l].act;
        L->bn = d->layers[l].batchnorm;
        L->gamma = L->beta = L->run_mean = L->run_var = NONE;
        add_tensor(n, "weight", l, &off, L->in, L->out, 1, 1, &L->w);
        add_tensor(n, "bias", l, &off, L->out, 1, 1, 0, &L->b);
        if (L->bn) {
            add_tensor(n, "bn.gamma", l, &off, L->out, 1, 1, 0, &L->gamma);
            add_tensor(n, "bn.beta", l, &off, L->out, 1, 1, 0, &L->beta);
            add_tensor(n, "bn.running_mean", l, &off, L->out, 1, 0, 0, &L->run_mean);
            add_tensor(n, "bn.running_var", l, &off, L->out, 1, 0, 0, &L->run_var);
        }
        size_t rows = (size_t)d->max_batch * L->out;
        if (every)
            act_floats += rows * (L->bn ? 5 : 2) + (L->act != DNIC_ACT_IDENTITY ? 2 * rows : 0) +
                          (L->bn ? 2 * (size_t)L->out : 0);
        if (L->out > n->max_width) n->max_width = L->out;
        prev = L->out;
    }
    n->n_params = off;

    /* the held layers' span of the parameter block; the layers' offsets
     * into it (a layer not held has none) */
    size_t base = 0, end = 0;
    if (first <= last) {
        base = n->layers[first].w;
        end = last + 1 < d->n_layers ? n->layers[last + 1].w : off;
    }
    for (int l = 0; l < d->n_layers; l++) {
        layer_t *L = &n->layers[l];
        size_t *at[6] = {&L->w, &L->b, &L->gamma, &L->beta, &L->run_mean, &L->run_var};
        for (int i = 0; i < 6; i++)
            if (*at[i] != NONE) *at[i] = holds(n, l) ? *at[i] - base : NONE;
    }
    n->held_base = base;
    n->held_floats = end - base;
    /* calloc(0) may return NULL: at least one float each */
    size_t held = n->held_floats ? n->held_floats : 1;
    n->acts = calloc(act_floats ? act_floats : 1, sizeof(float));
    if (!n->acts) goto nomem;
    n->bytes_held = act_floats * sizeof(float);
    if (own_values) {
        n->params = calloc(held, sizeof(float));
        n->grads = calloc(held, sizeof(float));
        n->optim = calloc(2 * held, sizeof(float));
        if (!n->params || !n->grads || !n->optim) goto nomem;
        n->m = n->optim;
        n->v = n->optim + held;
        n->bytes_held += 4 * n->held_floats * sizeof(float);
    }

    /* carve the activation block (the held layers' buffers) */
    float *p = n->acts;
    for (int l = 0; l < d->n_layers; l++) {
        layer_t *L = &n->layers[l];
        if (!every) break;
        size_t rows = (size_t)d->max_batch * L->out;
        L->a = p; p += rows;
        L->gh = p; p += rows;
        if (L->bn) {
            L->xhat = p; p += rows;
            L->z = p; p += rows;
            L->ga = p; p += rows;
            L->mean = p; p += L->out;
            L->invstd = p; p += L->out;
        } else {
            L->z = L->a;
        }
        if (L->act != DNIC_ACT_IDENTITY) {
            L->h = p; p += rows;
            L->gz = p; p += rows;
        } else {
            L->h = L->z;
        }
    }

    /* initial values: weights from the seed, biases 0, gamma 1, running var 1 */
    for (int l = first; own_values && l <= last; l++) {
        layer_t *L = &n->layers[l];
        uint64_t rng = dnic__layer_stream(seed, d->first_layer + l);
        st = dnic_init_weights(n->params + L->w, L->in, L->out, d->init, &rng);
        if (st != DNIC_OK) { dnic_net_free(n); return st; }
        if (L->bn)
            for (int c = 0; c < L->out; c++) {
                n->params[L->gamma + c] = 1.0f;
                n->params[L->run_var + c] = 1.0f;
            }
    }
    for (int g = 0; g < MAX_GROUPS; g++) {
        n->opt[g] = dnic_optim_default(DNIC_OPT_SGD);
        n->sched[g] = dnic_lr_schedule_default();
    }
    n->fault_tensor = -1;
    dnic_enable_flush_to_zero();
    *out = n;
    return DNIC_OK;
nomem:
    dnic_net_free(n);
    return dnic__fail(DNIC_ERR_NOMEM, "dnic_net_create: out of memory for %d layers, max_batch %d", d->n_layers,
                      d->max_batch);
}

dnic_status dnic_net_create(dnic_net_t **out, const dnic_net_desc *d, uint64_t seed) {
    if (!out) return dnic__fail(DNIC_ERR_NULL, "dnic_net_create: out is NULL");
    *out = NULL;
    if (!d) return dnic__fail(DNIC_ERR_NULL, "dnic_net_create: desc is NULL");
    dnic_status st = validate(d);
    if (st != DNIC_OK) return st;
    return create_held(out, d, seed, 0, d->n_layers - 1, 1);
}

dnic_status dnic_net_create_range(dnic_net_t **out, const dnic_net_desc *d, uint64_t seed, int first, int last) {
    if (!out) return dnic__fail(DNIC_ERR_NULL, "dnic_net_create_range: out is NULL");
    *out = NULL;
    if (!d) return dnic__fail(DNIC_ERR_NULL, "dnic_net_create_range: desc is NULL");
    dnic_status st = validate(d);
    if (st != DNIC_OK) return st;
    if (first < 0 || last < first || last >= d->n_layers)
        return dnic__fail(DNIC_ERR_ARG, "dnic_net_create_range: layers first = %d, last = %d: need 0 <= first <= "
                          "last <= %d (0-based layers)", first, last, d->n_layers - 1);
    return create_held(out, d, seed, first, last, 1);
}

int dnic_net_held_layers(const dnic_net_t *n, int *first, int *last) {
    if (first) *first = n ? n->held_first : 0;
    if (last) *last = n ? n->held_last : -1;
    return n && n->held_first == 0 && n->held_last == n->n_layers - 1;
}

size_t dnic_net_bytes_held(const dnic_net_t *n) { return n ? n->bytes_held : 0; }

int dnic__net_holds(const dnic_net_t *n, int first, int last) {
    return first <= last && holds(n, first) && holds(n, last);
}

/* The calls that need every layer's values refuse a network holding a
 * range: one line naming the call and what the network holds. */
static dnic_status partial(const dnic_net_t *n, const char *fn) {
    if (n->held_first > n->held_last)
        return dnic__fail(DNIC_ERR_STATE, "%s: this network holds no layer's values (shape only, of layers %d..%d)",
                          fn, n->first_layer, n->first_layer + n->n_layers - 1);
    return dnic__fail(DNIC_ERR_STATE, "%s: this network holds only layers %d..%d of 0..%d (dnic_net_create_range): "
                      "use the whole network", fn, n->held_first, n->held_last, n->n_layers - 1);
}
#define REFUSE_PARTIAL(n, fn) \
    do { if (!dnic_net_held_layers((n), NULL, NULL)) return partial((n), (fn)); } while (0)

/* --------------------------------------------------------------- queries */

int dnic_net_num_layers(const dnic_net_t *n) { return n ? n->n_layers : 0; }
int dnic_net_input_dim(const dnic_net_t *n) { return n ? n->input_dim : 0; }
int dnic_net_max_batch(const dnic_net_t *n) { return n ? n->max_batch : 0; }
int dnic_net_output_dim(const dnic_net_t *n) { return n ? n->layers[n->n_layers - 1].out : 0; }
int dnic_net_layer_width(const dnic_net_t *n, int l) {
    return (n && l >= 0 && l < n->n_layers) ? n->layers[l].out : 0;
}
int dnic__net_layer_batchnorm(const dnic_net_t *n, int l) {
    return (n && l >= 0 && l < n->n_layers) ? n->layers[l].bn : 0;
}
int dnic_net_num_tensors(const dnic_net_t *n) { return n ? n->n_tensors : 0; }

dnic_status dnic_net_tensor(const dnic_net_t *n, int i, dnic_tensor_info *info) {
    if (!n || !info) return dnic__fail(DNIC_ERR_NULL, "dnic_net_tensor: %s is NULL", !n ? "net" : "info");
    if (i < 0 || i >= n->n_tensors)
        return dnic__fail(DNIC_ERR_ARG, "dnic_net_tensor: i = %d is outside 0..%d", i, n->n_tensors - 1);
    *info = n->tensors[i];
    return DNIC_OK;
}

/* A network holding a range has no whole block to hand out: NULL (the
 * count is still the whole's, a shape). */
float *dnic_net_params(dnic_net_t *n, size_t *count) {
    if (count) *count = n ? n->n_params : 0;
    return n && dnic_net_held_layers(n, NULL, NULL) ? n->params : NULL;
}
float *dnic_net_held_values(dnic_net_t *n, size_t *base, size_t *count, float **optim) {
    int has = n && !n->view && n->held_first <= n->held_last;
    if (base) *base = has ? n->held_base : 0;
    if (count) *count = has ? n->held_floats : 0;
    if (optim) *optim = has ? n->optim : NULL;
    return has ? n->params : NULL;
}
static void materialize_zero_grads(dnic_net_t *n);

float *dnic_net_grads(dnic_net_t *n, size_t *count) {
    if (count) *count = n ? n->n_params : 0;
    if (!n || !dnic_net_held_layers(n, NULL, NULL)) return NULL;
    materialize_zero_grads(n);
    return n->grads;
}
float *dnic_net_optim_state(dnic_net_t *n, size_t *count) {
    /* a view's moments are not one (m, v) array: read them from its whole */
    int whole = n && !n->view && dnic_net_held_layers(n, NULL, NULL);
    if (count) *count = whole ? 2 * n->n_params : 0;
    return whole ? n->optim : NULL;
}
int64_t dnic_net_optim_step(const dnic_net_t *n) { return n ? n->step : 0; }
dnic_status dnic_net_set_optim_step(dnic_net_t *n, int64_t t) {
    if (!n) return dnic__fail(DNIC_ERR_NULL, "dnic_net_set_optim_step: net is NULL");
    if (t < 0 || t > DNIC_MAX_STEP)
        return dnic__fail(DNIC_ERR_ARG, "dnic_net_set_optim_step: t = %lld is outside 0..2^53", (long long)t);
    n->step = t;
    return DNIC_OK;
}

dnic_status dnic_net_get_params(const dnic_net_t *n, float *dst, size_t count) {
    if (!n || !dst) return dnic__fail(DNIC_ERR_NULL, "dnic_net_get_params: %s is NULL", !n ? "net" : "dst");
    REFUSE_PARTIAL(n, "dnic_net_get_params");
    if (count != n->n_params)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_net_get_params: n = %zu, the parameter block holds %zu floats", count,
                          n->n_params);
    memcpy(dst, n->params, count * sizeof(float));
    return DNIC_OK;
}

dnic_status dnic_net_set_params(dnic_net_t *n, const float *src, size_t count) {
    if (!n || !src) return dnic__fail(DNIC_ERR_NULL, "dnic_net_set_params: %s is NULL", !n ? "net" : "src");
    REFUSE_PARTIAL(n, "dnic_net_set_params");
    if (count != n->n_params)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_net_set_params: n = %zu, the parameter block holds %zu floats", count,
                          n->n_params);
    for (size_t i = 0; i < count; i++)
        if (!isfinite(src[i]))
            return dnic__fail(DNIC_ERR_NONFINITE, "dnic_net_set_params: src[%zu] = %g is not "
                              "finite", i, (double)src[i]);
    memcpy(n->params, src, count * sizeof(float));
    n->last_B = 0; /* stored activations no longer match the parameters */
    return DNIC_OK;
}

dnic_status dnic_net_set_optimizer(dnic_net_t *n, int group, const dnic_optim_config *cfg) {
    if (!n || !cfg) return dnic__fail(DNIC_ERR_NULL, "dnic_net_set_optimizer: %s is NULL", !n ? "net" : "cfg");
    if (group < 0 || group >= MAX_GROUPS)
        return dnic__fail(DNIC_ERR_ARG, "dnic_net_set_optimizer: group = %d is outside 0..%d", group, MAX_GROUPS - 1);
    dnic_status st = dnic_optim_validate(cfg);
    if (st != DNIC_OK) return st;
    n->opt[group] = *cfg;
    return DNIC_OK;
}

dnic_status dnic_net_set_lr_schedule(dnic_net_t *n, int group, const dnic_lr_schedule *sched) {
    if (!n) return dnic__fail(DNIC_ERR_NULL, "dnic_net_set_lr_schedule: net is NULL");
    if (group < 0 || group >= MAX_GROUPS)
        return dnic__fail(DNIC_ERR_ARG, "dnic_net_set_lr_schedule: group = %d is outside 0..%d", group, MAX_GROUPS - 1);
    dnic_lr_schedule s = sched ? *sched : dnic_lr_schedule_default();
    dnic_status st = dnic_lr_schedule_validate(&s);
    if (st != DNIC_OK) return st;
    n->sched[group] = s;
    return DNIC_OK;
}

const float *dnic_net_output(const dnic_net_t *n) {
    return (n && n->last_B) ? n->layers[n->n_layers - 1].h : NULL;
}
const float *dnic_net_activation(const dnic_net_t *n, int l) {
    return (n && l >= 0 && l < n->n_layers) ? n->layers[l].h : NULL;
}
float *dnic_net_grad_at(dnic_net_t *n, int l) {
    return (n && l >= 0 && l < n->n_layers) ? n->layers[l].gh : NULL;
}
const float *dnic_net_preact_grad(const dnic_net_t *n, int l) {
    return (n && l >= 0 && l < n->n_layers) ? n->layers[l].preact_grad : NULL;
}
const float *dnic_net_input_grad(const dnic_net_t *n) {
    return (n && n->want_dx) ? n->dx : NULL;
}
dnic_status dnic_net_set_input_grad(dnic_net_t *n, int on) {
    if (!n) return dnic__fail(DNIC_ERR_NULL, "dnic_net_set_input_grad: net is NULL");
    if (on && !holds(n, 0))
        return dnic__fail(DNIC_ERR_STATE, "dnic_net_set_input_grad: this network does not hold layer 0 (it holds "
                          "layers %d..%d, dnic_net_create_range)", n->held_first, n->held_last);
    if (on && !n->dx) {
        n->dx = calloc((size_t)n->max_batch * n->input_dim, sizeof(float));
        if (!n->dx) return dnic__fail(DNIC_ERR_NOMEM, "dnic_net_set_input_grad: out of memory");
        n->bytes_held += (size_t)n->max_batch * n->input_dim * sizeof(float);
    }
    n->want_dx = on ? 1 : 0;
    return DNIC_OK;
}

/* --------------------------------------------------------------- forward */

static void layer_forward(dnic_net_t *n, int l, const float *in, int B, int training) {
    layer_t *L = &n->layers[l];
    float *P = n->params;
    if (!L->bn && L->act != DNIC_ACT_IDENTITY) {
        /* fused: the GEMM writes h, then bias + activation in one pass */
        dnic_sgemm(0, 0, B, L->out, L->in, 1.0f, in, L->in, P + L->w, L->out, 0.0f, L->h, L->out);
        dnic__bias_act_forward(L->act, L->h, P + L->b, B, L->out);
        return;
    }
    dnic_dense_forward(L->a, in, P + L->w, P + L->b, B, L->in, L->out);
    if (L->bn) {
        if (training)
            dnic_batchnorm_forward_train(L->z, L->xhat, L->mean, L->invstd, P + L->run_mean,
                                         P + L->run_var, L->a, P + L->gamma, P + L->beta, B,
                                         L->out, n->bn_momentum, n->bn_eps);
        else
            dnic_batchnorm_forward_eval(L->z, L->a, P + L->gamma, P + L->beta, P + L->run_mean,
                                        P + L->run_var, B, L->out, n->bn_eps);
    }
    if (L->act != DNIC_ACT_IDENTITY) dnic_act_forward(L->act, L->h, L->z, (size_t)B * L->out);
}

/* The batch-size checks every call taking B makes, in its name. */
static dnic_status check_batch(const dnic_net_t *n, int B, const char *fn) {
    if (B < 1) return dnic__fail(DNIC_ERR_SIZE, "%s: B = %d, a batch needs >= 1 row", fn, B);
    if (B > n->max_batch)
        return dnic__fail(DNIC_ERR_BATCH_TOO_LARGE, "%s: B = %d exceeds the network's max_batch %d", fn, B,
                          n->max_batch);
    return DNIC_OK;
}

dnic_status dnic_net_forward(dnic_net_t *n, const float *x, int B, int training) {
    if (!n || !x) return dnic__fail(DNIC_ERR_NULL, "dnic_net_forward: %s is NULL", !n ? "net" : "x");
    REFUSE_PARTIAL(n, "dnic_net_forward");
    dnic_status bst = check_batch(n, B, "dnic_net_forward");
    if (bst != DNIC_OK) return bst;
    dnic_enable_flush_to_zero();
    const float *in = x;
    for (int l = 0; l < n->n_layers; l++) {
        layer_forward(n, l, in, B, training);
        in = n->layers[l].h;
    }
    n->x = x;
    n->last_B = B;
    n->last_training = training ? 1 : 0;
    return DNIC_OK;
}

dnic_status dnic_net_loss(dnic_net_t *n, const int32_t *labels, const float *targets, int B,
                          float *loss_out) {
    if (!n) return dnic__fail(DNIC_ERR_NULL, "dnic_net_loss: net is NULL");
    REFUSE_PARTIAL(n, "dnic_net_loss");
    dnic_status bst = check_batch(n, B, "dnic_net_loss");
    if (bst != DNIC_OK) return bst;
    if (n->hidden_top)
        return dnic__fail(DNIC_ERR_STATE, "dnic_net_loss: this network is a block below the output (hidden_top): "
                          "it has no loss");
    if (n->last_B != B)
        return dnic__fail(DNIC_ERR_STATE, "dnic_net_loss: B = %d but the last forward had %d rows%s", B, n->last_B,
                          n->last_B ? "" : " (none since creation, set_params or evaluation: forward first)");
    layer_t *top = &n->layers[n->n_layers - 1];
    return dnic_loss_forward_backward(n->loss, loss_out, top->gh, top->h, labels, targets, B,
                                      top->out);
}

/* -------------------------------------------------------------- backward */

/* From gh of layer l: parameter gradients, dL/da kept for the layer, and
 * (l > 0) gh of layer l-1 overwritten (or dL/dx when asked for). */
static void layer_backward(dnic_net_t *n, int l, int B) {
    layer_t *L = &n->layers[l];
    float *P = n->params, *G = n->grads;
    size_t rows = (size_t)B * L->out;
    /* first backward since zero_grad: weight gradient written, not added */
    int fresh = L->grads_zero_pending;
    if (fresh) {
        size_t end = L->bn ? L->beta + (size_t)L->out : L->b + (size_t)L->out;
        memset(G + L->b, 0, (end - L->b) * sizeof(float)); /* the small vectors only */
        L->grads_zero_pending = 0;
    }
    const float *gz = L->gh; /* dL/dz */
    int bias_done = 0;
    if (L->act != DNIC_ACT_IDENTITY) {
        /* fused: activation derivative, and the bias gradient when no batch
         * norm sits between, in one pass */
        dnic__act_backward_colsum(L->act, L->gz, L->bn ? NULL : G + L->b, L->gh, L->h, B, L->out);
        gz = L->gz;
        bias_done = !L->bn;
    }
    const float *ga = gz; /* dL/da */
    if (L->bn) {
        memset(L->ga, 0, rows * sizeof(float));
        dnic_batchnorm_backward(L->ga, G + L->gamma, G + L->beta, gz, L->xhat, L->invstd,
                                P + L->gamma, B, L->out);
        ga = L->ga;
    }
    L->preact_grad = ga;
    const float *in = l > 0 ? n->layers[l - 1].h : n->x;
    dnic_sgemm(1, 0, L->in, L->out, B, 1.0f, in, L->in, ga, L->out, fresh ? 0.0f : 1.0f, G + L->w, L->out);
    if (!bias_done) dnic_dense_backward(NULL, NULL, G + L->b, ga, in, P + L->w, B, L->in, L->out);
    float *down = l > 0 ? n->layers[l - 1].gh : (n->want_dx ? n->dx : NULL);
    if (down) /* beta = 0: overwrite what flows down */
        dnic_sgemm(0, 1, B, L->in, L->out, 1.0f, ga, L->out, P + L->w, L->out, 0.0f, down, L->in);
}

static int has_batchnorm(const dnic_net_t *n, int top, int bottom) {
    for (int l = bottom; l <= top; l++)
        if (n->layers[l].bn) return 1;
    return 0;
}

dnic_status dnic_net_backward_range(dnic_net_t *n, int top, int bottom, int B) {
    if (!n) return dnic__fail(DNIC_ERR_NULL, "dnic_net_backward_range: net is NULL");
    REFUSE_PARTIAL(n, "dnic_net_backward_range");
    if (bottom < 0 || top < bottom || top >= n->n_layers)
        return dnic__fail(DNIC_ERR_ARG, "dnic_net_backward_range: layers top = %d, bottom = %d: need 0 <= bottom <= "
                          "top <= %d (0-based layers)", top, bottom, n->n_layers - 1);
    dnic_status bst = check_batch(n, B, "dnic_net_backward_range");
    if (bst != DNIC_OK) return bst;
    if (n->last_B != B)
        return dnic__fail(DNIC_ERR_STATE, "dnic_net_backward_range: B = %d but the last forward had %d rows%s", B,
                          n->last_B, n->last_B ? "" : " (none since creation, set_params or evaluation: forward first)");
    /* evaluation-mode batch norm is a different function: no gradient for it */
    if (!n->last_training && has_batchnorm(n, top, bottom))
        return dnic__fail(DNIC_ERR_STATE, "dnic_net_backward_range: the last forward was in evaluation mode "
                          "(training = 0) and layers %d..%d have batch norm: forward with training = 1", bottom, top);
    for (int l = top; l >= bottom; l--) layer_backward(n, l, B);
    return DNIC_OK;
}

dnic_status dnic_net_backward(dnic_net_t *n, int B) {
    if (!n) return dnic__fail(DNIC_ERR_NULL, "dnic_net_backward: net is NULL");
    return dnic_net_backward_range(n, n->n_layers - 1, 0, B);
}

/* Inside a training step zero_grad is lazy: the next backward through a
 * layer writes its weight gradient with beta = 0 (no memset, no read of the
 * old values), and whoever reads gradients before that materialises the
 * zeros. Nobody outside can observe the block between. */
void dnic__net_zero_grad_lazy(dnic_net_t *n) {
    for (int l = 0; l < n->n_layers; l++) n->layers[l].grads_zero_pending = 1;
}

/* The public call zeroes at once: callers may hold the gradient pointer. */
void dnic_net_zero_grad(dnic_net_t *n) {
    if (!n) return;
    if (n->held_floats) memset(n->grads, 0, n->held_floats * sizeof(float));
    for (int l = 0; l < n->n_layers; l++) n->layers[l].grads_zero_pending = 0;
}

/* The gradient entries of layer l (weight, bias, batch norm) are contiguous
 * in the block, from the weight to the last trainable vector. */
static void zero_layer_grads(dnic_net_t *n, int l) {
    layer_t *L = &n->layers[l];
    size_t end = L->bn ? L->beta + (size_t)L->out : L->b + (size_t)L->out;
    memset(n->grads + L->w, 0, (end - L->w) * sizeof(float));
    L->grads_zero_pending = 0;
}

static void materialize_zero_grads(dnic_net_t *n) {
    for (int l = 0; l < n->n_layers; l++)
        if (n->layers[l].grads_zero_pending && holds(n, l)) zero_layer_grads(n, l);
}

/* ---------------------------------------------------------------- update */

dnic_status dnic_net_set_grad_clip(dnic_net_t *n, float max_norm) {
    if (!n) return dnic__fail(DNIC_ERR_NULL, "dnic_net_set_grad_clip: net is NULL");
    if (!(max_norm >= 0.0f) || !isfinite(max_norm))
        return dnic__fail(DNIC_ERR_ARG, "dnic_net_set_grad_clip: max_norm = %g must be finite and >= 0 (0: off)",
                          (double)max_norm);
    n->clip = max_norm;
    return DNIC_OK;
}

float dnic_net_last_grad_norm(const dnic_net_t *n) { return n ? n->last_norm : NAN; }

int dnic_net_fault_tensor(const dnic_net_t *n, int *gradient_was_nonfinite) {
    if (gradient_was_nonfinite) *gradient_was_nonfinite = n ? n->fault_grad : 0;
    return n ? n->fault_tensor : -1;
}

static dnic_status step_exhausted(const char *fn) {
    return dnic__fail(DNIC_ERR_SIZE, "%s: the step counter is at its largest, 2^53 (DNIC_MAX_STEP)", fn);
}

/* The detail of a non-finite update: which tensor, and why. */
static dnic_status nonfinite_update(const dnic_net_t *n, const char *fn) {
    return dnic__fail(DNIC_ERR_NONFINITE, "%s: tensor %s became NaN or infinite at step %lld (%s)", fn,
                      n->tensors[n->fault_tensor].name, (long long)n->step,
                      n->fault_grad ? "its gradient was already non-finite" : "the update overflowed");
}

dnic_status dnic_net_update(dnic_net_t *n) {
    if (!n) return dnic__fail(DNIC_ERR_NULL, "dnic_net_update: net is NULL");
    REFUSE_PARTIAL(n, "dnic_net_update");
    if (n->step >= DNIC_MAX_STEP) return step_exhausted("dnic_net_update"); /* the counter cannot go on */
    n->step++;
    n->fault_tensor = -1;
    n->fault_grad = 0;
    materialize_zero_grads(n);
    n->fault_tensor = dnic__update_tensors(n->tensors, n->n_tensors, n->params, n->grads, n->m, n->v,
                                           n->opt, n->sched, MAX_GROUPS, n->clip, n->step, &n->last_norm, &n->fault_grad);
    return n->fault_tensor < 0 ? DNIC_OK : nonfinite_update(n, "dnic_net_update");
}

dnic_status dnic_net_train_step(dnic_net_t *n, const float *x, const int32_t *labels,
                                const float *targets, int B, float *loss_out) {
    if (!n || !x) return dnic__fail(DNIC_ERR_NULL, "dnic_net_train_step: %s is NULL", !n ? "net" : "x");
    REFUSE_PARTIAL(n, "dnic_net_train_step");
    if (!labels && !targets)
        return dnic__fail(DNIC_ERR_NULL, "dnic_net_train_step: labels and targets are both NULL (give one)");
    /* before the forward moves batch-norm statistics */
    if (n->step >= DNIC_MAX_STEP) return step_exhausted("dnic_net_train_step");
    dnic_status st = dnic_net_forward(n, x, B, 1);
    if (st != DNIC_OK) return st;
    st = dnic_net_loss(n, labels, targets, B, loss_out);
    if (st != DNIC_OK) return st; /* non-finite loss: nothing updated */
    dnic__net_zero_grad_lazy(n);
    st = dnic_net_backward(n, B);
    if (st != DNIC_OK) return st;
    return dnic_net_update(n);
}

/* -------------------------------------------------------------- evaluate */

dnic_status dnic_net_evaluate(dnic_net_t *n, const float *X, const int32_t *labels,
                              const float *targets, size_t count, double *loss_out,
                              size_t *correct_out) {
    if (!n || !X) return dnic__fail(DNIC_ERR_NULL, "dnic_net_evaluate: %s is NULL", !n ? "net" : "X");
    REFUSE_PARTIAL(n, "dnic_net_evaluate");
    if (!labels && !targets)
        return dnic__fail(DNIC_ERR_NULL, "dnic_net_evaluate: labels and targets are both NULL (give one)");
    if (correct_out && !labels)
        return dnic__fail(DNIC_ERR_NULL, "dnic_net_evaluate: correct_out needs labels (labels is NULL)");
    if (count < 1) return dnic__fail(DNIC_ERR_SIZE, "dnic_net_evaluate: n = 0 rows (need >= 1)");
    if (n->hidden_top) /* a block has no loss */
        return dnic__fail(DNIC_ERR_STATE, "dnic_net_evaluate: this network is a block below the output "
                          "(hidden_top): it has no loss");
    int K = dnic_net_output_dim(n);
    double total = 0;
    size_t correct = 0;
    for (size_t start = 0; start < count; start += (size_t)n->max_batch) {
        int B = (int)(count - start < (size_t)n->max_batch ? count - start : (size_t)n->max_batch);
        dnic_status st = dnic_net_forward(n, X + start * (size_t)n->input_dim, B, 0);
        if (st != DNIC_OK) return st;
        const float *p = n->layers[n->n_layers - 1].h;
        float mean = 0;
        st = dnic_loss_forward_backward(n->loss, &mean, NULL, p, labels ? labels + start : NULL,
                                        targets ? targets + start * (size_t)K : NULL, B, K);
        if (st != DNIC_OK && st != DNIC_ERR_NONFINITE) { n->last_B = 0; return st; }
        total += (double)mean * B;
        if (labels) correct += dnic_count_correct(n->loss, p, labels + start, B, K);
    }
    n->last_B = 0; /* evaluation overwrote the training activations */
    if (loss_out) *loss_out = total / (double)count;
    if (correct_out) *correct_out = correct;
    if (isfinite(total)) return DNIC_OK;
    return dnic__fail(DNIC_ERR_NONFINITE, "dnic_net_evaluate: the loss over %zu rows is NaN or infinite", count);
}

dnic_status dnic_net_activations(dnic_net_t *n, const float *X, size_t count, int layer, const size_t *rows,
                                 size_t n_rows, float *out) {
    if (!n || !X || !out)
        return dnic__fail(DNIC_ERR_NULL, "dnic_net_activations: %s is NULL", !n ? "net" : !X ? "X" : "out");
    REFUSE_PARTIAL(n, "dnic_net_activations");
    if (layer < 0 || layer >= n->n_layers)
        return dnic__fail(DNIC_ERR_ARG, "dnic_net_activations: layer = %d is outside 0..%d (0-based; the output "
                          "layer is %d)", layer, n->n_layers - 1, n->n_layers - 1);
    if (count < 1 || n_rows < 1)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_net_activations: count = %zu, n_rows = %zu (need >= 1 each)", count,
                          n_rows);
    if (!rows && n_rows != count)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_net_activations: rows is NULL (every row) but n_rows = %zu != count "
                          "= %zu", n_rows, count);
    for (size_t i = 0; rows && i < n_rows; i++)
        if (rows[i] >= count)
            return dnic__fail(DNIC_ERR_ARG, "dnic_net_activations: rows[%zu] = %zu is outside 0..%zu", i, rows[i],
                              count - 1);
    size_t in = (size_t)n->input_dim, w = (size_t)n->layers[layer].out;
    float *chunk = NULL;
    if (rows && !(chunk = malloc((size_t)n->max_batch * in * sizeof *chunk)))
        return dnic__fail(DNIC_ERR_NOMEM, "dnic_net_activations: out of memory");
    dnic_status st = DNIC_OK;
    for (size_t start = 0; start < n_rows && st == DNIC_OK; start += (size_t)n->max_batch) {
        int B = (int)(n_rows - start < (size_t)n->max_batch ? n_rows - start : (size_t)n->max_batch);
        const float *x = X + start * in;
        if (rows) { /* gather the rows asked for: only they are forwarded */
            for (int r = 0; r < B; r++) memcpy(chunk + (size_t)r * in, X + rows[start + (size_t)r] * in, in * sizeof *chunk);
            x = chunk;
        }
        st = dnic_net_forward(n, x, B, 0);
        if (st == DNIC_OK) memcpy(out + start * w, n->layers[layer].h, (size_t)B * w * sizeof *out);
    }
    free(chunk);
    n->last_B = 0; /* the activations are no training batch's now */
    return st;
}

dnic_status dnic_net_predict(dnic_net_t *n, const float *X, size_t count, int proba, float *out) {
    if (!n) return dnic__fail(DNIC_ERR_NULL, "dnic_net_predict: net is NULL");
    REFUSE_PARTIAL(n, "dnic_net_predict");
    if (proba != 0 && proba != 1) return dnic__fail(DNIC_ERR_ARG, "dnic_net_predict: proba = %d is not 0 or 1", proba);
    if (proba && n->hidden_top)
        return dnic__fail(DNIC_ERR_STATE, "dnic_net_predict: proba = 1 on a block below the output (hidden_top): "
                          "its top is a hidden layer, no probabilities");
    if (proba && n->loss == DNIC_LOSS_MSE)
        return dnic__fail(DNIC_ERR_ARG, "dnic_net_predict: proba = 1 with the MSE loss: its outputs are not "
                          "probabilities (use proba = 0)");
    if (count == 0) return DNIC_OK;
    if (!X || !out) return dnic__fail(DNIC_ERR_NULL, "dnic_net_predict: %s is NULL (n = %zu)", !X ? "X" : "out", count);
    size_t in = (size_t)n->input_dim;
    int K = n->layers[n->n_layers - 1].out;
    for (size_t start = 0; start < count; start += (size_t)n->max_batch) {
        int B = (int)(count - start < (size_t)n->max_batch ? count - start : (size_t)n->max_batch);
        dnic_status st = dnic_net_forward(n, X + start * in, B, 0);
        if (st != DNIC_OK) { n->last_B = 0; return st; }
        float *dst = out + start * (size_t)K;
        memcpy(dst, n->layers[n->n_layers - 1].h, (size_t)B * K * sizeof *dst);
        if (proba) dnic_loss_probabilities(n->loss, dst, (size_t)B, K, dst); /* checked above: cannot fail */
    }
    n->last_B = 0; /* the activations are no training batch's now */
    return DNIC_OK;
}

/* ------------------------------------------------------------ blocks */

/* A block of layers [first, last] of `whole`, as its own network: the same
 * layer descriptions, loss and batch-norm constants; hidden_top unless it
 * ends at the output. Its values are imported with dnic__net_block_sync. */
dnic_status dnic__net_block_create(dnic_net_t **out, const dnic_net_t *whole, int first, int last, int max_batch) {
    return dnic__net_block_shape(out, whole, first, last, max_batch, BLOCK_OWN);
}

/* A block of layers [first, last] of `whole`: with its own values
 * (BLOCK_OWN), with activations only (BLOCK_VIEW: the caller lends the
 * values), or shape only (BLOCK_SHAPE: a block another process runs). */
dnic_status dnic__net_block_shape(dnic_net_t **out, const dnic_net_t *whole, int first, int last, int max_batch,
                                  int kind) {
    *out = NULL;
    if (first < 0 || last < first || last >= whole->n_layers)
        return dnic__fail(DNIC_ERR_ARG, "block of layers %d..%d: outside the network's 0..%d", first, last,
                          whole->n_layers - 1);
    int n = last - first + 1;
    dnic_layer_desc *layers = calloc((size_t)n, sizeof *layers);
    if (!layers) return dnic__fail(DNIC_ERR_NOMEM, "out of memory for a block of %d layers", n);
    for (int l = 0; l < n; l++) {
        const layer_t *L = &whole->layers[first + l];
        layers[l] = (dnic_layer_desc){L->out, L->act, L->bn};
    }
    dnic_net_desc d;
    dnic_net_desc_defaults(&d);
    d.input_dim = whole->layers[first].in;
    d.n_layers = n;
    d.layers = layers;
    d.loss = whole->loss;
    d.init = DNIC_INIT_ZERO;
    d.max_batch = max_batch;
    d.bn_momentum = whole->bn_momentum;
    d.bn_eps = whole->bn_eps;
    d.first_layer = whole->first_layer + first;
    d.hidden_top = last < whole->n_layers - 1 || whole->hidden_top;
    dnic_status st = validate(&d);
    if (st == DNIC_OK)
        st = create_held(out, &d, 0, kind == BLOCK_SHAPE ? n : 0, n - 1, kind == BLOCK_OWN);
    free(layers);
    return st;
}

/* Where block [first, last]'s parameters start in the whole's held block. */
static size_t layer_offset(const dnic_net_t *whole, int first) { return whole->layers[first].w; }

/* Copies parameters, optimizer state (m and v), step counter, optimizer
 * settings and clip norm between `whole` and its block starting at layer
 * `first` (to_whole: block -> whole; else whole -> block). */
void dnic__net_block_sync(dnic_net_t *block, dnic_net_t *whole, int first, int to_whole) {
    if (!holds(whole, first)) return; /* never asked of a block a process does not hold */
    size_t off = layer_offset(whole, first), n = block->n_params;
    materialize_zero_grads(block);
    materialize_zero_grads(whole);
    float *wp = whole->params + off, *wm = whole->m + off, *wv = whole->v + off;
    float *bp = block->params, *bm = block->m, *bv = block->v;
    if (to_whole) {
        memcpy(wp, bp, n * sizeof(float));
        memcpy(wm, bm, n * sizeof(float));
        memcpy(wv, bv, n * sizeof(float));
        whole->step = block->step;
        whole->last_B = 0;
    } else {
        memcpy(bp, wp, n * sizeof(float));
        memcpy(bm, wm, n * sizeof(float));
        memcpy(bv, wv, n * sizeof(float));
        block->step = whole->step;
        memcpy(block->opt, whole->opt, sizeof block->opt);
        memcpy(block->sched, whole->sched, sizeof block->sched);
        block->clip = whole->clip;
        block->last_B = 0;
    }
}

/* A view of layers [first, last] of `whole`: a block network (its own
 * layer descriptions, activations, gradient-at-input buffer, step counter,
 * clip norm and fault slot) whose parameters, gradients and optimizer
 * moments are the whole's own, so updating the block updates the whole and
 * nothing is copied back. Views of disjoint layer ranges touch disjoint
 * buffers; the whole must outlive its views. */
dnic_status dnic__net_block_view(dnic_net_t **out, dnic_net_t *whole, int first, int last) {
    dnic_net_t *b = NULL;
    *out = NULL;
    if (first < 0 || last < first || last >= whole->n_layers || !holds(whole, first) || !holds(whole, last))
        return dnic__fail(DNIC_ERR_STATE, "block of layers %d..%d: the network holds only layers %d..%d", first, last,
                          whole->held_first, whole->held_last);
    dnic_status st = dnic__net_block_shape(&b, whole, first, last, whole->max_batch, BLOCK_VIEW);
    if (st != DNIC_OK) return st;
    size_t off = layer_offset(whole, first);
    materialize_zero_grads(whole); /* nothing pending may later wipe the view's gradients */
    b->params = whole->params + off;
    b->grads = whole->grads + off;
    b->optim = NULL;
    b->m = whole->m + off;
    b->v = whole->v + off;
    b->view = 1;
    for (int i = 0; i < whole->n_tensors && whole->tensors[i].offset < off + whole->held_base; i++) b->tensor_base = i + 1;
    dnic__net_view_refresh(b, whole);
    *out = b;
    return DNIC_OK;
}

/* A view takes its whole's step counter, optimizer settings and clip norm. */
void dnic__net_view_refresh(dnic_net_t *view, const dnic_net_t *whole) {
    view->step = whole->step;
    memcpy(view->opt, whole->opt, sizeof view->opt);
    memcpy(view->sched, whole->sched, sizeof view->sched);
    view->clip = whole->clip;
}

/* One optimizer step of `whole` through its views blocks[0..n) (which
 * together cover its layers, bottom first): the same step, settings and
 * global-norm clipping as dnic_net_update(whole) -- the squared norms are
 * summed tensor by tensor in the whole's order, so the scale is the same
 * float -- each block updating its own tensors. The whole's fault slot
 * names the first tensor that went non-finite, in the whole's numbering. */
dnic_status dnic__net_update_blocks(dnic_net_t *whole, dnic_net_t *const *blocks, int n) {
    if (whole->step >= DNIC_MAX_STEP) return step_exhausted("dnic_dni_train_step");
    whole->step++;
    whole->fault_tensor = -1;
    whole->fault_grad = 0;
    whole->last_B = 0; /* the blocks hold the activations now */
    float scale = 1.0f;
    if (whole->clip > 0.0f) {
        double ss = 0;
        for (int k = 0; k < n; k++) {
            dnic_net_t *b = blocks[k];
            materialize_zero_grads(b);
            for (int i = 0; i < b->n_tensors; i++)
                if (b->tensors[i].trainable) ss += dnic__sum_squares(b->grads + b->tensors[i].offset, b->tensors[i].size);
        }
        whole->last_norm = (float)sqrt(ss);
        if (whole->last_norm > whole->clip && isfinite(whole->last_norm)) scale = whole->clip / whole->last_norm;
    }
    for (int k = 0; k < n; k++) {
        dnic_net_t *b = blocks[k];
        memcpy(b->opt, whole->opt, sizeof b->opt);
        memcpy(b->sched, whole->sched, sizeof b->sched);
        b->step = whole->step;
        b->fault_grad = 0;
        materialize_zero_grads(b);
        if (scale != 1.0f)
            for (int i = 0; i < b->n_tensors; i++)
                if (b->tensors[i].trainable) dnic__scale(b->grads + b->tensors[i].offset, b->tensors[i].size, scale);
        b->fault_tensor = dnic__update_tensors(b->tensors, b->n_tensors, b->params, b->grads, b->m, b->v, b->opt,
                                               b->sched, MAX_GROUPS, 0.0f, b->step, NULL, &b->fault_grad);
        if (b->fault_tensor >= 0 && whole->fault_tensor < 0) {
            whole->fault_tensor = b->tensor_base + b->fault_tensor;
            whole->fault_grad = b->fault_grad;
        }
    }
    return whole->fault_tensor < 0 ? DNIC_OK : nonfinite_update(whole, "dnic_dni_train_step");
}

/* The whole takes a view's step counter (a schedule whose blocks step on
 * their own hands back the counter of one of them). */
void dnic__net_view_publish_step(const dnic_net_t *view, dnic_net_t *whole) {
    whole->step = view->step;
    whole->last_B = 0;
}

float *dnic__net_moment(dnic_net_t *n, int which) { return which ? n->v : n->m; }

void dnic__net_set_fault(dnic_net_t *n, int tensor, int gradient) {
    n->fault_tensor = tensor;
    n->fault_grad = gradient;
}
