/* blocks.h — what the tests of the unlocked schedules (test_pipeline,
 * test_async) share: a fixed set of batches, whole networks with tanh/relu
 * layers (and batch norm), DNIs over them, and bit-for-bit comparisons. */
#ifndef DNIC_TESTS_BLOCKS_H
#define DNIC_TESTS_BLOCKS_H

#include "harness.h"

#include <string.h>

enum { IN = 12, K = 4, B = 8, NB = 50 };

typedef struct {
    float x[NB][B * IN];
    int32_t y[NB][B];
} data_t;

static inline void make_data(data_t *d, uint64_t seed) {
    for (int b = 0; b < NB; b++) {
        fill_normal(d->x[b], B * IN, 1.0f, &seed);
        for (int r = 0; r < B; r++) d->y[b][r] = (int32_t)(dnic_rng_next(&seed) % K);
    }
}

/* The tests' network: `hidden` layers alternating relu/tanh (batch norm on
 * the relu ones with bn), K outputs; d points into layers (16 entries). */
static inline void whole_desc(dnic_net_desc *d, dnic_layer_desc *layers, int hidden, int width, int bn) {
    for (int l = 0; l < hidden; l++) layers[l] = (dnic_layer_desc){width, l % 2 ? DNIC_ACT_TANH : DNIC_ACT_RELU, bn && l % 2 == 0};
    layers[hidden] = (dnic_layer_desc){K, DNIC_ACT_IDENTITY, 0};
    dnic_net_desc_defaults(d);
    d->input_dim = IN;
    d->n_layers = hidden + 1;
    d->layers = layers;
    d->max_batch = B;
}

/* The tests' optimizer: Adam at 0.003 (nothing on a NULL network). */
static inline void use_test_adam(dnic_net_t *n) {
    dnic_optim_config adam = dnic_optim_default(DNIC_OPT_ADAM);
    adam.lr = 0.003f;
    if (n) dnic_net_set_optimizer(n, 0, &adam);
}

static inline dnic_net_t *make_whole(int hidden, int width, int bn, uint64_t seed) {
    dnic_layer_desc layers[16];
    dnic_net_desc d;
    whole_desc(&d, layers, hidden, width, bn);
    dnic_net_t *n = NULL;
    CHECK(dnic_net_create(&n, &d, seed) == DNIC_OK, "create net");
    use_test_adam(n);
    return n;
}

static inline dnic_dni_t *make_dni(dnic_net_t *net, const int *at, int n, dnic_iface_kind kind) {
    dnic_iface_desc ds[8];
    static int widths[1] = {10};
    for (int i = 0; i < n; i++) {
        dnic_iface_desc_defaults(&ds[i], at[i]);
        ds[i].kind = kind;
        if (kind == DNIC_IFACE_MLP) {
            ds[i].mlp_layers = 1;
            ds[i].mlp_widths = widths;
            ds[i].mlp_batchnorm = 1;
        }
    }
    dnic_dni_t *dni = NULL;
    CHECK(dnic_dni_create(&dni, net, ds, n, K, 9) == DNIC_OK, "create dni");
    dnic_optim_config sgd = dnic_optim_default(DNIC_OPT_SGD);
    sgd.lr = 0.01f;
    if (dni) dnic_dni_set_iface_optimizer(dni, &sgd);
    return dni;
}

static inline int same_params(dnic_net_t *a, dnic_net_t *b) {
    size_t na, nb;
    const float *pa = dnic_net_params(a, &na), *pb = dnic_net_params(b, &nb);
    return na == nb && memcmp(pa, pb, na * sizeof *pa) == 0;
}

static inline int same_ifaces(dnic_dni_t *a, dnic_dni_t *b) {
    int same = dnic_dni_num_ifaces(a) == dnic_dni_num_ifaces(b);
    for (int i = 0; same && i < dnic_dni_num_ifaces(a); i++) {
        size_t na, nb;
        const float *pa = dnic_iface_params(dnic_dni_iface(a, i), &na);
        const float *pb = dnic_iface_params(dnic_dni_iface(b, i), &nb);
        same = na == nb && memcmp(pa, pb, na * sizeof *pa) == 0;
    }
    return same;
}

#endif
