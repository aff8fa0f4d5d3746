/* examples/c/train.c — train a small classifier with dnic from plain C99.
 *
 * The program uses ONLY the public API in <dnic.h> and links ONLY libdnic
 * (not even libm): no BLAS or OpenMP flags are needed, because libdnic
 * finds oneDNN or OpenBLAS by itself at run time (or falls back to its own portable
 * sgemm) — see the header comment of dnic.h.
 *
 * What it does:
 *   1. generates a seeded toy dataset: two interleaved spirals in the
 *      plane, 1000 points, 2 classes, split 800 train / 200 test;
 *   2. builds a network 2 -> 64 tanh -> 64 tanh -> 2 with a softmax
 *      cross-entropy loss, trained by Adam (lr 1e-2);
 *   3. trains with shuffled mini-batches (dnic_shuffle, dnic_gather_rows,
 *      dnic_gather_labels, dnic_net_train_step);
 *   4. evaluates on the held-out points (dnic_net_evaluate), prints the test
 *      accuracy and the GEMM library in use (dnic_gemm_get_info);
 *   5. frees everything and exits non-zero if the test accuracy is below
 *      MIN_TEST_ACCURACY (so it doubles as an end-to-end check).
 *
 * Build against an installed libdnic, e.g.
 *   make install PREFIX=$PWD/build/stage
 *   export PKG_CONFIG_PATH=$PWD/build/stage/lib/pkgconfig
 *   cc -std=c99 $(pkg-config --cflags dnic) examples/c/train.c \
 *      $(pkg-config --libs dnic) -o build/examples/train_c
 *   LD_LIBRARY_PATH=build/stage/lib build/examples/train_c [seed]
 *
 * It first checks that the header it was compiled against matches the
 * library it runs with (DNIC_CHECK_ABI). Every dnic call that returns a
 * dnic_status is checked: on error the program prints dnic_status_str()
 * and the detail dnic_last_error() gives, and exits 1.
 */
#include <dnic.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* ---------------------------------------------------------------- settings */

#define N_POINTS 1000          /* whole dataset, half of each class */
#define N_TRAIN 800            /* first 800 of a random permutation */
#define N_TEST (N_POINTS - N_TRAIN) /* the other 200 */
#define N_CLASSES 2
#define INPUT_DIM 2
#define HIDDEN 64
#define BATCH 32
#define EPOCHS 60
#define LEARNING_RATE 1e-2f
#define MIN_TEST_ACCURACY 0.95 /* the exit status checks this */

#define PI 3.14159265358979323846

/* Abort with a readable message if a dnic call failed. `what` names it. */
static void check(dnic_status s, const char *what) {
    if (s != DNIC_OK) {
        fprintf(stderr, "train_c: %s failed: %s (status %d): %s\n", what, dnic_status_str(s),
                (int)s, dnic_last_error());
        exit(1);
    }
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes);
    if (!p) {
        fprintf(stderr, "train_c: out of memory\n");
        exit(1);
    }
    return p;
}

/* ----------------------------------------------------------------- dataset */

/* Two interleaved spirals, N_POINTS/2 points each. A point of class 0 at
 * parameter t in [0.05, 1) sits at radius t and angle 3*pi*t (1.5 turns in
 * all); class 1 is the same spiral rotated by half a turn, i.e. the point
 * negated. Both get a little Gaussian noise from the dnic RNG, so the data
 * is the same on every platform for a given seed. X is (n, 2), y is (n),
 * and the rows alternate class 0, class 1.
 *
 * To keep the program free of libm (it links only libdnic), the spiral is
 * walked by rotating a unit vector u = (cos a, sin a) a small fixed angle
 * per point — one complex multiplication — instead of calling cos/sin; the
 * step's own cosine and sine come from their Taylor series, exact to double
 * precision for so small an angle. */
static void make_spirals(float *X, int32_t *y, uint64_t *rng) {
    const int per_class = N_POINTS / 2;
    const int skip = per_class / 19;          /* t < 0.05 is not emitted */
    const int steps = per_class + skip;       /* t = k / steps, k = 0 .. steps-1 */
    const double step = 3.0 * PI / steps;     /* angle per point */
    const double s2 = step * step;
    const double cs = 1 - s2 / 2 * (1 - s2 / 12 * (1 - s2 / 30)); /* cos(step) */
    const double sn = step * (1 - s2 / 6 * (1 - s2 / 20 * (1 - s2 / 42))); /* sin */
    double ux = 1, uy = 0; /* angle 0 */
    int i = 0;
    for (int k = 0; k < steps; k++) {
        if (k >= skip) {
            double t = (double)k / steps;
            for (int c = 0; c < 2; c++) {
                double sign = c == 0 ? 1.0 : -1.0; /* class 1: rotated by pi */
                X[2 * i + 0] = (float)(sign * t * ux) + 0.02f * dnic_rng_normal(rng);
                X[2 * i + 1] = (float)(sign * t * uy) + 0.02f * dnic_rng_normal(rng);
                y[i] = c;
                i++;
            }
        }
        double nx = ux * cs - uy * sn; /* u <- u * e^(i step) */
        uy = ux * sn + uy * cs;
        ux = nx;
    }
}

/* -------------------------------------------------------------------- main */

int main(int argc, char **argv) {
    uint64_t seed = 42;
    if (argc > 1) seed = strtoull(argv[1], NULL, 10);

    printf("dnic %s (header %s), seed %" PRIu64 "\n", dnic_version(), DNIC_VERSION, seed);
    check(DNIC_CHECK_ABI(), "DNIC_CHECK_ABI");

    /* --- data: generate, then split train/test with a seeded permutation. */
    uint64_t rng = seed;
    float *X = xmalloc(sizeof(float) * N_POINTS * INPUT_DIM);
    int32_t *y = xmalloc(sizeof(int32_t) * N_POINTS);
    make_spirals(X, y, &rng);

    int32_t *perm = xmalloc(sizeof(int32_t) * N_POINTS);
    for (int i = 0; i < N_POINTS; i++) perm[i] = i;
    check(dnic_shuffle(perm, N_POINTS, &rng), "dnic_shuffle");

    float *X_train = xmalloc(sizeof(float) * N_TRAIN * INPUT_DIM);
    int32_t *y_train = xmalloc(sizeof(int32_t) * N_TRAIN);
    float *X_test = xmalloc(sizeof(float) * N_TEST * INPUT_DIM);
    int32_t *y_test = xmalloc(sizeof(int32_t) * N_TEST);
    /* The first N_TRAIN entries of perm pick the training rows, the rest the
     * test rows; dnic_gather_rows copies whole rows by index. */
    check(dnic_gather_rows(X_train, X, perm, N_TRAIN, INPUT_DIM, N_POINTS), "gather train X");
    check(dnic_gather_labels(y_train, y, perm, N_TRAIN, N_POINTS), "gather train y");
    check(dnic_gather_rows(X_test, X, perm + N_TRAIN, N_TEST, INPUT_DIM, N_POINTS),
          "gather test X");
    check(dnic_gather_labels(y_test, y, perm + N_TRAIN, N_TEST, N_POINTS), "gather test y");

    /* --- network: 2 -> 64 tanh -> 64 tanh -> 2 (identity; the softmax is
     * part of the loss). The description is copied by dnic_net_create. */
    const dnic_layer_desc layers[] = {
        {HIDDEN, DNIC_ACT_TANH, 0},
        {HIDDEN, DNIC_ACT_TANH, 0},
        {N_CLASSES, DNIC_ACT_IDENTITY, 0}, /* output layer */
    };
    dnic_net_desc desc;
    dnic_net_desc_defaults(&desc); /* init, batch-norm constants, loss */
    desc.input_dim = INPUT_DIM;
    desc.n_layers = (int)(sizeof layers / sizeof layers[0]);
    desc.layers = layers;
    desc.loss = DNIC_LOSS_SOFTMAX_CE;
    /* He uniform (also the default). Glorot, the textbook choice for tanh,
     * gives such small first-layer weights for these inputs (|x| <= 1) that
     * the tanh units start in their linear range and training sits on a
     * plateau for hundreds of epochs; He's larger scale avoids that. */
    desc.init = DNIC_INIT_HE_UNIFORM;
    desc.max_batch = BATCH;               /* evaluate() chunks by this too */

    dnic_net_t *net = NULL;
    check(dnic_net_create(&net, &desc, seed), "dnic_net_create");

    dnic_optim_config opt = dnic_optim_default(DNIC_OPT_ADAM);
    opt.lr = LEARNING_RATE;
    check(dnic_optim_validate(&opt), "dnic_optim_validate");
    check(dnic_net_set_optimizer(net, 0, &opt), "dnic_net_set_optimizer");

    size_t n_params = 0;
    (void)dnic_net_params(net, &n_params);
    printf("network: %d -> %d tanh -> %d tanh -> %d, %zu parameters, %d thread(s)\n",
           dnic_net_input_dim(net), dnic_net_layer_width(net, 0), dnic_net_layer_width(net, 1),
           dnic_net_output_dim(net), n_params, dnic_get_num_threads());

    /* --- training: each epoch visits the training set in a new order. */
    int32_t *order = xmalloc(sizeof(int32_t) * N_TRAIN);
    for (int i = 0; i < N_TRAIN; i++) order[i] = i;
    float xb[BATCH * INPUT_DIM];
    int32_t yb[BATCH];

    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        check(dnic_shuffle(order, N_TRAIN, &rng), "dnic_shuffle");
        double loss_sum = 0;
        int n_batches = 0;
        for (int start = 0; start < N_TRAIN; start += BATCH) {
            int b = N_TRAIN - start < BATCH ? N_TRAIN - start : BATCH; /* last may be short */
            check(dnic_gather_rows(xb, X_train, order + start, b, INPUT_DIM, N_TRAIN),
                  "dnic_gather_rows");
            check(dnic_gather_labels(yb, y_train, order + start, b, N_TRAIN),
                  "dnic_gather_labels");
            float loss = 0;
            /* zero_grad + forward + loss + backward + Adam update */
            check(dnic_net_train_step(net, xb, yb, NULL, b, &loss), "dnic_net_train_step");
            loss_sum += loss;
            n_batches++;
        }
        if (epoch == 1 || epoch % 10 == 0)
            printf("epoch %3d  train loss %.4f\n", epoch, loss_sum / n_batches);
    }

    /* --- evaluation on the held-out points (evaluation mode). */
    double train_loss = 0, test_loss = 0;
    size_t train_correct = 0, test_correct = 0;
    check(dnic_net_evaluate(net, X_train, y_train, NULL, N_TRAIN, &train_loss, &train_correct),
          "dnic_net_evaluate(train)");
    check(dnic_net_evaluate(net, X_test, y_test, NULL, N_TEST, &test_loss, &test_correct),
          "dnic_net_evaluate(test)");
    double train_acc = (double)train_correct / N_TRAIN;
    double test_acc = (double)test_correct / N_TEST;
    printf("train loss %.4f  accuracy %.4f (%zu/%d)\n", train_loss, train_acc, train_correct,
           N_TRAIN);
    printf("test  loss %.4f  accuracy %.4f (%zu/%d)\n", test_loss, test_acc, test_correct,
           N_TEST);

    /* --- which matrix-multiply library did the work, and why? */
    dnic_gemm_info_t gemm;
    check(dnic_gemm_get_info(&gemm), "dnic_gemm_get_info");
    printf("GEMM: %s %s%s%s, ISA %s, %d thread(s) (%s)\n", gemm.name, gemm.version, gemm.library[0] ? " " : "",
           gemm.library, gemm.isa, gemm.threads, gemm.reason);

    /* --- clean up. */
    dnic_net_free(net);
    free(order);
    free(X_test);
    free(y_test);
    free(X_train);
    free(y_train);
    free(perm);
    free(X);
    free(y);

    if (test_acc < MIN_TEST_ACCURACY) {
        fprintf(stderr, "train_c: FAIL test accuracy %.4f < %.2f\n", test_acc, MIN_TEST_ACCURACY);
        return 1;
    }
    printf("OK test accuracy %.4f >= %.2f\n", test_acc, MIN_TEST_ACCURACY);
    return 0;
}
