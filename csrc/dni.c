/* dni.c — the locked DNI trainer: a network with interfaces on some of its
 * layers (block boundaries), trained one batch at a time (DESIGN.md section
 * 2, `locked`): forward through every block; the top block backward from
 * the loss; then, top-down, each interface takes its target from this same
 * batch, makes its prediction and writes its learning signal into the
 * boundary's gradient buffer, from which the block below runs backward;
 * finally every update.
 * Not here: the pipeline and async schedules.
 */
#include "internal.h"

#include <math.h>
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
};

static int needs_true(const dnic_dni_t *dni, const slot_t *s) {
    return dni->track || s->d.target == DNIC_TARGET_TRUE;
}

void dnic_dni_free(dnic_dni_t *dni) {
    if (!dni) return;
    for (int i = 0; i < dni->n; i++) {
        dnic_iface_free(dni->slots[i].it);
        free(dni->slots[i].true_g);
    }
    free(dni->slots);
    free(dni);
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

dnic_status dnic_dni_create(dnic_dni_t **out, dnic_net_t *net, const dnic_iface_desc *ifaces, int n_ifaces,
                            int n_labels, uint64_t seed) {
    if (!out) return DNIC_ERR_NULL;
    *out = NULL;
    if (!net || (n_ifaces > 0 && !ifaces)) return DNIC_ERR_NULL;
    int L = dnic_net_num_layers(net);
    if (n_ifaces < 0 || n_ifaces > L) return DNIC_ERR_SIZE;
    if (n_labels < 0 || n_labels > (1 << 22)) return DNIC_ERR_SIZE;
    for (int i = 0; i < n_ifaces; i++) {
        const dnic_iface_desc *d = &ifaces[i];
        if (d->layer < 0 || d->layer >= L) return DNIC_ERR_ARG;
        for (int j = 0; j < i; j++)
            if (ifaces[j].layer == d->layer) return DNIC_ERR_ARG; /* one interface per boundary */
        if (d->target == DNIC_TARGET_NEXT_ERROR && d->layer + 1 >= L) return DNIC_ERR_ARG;
        int fixed_projection = d->kind == DNIC_IFACE_RANDOM || d->kind == DNIC_IFACE_ONES;
        if (!fixed_projection && d->target != DNIC_TARGET_TRUE && d->target != DNIC_TARGET_BOOTSTRAP)
            return DNIC_ERR_ARG;
    }
    dnic_dni_t *dni = calloc(1, sizeof *dni);
    if (!dni) return DNIC_ERR_NOMEM;
    dni->net = net;
    dni->n = n_ifaces;
    dni->n_labels = n_labels;
    dni->fault_iface = -1;
    dni->slots = calloc((size_t)(n_ifaces > 0 ? n_ifaces : 1), sizeof *dni->slots);
    if (!dni->slots) { free(dni); return DNIC_ERR_NOMEM; }
    int max_batch = dnic_net_max_batch(net);
    for (int i = 0; i < n_ifaces; i++) {
        slot_t *s = &dni->slots[i];
        s->d = ifaces[i];
        s->layer = ifaces[i].layer;
        int dh = dnic_net_layer_width(net, s->layer), dout = target_width(net, &s->d);
        float scale = s->d.target == DNIC_TARGET_NEXT_ERROR ? sqrtf(6.0f / (float)dh) : sqrtf(3.0f / (float)dout);
        /* each interface its own stream, independent of the others' sizes */
        uint64_t stream = seed ^ (0x1f0e5eedULL * (uint64_t)(s->layer + 1));
        dnic_status st = dnic_iface_create(&s->it, &s->d, dh, dout, n_labels, max_batch, scale, stream);
        if (st == DNIC_OK) {
            s->true_g = calloc((size_t)max_batch * dh, sizeof(float));
            if (!s->true_g) st = DNIC_ERR_NOMEM;
        }
        if (st != DNIC_OK) {
            dni->n = i + 1;
            dnic_dni_free(dni);
            return st;
        }
    }
    qsort(dni->slots, (size_t)n_ifaces, sizeof *dni->slots, by_layer_desc);
    *out = dni;
    return DNIC_OK;
}

int dnic_dni_num_ifaces(const dnic_dni_t *dni) { return dni ? dni->n : 0; }

/* Interfaces are numbered top (highest layer) first. */
dnic_iface_t *dnic_dni_iface(dnic_dni_t *dni, int i) {
    return (dni && i >= 0 && i < dni->n) ? dni->slots[i].it : NULL;
}

dnic_status dnic_dni_set_iface_optimizer(dnic_dni_t *dni, const dnic_optim_config *cfg) {
    if (!dni || !cfg) return DNIC_ERR_NULL;
    dnic_status st = dnic_optim_validate(cfg);
    for (int i = 0; st == DNIC_OK && i < dni->n; i++) st = dnic_iface_set_optimizer(dni->slots[i].it, cfg);
    return st;
}

dnic_status dnic_dni_set_grad_clip(dnic_dni_t *dni, float max_norm) {
    if (!dni) return DNIC_ERR_NULL;
    if (!(max_norm >= 0.0f) || !isfinite(max_norm)) return DNIC_ERR_ARG;
    for (int i = 0; i < dni->n; i++) dnic_iface_set_grad_clip(dni->slots[i].it, max_norm);
    return DNIC_OK;
}

int dnic_dni_fault_iface(const dnic_dni_t *dni) { return dni ? dni->fault_iface : -1; }

dnic_status dnic_dni_set_track_alignment(dnic_dni_t *dni, int on) {
    if (!dni) return DNIC_ERR_NULL;
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

dnic_status dnic_dni_train_step(dnic_dni_t *dni, const float *x, const int32_t *labels, const float *targets,
                                int B, float *loss_out) {
    if (!dni || !x) return DNIC_ERR_NULL;
    if (!labels && !targets) return DNIC_ERR_NULL;
    dnic_net_t *net = dni->net;
    int L = dnic_net_num_layers(net);
    if (!labels && dni->n > 0 && dni->n_labels != dnic_net_output_dim(net)) return DNIC_ERR_ARG;
    dnic_status st = dnic_net_forward(net, x, B, 1);
    if (st != DNIC_OK) return st;
    st = dnic_net_loss(net, labels, targets, B, loss_out);
    if (st != DNIC_OK) return st;

    /* True gradients, where a target or the alignment metric needs them:
     * one full backward whose parameter gradients are thrown away. */
    int any_true = 0;
    for (int i = 0; i < dni->n; i++) any_true |= needs_true(dni, &dni->slots[i]);
    if (any_true) {
        dnic__net_zero_grad_lazy(net);
        st = dnic_net_backward(net, B);
        if (st != DNIC_OK) return st;
        for (int i = 0; i < dni->n; i++) {
            slot_t *s = &dni->slots[i];
            if (needs_true(dni, s))
                memcpy(s->true_g, dnic_net_grad_at(net, s->layer),
                       sizeof(float) * (size_t)B * dnic_net_layer_width(net, s->layer));
        }
    }
    dnic__net_zero_grad_lazy(net);

    const float *ycond = labels ? NULL : targets;
    int top = L - 1; /* the gradient buffer at `top` holds the signal for the block ending there */
    for (int i = 0; i < dni->n; i++) {
        slot_t *s = &dni->slots[i];
        int b = s->layer;
        if (b < top) {
            st = dnic_net_backward_range(net, top, b + 1, B); /* block above: writes dL/dh_b */
            if (st != DNIC_OK) return st;
        }
        float *boundary = dnic_net_grad_at(net, b);
        const float *g;
        switch (s->d.target) {
        case DNIC_TARGET_TRUE: g = s->true_g; break;
        case DNIC_TARGET_OUTPUT_ERROR: g = dnic_net_grad_at(net, L - 1); break;
        case DNIC_TARGET_NEXT_ERROR: g = dnic_net_preact_grad(net, b + 1); break;
        default: g = boundary; break; /* what reached h from the block above */
        }
        st = dnic_iface_boundary_step(s->it, dnic_net_activation(net, b), labels, ycond, g, boundary, B, &s->loss);
        if (st != DNIC_OK) return st;
        if (dni->track)
            s->alignment = cosine(boundary, s->true_g, (size_t)B * dnic_net_layer_width(net, b));
        top = b;
    }
    st = dnic_net_backward_range(net, top, 0, B);
    if (st != DNIC_OK) return st;
    dni->fault_iface = -1;
    if ((st = dnic_net_update(net)) != DNIC_OK) return st;
    for (int i = 0; i < dni->n; i++)
        if ((st = dnic_iface_update(dni->slots[i].it)) != DNIC_OK) {
            if (st == DNIC_ERR_NONFINITE) dni->fault_iface = i;
            return st;
        }
    return DNIC_OK;
}

dnic_net_t *dnic__dni_net(dnic_dni_t *dni) { return dni->net; }
const dnic_iface_desc *dnic__dni_desc(const dnic_dni_t *dni, int i) { return &dni->slots[i].d; }
int dnic__dni_tracking(const dnic_dni_t *dni) { return dni->track; }
