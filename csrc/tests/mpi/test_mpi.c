/* test_mpi.c — the pipeline's blocks as MPI ranks (dnic_mpi.h), run under
 * `mpirun -np K` for K = 2 and 3 (rank s runs block s):
 *   - 50 batches through the ranks, drained and gathered, give rank 0 the
 *     parameters, optimizer moments and interfaces of the in-process
 *     pipeline bit for bit, and the same loss at every tick (linear and
 *     MLP interfaces, batch norm, update decoupling);
 *   - ranks > 0 holding only their block (dnic_net_create_range) train
 *     the same as the in-process pipeline, bit for bit, each allocating
 *     less than the whole network's bytes, their blocks gathered whole
 *     or in small pieces;
 *   - a run cut under MPI (gathered, its batches in flight exported on
 *     rank 0) and continued in-process equals the uncut run, and the
 *     reverse (cut in-process, the state broadcast to every rank,
 *     imported and continued under MPI);
 *   - ranks that disagree (fingerprint, rank count) are refused on every
 *     rank alike, with a line naming the problem;
 *   - async over the ranks: every batch through every block and interface
 *     by each drain, staleness within the window, learning as in-process
 *     async does;
 *   - a rank that stops answering makes rank 0's tick return
 *     DNIC_ERR_PEER after the timeout, naming that rank;
 *   - a process that asked to end with its launcher does.
 * Only rank 0 counts checks (the others' results travel to it). */
#include "../blocks.h"
#include "dnic_mpi.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int rank, size;

/* K blocks: interfaces after hidden layers 0, 2, 4, ... of a net with 2K-1 hidden layers. */
typedef struct {
    dnic_net_t *net;
    dnic_dni_t *dni;
} model_t;

static model_t make_model(dnic_iface_kind kind, int blocks) {
    int at[8];
    for (int i = 0; i < blocks - 1; i++) at[i] = 2 * i;
    model_t m = {make_whole(2 * blocks - 1, 10, 1, 41), NULL};
    if (m.net) m.dni = make_dni(m.net, at, blocks - 1, kind);
    return m;
}

static void free_model(model_t m) {
    dnic_dni_free(m.dni);
    dnic_net_free(m.net);
}

static int same_state(model_t a, model_t b) {
    size_t na, nb;
    const float *oa = dnic_net_optim_state(a.net, &na), *ob = dnic_net_optim_state(b.net, &nb);
    int same = same_params(a.net, b.net) && same_ifaces(a.dni, b.dni) && na == nb && !memcmp(oa, ob, na * sizeof *oa);
    for (int i = 0; same && i < dnic_dni_num_ifaces(a.dni); i++) {
        const float *ia = dnic_iface_optim_state(dnic_dni_iface(a.dni, i), &na);
        const float *ib = dnic_iface_optim_state(dnic_dni_iface(b.dni, i), &nb);
        same = na == nb && !memcmp(ia, ib, na * sizeof *ia);
    }
    return same;
}

/* Ticks batches [from, to) (rank 0 feeds; the losses into loss[] when given). */
static int feed(dnic_pipe_t *p, const data_t *d, int from, int to, float *loss) {
    int ok = 1;
    for (int b = from; b < to; b++) {
        float l = NAN;
        int f = 0;
        ok &= dnic_pipe_tick(p, d->x[b], d->y[b], B, &l, &f) == DNIC_OK;
        if (loss) loss[b] = f ? l : -1.0f;
    }
    return ok;
}

static int drain(dnic_pipe_t *p, float *tail, int *n_tail) {
    int ok = 1;
    *n_tail = 0;
    while (ok && dnic_pipe_pending(p)) {
        float l = NAN;
        int f = 0;
        ok &= dnic_pipe_tick(p, NULL, NULL, 0, &l, &f) == DNIC_OK;
        if (f) tail[(*n_tail)++] = l;
    }
    return ok && dnic_pipe_sync_to_net(p) == DNIC_OK;
}

/* The in-process reference: NB batches, drained; its losses by tick. */
static void reference(model_t m, const data_t *d, float prob, float *loss, float *tail, int *n_tail) {
    dnic_pipe_t *p = NULL;
    dnic_pipe_create(&p, m.dni);
    dnic_pipe_set_update_prob(p, prob, 5, 0);
    CHECK(feed(p, d, 0, NB, loss) && drain(p, tail, n_tail), "reference run");
    dnic_pipe_free(p);
}

/* Rank 0 drives; the others serve until rank 0 frees its pipeline. */
static dnic_status serve_or(dnic_pipe_t *p) { return rank == 0 ? DNIC_OK : dnic_mpi_serve(p); }

static void test_same_as_in_process(const data_t *d) {
    static const struct {
        dnic_iface_kind kind;
        float prob;
    } cases[] = {{DNIC_IFACE_LINEAR, 1.0f}, {DNIC_IFACE_MLP, 1.0f}, {DNIC_IFACE_LINEAR, 0.6f}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        model_t m = make_model(cases[c].kind, size);
        float loss[NB], want[NB], tail[16], want_tail[16];
        int n_tail = 0, want_n = 0;
        dnic_pipe_t *p = NULL;
        CHECK(dnic_pipe_create(&p, m.dni) == DNIC_OK, "case %zu: create", c);
        dnic_pipe_set_update_prob(p, cases[c].prob, 5, 0);
        dnic_status st = dnic_mpi_attach(p, 77, 60.0);
        CHECK(st == DNIC_OK, "case %zu: attach: %s %s", c, dnic_status_str(st), dnic_mpi_failure());
        if (rank == 0) {
            CHECK(feed(p, d, 0, NB, loss) && drain(p, tail, &n_tail), "case %zu: MPI run (%s)", c, dnic_mpi_failure());
            dnic_pipe_free(p);
            model_t ref = make_model(cases[c].kind, size);
            reference(ref, d, cases[c].prob, want, want_tail, &want_n);
            CHECK(same_state(m, ref), "case %zu: %d ranks differ from the in-process pipeline", c, size);
            CHECK(!memcmp(loss, want, sizeof loss) && n_tail == want_n && !memcmp(tail, want_tail, (size_t)n_tail * 4),
                  "case %zu: losses differ", c);
            free_model(ref);
        } else {
            CHECK(serve_or(p) == DNIC_OK, "rank %d: serve (%s)", rank, dnic_mpi_failure());
            dnic_pipe_free(p);
        }
        free_model(m);
    }
}

/* make_model's network holding block `s` only (what `dnic train --mpi` builds on rank s > 0). */
static model_t make_block_model(dnic_iface_kind kind, int blocks, int s) {
    int at[8], hidden = 2 * blocks - 1;
    for (int i = 0; i < blocks - 1; i++) at[i] = 2 * i;
    dnic_layer_desc layers[16];
    dnic_net_desc d;
    whole_desc(&d, layers, hidden, 10, 1);
    int first = s == 0 ? 0 : at[s - 1] + 1, last = s < blocks - 1 ? at[s] : hidden;
    model_t m = {NULL, NULL};
    CHECK(dnic_net_create_range(&m.net, &d, 41, first, last) == DNIC_OK, "rank %d: create_range: %s", s,
          dnic_last_error());
    use_test_adam(m.net);
    if (m.net) m.dni = make_dni(m.net, at, blocks - 1, kind);
    return m;
}

/* The piece size block states move in (mpi_link.h; internal). */
extern size_t mpi__state_piece;

static void test_ranks_hold_their_block(const data_t *d) {
    const dnic_iface_kind kinds[] = {DNIC_IFACE_LINEAR, DNIC_IFACE_MLP};
    size_t piece = mpi__state_piece;
    for (size_t c = 0; c < sizeof kinds / sizeof *kinds; c++) {
        /* the MLP case gathers in pieces of 1000 bytes (a wide block's are 64 MiB) */
        mpi__state_piece = c == 1 ? 1000 : piece;
        model_t m = rank == 0 ? make_model(kinds[c], size) : make_block_model(kinds[c], size, rank);
        if (rank > 0 && m.net) {
            model_t whole = make_model(kinds[c], size);
            size_t held = dnic_net_bytes_held(m.net), all = dnic_net_bytes_held(whole.net);
            CHECK(held > 0 && held < all, "rank %d holds %zu bytes of the whole's %zu", rank, held, all);
            free_model(whole);
        }
        float loss[NB], want[NB], tail[16], want_tail[16];
        int n_tail = 0, want_n = 0;
        dnic_pipe_t *p = NULL;
        CHECK(m.dni && dnic_pipe_create(&p, m.dni) == DNIC_OK, "held case %zu: create: %s", c, dnic_last_error());
        dnic_status st = dnic_mpi_attach(p, 78, 60.0);
        CHECK(st == DNIC_OK, "held case %zu: attach: %s %s", c, dnic_status_str(st), dnic_mpi_failure());
        if (rank == 0) {
            CHECK(feed(p, d, 0, NB, loss) && drain(p, tail, &n_tail), "held case %zu: MPI run (%s)", c,
                  dnic_mpi_failure());
            dnic_pipe_free(p);
            model_t ref = make_model(kinds[c], size);
            reference(ref, d, 1.0f, want, want_tail, &want_n);
            CHECK(same_state(m, ref), "held case %zu: %d ranks holding their blocks differ from in-process", c, size);
            CHECK(!memcmp(loss, want, sizeof loss) && n_tail == want_n && !memcmp(tail, want_tail, (size_t)n_tail * 4),
                  "held case %zu: losses differ", c);
            free_model(ref);
        } else {
            CHECK(serve_or(p) == DNIC_OK, "rank %d: serve its held block (%s)", rank, dnic_mpi_failure());
            dnic_pipe_free(p);
        }
        free_model(m);
    }
    mpi__state_piece = piece;
}

/* The whole network's and interfaces' state as bytes (what a checkpoint holds). */
typedef struct {
    float *f;
    size_t n;
} floats_t;

static size_t model_floats(model_t m) {
    size_t n = 0, k = 0;
    dnic_net_params(m.net, &k);
    n += 3 * k;
    for (int i = 0; i < dnic_dni_num_ifaces(m.dni); i++) {
        dnic_iface_params(dnic_dni_iface(m.dni, i), &k);
        n += 3 * k;
    }
    return n;
}

/* to = 1: model -> buf; 0: buf -> model */
static void copy_model(model_t m, float *buf, int to) {
    size_t k = 0, k2 = 0;
    float *parts[2 + 16];
    size_t lens[2 + 16];
    int n = 0;
    parts[n] = dnic_net_params(m.net, &k);
    lens[n++] = k;
    parts[n] = dnic_net_optim_state(m.net, &k2);
    lens[n++] = k2;
    for (int i = 0; i < dnic_dni_num_ifaces(m.dni); i++) {
        parts[n] = dnic_iface_params(dnic_dni_iface(m.dni, i), &k);
        lens[n++] = k;
        parts[n] = dnic_iface_optim_state(dnic_dni_iface(m.dni, i), &k2);
        lens[n++] = k2;
    }
    for (int i = 0; i < n; i++) {
        if (to) memcpy(buf, parts[i], lens[i] * sizeof(float));
        else memcpy(parts[i], buf, lens[i] * sizeof(float));
        buf += lens[i];
    }
}

static void test_cut_and_resume(const data_t *d) {
    const int cut = 20;
    model_t ref = make_model(DNIC_IFACE_MLP, size);
    float want[NB], tail[16];
    int n_tail = 0;
    if (rank == 0) reference(ref, d, 1.0f, want, tail, &n_tail);

    /* MPI -> in-process */
    model_t m = make_model(DNIC_IFACE_MLP, size);
    dnic_pipe_t *p = NULL;
    dnic_pipe_create(&p, m.dni);
    CHECK(dnic_mpi_attach(p, 78, 60.0) == DNIC_OK, "attach (%s)", dnic_mpi_failure());
    if (rank == 0) {
        CHECK(feed(p, d, 0, cut, NULL), "first part under MPI");
        CHECK(dnic_pipe_pending(p), "nothing in flight at the cut");
        CHECK(dnic_pipe_sync_to_net(p) == DNIC_OK, "gather");
        size_t nv = 0, ni = 0;
        dnic_pipe_export_inflight(p, NULL, &nv, NULL, &ni);
        float *values = malloc((nv + 1) * sizeof(float));
        int64_t *ints = malloc((ni + 1) * sizeof(int64_t));
        CHECK(values && ints && dnic_pipe_export_inflight(p, values, &nv, ints, &ni) == DNIC_OK, "export under MPI");
        int64_t steps[8];
        for (int s = 0; s < size; s++) steps[s] = dnic_pipe_block_step(p, s);
        dnic_pipe_free(p); /* the other ranks stop */
        dnic_pipe_create(&p, m.dni);
        for (int s = 0; s < size; s++) dnic_pipe_set_block_step(p, s, steps[s]);
        CHECK(dnic_pipe_import_inflight(p, values, nv, ints, ni) == DNIC_OK, "import in-process");
        int n2 = 0;
        float tail2[16];
        CHECK(feed(p, d, cut, NB, NULL) && drain(p, tail2, &n2), "second part in-process");
        dnic_pipe_free(p);
        CHECK(same_state(m, ref), "MPI then in-process differs from the straight run");
        free(values);
        free(ints);
    } else {
        CHECK(dnic_mpi_serve(p) == DNIC_OK, "serve");
        dnic_pipe_free(p);
    }
    free_model(m);

    /* in-process -> MPI: rank 0 runs the first part, every rank gets its state */
    m = make_model(DNIC_IFACE_MLP, size);
    size_t n_model = model_floats(m), nv = 0, ni = 0;
    int64_t steps[8] = {0};
    void *blob = NULL;
    size_t blob_n = 0;
    if (rank == 0) {
        dnic_pipe_create(&p, m.dni);
        feed(p, d, 0, cut, NULL);
        dnic_pipe_export_inflight(p, NULL, &nv, NULL, &ni);
        for (int s = 0; s < size; s++) steps[s] = dnic_pipe_block_step(p, s);
        blob_n = 3 * sizeof(int64_t) + 8 * sizeof(int64_t) + n_model * sizeof(float) + nv * sizeof(float) +
                 ni * sizeof(int64_t);
        unsigned char *w = blob = malloc(blob_n);
        int64_t head[3] = {(int64_t)n_model, (int64_t)nv, (int64_t)ni};
        memcpy(w, head, sizeof head);
        memcpy(w + sizeof head, steps, sizeof steps);
        w += sizeof head + sizeof steps;
        dnic_pipe_sync_to_net(p);
        copy_model(m, (float *)w, 1);
        size_t v2 = nv, i2 = ni;
        dnic_pipe_export_inflight(p, (float *)(w + n_model * sizeof(float)), &v2,
                                  (int64_t *)(w + (n_model + nv) * sizeof(float)), &i2);
        dnic_pipe_free(p);
    }
    CHECK(dnic_mpi_broadcast(&blob, &blob_n, 60.0) == DNIC_OK, "broadcast the state");
    if (rank != 0 && blob) {
        /* every other rank starts from the fresh model and takes rank 0's state */
        const unsigned char *r = blob;
        int64_t head[3];
        memcpy(head, r, sizeof head);
        memcpy(steps, r + sizeof head, sizeof steps);
        nv = (size_t)head[1];
        ni = (size_t)head[2];
        CHECK((size_t)head[0] == n_model, "rank %d: model size", rank);
        copy_model(m, (float *)(r + sizeof head + sizeof steps), 0);
    }
    const unsigned char *r = (const unsigned char *)blob + 3 * sizeof(int64_t) + sizeof steps;
    dnic_pipe_create(&p, m.dni);
    for (int s = 0; s < size; s++) dnic_pipe_set_block_step(p, s, steps[s]);
    CHECK(dnic_pipe_import_inflight(p, (const float *)(r + n_model * sizeof(float)), nv,
                                    (const int64_t *)(r + (n_model + nv) * sizeof(float)), ni) == DNIC_OK,
          "rank %d: import", rank);
    CHECK(dnic_mpi_attach(p, 79, 60.0) == DNIC_OK, "attach after import (%s)", dnic_mpi_failure());
    if (rank == 0) {
        int n2 = 0;
        float tail2[16];
        CHECK(feed(p, d, cut, NB, NULL) && drain(p, tail2, &n2), "second part under MPI (%s)", dnic_mpi_failure());
        dnic_pipe_free(p);
        CHECK(same_state(m, ref), "in-process then MPI differs from the straight run");
    } else {
        CHECK(dnic_mpi_serve(p) == DNIC_OK, "serve");
        dnic_pipe_free(p);
    }
    free(blob);
    free_model(m);
    free_model(ref);
}

static void test_refusals(void) {
    model_t m = make_model(DNIC_IFACE_LINEAR, size);
    dnic_pipe_t *p = NULL;
    dnic_pipe_create(&p, m.dni);
    dnic_status st = dnic_mpi_attach(p, rank == size - 1 ? 2 : 1, 30.0);
    CHECK(st == DNIC_ERR_PEER && strstr(dnic_mpi_failure(), "other settings"), "rank %d: other fingerprint: %s %s",
          rank, dnic_status_str(st), dnic_mpi_failure());
    dnic_pipe_free(p);
    free_model(m);

    m = make_model(DNIC_IFACE_LINEAR, size + 1);
    dnic_pipe_create(&p, m.dni);
    st = dnic_mpi_attach(p, 1, 30.0);
    CHECK(st == DNIC_ERR_ARG && strstr(dnic_mpi_failure(), "ranks for"), "rank %d: %d blocks on %d ranks: %s %s",
          rank, size + 1, size, dnic_status_str(st), dnic_mpi_failure());
    CHECK(dnic_pipe_tick(p, NULL, NULL, 0, NULL, NULL) == DNIC_OK, "a refused attach left the pipeline unusable");
    dnic_pipe_free(p);
    free_model(m);

}

/* Loss of the network on every batch of d (evaluation mode). */
static double data_loss(dnic_net_t *net, const data_t *d) {
    double loss = 0, sum = 0;
    size_t correct = 0;
    for (int b = 0; b < NB; b++) {
        dnic_net_evaluate(net, d->x[b], d->y[b], NULL, B, &loss, &correct);
        sum += loss;
    }
    return sum / NB;
}

/* Async over the ranks: every batch passes every block and trains every
 * interface by the drain (counted on rank 0: losses, block and interface
 * steps after the gather), targets are stale by at most the window, and it
 * learns as far as in-process async does. */
static void test_async(const data_t *d) {
    const int epochs = 6, queue = 2;
    model_t m = make_model(DNIC_IFACE_LINEAR, size);
    dnic_pipe_t *p = NULL;
    CHECK(dnic_pipe_create_async(&p, m.dni, queue) == DNIC_OK, "create async");
    dnic_status st = dnic_mpi_attach(p, 81, 60.0);
    CHECK(st == DNIC_OK, "async attach: %s %s", dnic_status_str(st), dnic_mpi_failure());
    if (rank != 0) {
        CHECK(dnic_mpi_serve(p) == DNIC_OK, "rank %d: async serve (%s)", rank, dnic_mpi_failure());
        dnic_pipe_free(p);
        free_model(m);
        return;
    }
    double before = data_loss(m.net, d);
    int finished = 0, ok = 1;
    for (int e = 0; e < epochs; e++) {
        for (int b = 0; b < NB; b++) {
            int f = 0;
            ok &= dnic_pipe_tick(p, d->x[b], d->y[b], B, NULL, &f) == DNIC_OK;
            finished += f;
        }
        int f = 0;
        ok &= dnic_pipe_tick(p, NULL, NULL, 0, NULL, &f) == DNIC_OK; /* a drain per epoch, as evaluations do */
        finished += f;
        CHECK(!dnic_pipe_pending(p), "pending after a drain");
    }
    CHECK(ok, "async over MPI: a call failed (%s)", dnic_mpi_failure());
    CHECK(finished == epochs * NB, "%d of %d batches reached the loss", finished, epochs * NB);
    CHECK(dnic_pipe_sync_to_net(p) == DNIC_OK, "gather");
    for (int s = 0; s < size; s++) {
        CHECK(dnic_pipe_block_step(p, s) == epochs * NB, "block %d stepped %lld times", s,
              (long long)dnic_pipe_block_step(p, s));
        if (s + 1 < size) {
            double mean = 0;
            int64_t most = 0, count = 0;
            dnic_pipe_block_staleness(p, s, &mean, &most, &count);
            CHECK(count == epochs * NB && most <= 2 * queue, "block %d: %lld targets, staleness max %lld", s,
                  (long long)count, (long long)most);
        }
    }
    for (int i = 0; i < dnic_dni_num_ifaces(m.dni); i++)
        CHECK(dnic_iface_step(dnic_dni_iface(m.dni, i)) == epochs * NB, "interface %d stepped %lld times", i,
              (long long)dnic_iface_step(dnic_dni_iface(m.dni, i)));
    double after = data_loss(m.net, d);
    dnic_pipe_free(p);

    model_t ref = make_model(DNIC_IFACE_LINEAR, size);
    dnic_pipe_create_async(&p, ref.dni, queue);
    for (int e = 0; e < epochs; e++) {
        for (int b = 0; b < NB; b++) dnic_pipe_tick(p, d->x[b], d->y[b], B, NULL, NULL);
        dnic_pipe_flush(p);
    }
    dnic_pipe_sync_to_net(p);
    dnic_pipe_free(p);
    double in_process = data_loss(ref.net, d);
    CHECK(after < before - 0.05 && fabs(after - in_process) < 0.1 * before,
          "async over MPI: loss %.3f -> %.3f, in-process async %.3f", before, after, in_process);
    free_model(ref);
    free_model(m);
}

/* Last: ranks that stop answering. Rank 0's next tick fails within its
 * wait (1.5 x the 0.6 s timeout + 2 s) naming rank 1 and the seconds it
 * waited as given (2.9, not 3); the silent ranks then find rank 0 gone
 * quiet, complain, and give up. */
static void test_silent_rank(const data_t *d) {
    model_t m = make_model(DNIC_IFACE_LINEAR, size);
    dnic_pipe_t *p = NULL;
    dnic_pipe_create(&p, m.dni);
    CHECK(dnic_mpi_attach(p, 80, 0.6) == DNIC_OK, "attach");
    if (rank == 0) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        dnic_status st = dnic_pipe_tick(p, d->x[0], d->y[0], B, NULL, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double took = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        CHECK(st == DNIC_ERR_PEER && strstr(dnic_mpi_failure(), "rank 1 sent nothing for 2.9 s"), "silent rank: %s %s",
              dnic_status_str(st), dnic_mpi_failure());
        CHECK(took < 30.0, "the timeout took %.1f s", took);
        CHECK(dnic_pipe_tick(p, d->x[1], d->y[1], B, NULL, NULL) == DNIC_ERR_PEER, "a broken link ticked again");
    } else {
        sleep(5);
        CHECK(dnic_mpi_serve(p) == DNIC_ERR_PEER, "rank %d: serve after silence", rank);
    }
    dnic_pipe_free(p);
    free_model(m);
}

/* First, before MPI starts (plain forks, no MPI in the children): a
 * process that asked to end with its launcher ends when that process
 * does, and a signal number that is none is refused. A pipe's write end,
 * held only by the grandchild, says when it is gone. */
static void test_end_with_launcher(void) {
    CHECK(dnic_mpi_end_with_launcher(0) == DNIC_ERR_ARG, "signal 0 accepted");
    CHECK(dnic_mpi_end_with_launcher(-9) == DNIC_ERR_ARG, "signal -9 accepted");
    int held[2], told[2], go[2];
    if (pipe(held) || pipe(told) || pipe(go)) {
        CHECK(0, "pipe");
        return;
    }
    fflush(stdout);
    pid_t launcher = fork();
    if (launcher == 0) {
        close(held[0]), close(told[0]), close(go[1]);
        if (fork() == 0) {
            close(go[0]);
            int said[2] = {(int)getpid(), (int)dnic_mpi_end_with_launcher(SIGKILL)};
            if (write(told[1], said, sizeof said) != (ssize_t)sizeof said) _exit(1);
            for (int i = 0; i < 600; i++) sleep(1); /* ten minutes, or until ended */
            _exit(0);
        }
        close(held[1]), close(told[1]);
        char byte;
        if (read(go[0], &byte, 1) < 0) _exit(1); /* the test says when the launcher ends */
        _exit(0);
    }
    close(held[1]), close(told[1]), close(go[0]);
    int said[2] = {0, DNIC_ERR_STATE};
    CHECK(read(told[0], said, sizeof said) == (ssize_t)sizeof said && said[1] == DNIC_OK, "request: %s",
          dnic_status_str((dnic_status)said[1]));
    CHECK(write(go[1], "x", 1) == 1, "go");
    int status = 0;
    waitpid(launcher, &status, 0);
    struct pollfd gone = {held[0], POLLIN, 0};
    char byte;
    int ended = poll(&gone, 1, 10000) == 1 && read(held[0], &byte, 1) == 0;
    CHECK(ended, "the process outlived its launcher by 10 s");
    if (!ended && said[0] > 0) kill((pid_t)said[0], SIGKILL);
    close(held[0]), close(told[0]), close(go[1]);
}

int main(int argc, char **argv) {
    test_end_with_launcher();
    if (dnic_mpi_init(&argc, &argv) != DNIC_OK) {
        printf("mpi: 0 passed, 1 failed\n");
        return 1;
    }
    rank = dnic_mpi_rank();
    size = dnic_mpi_size();
    dnic_set_num_threads(1);
    static data_t d;
    make_data(&d, 3);
    if (size < 2 || size > 8) {
        CHECK(0, "run under mpirun -np 2..8 (got %d ranks)", size);
    } else {
        test_same_as_in_process(&d);
        test_ranks_hold_their_block(&d);
        test_cut_and_resume(&d);
        test_refusals();
        test_async(&d);
        test_silent_rank(&d);
    }
    /* every rank's failures count: they travel to rank 0 */
    int mine[2] = {harness_passed, harness_failed}, sum[2] = {0, 0};
    MPI_Reduce(mine, sum, 2, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    dnic_mpi_finalize();
    if (rank != 0) return harness_failed ? 1 : 0;
    harness_passed = sum[0];
    harness_failed = sum[1];
    char suite[32];
    snprintf(suite, sizeof suite, "mpi-np%d", size);
    return harness_finish(suite);
}
