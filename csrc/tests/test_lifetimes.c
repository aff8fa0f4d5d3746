/* test_lifetimes.c — freeing in any order is safe (dnic.h, Lifetimes):
 *   - a DNI freed before the pipeline built on it: the pipeline trains on,
 *     bit for bit as a twin whose DNI still lives, and dnic_pipe_free
 *     releases the DNI (lockstep and async, with workers running);
 *   - the network freed before its DNI (and its pipeline): the same;
 *   - freeing a handle an object handed out (dnic_dni_iface,
 *     dnic_pipe_block_net) does nothing: the owner still works;
 *   - the usual order (pipeline, DNI, network) and a DNI never lent.
 * Under SANITIZE=1, AddressSanitizer fails any use after free and
 * LeakSanitizer anything never released.
 */
#include "blocks.h"

#include <math.h>

static data_t data;

/* a network cut after hidden layers 1 and 2 into three blocks */
static const int AT[2] = {0, 1};

/* Ticks batches [from, to) through p, the same through the twin q, and
 * drains both when `drain`: every call succeeds and, when `compare`,
 * every loss equals the twin's (async runs are not deterministic). */
static int same_run(dnic_pipe_t *p, dnic_pipe_t *q, int from, int to, int drain, int compare) {
    int ok = 1;
    for (int b = from; b < to; b++) {
        float lp = NAN, lq = NAN;
        int fp = 0, fq = 0;
        ok &= dnic_pipe_tick(p, data.x[b], data.y[b], B, &lp, &fp) == DNIC_OK;
        ok &= dnic_pipe_tick(q, data.x[b], data.y[b], B, &lq, &fq) == DNIC_OK;
        if (compare) ok &= fp == fq && (!fp || memcmp(&lp, &lq, sizeof lp) == 0);
    }
    if (drain) {
        ok &= dnic_pipe_flush(p) == DNIC_OK && dnic_pipe_flush(q) == DNIC_OK;
        ok &= dnic_pipe_sync_to_net(p) == DNIC_OK && dnic_pipe_sync_to_net(q) == DNIC_OK;
    }
    return ok;
}

/* queue 0: the lockstep pipeline; otherwise async with that queue */
static dnic_pipe_t *make_pipe(dnic_dni_t *dni, int queue) {
    dnic_pipe_t *p = NULL;
    dnic_status st = queue ? dnic_pipe_create_async(&p, dni, queue) : dnic_pipe_create(&p, dni);
    CHECK(st == DNIC_OK && p, "create pipeline (queue %d): %s", queue, dnic_status_str(st));
    return p;
}

/* The DNI (and, with net_too, first the network) freed while its pipeline
 * runs; the twin frees in the usual order at the end. */
static void freed_under_pipeline(int queue, int net_too) {
    dnic_net_t *n = make_whole(3, 8, 1, 11), *m = make_whole(3, 8, 1, 11);
    dnic_dni_t *dni = n ? make_dni(n, AT, 2, DNIC_IFACE_LINEAR) : NULL;
    dnic_dni_t *twin = m ? make_dni(m, AT, 2, DNIC_IFACE_LINEAR) : NULL;
    dnic_pipe_t *p = dni ? make_pipe(dni, queue) : NULL, *q = twin ? make_pipe(twin, queue) : NULL;
    if (!p || !q) return;
    int ok = same_run(p, q, 0, 5, 0, !queue);
    if (net_too) dnic_net_free(n);
    dnic_dni_free(dni);
    ok &= same_run(p, q, 5, 20, 1, !queue);
    CHECK(ok, "queue %d%s: the pipeline after its DNI was freed differs from the twin's", queue,
          net_too ? ", network freed too" : "");
    /* the network is current, and this pipeline's own: read it through a block */
    int finite = 1;
    size_t count = 0;
    const float *P = dnic_net_params(dnic_pipe_block_net(p, 0), &count);
    for (size_t i = 0; P && i < count; i++) finite &= isfinite(P[i]) != 0;
    CHECK(P && finite, "queue %d: block 0's parameters after training without the DNI", queue);
    if (!queue) CHECK(same_params(dnic_pipe_block_net(p, 0), dnic_pipe_block_net(q, 0)), "block 0 differs");
    dnic_pipe_free(p); /* releases the DNI, and the network when freed first */
    if (!net_too) dnic_net_free(n);
    dnic_pipe_free(q);
    dnic_dni_free(twin);
    dnic_net_free(m);
}

/* The network freed before its DNI, which then trains on (locked). */
static void net_freed_under_dni(void) {
    dnic_net_t *n = make_whole(3, 8, 0, 12), *m = make_whole(3, 8, 0, 12);
    dnic_dni_t *dni = n ? make_dni(n, AT, 2, DNIC_IFACE_LINEAR) : NULL;
    dnic_dni_t *twin = m ? make_dni(m, AT, 2, DNIC_IFACE_LINEAR) : NULL;
    if (!dni || !twin) return;
    dnic_net_free(n);
    int ok = 1;
    for (int b = 0; b < 10; b++) {
        float l1 = NAN, l2 = NAN;
        ok &= dnic_dni_train_step(dni, data.x[b], data.y[b], NULL, B, &l1) == DNIC_OK;
        ok &= dnic_dni_train_step(twin, data.x[b], data.y[b], NULL, B, &l2) == DNIC_OK;
        ok &= memcmp(&l1, &l2, sizeof l1) == 0;
    }
    CHECK(ok && same_ifaces(dni, twin), "the DNI after its network was freed differs from the twin");
    dnic_dni_free(dni); /* releases the network */
    dnic_dni_free(twin);
    dnic_net_free(m);
}

/* Freeing what an object handed out does nothing; it keeps working. */
static void handed_out_handles(void) {
    dnic_net_t *n = make_whole(3, 8, 0, 13);
    dnic_dni_t *dni = n ? make_dni(n, AT, 2, DNIC_IFACE_MLP) : NULL;
    if (!dni) return;
    dnic_iface_free(dnic_dni_iface(dni, 0));
    dnic_iface_free(dnic_dni_iface(dni, 1));
    int ok = 1;
    for (int b = 0; b < 3; b++) ok &= dnic_dni_train_step(dni, data.x[b], data.y[b], NULL, B, NULL) == DNIC_OK;
    dnic_pipe_t *p = make_pipe(dni, 0);
    if (p) {
        for (int s = 0; s < dnic_pipe_num_blocks(p); s++) dnic_net_free(dnic_pipe_block_net(p, s));
        for (int b = 3; b < 8; b++) ok &= dnic_pipe_tick(p, data.x[b], data.y[b], B, NULL, NULL) == DNIC_OK;
        ok &= dnic_pipe_flush(p) == DNIC_OK && dnic_pipe_sync_to_net(p) == DNIC_OK;
    }
    CHECK(ok, "after freeing handed-out handles, training failed");
    /* the usual order */
    dnic_pipe_free(p);
    dnic_dni_free(dni);
    dnic_net_free(n);

    /* one block, no interface: the block is the caller's network itself,
     * borrowed by the DNI; freeing it through the pipeline waits for both */
    n = make_whole(2, 8, 0, 14);
    dni = NULL;
    if (n) CHECK(dnic_dni_create(&dni, n, NULL, 0, K, 1) == DNIC_OK, "a DNI without interfaces");
    p = dni ? make_pipe(dni, 0) : NULL;
    if (!p) return;
    CHECK(dnic_pipe_block_net(p, 0) == n, "one block is the network itself");
    dnic_net_free(dnic_pipe_block_net(p, 0));
    dnic_dni_free(dni);
    ok = 1;
    for (int b = 0; b < 5; b++) ok &= dnic_pipe_tick(p, data.x[b], data.y[b], B, NULL, NULL) == DNIC_OK;
    CHECK(ok, "one block: ticks after the network and the DNI were freed");
    dnic_pipe_free(p); /* the DNI, then the network */
}

int main(void) {
    make_data(&data, 21);
    dnic_set_num_threads(2);
    freed_under_pipeline(0, 0);
    freed_under_pipeline(0, 1);
    freed_under_pipeline(2, 0);
    freed_under_pipeline(2, 1);
    dnic_set_num_threads(1);
    net_freed_under_dni();
    handed_out_handles();
    return harness_finish("lifetimes");
}
