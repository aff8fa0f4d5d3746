/* dni.c — the locked DNI trainer: a network with interfaces on some of its
 * layers (block boundaries), trained one batch at a time (the `locked`
 * schedule): forward through every block; the top block backward from
 * the loss; then, top-down, each interface takes its target from this same
 * batch, makes its prediction and writes its learning signal into the
 * boundary's gradient buffer, from which the block below runs backward;
 * finally every update.
 * The blocks are views of the network (net.c), owned here and lent to the
 * pipeline and async schedules (pipeline.c, async.c), so every schedule
 * runs the same block and boundary operations on the same buffers.
 */
#include "train/train_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    dnic_iface_t *it;
    dnic_iface_desc d;
    int layer;
    float loss, alignment;
    float *true_g; /* (max_batch, dh): dL/dh by full backprop, when needed */
} slot_t;

struct dnic_dni_s {
    dnic_net_t *net;
    int n, n_labels, track;
    int fault_iface;
    slot_t *slots; /* ordered by layer, top first */
    /* the blocks, bottom first: views of net, or net itself without interfaces */
    int n_blocks;
    dnic_net_t **blocks;
    int *block_first;
    int lent;  /* a pipeline holds the blocks: the locked step would clobber its batches */
    int freed; /* the caller freed the DNI while a pipeline held it: it goes with the pipeline */
};

static int needs_true(const dnic_dni_t *dni, const slot_t *s) {
    return dni->track || s->d.target == DNIC_TARGET_TRUE;
}

static void destroy(dnic_dni_t *dni) {
    for (int i = 0; i < dni->n; i++) {
        if (dni->slots[i].it) dnic__iface_set_owned(dni->slots[i].it, 0);
        dnic_iface_free(dni->slots[i].it);
        free(dni->slots[i].true_g);
    }
    for (int k = 0; dni->blocks && k < dni->n_blocks; k++)
        if (dni->blocks[k] && dni->blocks[k] != dni->net) {
            dnic__net_set_owned(dni->blocks[k], 0);
            dnic_net_free(dni->blocks[k]);
        }
    free(dni->blocks);
    free(dni->block_first);
    free(dni->slots);
    dnic__net_release(dni->net); /* last: frees the network if its caller already did */
    free(dni);
}

/* While a pipeline holds the blocks the DNI stays, and goes with the
 * pipeline (dnic.h, Lifetimes). */
void dnic_dni_free(dnic_dni_t *dni) {
    if (!dni) return;
    if (dni->lent) {
        dni->freed = 1;
        return;
    }
    destroy(dni);
}

static int by_layer_desc(const void *a, const void *b) {
    return ((const slot_t *)b)->layer - ((const slot_t *)a)->layer;
}

/* The width of interface i's target (and so of its prediction). */
static int target_width(dnic_net_t *net, const dnic_iface_desc *d) {
    int L = dnic_net_num_layers(net);
    switch (d->target) {
    case DNIC_TARGET_OUTPUT_ERROR: return dnic_net_output_dim(net);
    case DNIC_TARGET_NEXT_ERROR: return d->layer + 1 < L ? dnic_net_layer_width(net, d->layer + 1) : 0;
    default: return dnic_net_layer_width(net, d->layer);
    }
}

/* One block per stretch of layers between boundaries (none above an
 * interface on the output layer); without interfaces the network itself.
 * A network holding a range (dnic_net_create_range): views of the held
 * blocks, shape-only blocks for the others. */
static dnic_status make_blocks(dnic_dni_t *dni) {
    int L = dnic_net_num_layers(dni->net), n = dni->n;
    int top_iface = n > 0 && dni->slots[0].layer == L - 1;
    dni->n_blocks = n + 1 - top_iface;
    dni->blocks = calloc((size_t)dni->n_blocks, sizeof *dni->blocks);
    dni->block_first = calloc((size_t)dni->n_blocks, sizeof *dni->block_first);
    if (!dni->blocks || !dni->block_first) return DNIC_ERR_NOMEM;
    if (n == 0) {
        dni->blocks[0] = dni->net;
        return DNIC_OK;
    }
    int held_first, held_last;
    dnic_net_held_layers(dni->net, &held_first, &held_last);
    int first = 0;
    for (int k = 0; k < dni->n_blocks; k++) {
        int last = k < n ? dni->slots[n - 1 - k].layer : L - 1; /* slots are top first */
        dni->block_first[k] = first;
        int held = dnic__net_holds(dni->net, first, last);
        dnic_status st = held ? dnic__net_block_view(&dni->blocks[k], dni->net, first, last)
                              : dnic__net_block_shape(&dni->blocks[k], dni->net, first, last,
                                                      dnic_net_max_batch(dni->net), BLOCK_SHAPE);
        if (st == DNIC_OK) dnic__net_set_owned(dni->blocks[k], 1);
        if (st == DNIC_OK && held && first > 0) st = dnic_net_set_input_grad(dni->blocks[k], 1);
        if (st != DNIC_OK) return st;
        /* a block partly held would be half a block: neither runnable nor shape */
        int overlaps = first <= held_last && last >= held_first;
        if (overlaps && !held)
            return dnic__fail(DNIC_ERR_ARG, "dnic_dni_create: the network holds layers %d..%d, which cut the block of "
                              "layers %d..%d: hold whole blocks (dnic_net_create_range)", held_first, held_last, first,
                              last);
        first = last + 1;
    }
    return DNIC_OK;
}

/* n_labels against the network's K outputs: K classes (labels) or a
 * target K wide; a single output takes labels 0/1 (2) or one float
 * target (1). */
static int labels_fit(const dnic_net_t *net, int n_labels) {
    int K = dnic_net_output_dim(net);
    return K == 1 ? n_labels == 1 || n_labels == 2 : n_labels == K;
}

dnic_status dnic_dni_create(dnic_dni_t **out, dnic_net_t *net, const dnic_iface_desc *ifaces, int n_ifaces,
                            int n_labels, uint64_t seed) {
#define FN "dnic_dni_create: "
    if (!out) return dnic__fail(DNIC_ERR_NULL, FN "out is NULL");
    *out = NULL;
    if (!net) return dnic__fail(DNIC_ERR_NULL, FN "net is NULL");
    if (n_ifaces > 0 && !ifaces) return dnic__fail(DNIC_ERR_NULL, FN "ifaces is NULL (n_ifaces = %d)", n_ifaces);
    int L = dnic_net_num_layers(net);
    if (n_ifaces < 0 || n_ifaces > L)
        return dnic__fail(DNIC_ERR_SIZE, FN "n_ifaces = %d is outside 0..%d (one per layer at most)", n_ifaces, L);
    if (!labels_fit(net, n_labels)) {
        int K = dnic_net_output_dim(net);
        if (K == 1)
            return dnic__fail(DNIC_ERR_SIZE, FN "n_labels = %d: a network with 1 output takes 2 (labels 0/1) or 1 "
                              "(float targets)", n_labels);
        return dnic__fail(DNIC_ERR_SIZE, FN "n_labels = %d must equal the network's %d outputs", n_labels, K);
    }
    for (int i = 0; i < n_ifaces; i++) {
        const dnic_iface_desc *d = &ifaces[i];
        if (d->layer < 0 || d->layer >= L)
            return dnic__fail(DNIC_ERR_ARG, FN "ifaces[%d].layer = %d is outside the network's %d layers (0..%d, "
                              "0-based from the input)", i, d->layer, L, L - 1);
        for (int j = 0; j < i; j++)
            if (ifaces[j].layer == d->layer) /* one interface per boundary */
                return dnic__fail(DNIC_ERR_ARG, FN "ifaces[%d] and ifaces[%d] are both on layer %d (one interface "
                                  "per layer)", j, i, d->layer);
        if (d->target == DNIC_TARGET_NEXT_ERROR && d->layer + 1 >= L)
            return dnic__fail(DNIC_ERR_ARG, FN "ifaces[%d]: target NEXT_ERROR on layer %d, the output layer: there "
                              "is no next layer", i, d->layer);
        int fixed_projection = d->kind == DNIC_IFACE_RANDOM || d->kind == DNIC_IFACE_ONES;
        if (!fixed_projection && d->target != DNIC_TARGET_TRUE && d->target != DNIC_TARGET_BOOTSTRAP)
            return dnic__fail(DNIC_ERR_ARG, FN "ifaces[%d]: kind %d takes target TRUE (0) or BOOTSTRAP (1), not %d "
                              "(only RANDOM and ONES take any target)", i, (int)d->kind, (int)d->target);
    }
    dnic_dni_t *dni = calloc(1, sizeof *dni);
    if (!dni) return dnic__fail(DNIC_ERR_NOMEM, FN "out of memory");
    dni->net = net;
    dnic__net_borrow(net);
    dni->n = n_ifaces;
    dni->n_labels = n_labels;
    dni->fault_iface = -1;
    dni->slots = calloc((size_t)(n_ifaces > 0 ? n_ifaces : 1), sizeof *dni->slots);
    if (!dni->slots) {
        dni->n = 0;
        destroy(dni);
        return dnic__fail(DNIC_ERR_NOMEM, FN "out of memory");
    }
    int max_batch = dnic_net_max_batch(net), held_first, held_last;
    dnic_net_held_layers(net, &held_first, &held_last);
    for (int i = 0; i < n_ifaces; i++) {
        slot_t *s = &dni->slots[i];
        s->d = ifaces[i];
        s->layer = ifaces[i].layer;
        /* under batch norm above the boundary the targets sum to zero over
         * the batch: so does a centred prediction (dnic.h, dnic_iface_centre) */
        if (s->d.centre == DNIC_CENTRE_AUTO)
            s->d.centre = dnic__iface_kind_trainable(s->d.kind) && dnic__net_layer_batchnorm(net, s->layer + 1)
                              ? DNIC_CENTRE_ON : DNIC_CENTRE_OFF;
        /* a range network: the interfaces on its layers only (the block it holds) */
        if (s->layer < held_first || s->layer > held_last) continue;
        int dh = dnic_net_layer_width(net, s->layer), dout = target_width(net, &s->d);
        float scale = s->d.target == DNIC_TARGET_NEXT_ERROR ? sqrtf(6.0f / (float)dh) : sqrtf(3.0f / (float)dout);
        /* each interface its own stream, independent of the others' sizes */
        uint64_t stream = seed ^ (0x1f0e5eedULL * (uint64_t)(s->layer + 1));
        dnic_status st = dnic_iface_create(&s->it, &s->d, dh, dout, n_labels, max_batch, scale, stream);
        if (st != DNIC_OK) {
            /* the interface's own detail, said of the description it came from */
            char inner[DNIC_LAST_ERROR_MAX];
            snprintf(inner, sizeof inner, "%s", dnic_last_error());
            dnic__fail(st, FN "ifaces[%d] (layer %d): %s", i, s->layer, inner);
        }
        if (st == DNIC_OK) dnic__iface_set_owned(s->it, 1);
        if (st == DNIC_OK) {
            s->true_g = calloc((size_t)max_batch * dh, sizeof(float));
            if (!s->true_g) st = dnic__fail(DNIC_ERR_NOMEM, FN "out of memory");
        }
        if (st != DNIC_OK) {
            dni->n = i + 1;
            destroy(dni);
            return st;
        }
    }
    qsort(dni->slots, (size_t)n_ifaces, sizeof *dni->slots, by_layer_desc);
    dnic_status st = make_blocks(dni);
    if (st == DNIC_ERR_ARG) { /* its own line */
        destroy(dni);
        return st;
    }
    if (st != DNIC_OK) {
        destroy(dni);
        return dnic__fail(st, FN "%s while making the blocks", dnic_status_str(st));
    }
    *out = dni;
    return DNIC_OK;
#undef FN
}

int dnic_dni_num_ifaces(const dnic_dni_t *dni) { return dni ? dni->n : 0; }

/* Interfaces are numbered top (highest layer) first. */
dnic_iface_t *dnic_dni_iface(dnic_dni_t *dni, int i) {
    return (dni && i >= 0 && i < dni->n) ? dni->slots[i].it : NULL;
}

int dnic_dni_iface_index(const dnic_dni_t *dni, int layer) {
    for (int i = 0; dni && i < dni->n; i++)
        if (dni->slots[i].layer == layer) return i;
    return -1;
}

dnic_iface_t *dnic_dni_iface_at_layer(dnic_dni_t *dni, int layer) {
    if (!dni) {
        dnic__fail(DNIC_ERR_NULL, "dnic_dni_iface_at_layer: dni is NULL");
        return NULL;
    }
    int i = dnic_dni_iface_index(dni, layer);
    if (i < 0) {
        dnic__fail(DNIC_ERR_ARG, "dnic_dni_iface_at_layer: no interface on layer %d (0-based; the network has "
                   "layers 0..%d)", layer, dnic_net_num_layers(dni->net) - 1);
        return NULL;
    }
    if (!dni->slots[i].it)
        dnic__fail(DNIC_ERR_STATE, "dnic_dni_iface_at_layer: the interface on layer %d is not held here: the "
                   "network holds only layers outside it (dnic_net_create_range)", layer);
    return dni->slots[i].it;
}

dnic_status dnic_dni_set_iface_optimizer(dnic_dni_t *dni, const dnic_optim_config *cfg) {
    if (!dni || !cfg) return dnic__fail(DNIC_ERR_NULL, "dnic_dni_set_iface_optimizer: %s is "
                                        "NULL", !dni ? "dni" : "cfg");
    dnic_status st = dnic_optim_validate(cfg);
    for (int i = 0; st == DNIC_OK && i < dni->n; i++)
        if (dni->slots[i].it) st = dnic_iface_set_optimizer(dni->slots[i].it, cfg);
    return st;
}

dnic_status dnic_dni_set_iface_lr_schedule(dnic_dni_t *dni, const dnic_lr_schedule *sched) {
    if (!dni) return dnic__fail(DNIC_ERR_NULL, "dnic_dni_set_iface_lr_schedule: dni is NULL");
    dnic_status st = sched ? dnic_lr_schedule_validate(sched) : DNIC_OK;
    for (int i = 0; st == DNIC_OK && i < dni->n; i++)
        if (dni->slots[i].it) st = dnic_iface_set_lr_schedule(dni->slots[i].it, sched);
    return st;
}

dnic_status dnic_dni_set_grad_clip(dnic_dni_t *dni, float max_norm) {
    if (!dni) return dnic__fail(DNIC_ERR_NULL, "dnic_dni_set_grad_clip: dni is NULL");
    if (!(max_norm >= 0.0f) || !isfinite(max_norm))
        return dnic__fail(DNIC_ERR_ARG, "dnic_dni_set_grad_clip: max_norm = %g must be finite and >= 0 (0: off)",
                          (double)max_norm);
    for (int i = 0; i < dni->n; i++)
        if (dni->slots[i].it) dnic_iface_set_grad_clip(dni->slots[i].it, max_norm);
    return DNIC_OK;
}

int dnic_dni_fault_iface(const dnic_dni_t *dni) { return dni ? dni->fault_iface : -1; }

dnic_status dnic_dni_set_track_alignment(dnic_dni_t *dni, int on) {
    if (!dni) return dnic__fail(DNIC_ERR_NULL, "dnic_dni_set_track_alignment: dni is NULL");
    dni->track = on ? 1 : 0;
    return DNIC_OK;
}

float dnic_dni_iface_loss(const dnic_dni_t *dni, int i) {
    return (dni && i >= 0 && i < dni->n) ? dni->slots[i].loss : NAN;
}
float dnic_dni_iface_alignment(const dnic_dni_t *dni, int i) {
    return (dni && i >= 0 && i < dni->n) ? dni->slots[i].alignment : NAN;
}

static float cosine(const float *a, const float *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t k = 0; k < n; k++) {
        ab += (double)a[k] * b[k];
        aa += (double)a[k] * a[k];
        bb += (double)b[k] * b[k];
    }
    return (aa > 0 && bb > 0) ? (float)(ab / sqrt(aa * bb)) : 0.0f;
}

/* The block whose top is `layer`'s boundary, and the gradient of the loss
 * at a block's top as the block above (or the loss, at the output) left it. */
static int block_under(const dnic_dni_t *dni, int layer) {
    int k = 0;
    while (k + 1 < dni->n_blocks && dni->block_first[k + 1] <= layer) k++;
    return k;
}
static int top_of(const dnic_dni_t *dni, int k) {
    return dnic_net_num_layers(dni->blocks[k]) - 1;
}
static const float *grad_from_above(dnic_dni_t *dni, int k) {
    return k + 1 < dni->n_blocks ? dnic_net_input_grad(dni->blocks[k + 1])
                                 : dnic_net_grad_at(dni->blocks[k], top_of(dni, k));
}

/* True gradients, where a target or the alignment metric needs them: one
 * backward through every block from the loss, each block's top taking
 * the gradient at the input of the block above; parameter gradients are
 * thrown away (the caller zeroes them again). */
static dnic_status true_gradients(dnic_dni_t *dni, int B) {
    for (int k = dni->n_blocks - 1; k >= 0; k--) {
        dnic_net_t *b = dni->blocks[k];
        int w = dnic_net_layer_width(b, top_of(dni, k));
        if (k + 1 < dni->n_blocks)
            memcpy(dnic_net_grad_at(b, top_of(dni, k)), dnic_net_input_grad(dni->blocks[k + 1]),
                   sizeof(float) * (size_t)B * (size_t)w);
        dnic__net_zero_grad_lazy(b);
        dnic_status st = dnic_net_backward(b, B);
        if (st != DNIC_OK) return st;
    }
    for (int i = 0; i < dni->n; i++) {
        slot_t *s = &dni->slots[i];
        if (needs_true(dni, s))
            memcpy(s->true_g, grad_from_above(dni, block_under(dni, s->layer)),
                   sizeof(float) * (size_t)B * dnic_net_layer_width(dni->net, s->layer));
    }
    return DNIC_OK;
}

dnic_status dnic_dni_train_step(dnic_dni_t *dni, const float *x, const int32_t *labels, const float *targets,
                                int B, float *loss_out) {
#define FN "dnic_dni_train_step: "
    if (!dni || !x) return dnic__fail(DNIC_ERR_NULL, FN "%s is NULL", !dni ? "dni" : "x");
    if (!labels && !targets) return dnic__fail(DNIC_ERR_NULL, FN "labels and targets are both NULL (give one)");
    if (dni->lent)
        return dnic__fail(DNIC_ERR_STATE, FN "a pipeline holds this DNI's blocks (free it, or tick the pipeline)");
    int held_first, held_last;
    if (!dnic_net_held_layers(dni->net, &held_first, &held_last))
        return dnic__fail(DNIC_ERR_STATE, FN "the network holds only layers %d..%d (dnic_net_create_range): the "
                          "locked step needs every layer", held_first, held_last);
    dnic_net_t *net = dni->net, *top_block = dni->blocks[dni->n_blocks - 1];
    /* a counter at its end refuses before anything moves */
    if (dnic_net_optim_step(net) >= DNIC_MAX_STEP)
        return dnic__fail(DNIC_ERR_SIZE, FN "the network's step counter is at its largest, 2^53 (DNIC_MAX_STEP)");
    for (int j = 0; j < dni->n; j++)
        if (dnic_iface_step(dni->slots[j].it) >= DNIC_MAX_STEP)
            return dnic__fail(DNIC_ERR_SIZE, FN "interface %d's step counter is at its largest, 2^53 (DNIC_MAX_STEP)",
                              j);
    if (!labels && dni->n > 0 && dni->n_labels != dnic_net_output_dim(net))
        return dnic__fail(DNIC_ERR_ARG, FN "float targets, but the interfaces were made for n_labels = %d labels, "
                          "not %d-wide targets", dni->n_labels, dnic_net_output_dim(net));
#undef FN
    dni->fault_iface = -1;
    const float *in = x;
    dnic_status st = DNIC_OK;
    for (int k = 0; k < dni->n_blocks && st == DNIC_OK; k++) {
        st = dnic_net_forward(dni->blocks[k], in, B, 1);
        in = dnic_net_output(dni->blocks[k]);
    }
    if (st != DNIC_OK) return st;
    st = dnic_net_loss(top_block, labels, targets, B, loss_out);
    if (st != DNIC_OK) return st;

    int any_true = 0;
    for (int i = 0; i < dni->n; i++) any_true |= needs_true(dni, &dni->slots[i]);
    if (any_true && (st = true_gradients(dni, B)) != DNIC_OK) return st;

    /* top-down: a block under an interface backwards from the signal the
     * interface writes at its top, every other block from above */
    const float *ycond = labels ? NULL : targets;
    const float *output_error = dnic_net_grad_at(top_block, top_of(dni, dni->n_blocks - 1));
    int i = 0; /* the next interface, top first */
    for (int k = dni->n_blocks - 1; k >= 0; k--) {
        dnic_net_t *b = dni->blocks[k];
        int top = top_of(dni, k);
        if (i < dni->n && dni->slots[i].layer == dni->block_first[k] + top) {
            slot_t *s = &dni->slots[i++];
            float *boundary = dnic_net_grad_at(b, top);
            const float *g;
            switch (s->d.target) {
            case DNIC_TARGET_TRUE: g = s->true_g; break;
            case DNIC_TARGET_OUTPUT_ERROR: g = output_error; break;
            case DNIC_TARGET_NEXT_ERROR: g = dnic_net_preact_grad(dni->blocks[k + 1], 0); break;
            default: g = grad_from_above(dni, k); break; /* what reached h from the block above */
            }
            st = dnic_iface_boundary_step(s->it, dnic_net_output(b), labels, ycond, g, boundary, B, &s->loss);
            if (st != DNIC_OK) {
                if (st == DNIC_ERR_NONFINITE) dni->fault_iface = i - 1; /* its loss */
                return st;
            }
            if (dni->track)
                s->alignment = cosine(boundary, s->true_g, (size_t)B * dnic_net_layer_width(b, top));
        }
        dnic__net_zero_grad_lazy(b);
        if ((st = dnic_net_backward(b, B)) != DNIC_OK) return st;
    }
    dni->fault_iface = -1;
    st = dni->n_blocks == 1 && top_block == net ? dnic_net_update(net)
                                                 : dnic__net_update_blocks(net, dni->blocks, dni->n_blocks);
    if (st != DNIC_OK) return st;
    for (int j = 0; j < dni->n; j++)
        if ((st = dnic_iface_update(dni->slots[j].it)) != DNIC_OK) {
            if (st == DNIC_ERR_NONFINITE) dni->fault_iface = j;
            return st;
        }
    return DNIC_OK;
}

dnic_net_t *dnic__dni_net(dnic_dni_t *dni) { return dni->net; }
const dnic_iface_desc *dnic__dni_desc(const dnic_dni_t *dni, int i) { return &dni->slots[i].d; }
int dnic__dni_tracking(const dnic_dni_t *dni) { return dni->track; }

/* The blocks every schedule runs, bottom first; a schedule borrows them
 * (lend 1) and gives them back (lend 0): at most one at a time. */
int dnic__dni_num_blocks(const dnic_dni_t *dni) { return dni->n_blocks; }
dnic_net_t *dnic__dni_block(dnic_dni_t *dni, int k) { return dni->blocks[k]; }
int dnic__dni_block_first(const dnic_dni_t *dni, int k) { return dni->block_first[k]; }
dnic_status dnic__dni_lend_blocks(dnic_dni_t *dni, int lend) {
    if (lend && dni->lent)
        return dnic__fail(DNIC_ERR_STATE, "dnic_pipe_create: another pipeline already runs this DNI's blocks");
    dni->lent = lend;
    if (!lend && dni->freed) destroy(dni); /* its caller freed it while lent */
    return DNIC_OK;
}
