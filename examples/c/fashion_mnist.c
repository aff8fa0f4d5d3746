/* fashion_mnist.c — trains an MLP on Fashion-MNIST through dnic's C API:
 * the C core's own training loop, with nothing between it and the kernels.
 *
 *   fashion_mnist [DIR] [--epochs N] [--batch B] [--lr LR] [--threads T] [--seed S]
 *
 * DIR holds the four standard IDX files, gzip'd or raw (default
 * /usr/share/datasets/fashion-mnist, from Debian's dataset-fashion-mnist).
 * Network: 784-256-256-256-10 relu, softmax CE, Adam. Prints per-epoch test
 * accuracy and training samples/s (gather + step; evaluation excluded).
 * Needs zlib (-lz) for the .gz files; libdnic itself does not.
 */
#define _POSIX_C_SOURCE 200809L
#include <dnic.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static void die(const char *what) {
    fprintf(stderr, "fashion_mnist: %s\n", what);
    exit(1);
}

static void check(dnic_status st, const char *call) {
    if (st != DNIC_OK) {
        fprintf(stderr, "fashion_mnist: %s: %s\n", call, dnic_status_str(st));
        exit(1);
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Opens DIR/NAME.gz, or DIR/NAME raw (gzopen reads both). */
static gzFile open_idx(const char *dir, const char *name, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s.gz", dir, name);
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(path, cap, "%s/%s", dir, name);
        f = gzopen(path, "rb");
    }
    if (!f) {
        char msg[1200];
        snprintf(msg, sizeof msg, "cannot open %s[.gz] (install with: apt-get install dataset-fashion-mnist)", path);
        die(msg);
    }
    return f;
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void read_exact(gzFile f, void *buf, size_t n, const char *path) {
    unsigned char *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got <= 0) {
            char msg[1200];
            snprintf(msg, sizeof msg, "%s: truncated or corrupt", path);
            die(msg);
        }
        p += got;
        n -= (size_t)got;
    }
}

/* Images (n, 784) scaled to [0, 1]; returns n. */
static size_t load_images(const char *dir, const char *name, float **out) {
    char path[1100], msg[1300];
    gzFile f = open_idx(dir, name, path, sizeof path);
    unsigned char h[16];
    read_exact(f, h, 16, path);
    uint32_t n = be32(h + 4), rows = be32(h + 8), cols = be32(h + 12);
    if (be32(h) != 0x803 || rows != 28 || cols != 28 || n == 0 || n > 10000000) {
        snprintf(msg, sizeof msg, "%s: not a 28x28 IDX image file", path);
        die(msg);
    }
    size_t count = (size_t)n * 784;
    unsigned char *raw = malloc(count);
    float *x = malloc(count * sizeof(float));
    if (!raw || !x) die("out of memory");
    read_exact(f, raw, count, path);
    gzclose(f);
    for (size_t i = 0; i < count; i++) x[i] = raw[i] / 255.0f;
    free(raw);
    *out = x;
    return n;
}

static size_t load_labels(const char *dir, const char *name, int32_t **out) {
    char path[1100], msg[1300];
    gzFile f = open_idx(dir, name, path, sizeof path);
    unsigned char h[8];
    read_exact(f, h, 8, path);
    uint32_t n = be32(h + 4);
    if (be32(h) != 0x801 || n == 0 || n > 10000000) {
        snprintf(msg, sizeof msg, "%s: not an IDX label file", path);
        die(msg);
    }
    unsigned char *raw = malloc(n);
    int32_t *y = malloc((size_t)n * sizeof(int32_t));
    if (!raw || !y) die("out of memory");
    read_exact(f, raw, n, path);
    gzclose(f);
    for (uint32_t i = 0; i < n; i++) {
        if (raw[i] > 9) {
            snprintf(msg, sizeof msg, "%s: label %u at %u is outside 0..9", path, raw[i], i);
            die(msg);
        }
        y[i] = raw[i];
    }
    free(raw);
    *out = y;
    return n;
}

int main(int argc, char **argv) {
    const char *dir = "/usr/share/datasets/fashion-mnist";
    int epochs = 2, batch = 64, threads = 0;
    float lr = 1e-3f;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--epochs") && has_value) epochs = atoi(argv[++i]);
        else if (!strcmp(a, "--batch") && has_value) batch = atoi(argv[++i]);
        else if (!strcmp(a, "--lr") && has_value) lr = (float)atof(argv[++i]);
        else if (!strcmp(a, "--threads") && has_value) threads = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && has_value) seed = strtoull(argv[++i], NULL, 10);
        else if (a[0] != '-') dir = a;
        else {
            fprintf(stderr, "fashion_mnist: unknown or incomplete option %s\n", a);
            return 2;
        }
    }
    if (epochs < 1 || batch < 1 || !(lr > 0)) die("epochs, batch and lr must be positive");
    if (threads > 0) check(dnic_set_num_threads(threads), "dnic_set_num_threads");

    float *xtr, *xte;
    int32_t *ytr, *yte;
    size_t ntr = load_images(dir, "train-images-idx3-ubyte", &xtr);
    size_t nte = load_images(dir, "t10k-images-idx3-ubyte", &xte);
    if (load_labels(dir, "train-labels-idx1-ubyte", &ytr) != ntr ||
        load_labels(dir, "t10k-labels-idx1-ubyte", &yte) != nte)
        die("image and label counts differ");

    const dnic_layer_desc layers[] = {{256, DNIC_ACT_RELU, 0}, {256, DNIC_ACT_RELU, 0},
                                      {256, DNIC_ACT_RELU, 0}, {10, DNIC_ACT_IDENTITY, 0}};
    dnic_net_desc desc;
    dnic_net_desc_defaults(&desc);
    desc.input_dim = 784;
    desc.n_layers = 4;
    desc.layers = layers;
    desc.max_batch = batch;
    dnic_net_t *net;
    check(dnic_net_create(&net, &desc, seed), "dnic_net_create");
    dnic_optim_config opt = dnic_optim_default(DNIC_OPT_ADAM);
    opt.lr = lr;
    check(dnic_net_set_optimizer(net, 0, &opt), "dnic_net_set_optimizer");

    int32_t *order = malloc(ntr * sizeof(int32_t)), *yb = malloc((size_t)batch * sizeof(int32_t));
    float *xb = malloc((size_t)batch * 784 * sizeof(float));
    if (!order || !yb || !xb) die("out of memory");
    for (size_t i = 0; i < ntr; i++) order[i] = (int32_t)i;
    uint64_t rng = seed ^ 0x5eedULL;
    dnic_gemm_info_t gemm;
    check(dnic_gemm_get_info(&gemm), "dnic_gemm_get_info");
    printf("fashion-mnist %zu train / %zu test, 784-256-256-256-10 relu, Adam lr %g, batch %d, "
           "%d thread(s), GEMM %s (%s)\n", ntr, nte, lr, batch, dnic_get_num_threads(), gemm.name, gemm.isa);

    double train_seconds = 0, acc = 0;
    size_t samples = 0;
    for (int e = 1; e <= epochs; e++) {
        check(dnic_shuffle(order, ntr, &rng), "dnic_shuffle");
        double t0 = now(), loss_sum = 0;
        size_t steps = 0;
        for (size_t s = 0; s + (size_t)batch <= ntr; s += (size_t)batch) { /* drop the ragged tail */
            float loss;
            check(dnic_gather_rows(xb, xtr, order + s, batch, 784, ntr), "dnic_gather_rows");
            check(dnic_gather_labels(yb, ytr, order + s, batch, ntr), "dnic_gather_labels");
            check(dnic_net_train_step(net, xb, yb, NULL, batch, &loss), "dnic_net_train_step");
            loss_sum += loss;
            steps++;
        }
        train_seconds += now() - t0;
        samples += steps * (size_t)batch;
        double test_loss;
        size_t correct;
        check(dnic_net_evaluate(net, xte, yte, NULL, nte, &test_loss, &correct), "dnic_net_evaluate");
        acc = (double)correct / (double)nte;
        printf("epoch %d  train loss %.4f  test loss %.4f  test accuracy %.4f  %.0f samples/s\n", e,
               loss_sum / (double)steps, test_loss, acc, (double)samples / train_seconds);
    }
    printf("test accuracy %.4f after %d epoch(s); training %.0f samples/s\n", acc, epochs,
           (double)samples / train_seconds);
    dnic_net_free(net);
    free(order); free(yb); free(xb); free(xtr); free(xte); free(ytr); free(yte);
    return 0;
}
