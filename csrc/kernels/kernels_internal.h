/* kernels_internal.h — the kernel floor's internals: the instruction-set
 * variants element-wise kernels are compiled in (and the float math they
 * use), how threads share a pass, and the calls the network and the
 * interfaces make into kernels beyond the API. Not installed. */
#ifndef DNIC_KERNELS_INTERNAL_H
#define DNIC_KERNELS_INTERNAL_H

#include "base/internal.h"

/* ------------------------------------------------ instruction-set variants
 *
 * The library is compiled for baseline x86-64 (SSE2): -march=native would
 * SIGILL on older CPUs. Element-wise kernels are therefore written once, as
 * an always-inline body whose first parameter is the ISA level (a
 * compile-time constant after inlining), and DNIC_ISA_VARIANTS compiles
 * that body three times: for baseline, for AVX2+FMA and for AVX-512
 * (F/BW/DQ/VL), each with its target attribute. A kernel picks its variant
 * with dnic__isa() (isa.c: cpuid + xgetbv, capped by $DNIC_ISA and
 * dnic_set_isa_limit). Variants hold no OpenMP: the caller's parallel loop
 * calls them on its share, so threads split the work the same way at
 * every level and no outlined OpenMP body has to inherit a target.
 * Checked with objdump: gcc 12 and clang 21 (generic tuning) both emit
 * 512-bit zmm code in the avx512 variants, so no prefer-vector-width
 * setting is needed. */

/* isa.c: the level kernels run at now (a dnic_isa value); for tests, the
 * level of the variant DNIC_ISA_VARIANTS dispatches to at that level */
int dnic__isa(void);
int dnic__isa_probe(void);

/* Kernel bodies must be inlined into each variant: a body compiled once,
 * outside the variants, would run baseline code at every level. */
#if defined(__GNUC__) || defined(__clang__)
#  define DNIC_INLINE static inline __attribute__((always_inline))
#  define DNIC_FMAF __builtin_fmaf
#else
#  define DNIC_INLINE static inline
#  define DNIC_FMAF fmaf
#endif

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#  define DNIC_X86_VARIANTS 1
#  define DNIC_TARGET_AVX2 __attribute__((target("avx2,fma")))
#  define DNIC_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
/* defines name_isa[3]: name_body(level, ...) compiled per level */
#  define DNIC_ISA_VARIANTS(name, params, ...)                                            \
    static void name##_baseline params { name##_body(DNIC_ISA_BASELINE, __VA_ARGS__); }       \
    DNIC_TARGET_AVX2 static void name##_avx2 params { name##_body(DNIC_ISA_AVX2, __VA_ARGS__); } \
    DNIC_TARGET_AVX512 static void name##_avx512 params { name##_body(DNIC_ISA_AVX512, __VA_ARGS__); } \
    static void (*const name##_isa[3]) params = {name##_baseline, name##_avx2, name##_avx512}
#else
#  define DNIC_ISA_VARIANTS(name, params, ...)                                            \
    static void name##_baseline params { name##_body(DNIC_ISA_BASELINE, __VA_ARGS__); }       \
    static void (*const name##_isa[3]) params = {name##_baseline, name##_baseline, name##_baseline}
#endif

/* a * b + c, fused (one rounding) in the variants that have FMA; baseline
 * x86-64 has no FMA instruction and fmaf would be a library call. */
#define DNIC_MADD(L, a, b, c) ((L) >= DNIC_ISA_AVX2 ? DNIC_FMAF((a), (b), (c)) : (a) * (b) + (c))

/* ---------------------------------------- float math for the variants
 * libm's expf/tanhf/log1pf are scalar calls, so loops using them do not
 * vectorise; these are straight-line code, accurate to a few float ulps,
 * with the level L of the variant they are compiled into. */

/* exp: x = n ln2 + r with |r| <= ln2/2, e^r by its
 * degree-6 Taylor polynomial (relative error < 2e-7), 2^n built in the
 * exponent bits. Inputs are clamped to the normal range of float; NaN
 * passes through. */
DNIC_INLINE float dnic__expf(int L, float x) {
    x = x > 88.3f ? 88.3f : x;
    x = x < -87.0f ? -87.0f : x;
    /* round to nearest by adding and removing 1.5 * 2^23 (plain SSE2; floorf
     * is a library call on baseline x86-64) */
    float big = DNIC_MADD(L, x, 1.44269504088896341f, 12582912.0f), n = big - 12582912.0f;
    float r = DNIC_MADD(L, -n, 0.693145751953125f, x);
    r = DNIC_MADD(L, -n, 1.428606765330187045e-06f, r);
    float p = 1.0f / 720;
    p = DNIC_MADD(L, p, r, 1.0f / 120);
    p = DNIC_MADD(L, p, r, 1.0f / 24);
    p = DNIC_MADD(L, p, r, 1.0f / 6);
    p = DNIC_MADD(L, p, r, 0.5f);
    p = DNIC_MADD(L, p, r, 1.0f);
    p = DNIC_MADD(L, p, r, 1.0f);
    /* 2^n from the bits of big = n + 1.5 * 2^23, whose low mantissa bits
     * hold n: unsigned arithmetic, so a NaN (whose result is NaN anyway,
     * through p) makes no float-to-int overflow nor a shift of a negative */
    union { uint32_t u; float f; } t, two_n;
    t.f = big;
    two_n.u = (t.u + (127u - 0x4b400000u)) << 23;
    return p * two_n.f;
}

DNIC_INLINE float dnic__sigmoidf(int L, float x) { return 1.0f / (1.0f + dnic__expf(L, -x)); }

/* tanh|x| = (1 - e^{-2|x|}) / (1 + e^{-2|x|}), which cancels for small |x|:
 * there the odd Taylor series is exact to float precision. */
DNIC_INLINE float dnic__tanhf(int L, float x) {
    float a = fabsf(x), t = dnic__expf(L, -2.0f * a);
    float big = (1.0f - t) / (1.0f + t);
    float x2 = x * x;
    float q = DNIC_MADD(L, x2, -17.0f / 315, 2.0f / 15);
    q = DNIC_MADD(L, x2, q, -1.0f / 3);
    float small = a * DNIC_MADD(L, x2, q, 1.0f);
    float y = a < 0.125f ? small : big;
    return x < 0.0f ? -y : y;
}

/* log(1 + x) for x >= 0 in straight-line code (+inf and NaN pass
 * through): 1 + x = 2^k m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh s,
 * s = f / (2 + f), f = m - 1, by its odd series (|s| <= 0.172: six terms
 * reach float precision). While 1 + x < sqrt(2), f = x exactly, so a small
 * x keeps its relative precision (a loss near 0 stays accurate). */
DNIC_INLINE float dnic__log1pf(int L, float x) {
    union { float f; uint32_t u; } u;
    u.f = 1.0f + x;
    int32_t k = (int32_t)(u.u - 0x3f3504f3u) >> 23; /* 0x3f3504f3 = sqrt(1/2) */
    u.u -= (uint32_t)k << 23;                       /* m = (1 + x) / 2^k */
    float f = k == 0 ? x : u.f - 1.0f;
    float s = f / (2.0f + f), s2 = s * s;
    float q = DNIC_MADD(L, s2, 1.0f / 11, 1.0f / 9);
    q = DNIC_MADD(L, s2, q, 1.0f / 7);
    q = DNIC_MADD(L, s2, q, 1.0f / 5);
    q = DNIC_MADD(L, s2, q, 1.0f / 3);
    q = DNIC_MADD(L, s2, q, 1.0f);
    float kf = (float)k;
    float y = DNIC_MADD(L, kf, 0.693145751953125f, DNIC_MADD(L, kf, 1.428606765330187045e-06f, 2.0f * s * q));
    return x <= 3.4e38f ? y : x;
}

/* Thread k of n gets [lo, hi) of [0, total), boundaries on multiples of
 * `align`. */
static inline void dnic__share(size_t total, int n, int k, size_t align, size_t *lo, size_t *hi) {
    size_t units = (total + align - 1) / align;
    size_t a = units * (size_t)k / (size_t)n * align, b = units * (size_t)(k + 1) / (size_t)n * align;
    *lo = a < total ? a : total;
    *hi = b < total ? b : total;
}

/* The same for the floats [0, total) of an array the threads WRITE, at
 * `base`: boundaries on its 64-byte cache lines, so no line has two
 * writers. Applied to the columns of a row-major (rows, total) array it
 * keeps every row's boundary on a line when total is a multiple of 16
 * (measured: column halves sharing a line in each of 256 rows ran a
 * 2-thread pass at 0.6x the speed of one thread). */
static inline void dnic__share_lines(const float *base, size_t total, int n, int k, size_t *lo, size_t *hi) {
    size_t shift = (size_t)((uintptr_t)base / sizeof(float) % 16), a, b;
    dnic__share(total + shift, n, k, 16, &a, &b);
    a = a > shift ? a - shift : 0;
    b = b > shift ? b - shift : 0;
    *lo = a < total ? a : total;
    *hi = b < total ? b : total;
}

/* Column reductions of a row-major (B, C) pass (bias gradients, batch-norm
 * statistics) run over DNIC_ROW_GROUPS fixed groups of rows, each summed
 * in row order into its own partial, then the partials in group order:
 * the grouping depends on B alone, so the sums are the same at every
 * thread count. Threads take whole groups, i.e. contiguous rows: splitting
 * the columns instead (each thread half of every row) was measured slower
 * on 2 threads than on one, the cores fighting over each other's lines.
 * Columns go DNIC_GROUP_COLS at a time (partials on the stack). */
#define DNIC_ROW_GROUPS 4
#define DNIC_GROUP_COLS 512
static inline int dnic__row_groups(int B) { return B < DNIC_ROW_GROUPS ? B : DNIC_ROW_GROUPS; }
static inline int dnic__group_row(int B, int groups, int g) { return (int)((int64_t)B * g / groups); }

/* ---- calls into the kernels beyond the API */

/* finite.c: 1 if every value is finite; sum of squares in double; x *= s */
int dnic__all_finite(const float *x, size_t n);
double dnic__sum_squares(const float *x, size_t n);
void dnic__scale(float *x, size_t n, float s);

/* optim.c: one update of n values, finiteness checked in the same pass */
int dnic__update_checked(const dnic_optim_config *c, float *p, float *m, float *v, const float *g, size_t n,
                         float l2, int64_t t);

/* optim.c: one optimizer step over a tensor table (net and interfaces);
 * each group's rate from its schedule (sched[g], lr_schedule.c) at `step` */
int dnic__update_tensors(const dnic_tensor_info *tensors, int n_tensors, float *params, float *grads,
                         float *moment1, float *moment2, const dnic_optim_config *opt,
                         const dnic_lr_schedule *sched, int n_groups, float clip, int64_t step, float *norm_out,
                         int *grad_was_bad);

/* activation.c fused kernels (see there) */
void dnic__bias_act_forward(dnic_activation act, float *h, const float *b, int B, int C);
void dnic__act_backward_colsum(dnic_activation act, float *gz, float *db, const float *gh, const float *h,
                               int B, int C);

/* sg_passes.c: a linear interface's element-wise passes (see there), on
 * rows [r0, r1), values [lo, hi) or columns [c0, c1); the caller splits
 * the work between threads */
void dnic__sg_add_rows(float *s, const float *bias, const float *Bm, const int32_t *labels, int r0, int r1, int dout);
double dnic__sg_loss(int l2, float *delta, const float *s, const float *g, size_t lo, size_t hi, float fb,
                     float inv_b);
void dnic__sg_bias_label_grads(float *dC, float *dB, const int32_t *labels, const float *delta, int B, int dout,
                               int c0, int c1);
void dnic__sg_scale(float *dst, const float *s, size_t lo, size_t hi, float inv_b);

/* rng.c: the starting state of layer `layer`'s initialisation stream */
uint64_t dnic__layer_stream(uint64_t seed, int layer);

#endif
