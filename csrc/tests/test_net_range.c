/* test_net_range.c — a network holding a layer range
 * (dnic_net_create_range), what an MPI rank other than 0 builds for its
 * block:
 *   - it allocates only its range: the bytes it holds are its layers'
 *     parameters, gradients and two moments, no activations (NULL);
 *   - its layers start bit-identical to the whole network's;
 *   - a DNI on it makes only the held block's interface and views, the
 *     other blocks shape only; a range that cuts a block is refused;
 *   - every call that needs all layers is refused with DNIC_ERR_STATE
 *     and a line naming the range; bad ranges with DNIC_ERR_ARG.
 * (Training on ranks that hold their block: csrc/tests/mpi/test_mpi.c.) */
#include "train/train_internal.h"
#include "blocks.h"

#include <stdlib.h>
#include <string.h>

enum { HIDDEN = 5, WIDTH = 16, LAYERS = HIDDEN + 1 };

static void describe(dnic_net_desc *d, dnic_layer_desc *layers) {
    for (int l = 0; l < HIDDEN; l++) layers[l] = (dnic_layer_desc){WIDTH, DNIC_ACT_RELU, l % 2};
    layers[HIDDEN] = (dnic_layer_desc){K, DNIC_ACT_IDENTITY, 0};
    dnic_net_desc_defaults(d);
    d->input_dim = IN;
    d->n_layers = LAYERS;
    d->layers = layers;
    d->max_batch = B;
}

static dnic_net_t *range_net(int first, int last) {
    dnic_layer_desc layers[LAYERS];
    dnic_net_desc d;
    describe(&d, layers);
    dnic_net_t *n = NULL;
    dnic_status st = dnic_net_create_range(&n, &d, 3, first, last);
    CHECK(st == DNIC_OK, "create_range %d..%d: %s", first, last, dnic_last_error());
    return n;
}

static dnic_net_t *whole_net(void) {
    dnic_layer_desc layers[LAYERS];
    dnic_net_desc d;
    describe(&d, layers);
    dnic_net_t *n = NULL;
    CHECK(dnic_net_create(&n, &d, 3) == DNIC_OK, "create whole");
    return n;
}

/* The cut the DNI tests use: interfaces after layers 1 and 3 -> blocks 0..1, 2..3, 4..5. */
static const int cut_first[3] = {0, 2, 4}, cut_last[3] = {1, 3, 5}, cut_at[2] = {1, 3};

static void test_allocates_only_its_range(void) {
    dnic_net_t *whole = whole_net();
    if (!whole) return;
    size_t whole_bytes = dnic_net_bytes_held(whole), sum = 0, all_values = 0;
    CHECK(whole_bytes > 0, "the whole holds bytes");
    for (int i = 0; i < dnic_net_num_tensors(whole); i++) {
        dnic_tensor_info t;
        dnic_net_tensor(whole, i, &t);
        all_values += 4 * t.size * sizeof(float);
    }
    for (int k = 0; k < 3; k++) {
        dnic_net_t *n = range_net(cut_first[k], cut_last[k]);
        if (!n) continue;
        int first = -9, last = -9;
        CHECK(dnic_net_held_layers(n, &first, &last) == 0 && first == cut_first[k] && last == cut_last[k],
              "held_layers of block %d: %d..%d", k, first, last);
        /* its layers' tensors, four floats each (value, gradient, two moments) */
        size_t want = 0;
        for (int i = 0; i < dnic_net_num_tensors(n); i++) {
            dnic_tensor_info t;
            dnic_net_tensor(n, i, &t);
            int layer = atoi(t.name + 5); /* "layer{l}.…" */
            if (layer >= cut_first[k] && layer <= cut_last[k]) want += 4 * t.size * sizeof(float);
        }
        size_t bytes = dnic_net_bytes_held(n);
        CHECK(bytes == want && bytes < whole_bytes / 2, "block %d holds %zu bytes, its layers' values %zu, the "
              "whole %zu", k, bytes, want, whole_bytes);
        sum += bytes;
        for (int l = 0; l < LAYERS; l++)
            CHECK(!dnic_net_activation(n, l) && !dnic_net_grad_at(n, l) && !dnic_net_preact_grad(n, l),
                  "block %d: layer %d has activations", k, l);
        size_t count = 0, whole_count = 0;
        dnic_net_params(whole, &whole_count);
        CHECK(dnic_net_params(n, &count) == NULL && count == whole_count, "no whole parameter block (count %zu)", count);
        CHECK(dnic_net_grads(n, NULL) == NULL && dnic_net_optim_state(n, NULL) == NULL, "no whole gradients or moments");
        /* its held values: the whole's same floats of the tensor table, where a checkpoint loads them */
        size_t base = 0, held = 0;
        float *moments = NULL, *values = dnic_net_held_values(n, &base, &held, &moments);
        const float *all = dnic_net_params(whole, NULL);
        CHECK(values && moments && 4 * held * sizeof(float) == want && base + held <= whole_count &&
                  memcmp(values, all + base, held * sizeof(float)) == 0,
              "block %d: held values [%zu, %zu) are the whole's", k, base, base + held);
        for (int i = 0; i < dnic_net_num_tensors(n); i++) {
            dnic_tensor_info t;
            dnic_net_tensor(n, i, &t);
            int layer = atoi(t.name + 5);
            int inside = t.offset >= base && t.offset + t.size <= base + held;
            CHECK(inside == (layer >= cut_first[k] && layer <= cut_last[k]), "block %d: %s inside its held span: %d",
                  k, t.name, inside);
        }
        dnic_net_free(n);
    }
    CHECK(sum == all_values && sum < whole_bytes, "the blocks hold %zu bytes, the whole's values %zu", sum, all_values);
    int first = -9, last = -9;
    CHECK(dnic_net_held_layers(whole, &first, &last) == 1 && first == 0 && last == LAYERS - 1, "whole holds all");
    size_t base = 9, held = 9, whole_count = 0;
    float *moments = NULL, *values = dnic_net_held_values(whole, &base, &held, &moments);
    CHECK(values == dnic_net_params(whole, &whole_count) && moments == dnic_net_optim_state(whole, NULL) && base == 0 &&
              held == whole_count, "a whole network holds every value (%zu of %zu from %zu)", held, whole_count, base);
    CHECK(dnic_net_held_values(NULL, &base, &held, &moments) == NULL && held == 0 && !moments, "NULL holds nothing");
    dnic_net_free(whole);
}

/* A DNI on block k's range: its view starts as the whole's same layers, bit for bit. */
static void test_dni_on_a_range(void) {
    dnic_net_t *whole = whole_net();
    dnic_dni_t *wd = whole ? make_dni(whole, cut_at, 2, DNIC_IFACE_LINEAR) : NULL;
    for (int k = 0; k < 3 && wd; k++) {
        dnic_net_t *n = range_net(cut_first[k], cut_last[k]);
        dnic_dni_t *dni = n ? make_dni(n, cut_at, 2, DNIC_IFACE_LINEAR) : NULL;
        if (!dni) { dnic_net_free(n); continue; }
        CHECK(dnic__dni_num_blocks(dni) == 3, "three blocks");
        for (int j = 0; j < 3; j++) {
            dnic_net_t *b = dnic__dni_block(dni, j), *wb = dnic__dni_block(wd, j);
            size_t nb = 0, nw = 0;
            float *pb = dnic_net_params(b, &nb), *pw = dnic_net_params(wb, &nw);
            if (j == k)
                CHECK(pb && nb == nw && !memcmp(pb, pw, nb * sizeof *pb) && dnic_net_activation(b, 0),
                      "block %d's view equals the whole's, with its activations", j);
            else
                CHECK(!pb && dnic_net_bytes_held(b) == 0 && dnic_net_activation(b, 0) == NULL,
                      "block %d is shape only on a net holding block %d", j, k);
        }
        /* interfaces are numbered top first: block k's (below the top) is index 1 - k */
        for (int i = 0; i < 2; i++) {
            dnic_iface_t *it = dnic_dni_iface(dni, i);
            int mine = k < 2 && i == 1 - k;
            CHECK(!!it == mine, "block %d: interface %d %s", k, i, mine ? "missing" : "made");
            if (mine) {
                size_t a = 0, w = 0;
                const float *pa = dnic_iface_params(it, &a), *pw = dnic_iface_params(dnic_dni_iface(wd, i), &w);
                CHECK(a == w && !memcmp(pa, pw, a * sizeof *pa), "interface %d equals the whole's", i);
            }
        }
        int other = k == 0 ? cut_at[1] : cut_at[0];
        CHECK(dnic_dni_iface_at_layer(dni, other) == NULL && strstr(dnic_last_error(), "not held"),
              "iface_at_layer(%d) on block %d: %s", other, k, dnic_last_error());
        dnic_dni_free(dni);
        dnic_net_free(n);
    }
    dnic_dni_free(wd);
    dnic_net_free(whole);
}

static void test_refusals(void) {
    dnic_layer_desc layers[LAYERS];
    dnic_net_desc d;
    describe(&d, layers);
    dnic_net_t *n = NULL;
    const int bad[][2] = {{-1, 2}, {3, 2}, {0, LAYERS}};
    for (int i = 0; i < 3; i++) {
        CHECK(dnic_net_create_range(&n, &d, 3, bad[i][0], bad[i][1]) == DNIC_ERR_ARG && !n &&
                  strstr(dnic_last_error(), "dnic_net_create_range: layers first"),
              "range %d..%d refused: %s", bad[i][0], bad[i][1], dnic_last_error());
    }
    CHECK(dnic_net_create_range(NULL, &d, 3, 0, 1) == DNIC_ERR_NULL, "out NULL");
    CHECK(dnic_net_create_range(&n, NULL, 3, 0, 1) == DNIC_ERR_NULL, "desc NULL");

    n = range_net(2, 3);
    if (!n) return;
    static data_t D;
    make_data(&D, 5);
    float loss = 0, out[B * K];
    size_t count = 0;
    dnic_net_params(n, &count);
    float *buf = calloc(count, sizeof *buf);
    /* each refused, its line naming the call and the range */
    const char *want = "holds only layers 2..3 of 0..5";
    CHECK(dnic_net_forward(n, D.x[0], B, 1) == DNIC_ERR_STATE && strstr(dnic_last_error(), want), "forward: %s",
          dnic_last_error());
    CHECK(dnic_net_train_step(n, D.x[0], D.y[0], NULL, B, &loss) == DNIC_ERR_STATE && strstr(dnic_last_error(), want),
          "train_step: %s", dnic_last_error());
    CHECK(dnic_net_update(n) == DNIC_ERR_STATE && strstr(dnic_last_error(), "dnic_net_update"), "update: %s",
          dnic_last_error());
    CHECK(dnic_net_backward(n, B) == DNIC_ERR_STATE && strstr(dnic_last_error(), want), "backward: %s",
          dnic_last_error());
    CHECK(dnic_net_evaluate(n, D.x[0], D.y[0], NULL, B, NULL, NULL) == DNIC_ERR_STATE &&
              strstr(dnic_last_error(), "dnic_net_evaluate"), "evaluate: %s", dnic_last_error());
    CHECK(dnic_net_predict(n, D.x[0], B, 0, out) == DNIC_ERR_STATE && strstr(dnic_last_error(), "dnic_net_predict"),
          "predict: %s", dnic_last_error());
    CHECK(dnic_net_get_params(n, buf, count) == DNIC_ERR_STATE && strstr(dnic_last_error(), "get_params"),
          "get_params: %s", dnic_last_error());
    CHECK(dnic_net_set_params(n, buf, count) == DNIC_ERR_STATE && strstr(dnic_last_error(), "set_params"),
          "set_params: %s", dnic_last_error());
    CHECK(dnic_net_set_input_grad(n, 1) == DNIC_ERR_STATE && strstr(dnic_last_error(), "does not hold layer 0"),
          "set_input_grad: %s", dnic_last_error());
    free(buf);

    /* a range that cuts a block: interfaces after 1 and 3 make blocks 0..1, 2..3, 4..5 */
    dnic_net_t *cut = range_net(1, 3);
    dnic_iface_desc ds[2];
    for (int i = 0; i < 2; i++) dnic_iface_desc_defaults(&ds[i], cut_at[i]);
    dnic_dni_t *dni = NULL;
    CHECK(cut && dnic_dni_create(&dni, cut, ds, 2, K, 9) == DNIC_ERR_ARG && !dni &&
              strstr(dnic_last_error(), "cut the block of layers 0..1"),
          "a range cutting a block: %s", dnic_last_error());
    dnic_net_free(cut);

    /* on a held block: no locked step, no in-process tick, no in-flight export */
    dni = make_dni(n, cut_at, 2, DNIC_IFACE_LINEAR);
    if (dni) {
        CHECK(dnic_dni_train_step(dni, D.x[0], D.y[0], NULL, B, &loss) == DNIC_ERR_STATE &&
                  strstr(dnic_last_error(), "locked step needs every layer"), "locked step: %s", dnic_last_error());
        dnic_pipe_t *p = NULL;
        CHECK(dnic_pipe_create(&p, dni) == DNIC_OK, "a pipeline on a held block: %s", dnic_last_error());
        int f = 0;
        CHECK(p && dnic_pipe_tick(p, D.x[0], D.y[0], B, &loss, &f) == DNIC_ERR_STATE &&
                  strstr(dnic_last_error(), "dnic_mpi_attach"), "in-process tick: %s", dnic_last_error());
        size_t nv = 0, ni = 0;
        CHECK(p && dnic_pipe_export_inflight(p, NULL, &nv, NULL, &ni) == DNIC_ERR_STATE &&
                  strstr(dnic_last_error(), "dnic_net_create_range"), "export inflight: %s", dnic_last_error());
        /* but it imports a whole pipeline's state mid-flight, keeping its own block's: how an MPI rank resumes */
        dnic_net_t *w = whole_net();
        dnic_dni_t *wd = w ? make_dni(w, cut_at, 2, DNIC_IFACE_LINEAR) : NULL;
        dnic_pipe_t *wp = NULL;
        int ticked = wd && dnic_pipe_create(&wp, wd) == DNIC_OK;
        for (int t = 0; t < 3 && ticked; t++) ticked = dnic_pipe_tick(wp, D.x[0], D.y[0], B, &loss, &f) == DNIC_OK;
        CHECK(ticked, "three ticks in process: %s", dnic_last_error());
        if (ticked && dnic_pipe_export_inflight(wp, NULL, &nv, NULL, &ni) == DNIC_OK) {
            CHECK(nv > 0, "batches in flight after three ticks");
            float *fv = calloc(nv + 1, sizeof(float));
            int64_t *fi = calloc(ni + 1, sizeof(int64_t));
            CHECK(fv && fi && dnic_pipe_export_inflight(wp, fv, &nv, fi, &ni) == DNIC_OK, "export whole");
            CHECK(p && dnic_pipe_import_inflight(p, fv, nv, fi, ni) == DNIC_OK, "import on a held block: %s",
                  dnic_last_error());
            free(fv);
            free(fi);
        }
        dnic_pipe_free(wp);
        dnic_dni_free(wd);
        dnic_net_free(w);
        dnic_pipe_free(p);
        dnic_dni_free(dni);
    }
    dnic_net_free(n);
}

int main(void) {
    dnic_set_num_threads(1);
    test_allocates_only_its_range();
    test_dni_on_a_range();
    test_refusals();
    return harness_finish("net_range");
}
