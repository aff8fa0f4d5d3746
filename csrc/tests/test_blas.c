/* test_blas.c — OpenBLAS ends up on the best kernel this CPU supports with
 * no action from the user, and a kernel the user chose is respected.
 *
 * Each case runs in a child process (OpenBLAS picks its kernel once, when
 * it loads): the child sets or clears OPENBLAS_CORETYPE, then asks dnic.
 */
#define _POSIX_C_SOURCE 200809L
#include "dnic.h"
#include "child.h"
#include "harness.h"

#include <string.h>

/* Child: print "source corename coretype_set" for the given environment. */
static int child(const char *coretype) {
    if (strcmp(coretype, "-") == 0) unsetenv("OPENBLAS_CORETYPE");
    else setenv("OPENBLAS_CORETYPE", coretype, 1);
    unsetenv("DNIC_BLAS");
    dnic_blas_info_t info;
    if (dnic_blas_get_info(&info) != DNIC_OK) return 3;
    /* without any dnic_set_num_threads call, OpenBLAS uses dnic's team size */
    if (info.source != DNIC_BLAS_BUILTIN && info.threads != dnic_get_num_threads()) {
        printf("OpenBLAS threads %d, dnic threads %d\n", info.threads, dnic_get_num_threads());
        return 4;
    }
    /* the environment is left as the child found it */
    const char *after = getenv("OPENBLAS_CORETYPE");
    int env_kept = strcmp(coretype, "-") == 0 ? after == NULL : (after && strcmp(after, coretype) == 0);
    printf("%d %s %s %d\n", (int)info.source, info.corename[0] ? info.corename : "?",
           info.coretype_set[0] ? info.coretype_set : "-", env_kept);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--child") == 0) return child(argv[2]);

    char out[256];
    int source, kept;
    char core[64], set[64];

    /* 1. Nothing set: dnic chooses from cpuid and OpenBLAS runs that kernel. */
    CHECK(run_child(argv[0], "-", out, sizeof out) == 0, "child (unset) failed");
    if (sscanf(out, "%d %63s %63s %d", &source, core, set, &kept) == 4) {
        printf("unset OPENBLAS_CORETYPE -> source %d, kernel %s, dnic chose %s\n", source, core, set);
        CHECK(kept, "dnic must restore the environment after loading OpenBLAS");
        if (source == DNIC_BLAS_OPENBLAS && strcmp(set, "-") != 0)
            CHECK(strcmp(core, set) == 0, "dnic chose %s but OpenBLAS runs %s", set, core);
        if (source == DNIC_BLAS_OPENBLAS)
            CHECK(strcmp(core, "Prescott") != 0 || strcmp(set, "-") == 0,
                  "OpenBLAS fell back to its generic kernel on a CPU with %s", set);
    } else {
        CHECK(0, "unparsable child output: %s", out);
    }

    /* 2. The user's choice wins, whatever the CPU. */
    CHECK(run_child(argv[0], "Prescott", out, sizeof out) == 0, "child (Prescott) failed");
    if (sscanf(out, "%d %63s %63s %d", &source, core, set, &kept) == 4) {
        printf("OPENBLAS_CORETYPE=Prescott -> source %d, kernel %s, dnic chose %s\n", source, core, set);
        CHECK(strcmp(set, "-") == 0, "dnic overrode the user's OPENBLAS_CORETYPE with %s", set);
        CHECK(kept, "the user's OPENBLAS_CORETYPE must stay set");
        if (source == DNIC_BLAS_OPENBLAS)
            CHECK(strcmp(core, "Prescott") == 0, "user asked for Prescott, OpenBLAS runs %s", core);
    } else {
        CHECK(0, "unparsable child output: %s", out);
    }

    /* 3. DNIC_BLAS=builtin forces the portable sgemm, which is still right. */
    setenv("DNIC_BLAS", "builtin", 1);
    dnic_blas_info_t info;
    CHECK(dnic_blas_get_info(&info) == DNIC_OK && info.source == DNIC_BLAS_BUILTIN,
          "DNIC_BLAS=builtin ignored (source %d)", (int)info.source);
    for (int threads = 1; threads <= 2; threads++) {
        dnic_set_num_threads(threads);
        enum { M = 37, N = 29, K = 53 };
        float A[M * K], B[K * N], C[M * N], R[M * N];
        uint64_t rng = 4;
        for (int i = 0; i < M * K; i++) A[i] = dnic_rng_normal(&rng);
        for (int i = 0; i < K * N; i++) B[i] = dnic_rng_normal(&rng);
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                for (int i = 0; i < M * N; i++) C[i] = R[i] = 0.5f;
                dnic_sgemm(ta, tb, M, N, K, 0.7f, A, ta ? M : K, B, tb ? K : N, 0.3f, C, N);
                dnic_sgemm_ref(ta, tb, M, N, K, 0.7f, A, ta ? M : K, B, tb ? K : N, 0.3f, R, N);
                char what[64];
                snprintf(what, sizeof what, "builtin sgemm ta=%d tb=%d threads=%d", ta, tb, threads);
                CHECK_SAME(what, C, R, (size_t)M * N, 1e-4);
            }
    }
    return harness_finish("blas");
}
