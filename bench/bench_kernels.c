/* bench_kernels.c — microbenchmarks of dnic's kernels on training shapes.
 *
 * For every kernel family (sgemm, dense forward / backward, activations,
 * the network's fused bias + activation and derivative + bias-sum passes,
 * batch norm, losses, optimizer updates, gather_rows), for one training
 * step of a 784-256-256-256-10 relu network, for one step of each
 * interface kind, and for the locked DNI step of that network with and
 * without a linear cDNI after hidden layer 2 (the sg/backprop ratio beside
 * the one the interface's GEMM FLOPs predict) this program
 *   1. checks the fast kernel against its _ref twin once (max abs diff; a
 *      row whose difference exceeds the float tolerance prints MISMATCH
 *      and is not timed),
 *   2. times it: the median of several timings, each of enough calls to
 *      last at least ~20 ms (CLOCK_MONOTONIC),
 *   3. prints its rate next to a reference measured in the same run, and
 *      the ratio (a speed is a ratio to what the same machine does in the
 *      same run, never a bare time, which says nothing on another machine):
 *        GFLOP/s rows (matrix work, 2 M N K per GEMM): dnic_sgemm on
 *          exactly the same GEMM shapes, run back to back;
 *        GB/s rows (memory-bound work, bytes read + bytes written, each
 *          array counted once): a streaming copy with the same traffic,
 *          i.e. memcpy of traffic/2 bytes, the faster of 1 thread and all
 *          dnic threads; for gather_rows the copy reads the same cold
 *          60000-row source contiguously;
 *        the sgemm rows themselves: a 1024^3 dnic_sgemm, so their ratio
 *          says how well the BLAS does on the small training shapes.
 *
 * dnic's element-wise kernel families (activations, fused passes, batch
 * norm, losses, optimizer updates) and the training step run once per
 * instruction-set level the CPU has (baseline, avx2, avx512; the isa
 * column), the lower levels forced with dnic_set_isa_limit, so one run
 * shows what each level gains. Every level is checked against _ref before
 * it is timed.
 *
 * Each table ends with the CPU time other processes took meanwhile: on a
 * shared 2-core machine a busy neighbour makes 2-thread timings worthless.
 *
 * It is a benchmark, not a test, but a mismatch or an error status makes
 * it exit 1 so that `make bench` does not hide a broken kernel.
 *
 * usage: bench_kernels [--threads N] [--isa LEVEL] [--quick] [--locked-sg]
 *   default: the whole table at 1 and then at 2 threads, every level.
 *
 * Here: the machine's description, the table and the options. The rows of
 * each family of kernels, and what they share (timing, checking, the
 * references), are in bench/kernels/ (bench.h).
 */
#include "bench.h"

/* ------------------------------------------------------ machine load */

/* On a shared 2-core machine another busy process ruins 2-thread timings
 * (threads wait at barriers for a descheduled peer, in 4 ms slices), so
 * each table reports how much CPU others took meanwhile: /proc/stat's busy
 * time (steal included) minus this process's own CPU time. Linux only;
 * elsewhere nothing is printed. */
typedef struct {
    int ok;
    double wall, busy, self; /* seconds */
} load_snap;

static load_snap load_snapshot(void) {
    load_snap s = {0, 0, 0, 0};
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return s;
    int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                     &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    long tck = sysconf(_SC_CLK_TCK);
    struct timespec ts;
    if (got < 8 || tck <= 0 || clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return s;
    /* user nice system idle iowait irq softirq steal */
    s.busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)tck;
    s.self = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    s.wall = now_s();
    s.ok = 1;
    return s;
}

static void print_load(load_snap a) {
    load_snap b = load_snapshot();
    if (!a.ok || !b.ok || b.wall <= a.wall) return;
    double others = ((b.busy - a.busy) - (b.self - a.self)) / (b.wall - a.wall);
    if (others < 0) others = 0;
    printf("load: other processes kept %.2f CPUs busy during this table%s\n", others,
           others > 0.15 ? " -- timings UNRELIABLE, rerun on a quiet machine" : "");
}

/* ================================================================= main */

static const char *blas_source_name(dnic_blas_source s) {
    switch (s) {
    case DNIC_BLAS_OPENBLAS: return "OpenBLAS (dlopen by dnic)";
    case DNIC_BLAS_PRELOADED: return "OpenBLAS (already in the process)";
    case DNIC_BLAS_GENERIC: return "generic CBLAS";
    case DNIC_BLAS_BUILTIN: return "dnic built-in sgemm";
    }
    return "unknown";
}

static void print_blas_info(void) {
    dnic_blas_info_t info;
    memset(&info, 0, sizeof info);
    dnic_status s = dnic_blas_get_info(&info);
    printf("dnic %s, OpenMP %s\n", dnic_version(), dnic_has_openmp() ? "yes" : "no");
    if (s != DNIC_OK) {
        printf("BLAS: dnic_blas_get_info failed: %s\n", dnic_status_str(s));
        return;
    }
    printf("BLAS: %s, library \"%s\", corename \"%s\"\n", blas_source_name(info.source),
           info.library, info.corename);
    printf("      OPENBLAS_CORETYPE env \"%s\", set by dnic \"%s\"%s\n", info.coretype_env,
           info.coretype_set,
           info.coretype_env[0] ? " (preset by the caller: dnic's cpuid choice was skipped)" : "");
    if (info.config[0]) printf("      config \"%s\"\n", info.config);
}

static int locked_sg_only; /* --locked-sg: that family alone */

static void run_table(int threads) {
    dnic_status s = dnic_set_num_threads(threads);
    if (s != DNIC_OK) {
        printf("dnic_set_num_threads(%d): %s\n", threads, dnic_status_str(s));
        n_failed++;
        return;
    }
    dnic_blas_info_t info;
    memset(&info, 0, sizeof info);
    dnic_blas_get_info(&info);
    printf("\n== threads %d (dnic loops %d, BLAS %d) ==\n", threads, dnic_get_num_threads(),
           info.threads);
    print_header();
    load_snap load = load_snapshot();
    if (locked_sg_only) {
        row_isa = dnic_isa_name(dnic_get_isa());
        bench_locked_sg();
        print_load(load);
        return;
    }
    bench_sgemm();
    bench_dense_forward();
    bench_dense_backward();
    /* dnic's element-wise kernels, and a whole training step, at each
     * instruction-set level (lower ones forced): the rows of one family
     * at baseline, then avx2, then avx512 */
    void (*per_isa[])(void) = {bench_activations, bench_fused, bench_batchnorm, bench_losses, bench_optimizers,
                               bench_train_step};
    dnic_isa_info_t isa;
    dnic_isa_get_info(&isa);
    for (size_t f = 0; f < sizeof per_isa / sizeof per_isa[0]; f++)
        for (int l = DNIC_ISA_BASELINE; l <= (int)isa.cpu; l++) {
            if (isa_only >= 0 && l != isa_only) continue;
            dnic_set_isa_limit(l);
            row_isa = dnic_isa_name((dnic_isa)l);
            per_isa[f]();
        }
    dnic_set_isa_limit(isa_only >= 0 ? isa_only : (int)isa.limit);
    row_isa = "-"; /* glibc's memcpy picks its own instructions */
    bench_gather();
    row_isa = dnic_isa_name(dnic_get_isa());
    bench_interfaces();
    bench_locked_sg();
    row_isa = "-";
    print_load(load);
}

static void usage(FILE *f) {
    fprintf(f, "usage: bench_kernels [--threads N] [--isa LEVEL] [--quick] [--locked-sg]\n"
               "  --threads N  run the table at N threads only (default: 1, then 2)\n"
               "  --isa LEVEL  dnic's element-wise kernels at baseline, avx2 or avx512 only\n"
               "               (default: every level the CPU runs)\n"
               "  --quick      shorter and fewer timings\n"
               "  --locked-sg  only the locked DNI step, backprop and sg (W1, batch 64 and 256)\n");
}

int main(int argc, char **argv) {
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--locked-sg") == 0) {
            locked_sg_only = 1;
        } else if (strcmp(argv[i], "--quick") == 0) {
            opt.min_timing = 0.010;
            opt.n_timings = 5;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1024) {
                fprintf(stderr, "bench_kernels: --threads needs an integer >= 1\n");
                return 2;
            }
            threads = (int)v;
        } else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            dnic_isa level;
            if (dnic_isa_from_name(argv[++i], &level) != DNIC_OK) {
                fprintf(stderr, "bench_kernels: --isa needs baseline, avx2 or avx512\n");
                return 2;
            }
            isa_only = (int)level;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    gemm_a = falloc(GEMM_BUF_FLOATS);
    gemm_b = falloc(GEMM_BUF_FLOATS);
    gemm_c = falloc(GEMM_BUF_FLOATS);
    memset(gemm_c, 0, GEMM_BUF_FLOATS * sizeof(float));

    print_blas_info();
    dnic_isa_info_t isa;
    dnic_isa_get_info(&isa);
    printf("dnic element-wise kernels: CPU level %s, cap %s (%s)\n", dnic_isa_name(isa.cpu),
           dnic_isa_name(isa.limit), isa.reason);
    if (isa_only > (int)isa.cpu)
        printf("--isa %s: this CPU does not run it; those rows are skipped\n", dnic_isa_name((dnic_isa)isa_only));
    printf("timing: median of %d timings, each >= %.0f ms; GFLOP/s counts 2MNK per GEMM,\n"
           "GB/s counts bytes read + written; ratio = rate / ref_rate (see the file head)\n",
           opt.n_timings, opt.min_timing * 1e3);
    if (threads) {
        run_table(threads);
    } else {
        run_table(1);
        run_table(2);
    }
    free(gemm_a), free(gemm_b), free(gemm_c);
    if (n_failed) printf("\n%d row(s) failed (MISMATCH or ERROR)\n", n_failed);
    return n_failed ? 1 : 0;
}
