/* test_blocks.c — the DNI's blocks: views of its network that every
 * schedule runs (locked steps, the pipeline, async workers).
 *
 * - Locked training through the views is the whole network's update: with
 *   ORACLE interfaces (exact gradients) at any placement, including the
 *   output layer, and gradient clipping that bites (one norm over every
 *   block), a DNI equals plain backprop bit for bit, for 1 and 2 threads.
 * - The update through the views names a faulty tensor in the whole's
 *   numbering, like the whole's own update.
 * - The blocks are lent to one schedule at a time: while a pipeline holds
 *   them, locked steps and a second pipeline are refused; their
 *   parameters are the network's own (no copy to go stale).
 */
#include "train/train_internal.h"
#include "blocks.h"

#include <stdlib.h>
#include <string.h>

/* A DNI with an ORACLE on each layer of `at`: its signal is the true
 * gradient (target TRUE, or BOOTSTRAP from an exact block above). */
static dnic_dni_t *oracle_dni(dnic_net_t *net, const int *at, int n, dnic_iface_target target) {
    dnic_iface_desc ds[8];
    for (int i = 0; i < n; i++) {
        dnic_iface_desc_defaults(&ds[i], at[i]);
        ds[i].kind = DNIC_IFACE_ORACLE;
        ds[i].target = target;
    }
    dnic_dni_t *dni = NULL;
    CHECK(dnic_dni_create(&dni, net, ds, n, K, 5) == DNIC_OK, "create oracle dni");
    return dni;
}

static void test_locked_views_are_backprop(void) {
    static data_t D;
    make_data(&D, 17);
    const int placements[][4] = {{1, 1}, {2, 0, 2}, {3, 0, 1, 3}, {1, 4}, {2, 2, 4}};
    const float clips[] = {0.0f, 0.05f};
    for (int threads = 1; threads <= 2; threads++)
        for (size_t c = 0; c < sizeof clips / sizeof *clips; c++)
            for (size_t pl = 0; pl < sizeof placements / sizeof *placements; pl++)
                for (int target = 0; target < 2; target++) {
                    dnic_set_num_threads(threads);
                    int n = placements[pl][0];
                    const int *at = &placements[pl][1];
                    dnic_net_t *ref = make_whole(4, 16, 1, 3), *net = make_whole(4, 16, 1, 3);
                    if (!ref || !net) return;
                    dnic_net_set_grad_clip(ref, clips[c]);
                    dnic_net_set_grad_clip(net, clips[c]);
                    dnic_dni_t *dni = oracle_dni(net, at, n, target ? DNIC_TARGET_TRUE : DNIC_TARGET_BOOTSTRAP);
                    int ok = dni != NULL;
                    float norm_max = 0.0f;
                    for (int s = 0; ok && s < 30; s++) {
                        float la = NAN, lb = NAN;
                        ok = dnic_net_train_step(ref, D.x[s], D.y[s], NULL, B, &la) == DNIC_OK &&
                             dnic_dni_train_step(dni, D.x[s], D.y[s], NULL, B, &lb) == DNIC_OK && la == lb;
                        ok = ok && dnic_net_last_grad_norm(ref) == dnic_net_last_grad_norm(net);
                        if (dnic_net_last_grad_norm(ref) > norm_max) norm_max = dnic_net_last_grad_norm(ref);
                    }
                    size_t na = 0, nb = 0;
                    const float *ma = dnic_net_optim_state(ref, &na), *mb = dnic_net_optim_state(net, &nb);
                    CHECK(ok && same_params(ref, net) && na == nb && memcmp(ma, mb, na * sizeof *ma) == 0 &&
                              dnic_net_optim_step(ref) == dnic_net_optim_step(net),
                          "%d oracle(s) at %d.. (%s target), clip %g, %d thread(s): the DNI's blocks differ from "
                          "backprop after 30 steps",
                          n, at[0], target ? "true" : "bootstrap", (double)clips[c], threads);
                    if (clips[c] > 0)
                        CHECK(norm_max > clips[c], "clip %g never bit (largest norm %g): the test proves nothing",
                              (double)clips[c], (double)norm_max);
                    dnic_dni_free(dni);
                    dnic_net_free(net);
                    dnic_net_free(ref);
                }
}

static void test_update_through_views_names_the_fault(void) {
    for (int bad_layer = 0; bad_layer < 5; bad_layer++) {
        dnic_net_t *ref = make_whole(4, 16, 1, 3), *net = make_whole(4, 16, 1, 3);
        if (!ref || !net) return;
        dnic_net_t *views[3] = {NULL, NULL, NULL};
        const int first[3] = {0, 2, 4}, last[3] = {1, 3, 4};
        int ok = 1;
        for (int k = 0; k < 3; k++) ok &= dnic__net_block_view(&views[k], net, first[k], last[k]) == DNIC_OK;
        size_t n = 0;
        float *ga = dnic_net_grads(ref, &n), *gb = dnic_net_grads(net, &n);
        uint64_t rng = 7;
        fill_normal(ga, n, 0.1f, &rng);
        memcpy(gb, ga, n * sizeof *ga);
        /* a NaN in the bias of layer bad_layer */
        int t_bad = -1;
        for (int i = 0; i < dnic_net_num_tensors(ref); i++) {
            dnic_tensor_info ti;
            dnic_net_tensor(ref, i, &ti);
            char want[32];
            snprintf(want, sizeof want, "layer%d.bias", bad_layer);
            if (strcmp(ti.name, want) == 0) {
                t_bad = i;
                ga[ti.offset + 1] = gb[ti.offset + 1] = NAN;
            }
        }
        CHECK(t_bad >= 0, "no tensor layer%d.bias", bad_layer);
        int grad_a = 0, grad_b = 0;
        dnic_status sa = dnic_net_update(ref);
        dnic_status sb = ok ? dnic__net_update_blocks(net, views, 3) : DNIC_ERR_STATE;
        CHECK(sa == DNIC_ERR_NONFINITE && sb == DNIC_ERR_NONFINITE, "a NaN gradient in layer %d: status %d / %d",
              bad_layer, sa, sb);
        CHECK(dnic_net_fault_tensor(ref, &grad_a) == t_bad && dnic_net_fault_tensor(net, &grad_b) == t_bad &&
                  grad_a && grad_b,
              "a NaN gradient in layer %d: the whole names tensor %d, the views %d, want %d", bad_layer,
              dnic_net_fault_tensor(ref, NULL), dnic_net_fault_tensor(net, NULL), t_bad);
        for (int k = 0; k < 3; k++) dnic_net_free(views[k]);
        dnic_net_free(net);
        dnic_net_free(ref);
    }
}

static void test_blocks_lent_to_one_schedule(void) {
    static data_t D;
    make_data(&D, 23);
    dnic_net_t *net = make_whole(4, 16, 0, 3);
    const int at[2] = {1, 3};
    dnic_dni_t *dni = net ? make_dni(net, at, 2, DNIC_IFACE_LINEAR) : NULL;
    if (!dni) return;
    float loss = NAN;
    CHECK(dnic_dni_train_step(dni, D.x[0], D.y[0], NULL, B, &loss) == DNIC_OK, "locked step before a pipeline");
    dnic_pipe_t *p = NULL, *q = (dnic_pipe_t *)&q;
    CHECK(dnic_pipe_create(&p, dni) == DNIC_OK, "create pipeline");
    CHECK(dnic_pipe_create(&q, dni) == DNIC_ERR_STATE && q == NULL, "a second pipeline on the same blocks");
    CHECK(dnic_pipe_create_async(&q, dni, 2) == DNIC_ERR_STATE && q == NULL, "an async schedule beside a pipeline");
    CHECK(dnic_dni_train_step(dni, D.x[1], D.y[1], NULL, B, &loss) == DNIC_ERR_STATE,
          "a locked step while the pipeline holds the blocks");
    /* the pipeline's blocks are the network's parameters, in place */
    size_t n_whole = 0, n_block = 0, off = 0;
    float *whole = dnic_net_params(net, &n_whole);
    for (int s = 0; p && s < dnic_pipe_num_blocks(p); s++) {
        float *bp = dnic_net_params(dnic_pipe_block_net(p, s), &n_block);
        CHECK(bp == whole + off, "block %d's parameters are not the network's own", s);
        off += n_block;
    }
    CHECK(off == n_whole, "the blocks cover %zu of %zu parameters", off, n_whole);
    float *before = malloc(n_whole * sizeof *before);
    memcpy(before, whole, n_whole * sizeof *before);
    int finished = 0;
    for (int t = 0; p && t < 6; t++) dnic_pipe_tick(p, D.x[2 + t], D.y[2 + t], B, &loss, &finished);
    CHECK(memcmp(before, whole, n_whole * sizeof *before) != 0, "pipeline ticks left the network's parameters");
    free(before);
    if (p) dnic_pipe_flush(p);
    dnic_pipe_free(p);
    CHECK(dnic_dni_train_step(dni, D.x[9], D.y[9], NULL, B, &loss) == DNIC_OK && isfinite(loss),
          "a locked step after the pipeline is freed");
    dnic_dni_free(dni);
    dnic_net_free(net);
}

/* An interface on the output layer: locked runs it (there is no block
 * above); the pipeline refuses it with DNIC_ERR_ARG. */
static void test_output_layer_interface(void) {
    dnic_net_t *net = make_whole(2, 8, 0, 3);
    const int at[1] = {2};
    dnic_dni_t *dni = net ? make_dni(net, at, 1, DNIC_IFACE_LINEAR) : NULL;
    if (!dni) return;
    dnic_pipe_t *p = (dnic_pipe_t *)&p;
    CHECK(dnic_pipe_create(&p, dni) == DNIC_ERR_ARG && p == NULL, "pipeline over an interface on the output layer");
    dnic_dni_free(dni);
    dnic_net_free(net);
}

int main(void) {
    test_locked_views_are_backprop();
    test_update_through_views_names_the_fault();
    test_blocks_lent_to_one_schedule();
    test_output_layer_interface();
    return harness_finish("blocks");
}
