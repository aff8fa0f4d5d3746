/* examples/mpi/train_ranks.c — a program of its own runs dnic's pipeline
 * blocks as MPI ranks, in C alone (no Swift), through the public API:
 * <dnic.h> and <dnic_mpi.h>.
 *
 * Under `mpirun -np K` (K >= 2) every rank builds the same network and
 * pipeline: 20 inputs -> 2K-1 hidden layers of 64 relu -> 4 classes,
 * linear synthetic-gradient interfaces (bootstrapped targets) after hidden
 * layers 0, 2, 4, ..., so the pipeline has K blocks; Adam lr 1e-3 for the
 * network and the interfaces. Rank s runs block s:
 *   - rank 0 makes the data (4 Gaussian blobs in 20 dimensions, 4000 train
 *     / 1000 test rows), feeds shuffled batches of 64 for a few epochs
 *     (dnic_pipe_tick: every rank ticks its block), drains the pipeline
 *     (dnic_pipe_flush), gathers every block into its network
 *     (dnic_pipe_sync_to_net), stops the other ranks (dnic_pipe_free) and
 *     evaluates the network on the test rows (dnic_net_evaluate);
 *   - the other ranks serve their block (dnic_mpi_serve) until rank 0
 *     frees its pipeline.
 * Rank 0 prints one line, "OK mpi example: K ranks, test accuracy 0.99",
 * or "FAIL ..." (exit status 1) when the accuracy is below 0.9. A call that
 * fails prints one FAIL line on its rank and ends every rank
 * (dnic_mpi_abort).
 *
 * Build against an installed dnic (make install puts libdnic_mpi, dnic_mpi.h
 * and dnic-mpi.pc beside libdnic where mpicc is found), then run:
 *   make install PREFIX=$PWD/build/stage
 *   export PKG_CONFIG_PATH=$PWD/build/stage/lib/pkgconfig
 *   mpicc -std=c99 $(pkg-config --cflags dnic-mpi) examples/mpi/train_ranks.c \
 *       build/stage/lib/libdnic_mpi.a build/stage/lib/libdnic.a \
 *       -fopenmp -lm -ldl -lpthread -o train_ranks
 *   mpirun -q -np 3 ./train_ranks     (root in a container: add
 *                                      --allow-run-as-root --oversubscribe)
 * (examples/mpi/README.md says why it links the archives; `make
 * check-examples-mpi` does all this with 2 and 3 ranks.) */
#include <dnic.h>
#include <dnic_mpi.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define DIM 20
#define CLASSES 4
#define N_TRAIN 4000
#define N_TEST 1000
#define WIDTH 64
#define BATCH 64
#define EPOCHS 4
#define SEED 2024
#define TIMEOUT 60.0 /* seconds any rank waits for another before giving up */
#define MIN_ACCURACY 0.9

static int rank;

/* A failed call: one line on this rank, then every rank ends. */
static void check(dnic_status s, const char *what) {
    if (s == DNIC_OK) return;
    const char *why = dnic_mpi_failure(); /* "" unless an MPI wait or attach failed */
    fprintf(stderr, "FAIL mpi example: rank %d: %s: %s%s%s\n", rank, what, dnic_status_str(s), *why ? ": " : "", why);
    fflush(stderr);
    dnic_mpi_abort(1);
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes);
    if (!p) check(DNIC_ERR_NOMEM, "malloc");
    return p;
}

/* n rows around 4 centres (drawn N(0, 1) per coordinate), unit Gaussian
 * noise; row i has class i % 4. */
static void make_blobs(float *X, int32_t *y, int n, const float *centres, uint64_t *rng) {
    for (int i = 0; i < n; i++) {
        y[i] = i % CLASSES;
        for (int j = 0; j < DIM; j++) X[i * DIM + j] = centres[y[i] * DIM + j] + dnic_rng_normal(rng);
    }
}

/* Rank 0 trains, evaluates and says how it went; returns the exit status. */
static int drive(dnic_pipe_t *pipe, dnic_net_t *net, int ranks) {
    uint64_t rng = SEED + 1;
    float centres[CLASSES * DIM];
    for (int i = 0; i < CLASSES * DIM; i++) centres[i] = dnic_rng_normal(&rng);
    float *X = xmalloc(sizeof(float) * N_TRAIN * DIM), *X_test = xmalloc(sizeof(float) * N_TEST * DIM);
    int32_t *y = xmalloc(sizeof(int32_t) * N_TRAIN), *y_test = xmalloc(sizeof(int32_t) * N_TEST);
    int32_t *order = xmalloc(sizeof(int32_t) * N_TRAIN);
    make_blobs(X, y, N_TRAIN, centres, &rng);
    make_blobs(X_test, y_test, N_TEST, centres, &rng);
    for (int i = 0; i < N_TRAIN; i++) order[i] = i;

    /* One tick per batch: block 0 takes the batch, every block works on the
     * batch below it sent at the previous tick. loss/finished report the
     * batch that reached the loss at this tick, if any (K-1 ticks later). */
    float xb[BATCH * DIM];
    int32_t yb[BATCH];
    for (int epoch = 0; epoch < EPOCHS; epoch++) {
        check(dnic_shuffle(order, N_TRAIN, &rng), "dnic_shuffle");
        for (int start = 0; start < N_TRAIN; start += BATCH) {
            int b = N_TRAIN - start < BATCH ? N_TRAIN - start : BATCH; /* the last is short */
            check(dnic_gather_rows(xb, X, order + start, b, DIM, N_TRAIN), "dnic_gather_rows");
            check(dnic_gather_labels(yb, y, order + start, b, N_TRAIN), "dnic_gather_labels");
            float loss;
            int finished;
            check(dnic_pipe_tick(pipe, xb, yb, b, &loss, &finished), "dnic_pipe_tick");
        }
    }
    check(dnic_pipe_flush(pipe), "dnic_pipe_flush");        /* every batch fed has updated every block */
    check(dnic_pipe_sync_to_net(pipe), "dnic_pipe_sync_to_net"); /* every rank's block into `net` */
    dnic_pipe_free(pipe); /* the other ranks' dnic_mpi_serve returns */

    size_t correct = 0;
    check(dnic_net_evaluate(net, X_test, y_test, NULL, N_TEST, NULL, &correct), "dnic_net_evaluate");
    double accuracy = (double)correct / N_TEST;
    free(X), free(X_test), free(y), free(y_test), free(order);
    if (accuracy < MIN_ACCURACY) {
        printf("FAIL mpi example: %d ranks, test accuracy %.4f < %.2f\n", ranks, accuracy, MIN_ACCURACY);
        return 1;
    }
    printf("OK mpi example: %d ranks, test accuracy %.4f\n", ranks, accuracy);
    return 0;
}

int main(int argc, char **argv) {
    /* a rank never outlives mpirun (^C^C, a killed mpirun): first, before MPI */
    dnic_status launcher = dnic_mpi_end_with_launcher(SIGKILL);
    if (launcher != DNIC_OK && launcher != DNIC_ERR_UNAVAILABLE) check(launcher, "dnic_mpi_end_with_launcher");
    check(dnic_mpi_init(&argc, &argv), "dnic_mpi_init");
    rank = dnic_mpi_rank();
    const int ranks = dnic_mpi_size(), hidden = 2 * ranks - 1;
    if (ranks < 2 || ranks > 8) {
        fprintf(stderr, "FAIL mpi example: run it under mpirun -np 2 .. 8 (got %d rank(s))\n", ranks);
        dnic_mpi_abort(1);
    }
    /* one thread per rank: ranks already share the cores (results do not
     * depend on it: each block runs single-threaded inside) */
    check(dnic_set_num_threads(1), "dnic_set_num_threads");

    /* --- the same network, interfaces and pipeline on every rank */
    dnic_layer_desc layers[2 * 8];
    for (int l = 0; l < hidden; l++) layers[l] = (dnic_layer_desc){WIDTH, DNIC_ACT_RELU, 0};
    layers[hidden] = (dnic_layer_desc){CLASSES, DNIC_ACT_IDENTITY, 0};
    dnic_net_desc desc;
    dnic_net_desc_defaults(&desc); /* He-uniform init, softmax cross-entropy */
    desc.input_dim = DIM;
    desc.n_layers = hidden + 1;
    desc.layers = layers;
    desc.max_batch = BATCH;
    dnic_net_t *net = NULL;
    check(dnic_net_create(&net, &desc, SEED), "dnic_net_create");
    dnic_optim_config adam = dnic_optim_default(DNIC_OPT_ADAM);
    adam.lr = 1e-3f;
    check(dnic_net_set_optimizer(net, 0, &adam), "dnic_net_set_optimizer"); /* before dnic_pipe_create */

    dnic_iface_desc ifaces[8];
    for (int i = 0; i < ranks - 1; i++) {
        dnic_iface_desc_defaults(&ifaces[i], 2 * i); /* on hidden layer 2i's output */
        ifaces[i].kind = DNIC_IFACE_LINEAR;          /* s = h A + y B + C */
        ifaces[i].target = DNIC_TARGET_BOOTSTRAP;    /* the gradient from the block above */
    }
    dnic_dni_t *dni = NULL;
    check(dnic_dni_create(&dni, net, ifaces, ranks - 1, CLASSES, SEED), "dnic_dni_create");
    check(dnic_dni_set_iface_optimizer(dni, &adam), "dnic_dni_set_iface_optimizer");
    dnic_pipe_t *pipe = NULL;
    check(dnic_pipe_create(&pipe, dni), "dnic_pipe_create");

    /* Every rank must give the same fingerprint: a digest (FNV-1a) of the
     * settings the ranks must agree on, so ranks started with different
     * ones are refused at attach rather than training nonsense. */
    const int64_t settings[] = {ranks, DIM, WIDTH, CLASSES, BATCH, SEED, EPOCHS};
    uint64_t fingerprint = 1469598103934665603ULL;
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        fingerprint = (fingerprint ^ (uint64_t)settings[i]) * 1099511628211ULL;
    check(dnic_mpi_attach(pipe, fingerprint, TIMEOUT), "dnic_mpi_attach");

    int status = 0;
    if (rank == 0) {
        status = drive(pipe, net, ranks); /* frees the pipeline */
    } else {
        check(dnic_mpi_serve(pipe), "dnic_mpi_serve");
        dnic_pipe_free(pipe);
    }
    dnic_dni_free(dni); /* after the pipeline, before the network */
    dnic_net_free(net);
    check(dnic_mpi_finalize(), "dnic_mpi_finalize");
    return status;
}
