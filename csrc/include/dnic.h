/* dnic.h — the whole public C API of dnic's numerical core.
 *
 * dnic trains feed-forward networks whose blocks may be joined by decoupled
 * neural interfaces (synthetic gradients). This header is C99, depends only
 * on <stddef.h> and <stdint.h>, and is usable from C, C++, Swift (module
 * map beside it) and any language with a C FFI (Python ctypes, ...).
 *
 * Conventions
 *  - Everything is prefixed dnic_ / DNIC_; opaque handles are dnic_*_t.
 *  - Buffers are caller-owned, float32, row-major; shapes are given in the
 *    comments as (rows, cols). Kernels allocate nothing.
 *  - Every backward kernel ACCUMULATES (+=) into its gradient outputs; zero
 *    them first (dnic_net_zero_grad does it for a network).
 *  - Functions that can fail return dnic_status; kernels that cannot fail
 *    return void. The core never prints and never exits.
 *  - Each fast kernel has a plain-loop twin with the suffix _ref, kept for
 *    tests and benchmarks.
 *  - Randomness comes from an explicit uint64_t state seeded by the caller;
 *    the same seed and thread count give the same numbers.
 *  - Lifetimes: a DNI trainer borrows its network, a pipeline its DNI.
 *    Free them in any order: a handle freed while something built on it
 *    lives is released together with the last of those (the network with
 *    its last DNI, the DNI with its pipeline), and until then what was
 *    built on it keeps working. Handles an object hands out
 *    (dnic_dni_iface, dnic_pipe_block_net) are its own: freeing one does
 *    nothing. After a free the caller must not use that handle again;
 *    freeing it twice is undefined, as for free().
 *  - Layer numbering, the one every function here uses: layers are 0-based
 *    from the input. Layer l is the l-th dense layer above the input; its
 *    output (after batch norm and activation) is activation l, h_l; the
 *    output layer is n_layers-1 and its activation is the output p. An
 *    interface "on layer l" reads h_l and sends its signal to layers 0..l.
 *    The CLI's --sg-at k counts hidden layers from 1: it is layer k-1 here.
 *    The one exception, kept for compatibility, is dnic_dni_iface(i),
 *    whose i counts interfaces from the top; dnic_dni_iface_at_layer takes
 *    the layer instead.
 *  - Errors in detail: after a call returns anything but DNIC_OK,
 *    dnic_last_error() says why in one line naming the function, the
 *    argument, the value and what is allowed (see "status" below).
 *  - Binary compatibility: call DNIC_CHECK_ABI() once before anything
 *    else when the header you compiled against and the library loaded may
 *    differ (a language binding, a plug-in) ("ABI" below).
 *
 * OpenBLAS kernel selection: libdnic does not link OpenBLAS at load time.
 * At the first call that needs BLAS it sets OPENBLAS_CORETYPE from cpuid
 * (only if the variable is unset: AVX-512 F/BW/DQ/VL -> SkylakeX, or
 * Cooperlake with AVX-512 BF16; AVX2+FMA -> Haswell) and then dlopen()s
 * libopenblas.so.0, so Debian's DYNAMIC_ARCH OpenBLAS cannot fall back to
 * its generic kernels on CPUs it does not know. A program that links
 * -lopenblas itself (or imports numpy first) has OpenBLAS initialised before
 * dnic runs: dnic then uses that copy and dnic_blas_get_info says so. If no
 * BLAS can be loaded, a portable built-in sgemm is used (correct, slower).
 */
#ifndef DNIC_H
#define DNIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(DNIC_BUILD_SHARED)
#  define DNIC_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#  define DNIC_API __attribute__((visibility("default")))
#else
#  define DNIC_API
#endif

#define DNIC_VERSION_MAJOR 0
#define DNIC_VERSION_MINOR 1
#define DNIC_VERSION_PATCH 0
#define DNIC_VERSION "0.1.0"

/* Returns DNIC_VERSION of the library actually linked. */
DNIC_API const char *dnic_version(void);

/* ------------------------------------------------------------------ status */

typedef enum {
    DNIC_OK = 0,
    DNIC_ERR_NULL = 1,          /* a required pointer was NULL */
    DNIC_ERR_SIZE = 2,          /* a size or count was zero, negative or absurd */
    DNIC_ERR_ARG = 3,           /* an enum value or setting is out of range */
    DNIC_ERR_BATCH_TOO_LARGE = 4, /* batch exceeds the network's max_batch */
    DNIC_ERR_NOMEM = 5,         /* allocation failed */
    DNIC_ERR_LABEL = 6,         /* a label is outside [0, classes), or a target outside what its loss takes */
    DNIC_ERR_NONFINITE = 7,     /* a NaN or infinity was produced or given */
    DNIC_ERR_STATE = 8,         /* call out of order (e.g. backward before forward) */
    DNIC_ERR_UNAVAILABLE = 9,   /* the library this needs cannot be loaded here */
    DNIC_ERR_PEER = 10,         /* another process of the run (an MPI rank) failed, disagrees or went silent */
    DNIC_ERR_ABI = 11           /* the caller was compiled against another layout of the API (dnic_check_abi) */
    /* new values are only ever added at the end */
} dnic_status;

/* A short static English description; never NULL. */
DNIC_API const char *dnic_status_str(dnic_status s);

/* ------------------------------------------------------------- last error */

/* The detail of the last call ON THIS THREAD that returned a status other
 * than DNIC_OK: one line, at most DNIC_LAST_ERROR_MAX - 1 bytes, naming
 * the function, the argument, its value and what is allowed, e.g.
 *   "dnic_net_create: layers[3].act = 7 is not a dnic_activation (0..3)".
 * errno-style: a failing call sets it, a successful call leaves it as it
 * was, so read it right after the call that failed (it is "" until a call
 * on this thread fails). A failure inside a call another one made for you
 * may name the inner function (dnic_net_train_step's batch check is
 * dnic_net_forward's). Never NULL; the pointer is the thread's own buffer,
 * valid for the thread's life, overwritten by its next failure. Each
 * thread has its own (thread-local storage; the core never prints it). */
#define DNIC_LAST_ERROR_MAX 512
DNIC_API const char *dnic_last_error(void);

/* --------------------------------------------------------------------- ABI */

/* Bumped whenever a public struct or enum changes layout or meaning, or a
 * function's signature changes (DNIC_VERSION follows releases). */
#define DNIC_ABI_VERSION 1

/* The DNIC_ABI_VERSION the library was built with. */
DNIC_API int dnic_abi_version(void);

/* Checks that the caller was compiled against the same API as the library:
 * abi_version first (any other -> DNIC_ERR_ABI, and no size is read, so
 * callers of another version may pass anything after it), then the size of
 * every public struct a caller allocates, in the order below. A mismatch
 * -> DNIC_ERR_ABI with dnic_last_error() naming the struct and both sizes.
 * Use DNIC_CHECK_ABI(), which passes what the caller's compiler saw; a
 * binding (cffi, ctypes) passes its own sizeof of each struct. */
DNIC_API dnic_status dnic_check_abi(int abi_version, size_t sizeof_layer_desc, size_t sizeof_net_desc,
                                    size_t sizeof_optim_config, size_t sizeof_iface_desc,
                                    size_t sizeof_tensor_info, size_t sizeof_softmax_probe_config,
                                    size_t sizeof_softmax_probe_info, size_t sizeof_blas_info,
                                    size_t sizeof_gemm_info, size_t sizeof_isa_info);
#define DNIC_CHECK_ABI()                                                                              \
    dnic_check_abi(DNIC_ABI_VERSION, sizeof(dnic_layer_desc), sizeof(dnic_net_desc),                 \
                   sizeof(dnic_optim_config), sizeof(dnic_iface_desc), sizeof(dnic_tensor_info),     \
                   sizeof(dnic_softmax_probe_config), sizeof(dnic_softmax_probe_info),               \
                   sizeof(dnic_blas_info_t), sizeof(dnic_gemm_info_t), sizeof(dnic_isa_info_t))

/* ----------------------------------------------------------------- threads */

/* Sets the thread count of dnic's OpenMP loops AND of the GEMM backends
 * (oneDNN, OpenBLAS) together. dnic never calls a GEMM from inside its own
 * parallel regions, so the two never oversubscribe the cores. n < 1 -> DNIC_ERR_SIZE. Also turns on
 * flush-to-zero / denormals-are-zero in every thread of the new team. */
DNIC_API dnic_status dnic_set_num_threads(int n);
/* The thread count dnic's loops use (1 in a build without OpenMP). */
DNIC_API int dnic_get_num_threads(void);
/* 1 if this build of the library has OpenMP, else 0. */
DNIC_API int dnic_has_openmp(void);
/* Turns on FTZ/DAZ in every thread of the current team (x86 SSE; a no-op
 * elsewhere). dnic_set_num_threads and dnic_net_create call it. */
DNIC_API void dnic_enable_flush_to_zero(void);

/* -------------------------------------------------------------------- BLAS */

typedef enum {
    DNIC_BLAS_OPENBLAS = 0,  /* OpenBLAS loaded by dnic (dlopen) */
    DNIC_BLAS_PRELOADED = 1, /* OpenBLAS already in the process before dnic */
    DNIC_BLAS_GENERIC = 2,   /* another CBLAS (cblas_sgemm only) */
    DNIC_BLAS_BUILTIN = 3    /* no BLAS found: dnic's portable sgemm */
} dnic_blas_source;

typedef struct {
    dnic_blas_source source;
    char library[256];   /* path or soname that was loaded, "" for builtin */
    char corename[64];   /* OpenBLAS kernel in use, e.g. "SkylakeX" */
    char config[256];    /* openblas_get_config(), "" if unknown */
    char coretype_env[64]; /* OPENBLAS_CORETYPE as dnic found it ("" = unset) */
    char coretype_set[64]; /* what dnic chose from cpuid ("" = nothing set) */
    int threads;         /* OpenBLAS thread count (1 for builtin) */
} dnic_blas_info_t;

/* Loads BLAS if not done yet and describes it. */
DNIC_API dnic_status dnic_blas_get_info(dnic_blas_info_t *info);

/* -------------------------------------------------------------------- GEMM */

/* Which library computes dnic_sgemm. At the first GEMM dnic chooses, in
 * order: $DNIC_GEMM if set ("onednn", "openblas" or "builtin"), else oneDNN
 * when libdnnl.so.2 loads (it picks its kernels from the CPU's instruction
 * sets, so it runs AVX-512 where OPENBLAS_CORETYPE pins OpenBLAS to AVX2),
 * else OpenBLAS or another CBLAS (see BLAS above), else the portable
 * built-in sgemm. None is linked at build time. DNIC_BLAS=builtin (below)
 * still means the built-in sgemm when DNIC_GEMM is unset. Results differ
 * between backends in the last bits; with the same backend, seed and
 * thread count they are identical. */
typedef enum {
    DNIC_GEMM_ONEDNN = 0,   /* oneDNN's dnnl_sgemm */
    DNIC_GEMM_OPENBLAS = 1, /* OpenBLAS or another CBLAS's cblas_sgemm */
    DNIC_GEMM_BUILTIN = 2   /* dnic's portable sgemm */
} dnic_gemm_backend;

typedef struct {
    dnic_gemm_backend backend;
    char name[32];      /* "onednn", "openblas", "builtin" */
    char library[256];  /* what was loaded ("" for builtin) */
    char version[32];   /* e.g. "2.6.3" for oneDNN; "" if unknown */
    char isa[64];       /* instruction set its kernels use: oneDNN's effective
                           ISA ("avx512_core_bf16"), OpenBLAS's core name */
    char reason[256];   /* why this backend: "DNIC_GEMM=openblas", "oneDNN
                           loaded", or why a preferred one was passed over */
    int threads;        /* threads its GEMMs use */
} dnic_gemm_info_t;

/* Chooses the backend if not done yet and describes it. */
DNIC_API dnic_status dnic_gemm_get_info(dnic_gemm_info_t *info);
/* Switches dnic_sgemm to `backend` (loading it if needed) for every later
 * call in the process; not while another thread is in a GEMM.
 * DNIC_ERR_UNAVAILABLE when its library cannot be loaded (the current
 * backend stays), DNIC_ERR_ARG for an unknown value. */
DNIC_API dnic_status dnic_set_gemm_backend(dnic_gemm_backend backend);
/* 1 if `backend` can run in this process (its library loads), else 0. */
DNIC_API int dnic_gemm_available(dnic_gemm_backend backend);

/* C = alpha * op(A) op(B) + beta * C, row-major, through the GEMM backend.
 * op(A) is (M,K), op(B) is (K,N), C is (M,N); lda/ldb/ldc are row strides.
 * Never call it from inside an OpenMP parallel region. */
DNIC_API void dnic_sgemm(int trans_a, int trans_b, int M, int N, int K,
                         float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc);
/* Plain triple loop with double accumulation; the reference for the above. */
DNIC_API void dnic_sgemm_ref(int trans_a, int trans_b, int M, int N, int K,
                             float alpha, const float *A, int lda,
                             const float *B, int ldb, float beta, float *C, int ldc);

/* Measured FMA peak in GFLOP/s with dnic's thread count: independent
 * fused-multiply-add chains on the widest vectors the CPU supports (AVX-512,
 * AVX2+FMA, else scalar; *isa names it). A benchmark reference. */
DNIC_API double dnic_measure_fma_peak(double seconds, const char **isa);

/* --------------------------------------------------------------------- rng */

/* splitmix64: returns the next 64 random bits and advances *state. */
DNIC_API uint64_t dnic_rng_next(uint64_t *state);
/* Uniform in [0, 1). */
DNIC_API float dnic_rng_uniform(uint64_t *state);
/* Standard normal (Box-Muller). */
DNIC_API float dnic_rng_normal(uint64_t *state);
/* Fisher-Yates shuffle of idx[0..n). NULL idx with n > 0 -> DNIC_ERR_NULL. */
DNIC_API dnic_status dnic_shuffle(int32_t *idx, size_t n, uint64_t *state);

/* ---------------------------------------------------------- initialisation */

typedef enum {
    DNIC_INIT_GLOROT_UNIFORM = 0, /* U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */
    DNIC_INIT_GLOROT_NORMAL = 1,  /* N(0, 2 / (fan_in + fan_out)) */
    DNIC_INIT_HE_UNIFORM = 2,     /* U(-a, a), a = sqrt(6 / fan_in) */
    DNIC_INIT_HE_NORMAL = 3,      /* N(0, 2 / fan_in) */
    DNIC_INIT_ZERO = 4            /* all zeros (e.g. a synthetic-gradient output layer) */
} dnic_init;

/* W is (fan_in, fan_out). */
DNIC_API dnic_status dnic_init_weights(float *W, int fan_in, int fan_out,
                                       dnic_init kind, uint64_t *state);

/* ------------------------------------------------------------ dense layer */

/* out = in W + b.  in (B,I), W (I,O), b (O) or NULL, out (B,O). */
DNIC_API void dnic_dense_forward(float *out, const float *in, const float *W,
                                 const float *b, int B, int I, int O);
DNIC_API void dnic_dense_forward_ref(float *out, const float *in, const float *W,
                                     const float *b, int B, int I, int O);
/* din += dout W^T; dW += in^T dout; db += sum_rows(dout).
 * dout (B,O), in (B,I), W (I,O); din (B,I), dW (I,O), db (O): each may be NULL. */
DNIC_API void dnic_dense_backward(float *din, float *dW, float *db, const float *dout,
                                  const float *in, const float *W, int B, int I, int O);
DNIC_API void dnic_dense_backward_ref(float *din, float *dW, float *db, const float *dout,
                                      const float *in, const float *W, int B, int I, int O);

/* ------------------------------------------------------------- activation */

typedef enum {
    DNIC_ACT_IDENTITY = 0,
    DNIC_ACT_RELU = 1,
    DNIC_ACT_SIGMOID = 2,
    DNIC_ACT_TANH = 3
} dnic_activation;

/* out = act(in), n elements; out may equal in. */
DNIC_API void dnic_act_forward(dnic_activation act, float *out, const float *in, size_t n);
DNIC_API void dnic_act_forward_ref(dnic_activation act, float *out, const float *in, size_t n);
/* din += dout * act'(.), with the derivative computed from the forward
 * OUTPUT out (relu: out > 0; sigmoid: out (1 - out); tanh: 1 - out^2). */
DNIC_API void dnic_act_backward(dnic_activation act, float *din, const float *dout,
                                const float *out, size_t n);
DNIC_API void dnic_act_backward_ref(dnic_activation act, float *din, const float *dout,
                                    const float *out, size_t n);

/* -------------------------------------------------------------- batch norm */

/* Training mode over a batch: per channel c,
 *   mean_c, var_c = batch statistics (biased var), invstd_c = 1/sqrt(var_c + eps)
 *   xhat = (in - mean) invstd;  out = gamma xhat + beta
 *   run_mean = (1 - momentum) run_mean + momentum mean
 *   run_var  = (1 - momentum) run_var  + momentum var * B/(B-1)   (unbiased)
 * in, out, xhat (B,C); gamma, beta, mean, invstd, run_mean, run_var (C).
 * run_mean / run_var may be NULL (statistics not tracked). B >= 1. */
DNIC_API void dnic_batchnorm_forward_train(float *out, float *xhat, float *mean, float *invstd,
                                           float *run_mean, float *run_var, const float *in,
                                           const float *gamma, const float *beta,
                                           int B, int C, float momentum, float eps);
DNIC_API void dnic_batchnorm_forward_train_ref(float *out, float *xhat, float *mean, float *invstd,
                                               float *run_mean, float *run_var, const float *in,
                                               const float *gamma, const float *beta,
                                               int B, int C, float momentum, float eps);
/* Evaluation mode: out = gamma (in - run_mean) / sqrt(run_var + eps) + beta. */
DNIC_API void dnic_batchnorm_forward_eval(float *out, const float *in, const float *gamma,
                                          const float *beta, const float *run_mean,
                                          const float *run_var, int B, int C, float eps);
DNIC_API void dnic_batchnorm_forward_eval_ref(float *out, const float *in, const float *gamma,
                                              const float *beta, const float *run_mean,
                                              const float *run_var, int B, int C, float eps);
/* Backward of training mode: din += ..., dgamma += sum(dout xhat), dbeta += sum(dout).
 * din, dgamma, dbeta may be NULL. */
DNIC_API void dnic_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                                      const float *xhat, const float *invstd, const float *gamma,
                                      int B, int C);
DNIC_API void dnic_batchnorm_backward_ref(float *din, float *dgamma, float *dbeta, const float *dout,
                                          const float *xhat, const float *invstd, const float *gamma,
                                          int B, int C);

/* ------------------------------------------------------------------ losses */

typedef enum {
    DNIC_LOSS_MSE = 0,        /* L_i = 1/2 sum_k (p_ik - t_ik)^2 */
    DNIC_LOSS_SOFTMAX_CE = 1, /* L_i = -log softmax(p_i)[y_i] (log-sum-exp, stable) */
    DNIC_LOSS_LOGISTIC = 2    /* L_i = sum_k log(1 + e^p) - t p  (sigmoid + log loss) */
} dnic_loss;

/* Per-example loss averaged over the batch, and its gradient.
 *   p (B,K) outputs; dp (B,K) receives d(mean loss)/dp (overwritten, not
 *   accumulated: a loss is where gradients start); dp may be NULL.
 *   Targets: either `targets` (B,K) floats, or, when targets is NULL,
 *   `labels` (B) class indices, meaning one-hot targets, or for K == 1
 *   the target value t = label (0 or 1). Softmax CE needs K >= 2.
 *   What each loss takes as float targets: MSE any finite value;
 *   logistic probabilities in [0, 1]; softmax CE finite weights >= 0
 *   (rows of probabilities: one-hot or soft labels; a row's sum scales
 *   its example's loss and gradient). Outside that a loss has no minimum:
 *   it falls without bound, below 0.
 *   *loss_out = mean over the batch (may be NULL).
 * Errors: DNIC_ERR_LABEL for a label outside [0, K) ([0, 1] when K == 1)
 * or a float target the loss does not take (nothing written),
 * DNIC_ERR_NONFINITE if the loss is not finite. */
DNIC_API dnic_status dnic_loss_forward_backward(dnic_loss kind, float *loss_out, float *dp,
                                                const float *p, const int32_t *labels,
                                                const float *targets, int B, int K);
DNIC_API dnic_status dnic_loss_forward_backward_ref(dnic_loss kind, float *loss_out, float *dp,
                                                    const float *p, const int32_t *labels,
                                                    const float *targets, int B, int K);
/* Number of correct predictions: argmax for K >= 2; p > 0 (i.e. sigmoid > 1/2
 * or regression output above 1/2 for MSE) for K == 1 against labels 0/1. */
DNIC_API size_t dnic_count_correct(dnic_loss kind, const float *p, const int32_t *labels,
                                   int B, int K);

/* -------------------------------------------------------------- optimizers */

typedef enum {
    DNIC_OPT_SGD = 0,
    DNIC_OPT_MOMENTUM = 1,
    DNIC_OPT_ADAM = 2
} dnic_optimizer;

typedef struct {
    dnic_optimizer kind;
    float lr;        /* learning rate, > 0 */
    float momentum;  /* MOMENTUM: velocity decay, in [0, 1) */
    float beta1;     /* ADAM, in [0, 1) */
    float beta2;     /* ADAM, in [0, 1) */
    float eps;       /* ADAM, > 0 */
    float l2;        /* L2 penalty coefficient lambda >= 0: adds lambda * w to the
                        gradient of every weight matrix (loss + lambda/2 |W|^2);
                        biases and batch-norm parameters are not penalised */
} dnic_optim_config;

/* Sensible defaults for a kind: SGD lr 0.01; momentum lr 0.01, 0.9;
 * Adam lr 1e-3, 0.9, 0.999, 1e-8; l2 0. */
DNIC_API dnic_optim_config dnic_optim_default(dnic_optimizer kind);
DNIC_API dnic_status dnic_optim_validate(const dnic_optim_config *cfg);

/* Updates on flat blocks of n parameters; g is not modified.
 *   SGD:      p -= lr (g + l2 p)
 *   momentum: v = mu v + (g + l2 p);  p -= lr v              (PyTorch form)
 *   Adam:     m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2  with g' = g + l2 p
 *             p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps),  t >= 1 */
DNIC_API void dnic_sgd_update(float *p, const float *g, size_t n, float lr, float l2);
DNIC_API void dnic_sgd_update_ref(float *p, const float *g, size_t n, float lr, float l2);
DNIC_API void dnic_momentum_update(float *p, float *v, const float *g, size_t n,
                                   float lr, float mu, float l2);
DNIC_API void dnic_momentum_update_ref(float *p, float *v, const float *g, size_t n,
                                       float lr, float mu, float l2);
DNIC_API void dnic_adam_update(float *p, float *m, float *v, const float *g, size_t n,
                               float lr, float beta1, float beta2, float eps, float l2,
                               int64_t t);
DNIC_API void dnic_adam_update_ref(float *p, float *m, float *v, const float *g, size_t n,
                                   float lr, float beta1, float beta2, float eps, float l2,
                                   int64_t t);

/* ------------------------------------------------- learning-rate schedules */
/* How an optimizer's rate moves over a run: each update uses
 * dnic_lr_schedule_rate(schedule, t, cfg.lr) in place of cfg.lr, t being
 * the updater's own step counter after the update (the network's for
 * locked training, each pipeline/async block's own, each interface's own
 * update count), so a resumed run that restores its counters sets the
 * rates a straight run would. No schedule (NULL) is constant: cfg.lr. */
typedef enum {
    DNIC_LR_CONSTANT = 0, /* the base rate (after any warm-up) */
    DNIC_LR_STEP = 1,     /* times gamma after each milestone */
    DNIC_LR_COSINE = 2,   /* cosine from the base rate to min_rate */
    DNIC_LR_LINEAR = 3    /* linear from the base rate to min_rate */
} dnic_lr_kind;

/* The most milestones a STEP schedule holds. */
#define DNIC_LR_MAX_MILESTONES 32

typedef struct {
    dnic_lr_kind kind;
    int64_t warmup;      /* steps 1..warmup rise linearly: step t takes base t / warmup */
    int n_milestones;    /* STEP: 1..DNIC_LR_MAX_MILESTONES; other kinds: 0 */
    int64_t milestones[DNIC_LR_MAX_MILESTONES]; /* STEP: increasing, >= 1; times gamma after each */
    double gamma;        /* STEP: factor per milestone passed, finite and >= 0 */
    double min_rate;     /* COSINE, LINEAR: the rate reached just after the last step, finite, >= 0
                          * (a rate above the optimizer's base rises instead) */
    int64_t total_steps; /* the run's length: COSINE and LINEAR decay over the steps after the warm-up */
} dnic_lr_schedule;

/* CONSTANT, no warm-up, no milestones, gamma 0.1, min_rate 0, total_steps 0. */
DNIC_API dnic_lr_schedule dnic_lr_schedule_default(void);
/* DNIC_ERR_NULL for NULL; DNIC_ERR_ARG for an unknown kind, a negative
 * count, a warm-up longer than total_steps (when total_steps > 0),
 * milestones given to a kind other than STEP, a STEP schedule without
 * milestones or with more than DNIC_LR_MAX_MILESTONES, milestones not
 * increasing or below 1, a negative or non-finite gamma or min_rate,
 * COSINE or LINEAR without total_steps >= 1; steps beyond DNIC_MAX_STEP:
 * DNIC_ERR_ARG too. */
DNIC_API dnic_status dnic_lr_schedule_validate(const dnic_lr_schedule *s);
/* The rate of update `step` (1-based; smaller counts as 1) for base rate
 * `base`, computed in double and rounded to float once:
 *   step <= warmup:   base step / warmup
 *   CONSTANT:         base
 *   STEP:             base gamma^k, k = milestones m with step > m
 *   COSINE, LINEAR:   p = min((step - warmup - 1) / max(total - warmup, 1), 1),
 *                     min_rate + (base - min_rate) (1 + cos(pi p)) / 2   (COSINE)
 *                     min_rate + (base - min_rate) (1 - p)               (LINEAR)
 *                     (as PyTorch's schedulers: the first step after the
 *                     warm-up takes base, min_rate is reached just after the last)
 * A result that rounds to 0 (or below) is the smallest positive float, as
 * optimizers refuse a rate of 0. NULL: base. Pure; no allocation. */
DNIC_API float dnic_lr_schedule_rate(const dnic_lr_schedule *s, int64_t step, float base);

/* ------------------------------------------------------------------- data */

/* dst row r = src row idx[r], r < B; src is (n_rows, row_len).
 * Errors: NULL pointers, B or row_len < 1, an index outside [0, n_rows). */
DNIC_API dnic_status dnic_gather_rows(float *dst, const float *src, const int32_t *idx,
                                      int B, size_t row_len, size_t n_rows);
DNIC_API dnic_status dnic_gather_rows_ref(float *dst, const float *src, const int32_t *idx,
                                          int B, size_t row_len, size_t n_rows);
/* dst[r] = src[idx[r]] for labels. */
DNIC_API dnic_status dnic_gather_labels(int32_t *dst, const int32_t *src, const int32_t *idx,
                                        int B, size_t n_rows);

/* ---------------------------------------------------------------- network */

/* One dense layer: a = h W + b, optional batch norm, h' = act(.).
 * The last layer of a description is the output layer: its activation must
 * be IDENTITY and it has no batch norm (the loss applies the link), unless
 * the description is a block below the output (hidden_top). */
typedef struct {
    int width;              /* units, >= 1 */
    dnic_activation act;
    int batchnorm;          /* 0 or 1 */
} dnic_layer_desc;

typedef struct {
    int input_dim;                 /* >= 1 */
    int n_layers;                  /* hidden layers + the output layer, >= 1 */
    const dnic_layer_desc *layers; /* n_layers entries, copied at create */
    dnic_loss loss;
    dnic_init init;                /* weights; biases start at 0, gamma 1, beta 0 */
    int max_batch;                 /* largest batch any call will pass, >= 1 */
    float bn_momentum;             /* running statistics, e.g. 0.1 */
    float bn_eps;                  /* e.g. 1e-5 */
    int first_layer;               /* index of layers[0] in the whole network
                                      this one is a block of (0: the whole);
                                      tensors are named by that index */
    int hidden_top;                /* 1: a block below the output layer. Its
                                      top layer is a hidden layer (any
                                      activation, batch norm), it has no loss
                                      (dnic_net_loss and dnic_net_evaluate
                                      refuse it: DNIC_ERR_STATE), and its
                                      backward starts from the gradient the
                                      caller writes at dnic_net_grad_at(top) */
} dnic_net_desc;

/* Fills a description with defaults for the fields a caller rarely sets
 * (init He uniform, bn_momentum 0.1, bn_eps 1e-5, loss softmax CE). */
DNIC_API void dnic_net_desc_defaults(dnic_net_desc *d);

typedef struct dnic_net_s dnic_net_t;

/* Validates the description and allocates everything the network will
 * ever use: one block each for parameters, gradients and optimizer state,
 * and activations/workspace for max_batch rows. Parameters are initialised
 * from `seed`, each layer's weights from a stream of their own, derived
 * from the seed and the layer's index in the whole network (first_layer +
 * l): a block of layers created alone starts bit-identical to the same
 * layers of the whole network. On error *out is NULL. */
DNIC_API dnic_status dnic_net_create(dnic_net_t **out, const dnic_net_desc *desc, uint64_t seed);
DNIC_API void dnic_net_free(dnic_net_t *net);

/* A network of the same shape holding the values of layers [first, last]
 * only (0-based): their parameters (initialised as dnic_net_create's,
 * bit for bit), gradients and optimizer moments; the other layers are
 * shape only, and it has no activations (it runs no pass itself; the
 * DNI's blocks on it, views of its values, have their own). For a process that runs one block of a DNI's
 * pipeline (an MPI rank): dnic_dni_create on it makes only the blocks and
 * interfaces inside the range, which must then be whole blocks.
 * The calls that need every layer's values (forward, loss, backward,
 * update, train_step, evaluate, activations, predict, get_params,
 * set_params; dnic_dni_train_step) refuse it with DNIC_ERR_STATE;
 * dnic_net_params, dnic_net_grads and dnic_net_optim_state return NULL
 * (with the whole's count); dnic_net_activation, grad_at and preact_grad
 * return NULL; dnic_net_set_input_grad(1)
 * is refused unless it holds layer 0. first..last outside 0..n_layers-1
 * -> DNIC_ERR_ARG. */
DNIC_API dnic_status dnic_net_create_range(dnic_net_t **out, const dnic_net_desc *desc, uint64_t seed, int first,
                                           int last);
/* The layers whose values the network holds, [*first, *last] (either may
 * be NULL); returns 1 when it holds every layer, 0 otherwise (NULL net: 0,
 * with an empty range). */
DNIC_API int dnic_net_held_layers(const dnic_net_t *net, int *first, int *last);
/* Bytes the network allocated for values and activations: parameters,
 * gradients, both optimizer moments, activations and dL/dx (0 for NULL). */
DNIC_API size_t dnic_net_bytes_held(const dnic_net_t *net);

/* The values a network holds (every layer's unless made by
 * dnic_net_create_range): its parameters over the tensor table's floats
 * [*base, *base + *n) (dnic_tensor_info.offset - *base indexes them), and
 * in *optim (may be NULL) both optimizer moments, m then v, n floats each.
 * Writing through them is allowed: that is how an MPI rank loads its
 * block from a checkpoint. Holding nothing, or a view: NULL, *n = 0. */
DNIC_API float *dnic_net_held_values(dnic_net_t *net, size_t *base, size_t *n, float **optim);

/* Shape queries. Layer l is 0-based; hidden layer k (h_k, counted from 1)
 * is layer k-1; the output layer is n_layers-1. */
DNIC_API int dnic_net_num_layers(const dnic_net_t *net);
DNIC_API int dnic_net_layer_width(const dnic_net_t *net, int layer);
DNIC_API int dnic_net_input_dim(const dnic_net_t *net);
DNIC_API int dnic_net_output_dim(const dnic_net_t *net);
DNIC_API int dnic_net_max_batch(const dnic_net_t *net);

/* Parameter tensors, in block order. Names are stable and documented:
 *   layer{l}.weight (in,out)  layer{l}.bias (out)
 *   layer{l}.bn.gamma (out)   layer{l}.bn.beta (out)
 *   layer{l}.bn.running_mean  layer{l}.bn.running_var   (not trained)
 * Running statistics live in the parameter block (so one block is a full
 * checkpoint of the network) but the optimizer never touches them. */
typedef struct {
    char name[64];
    size_t offset;      /* in floats, into the parameter / gradient block */
    size_t size;        /* floats */
    int rows, cols;     /* cols = 1 for vectors */
    int trainable;      /* 0 for running statistics */
    int decay;          /* 1 if the L2 penalty applies (weight matrices) */
    int group;          /* optimizer parameter group */
} dnic_tensor_info;

DNIC_API int dnic_net_num_tensors(const dnic_net_t *net);
DNIC_API dnic_status dnic_net_tensor(const dnic_net_t *net, int i, dnic_tensor_info *info);

/* The flat blocks (n floats each). The pointers stay valid until free;
 * writing through them is allowed (that is how checkpoints load). NULL
 * for a network holding a layer range (dnic_net_create_range; *n is
 * still the whole's count). */
DNIC_API float *dnic_net_params(dnic_net_t *net, size_t *n);
DNIC_API float *dnic_net_grads(dnic_net_t *net, size_t *n);
/* Optimizer state: 2 x params floats (momentum uses the first half, Adam
 * both: m then v), and the Adam step counter. */
DNIC_API float *dnic_net_optim_state(dnic_net_t *net, size_t *n);
DNIC_API int64_t dnic_net_optim_step(const dnic_net_t *net);
/* The largest value of every step counter (updates applied; 2^53, a
 * count a double holds exactly, so Adam's bias corrections 1 - beta^t
 * are exact in t, and far more updates than any run makes). Setting a
 * counter outside [0, DNIC_MAX_STEP] is DNIC_ERR_ARG; an update, or a
 * training step, whose counter is already at DNIC_MAX_STEP is
 * DNIC_ERR_SIZE and changes nothing. Also the bound of the pipeline's
 * first_batch (dnic_pipe_set_update_prob). */
#define DNIC_MAX_STEP ((int64_t)1 << 53)
/* t in [0, DNIC_MAX_STEP], else DNIC_ERR_ARG (counter unchanged). */
DNIC_API dnic_status dnic_net_set_optim_step(dnic_net_t *net, int64_t t);
/* Copies of the parameter block; n must equal the block size. */
DNIC_API dnic_status dnic_net_get_params(const dnic_net_t *net, float *dst, size_t n);
DNIC_API dnic_status dnic_net_set_params(dnic_net_t *net, const float *src, size_t n);

/* Optimizer per parameter group. Group 0 holds the network's own tensors
 * (later groups are for interfaces). The default is SGD lr 0.01. */
DNIC_API dnic_status dnic_net_set_optimizer(dnic_net_t *net, int group, const dnic_optim_config *cfg);
/* The learning-rate schedule of a parameter group (validated; NULL:
 * constant, the group's cfg.lr as it is). A pipeline's blocks take the
 * network's schedules when the pipeline is created, as its optimizers. */
DNIC_API dnic_status dnic_net_set_lr_schedule(dnic_net_t *net, int group, const dnic_lr_schedule *sched);

/* Forward pass on x (B, input_dim). training = 1 uses batch statistics in
 * batch norm (and updates running statistics), 0 uses running statistics.
 * Activations are kept for backward. */
DNIC_API dnic_status dnic_net_forward(dnic_net_t *net, const float *x, int B, int training);
/* The output p (B, output_dim) of the last forward; NULL before one. */
DNIC_API const float *dnic_net_output(const dnic_net_t *net);
/* Activation h of layer l (B, width(l)) of the last forward. */
DNIC_API const float *dnic_net_activation(const dnic_net_t *net, int layer);

/* Loss of the last forward against labels/targets (see
 * dnic_loss_forward_backward) and its gradient, stored as the gradient at
 * the output. */
DNIC_API dnic_status dnic_net_loss(dnic_net_t *net, const int32_t *labels, const float *targets,
                                   int B, float *loss_out);

/* Gradient buffer at the output of layer l: dL/dh_l (B, width(l)). For the
 * output layer this is dL/dp. A block boundary after layer l reads or
 * writes its learning signal here. */
DNIC_API float *dnic_net_grad_at(dnic_net_t *net, int layer);

/* Backward through layers top..bottom (inclusive, top >= bottom), starting
 * from the gradient buffer at layer `top`'s output, accumulating parameter
 * gradients of those layers. The gradient at layer bottom-1's output is
 * OVERWRITTEN with what flows down (when bottom > 0); the input gradient is
 * not computed. Batch norm uses the statistics of the last training forward.
 * Lets a later trainer run the network block by block, each block started
 * from whatever signal its boundary delivers. */
DNIC_API dnic_status dnic_net_backward_range(dnic_net_t *net, int top, int bottom, int B);
/* Full backward: dnic_net_backward_range(net, n_layers - 1, 0, B). */
DNIC_API dnic_status dnic_net_backward(dnic_net_t *net, int B);
DNIC_API void dnic_net_zero_grad(dnic_net_t *net);
/* One optimizer step for every trainable tensor, from the gradient block.
 * Checks every updated tensor: a NaN or infinity returns DNIC_ERR_NONFINITE
 * (see dnic_net_fault_tensor); the caller should stop training. The step
 * counter at DNIC_MAX_STEP: DNIC_ERR_SIZE, nothing updated. */
DNIC_API dnic_status dnic_net_update(dnic_net_t *net);

/* dL/da of layer l — the gradient at the dense output, before batch norm
 * and activation — from the last backward through that layer (B, width(l)).
 * For the output layer it equals dnic_net_grad_at. NULL if out of range. */
DNIC_API const float *dnic_net_preact_grad(const dnic_net_t *net, int layer);
/* Gradient with respect to the network's input x (B, input_dim) from the
 * last backward that reached layer 0 with dnic_net_set_input_grad(net, 1);
 * NULL otherwise. */
DNIC_API const float *dnic_net_input_grad(const dnic_net_t *net);
/* Whether backward through layer 0 also computes dL/dx (off by default:
 * a data input needs no gradient). */
DNIC_API dnic_status dnic_net_set_input_grad(dnic_net_t *net, int on);

/* Gradient clipping by global norm, applied by dnic_net_update before each
 * step: if the L2 norm of all trainable gradients exceeds max_norm they are
 * scaled down to it. 0 turns it off (the default); < 0 or NaN -> DNIC_ERR_ARG. */
DNIC_API dnic_status dnic_net_set_grad_clip(dnic_net_t *net, float max_norm);
/* Global L2 norm of the trainable gradients (before clipping) at the last update. */
DNIC_API float dnic_net_last_grad_norm(const dnic_net_t *net);
/* After dnic_net_update returned DNIC_ERR_NONFINITE: the tensor (index for
 * dnic_net_tensor) whose values became NaN or infinite, and whether its
 * gradient was already non-finite (1) or the update itself overflowed (0).
 * -1 when the last update was finite. */
DNIC_API int dnic_net_fault_tensor(const dnic_net_t *net, int *gradient_was_nonfinite);

/* zero_grad + forward(training) + loss + backward + update.
 * A non-finite loss returns DNIC_ERR_NONFINITE before any update; the
 * step counter at DNIC_MAX_STEP returns DNIC_ERR_SIZE before the forward. */
DNIC_API dnic_status dnic_net_train_step(dnic_net_t *net, const float *x, const int32_t *labels,
                                         const float *targets, int B, float *loss_out);

/* Evaluation mode over n examples (X (n, input_dim), labels (n) or targets
 * (n, output_dim)), in chunks of at most max_batch rows. Outputs the mean
 * loss and the number of correct predictions (either may be NULL; correct
 * needs labels). */
DNIC_API dnic_status dnic_net_evaluate(dnic_net_t *net, const float *X, const int32_t *labels,
                                       const float *targets, size_t n, double *loss_out,
                                       size_t *correct_out);
/* Layer `layer`'s output (after batch norm and activation) in evaluation
 * mode for rows rows[0..n_rows) of the dataset X (count rows of input_dim),
 * in the order listed (repeats allowed), into out (n_rows, layer width);
 * rows NULL means every row (n_rows == count). Forwards only the rows
 * asked for, max_batch at a time (evaluation mode treats rows apart, so the
 * chunking does not change a value); any dataset size. A row >= count is
 * DNIC_ERR_ARG (nothing written). Like dnic_net_evaluate, it overwrites the
 * training activations. */
DNIC_API dnic_status dnic_net_activations(dnic_net_t *net, const float *X, size_t count, int layer,
                                          const size_t *rows, size_t n_rows, float *out);

/* The network's output for every row of X (n, input_dim), in evaluation
 * mode (batch norm from its running statistics), into out (n, output_dim):
 * the output layer's activation, exactly what dnic_net_activations gives
 * for layer n_layers-1 -- the logits, before the loss's link. With proba
 * = 1, the loss's link applied to them instead: softmax of each row for
 * softmax CE, the sigmoid of each output for logistic (for one output,
 * the probability of class 1), computed in double; MSE outputs are no
 * probabilities (DNIC_ERR_ARG), nor is a block's top (hidden_top:
 * DNIC_ERR_STATE). Any n: max_batch rows at a time (evaluation mode treats
 * rows apart: a row's values do not depend on the rows beside it, up to
 * the GEMM's last-bit rounding for another chunk size); n = 0 writes nothing and
 * X, out may then be NULL. Allocates nothing. Like dnic_net_evaluate, it
 * overwrites the training activations. */
DNIC_API dnic_status dnic_net_predict(dnic_net_t *net, const float *X, size_t n, int proba, float *out);
/* The link dnic_net_predict's proba applies, on its own: p (n, K) outputs
 * of a network with loss `kind` -> out (n, K) probabilities (out may be
 * p): softmax of each row for softmax CE (K >= 2), the sigmoid of each
 * value for logistic, both computed in double. MSE -> DNIC_ERR_ARG. n = 0
 * writes nothing. */
DNIC_API dnic_status dnic_loss_probabilities(dnic_loss kind, const float *p, size_t n, int K, float *out);

/* ------------------------------------------------------------- interfaces */

/* A decoupled neural interface sits on a block boundary: on the output h
 * (B, dh) of some layer. It makes a prediction s = S(h, y) (B, dout), is
 * trained (or not) by an interface loss against a target g, and delivers a
 * learning signal (B, dh) to the block below.
 *
 * Units: the network's gradient buffers hold gradients of the BATCH-MEAN
 * loss, so row i is (1/B) dL_i/dh_i. Targets are passed in those units.
 * Trainable predictions estimate the PER-EXAMPLE gradient dL_i/dh_i, so
 *   l2:    L_S = (1/B) sum_i 1/2 |s_i - B g_i|^2
 *   inner: L_S = sum_i <g_i, s_i>           (= -<t, s> with t = -g)
 * and the signal written into the network's buffer is
 *   pred:      s / B
 *   prop:      dL_S/dh
 *   pred+prop: s / B + alpha dL_S/dh
 * With kind IDENTITY, loss INNER and signal PROP the signal is exactly g:
 * plain backprop through the interface. */
typedef enum {
    DNIC_IFACE_LINEAR = 0,   /* s = h A + y B + C (label-conditioned: cDNI); A, B, C start at 0 */
    DNIC_IFACE_NOLABEL = 1,  /* s = h A + C; start at 0 */
    DNIC_IFACE_SIGMOID = 2,  /* s = d * sigmoid(h A) + y B + C; A Glorot-uniform, d, B, C start at 0 */
    DNIC_IFACE_MLP = 3,      /* s = MLP([h, y]): relu hidden layers (optional batch norm), zero-initialised output */
    DNIC_IFACE_IDENTITY = 4, /* s = h, fixed */
    DNIC_IFACE_RANDOM = 5,   /* s = h A, A fixed random (dh, dout) */
    DNIC_IFACE_ONES = 6,     /* s = h A, A fixed all-ones (dh, dout) */
    DNIC_IFACE_ORACLE = 7    /* s = B g: predicts its target exactly; for tests and upper bounds */
} dnic_iface_kind;

typedef enum {
    DNIC_TARGET_TRUE = 0,         /* dL/dh by full backpropagation from the loss */
    DNIC_TARGET_BOOTSTRAP = 1,    /* the gradient reaching h from the block above (driven by the next interface) */
    DNIC_TARGET_OUTPUT_ERROR = 2, /* dL/dp at the network output */
    DNIC_TARGET_NEXT_ERROR = 3    /* dL/da of the next layer (its pre-activation), as computed in this step */
} dnic_iface_target;

typedef enum { DNIC_IFACE_LOSS_L2 = 0, DNIC_IFACE_LOSS_INNER = 1 } dnic_iface_loss;
typedef enum { DNIC_SIGNAL_PRED = 0, DNIC_SIGNAL_PROP = 1, DNIC_SIGNAL_PRED_PROP = 2 } dnic_iface_signal;

/* Centring of a trainable interface's prediction over the batch. Where the
 * layer above the boundary has batch norm (training mode), every true or
 * bootstrapped target sums to zero over the batch: batch norm's backward
 * removes the batch mean of dL/dz, and dL/dh = dL/dz W^T. CENTRE_ON
 * subtracts each column's batch mean from s (and from dL_S/ds), so the
 * prediction has that property too; the bias C (MLP: the output layer's
 * bias), which centring cancels, then gets a gradient of exactly 0 and
 * stays where it is. AUTO: the DNI trainer (and every schedule on it)
 * centres where the layer above the boundary has batch norm, not
 * elsewhere; a stand-alone interface (dnic_iface_create) does not. ON is
 * for trainable kinds only (DNIC_ERR_ARG otherwise). */
typedef enum { DNIC_CENTRE_AUTO = 0, DNIC_CENTRE_OFF = 1, DNIC_CENTRE_ON = 2 } dnic_iface_centre;

typedef struct {
    int layer;                 /* 0-based layer whose output h the interface reads; the
                                  boundary after hidden layer k is layer k-1; n_layers-1
                                  puts it on the network output p */
    dnic_iface_kind kind;
    dnic_iface_target target;
    dnic_iface_loss loss;
    dnic_iface_signal signal;
    float alpha;               /* PRED_PROP weight of dL_S/dh, >= 0 */
    int mlp_layers;            /* MLP: number of hidden layers (>= 0) ... */
    const int *mlp_widths;     /* ... and their widths */
    int mlp_batchnorm;         /* MLP: batch norm on its hidden layers */
    int64_t warmup_steps;      /* for this many steps deliver the target instead of the
                                  prediction (the interface still trains) */
    dnic_iface_centre centre;  /* centre the prediction over the batch (see above) */
} dnic_iface_desc;

/* Fills defaults: LINEAR, BOOTSTRAP, L2, PRED, alpha 0, CENTRE_AUTO. */
DNIC_API void dnic_iface_desc_defaults(dnic_iface_desc *d, int layer);

typedef struct dnic_iface_s dnic_iface_t;

/* A stand-alone interface (the trainer below builds its own; this is for
 * tests, benchmarks and other trainers). dh: width of h; dout: width of s
 * (dh for trainable kinds, IDENTITY and ORACLE); n_labels: width of the
 * conditioning y (classes for labels, or target width for float targets;
 * 0 if no label-conditioned kind is used); rand_scale: RANDOM entries are
 * U(-rand_scale, rand_scale). */
DNIC_API dnic_status dnic_iface_create(dnic_iface_t **out, const dnic_iface_desc *desc, int dh, int dout,
                                       int n_labels, int max_batch, float rand_scale, uint64_t seed);
DNIC_API void dnic_iface_free(dnic_iface_t *it);
/* s = S(h, y): h (B, dh); labels (B) one-hot conditioning, or ycond (B, n_labels)
 * floats; ORACLE needs the target already set (dnic_iface_set_target). */
DNIC_API dnic_status dnic_iface_forward(dnic_iface_t *it, const float *h, const int32_t *labels,
                                        const float *ycond, int B);
/* Stores the target g (B, dout), batch-mean units (see above). */
DNIC_API dnic_status dnic_iface_set_target(dnic_iface_t *it, const float *g, int B);
/* Interface loss of the last forward against the target; dL_S/ds kept. */
DNIC_API dnic_status dnic_iface_loss_value(dnic_iface_t *it, int B, float *loss_out);
/* Accumulates parameter gradients and computes dL_S/dh (B, dh). */
DNIC_API dnic_status dnic_iface_backward(dnic_iface_t *it, int B);
/* Writes the learning signal (B, dh) for the block below into dst
 * (overwrites), per the desc's signal; during warmup, the target. */
DNIC_API dnic_status dnic_iface_write_signal(dnic_iface_t *it, float *dst, int B);
/* The boundary operation, the one every schedule runs at a block boundary:
 * zero the interface's gradients, take `target` (B, dout) as its target,
 * predict from h (B, dh) and labels (or ycond), compute the interface loss
 * (*loss_out, may be NULL) and its backward, and write the learning signal
 * for the block below into `signal` (B, dh). `target` may be `signal` (a
 * bootstrapped target read from the buffer the signal then overwrites).
 * No pointer given is kept after the call (a later dnic_iface_backward
 * needs a new forward). The update is the caller's: dnic_iface_update,
 * when its schedule says so. */
DNIC_API dnic_status dnic_iface_boundary_step(dnic_iface_t *it, const float *h, const int32_t *labels,
                                              const float *ycond, const float *target, float *signal, int B,
                                              float *loss_out);
/* The prediction alone, for schedules where the target comes later
 * (pipeline, async): s = S(h, y) and the PRED signal s / B written into
 * `signal` (B, dh); nothing trains (the target, when it arrives, goes
 * through dnic_iface_boundary_step on the same h). Only for the PRED
 * signal out of warmup, and not for ORACLE (DNIC_ERR_STATE otherwise). No
 * pointer is kept. */
DNIC_API dnic_status dnic_iface_predict_signal(dnic_iface_t *it, const float *h, const int32_t *labels,
                                               const float *ycond, float *signal, int B);
DNIC_API const float *dnic_iface_prediction(const dnic_iface_t *it);   /* s (B, dout) */
/* dL_S/dh (B, dh). With the PRED signal it is only computed after
 * dnic_iface_set_input_grad(it, 1) (it costs a GEMM the signal never reads). */
DNIC_API const float *dnic_iface_input_grad(const dnic_iface_t *it);
DNIC_API dnic_status dnic_iface_set_input_grad(dnic_iface_t *it, int on);
DNIC_API const float *dnic_iface_target_buf(const dnic_iface_t *it);   /* g (B, dout) */
DNIC_API int dnic_iface_out_dim(const dnic_iface_t *it);
DNIC_API int dnic_iface_trainable(const dnic_iface_t *it);
/* 1 if the interface centres its prediction over the batch: its descriptor
 * asked ON, or AUTO resolved to on by dnic_dni_create (see
 * dnic_iface_centre); 0 otherwise or for NULL. */
DNIC_API int dnic_iface_centred(const dnic_iface_t *it);
/* Parameter tensors (fixed matrices of RANDOM / ONES are listed, not trained):
 * names "A" (dh, dout), "B" (n_labels, dout), "C" (dout), "d" (dout), or for
 * MLP the network's names prefixed "mlp.". */
DNIC_API int dnic_iface_num_tensors(const dnic_iface_t *it);
DNIC_API dnic_status dnic_iface_tensor(const dnic_iface_t *it, int i, dnic_tensor_info *info);
DNIC_API float *dnic_iface_params(dnic_iface_t *it, size_t *n);
DNIC_API float *dnic_iface_grads(dnic_iface_t *it, size_t *n);
DNIC_API float *dnic_iface_optim_state(dnic_iface_t *it, size_t *n); /* 2 x params */
DNIC_API void dnic_iface_zero_grad(dnic_iface_t *it);
DNIC_API dnic_status dnic_iface_set_optimizer(dnic_iface_t *it, const dnic_optim_config *cfg);
/* This interface's learning-rate schedule over its own update count
 * (validated; NULL: constant). */
DNIC_API dnic_status dnic_iface_set_lr_schedule(dnic_iface_t *it, const dnic_lr_schedule *sched);
/* One optimizer step (no-op for fixed kinds); counts steps for warmup.
 * The counter at DNIC_MAX_STEP: DNIC_ERR_SIZE, nothing updated. */
DNIC_API dnic_status dnic_iface_update(dnic_iface_t *it);
DNIC_API int64_t dnic_iface_step(const dnic_iface_t *it);
/* Restores the step counter (Adam's t, warmup) when resuming; t in
 * [0, DNIC_MAX_STEP], else DNIC_ERR_ARG. */
DNIC_API dnic_status dnic_iface_set_step(dnic_iface_t *it, int64_t t);
/* Global-norm gradient clipping for this interface's parameters (0 = off). */
DNIC_API dnic_status dnic_iface_set_grad_clip(dnic_iface_t *it, float max_norm);
/* As dnic_net_fault_tensor, for the interface's tensors. */
DNIC_API int dnic_iface_fault_tensor(const dnic_iface_t *it, int *gradient_was_nonfinite);
/* 1 if the interface's last loss (dnic_iface_loss_value) was NaN or
 * infinite as a float (it then returned DNIC_ERR_NONFINITE), else 0. */
DNIC_API int dnic_iface_loss_faulted(const dnic_iface_t *it);

/* ----------------------------------------------------- locked DNI trainer */

/* A network plus interfaces on some of its layers, trained with the locked
 * schedule: each batch runs forward through every block, then the top block
 * from the loss, then interfaces and blocks top-down, each interface's
 * target computed from the same batch; then every update. The trainer
 * does not own `net` (it borrows it: Lifetimes, at the top). Fixed RANDOM matrices:
 * with a NEXT_ERROR target (FA) U(+-sqrt(6/dh)), He-uniform for a layer of
 * that shape like the network's default init; otherwise U(+-sqrt(3/dout)),
 * variance 1/dout, so e A^T is about as large as e. Trainable kinds and
 * IDENTITY / ORACLE take TRUE or BOOTSTRAP targets; RANDOM and ONES any
 * target, their dout being the target's width. Interfaces may not share
 * a layer. n_labels must agree with the network's K outputs: K (K
 * classes as labels, or float targets K wide); for K == 1, 2 to train
 * with labels 0/1 or 1 to train with float targets. Anything else:
 * DNIC_ERR_SIZE. Free the DNI at any time (Lifetimes, above): while a
 * pipeline lives on it, it is freed with the pipeline.
 * On a network holding a layer range (dnic_net_create_range) only the
 * interfaces on held layers are made (dnic_dni_iface is NULL for the
 * others) and the blocks outside the range are shape only; the range must
 * be whole blocks (else DNIC_ERR_ARG), and the locked step is refused. */
typedef struct dnic_dni_s dnic_dni_t;

DNIC_API dnic_status dnic_dni_create(dnic_dni_t **out, dnic_net_t *net, const dnic_iface_desc *ifaces,
                                     int n_ifaces, int n_labels, uint64_t seed);
DNIC_API void dnic_dni_free(dnic_dni_t *dni);
/* Interfaces are numbered top first (highest layer = index 0), whatever the
 * order of the descriptions given to dnic_dni_create: the index i that
 * dnic_dni_iface, dnic_dni_iface_loss, dnic_dni_iface_alignment and
 * dnic_dni_fault_iface use. It is not a layer (Conventions, at the top):
 * with interfaces on layers 0 and 2, i = 0 is layer 2's, i = 1 layer 0's. */
DNIC_API int dnic_dni_num_ifaces(const dnic_dni_t *dni);
DNIC_API dnic_iface_t *dnic_dni_iface(dnic_dni_t *dni, int i);
/* The interface on 0-based layer `layer` (the desc's layer), NULL if
 * there is none there (dnic_last_error says why). */
DNIC_API dnic_iface_t *dnic_dni_iface_at_layer(dnic_dni_t *dni, int layer);
/* The top-first index i of the interface on `layer`, -1 if none. */
DNIC_API int dnic_dni_iface_index(const dnic_dni_t *dni, int layer);
/* Optimizer of every trainable interface (the network's is set on the net). */
DNIC_API dnic_status dnic_dni_set_iface_optimizer(dnic_dni_t *dni, const dnic_optim_config *cfg);
/* Learning-rate schedule of every interface (NULL: constant), each over
 * its own update count (the network's is set on the net). */
DNIC_API dnic_status dnic_dni_set_iface_lr_schedule(dnic_dni_t *dni, const dnic_lr_schedule *sched);
/* Gradient clipping for every interface (the network's is set on the net). */
DNIC_API dnic_status dnic_dni_set_grad_clip(dnic_dni_t *dni, float max_norm);
/* After a step returned DNIC_ERR_NONFINITE: which interface (top-first index)
 * faulted (a tensor in its update, or its loss: dnic_iface_loss_faulted),
 * -1 if the network itself (or none). */
DNIC_API int dnic_dni_fault_iface(const dnic_dni_t *dni);
/* Also compute, each step, the cosine between each interface's delivered
 * signal and the true dL/dh (costs one extra full backward). */
DNIC_API dnic_status dnic_dni_set_track_alignment(dnic_dni_t *dni, int on);
/* One locked training step. labels (B) or targets (B, output_dim).
 * DNIC_ERR_STATE while a pipeline holds the DNI's blocks; DNIC_ERR_SIZE,
 * before anything moves, when the network's or an interface's step
 * counter is at DNIC_MAX_STEP. */
DNIC_API dnic_status dnic_dni_train_step(dnic_dni_t *dni, const float *x, const int32_t *labels,
                                         const float *targets, int B, float *loss_out);
/* Last step's interface loss and (with tracking) alignment cosine of interface i. */
DNIC_API float dnic_dni_iface_loss(const dnic_dni_t *dni, int i);
DNIC_API float dnic_dni_iface_alignment(const dnic_dni_t *dni, int i);

/* ------------------------------------------------------------ linear probes */

/* Ridge least squares from features to one-hot labels (a linear probe):
 * W ((d + 1) x k, row-major, its last row the bias) minimises
 * ||[X 1] W - onehot(labels)||^2 + lambda ||W without the bias row||^2, for
 * X (n, d) of any n. Normal equations in double, solved by Cholesky with
 * the BLAS library's dsyrk and LAPACK dposv (DNIC_ERR_UNAVAILABLE when the
 * loaded BLAS has no LAPACK, e.g. DNIC_BLAS=builtin). DNIC_ERR_LABEL for a
 * label outside [0, k), DNIC_ERR_NONFINITE for a non-finite feature,
 * DNIC_ERR_ARG for lambda < 0 or a singular system (lambda 0 on
 * rank-deficient features: raise lambda). */
DNIC_API dnic_status dnic_ridge_fit(const float *X, size_t n, int d, const int32_t *labels, int k, double lambda,
                                    float *W);
/* Rows of X (n, d) whose highest score [x 1] W (W as dnic_ridge_fit
 * writes it) is at their label; ties go to the lower class. */
DNIC_API dnic_status dnic_linear_count_correct(const float *X, size_t n, int d, const float *W, int k,
                                               const int32_t *labels, size_t *correct_out);

/* Softmax (multinomial logistic regression) probe, trained to convergence:
 * W ((d + 1) x k, row-major, its last row the bias, as dnic_ridge_fit
 * writes it; score it with dnic_linear_count_correct) minimises
 *   (1/n) sum_i cross-entropy(softmax([x_i 1] W), labels[i])
 *     + (l2 / 2) ||W without the bias row||^2
 * by full-batch L-BFGS from W = 0 (10 pairs, backtracking Armijo line
 * search; the products through dnic_sgemm, the softmax and sums in double).
 * It stops at the first of: ||grad||_inf <= grad_tol * ||grad at W = 0||_inf;
 * a relative loss decrease <= loss_tol over one iteration; a line search
 * that cannot lower the loss at float32 precision; max_iterations. l2 > 0
 * makes the minimiser unique (and finite on separable data). */
typedef struct {
    double l2;          /* >= 0; default 1e-4 */
    int max_iterations; /* >= 1; default 1000 */
    double grad_tol;    /* >= 0, relative to the gradient at W = 0; default 1e-3 */
    double loss_tol;    /* >= 0; default 1e-9 (about scipy's L-BFGS-B ftol) */
} dnic_softmax_probe_config;

/* Which rule stopped the fit; all but MAX_ITERATIONS mean converged. */
typedef enum {
    DNIC_PROBE_STOP_GRADIENT = 0,
    DNIC_PROBE_STOP_LOSS_CHANGE = 1,
    DNIC_PROBE_STOP_PRECISION = 2,
    DNIC_PROBE_STOP_MAX_ITERATIONS = 3
} dnic_probe_stop;

typedef struct {
    int iterations;     /* L-BFGS iterations taken */
    int evaluations;    /* loss-and-gradient evaluations */
    dnic_probe_stop stop;
    double loss;        /* final objective, penalty included */
    double grad_norm;   /* final ||grad||_inf */
    double grad_norm0;  /* ||grad||_inf at W = 0 */
    char detail[160];   /* on an error: what was wrong, e.g. "label 12 of row 5 is outside [0, 10)"; else "" */
} dnic_softmax_probe_info;

DNIC_API dnic_softmax_probe_config dnic_softmax_probe_defaults(void);
/* config NULL: the defaults; info may be NULL. DNIC_ERR_LABEL for a label
 * outside [0, k), DNIC_ERR_NONFINITE for a non-finite feature, DNIC_ERR_ARG
 * for a bad setting, DNIC_ERR_SIZE for zero or absurd sizes; info->detail
 * says which. W is written only on DNIC_OK. */
DNIC_API dnic_status dnic_softmax_probe_fit(const float *X, size_t n, int d, const int32_t *labels, int k,
                                            const dnic_softmax_probe_config *config, float *W,
                                            dnic_softmax_probe_info *info);
/* The objective above and its gradient (both (d + 1) x k, double) at W:
 * what the fit minimises, for checks. */
DNIC_API dnic_status dnic_softmax_probe_objective(const float *X, size_t n, int d, const int32_t *labels, int k,
                                                  double l2, const double *W, double *loss, double *grad);

/* ------------------------------------------------------ pipeline schedule */

/* The pipeline schedule over a DNI trainer's network and interfaces: the
 * network cut at the interfaces into blocks, each its own network (its
 * own activations, step counter, clip norm and fault slot), run in
 * lockstep ticks. At a tick block s works on the batch block s-1 sent at
 * the previous tick (block 0: the batch fed now): forward; below the top,
 * its interface predicts the gradient at its top and the block backwards
 * from that and updates at once; the top block backwards from the loss.
 * Each block sends its top activations up and the gradient at its input
 * down; an interface trains on (h, y, target) when that target arrives
 * two ticks after its prediction. In steady state block s is at batch
 * tau - s at tick tau. Blocks share dnic_get_num_threads() threads and run
 * single-threaded inside, so the result is the same bit for bit for any
 * thread count.
 * Interfaces must be trainable (LINEAR, NOLABEL, SIGMOID, MLP) or ORACLE
 * with a BOOTSTRAP target, the PRED signal and no warmup, and alignment
 * tracking off: anything else needs the same batch's result from above
 * (DNIC_ERR_ARG). The block under an ORACLE is delayed: it forwards a
 * batch and keeps its input; when the batch's gradient arrives from above
 * it runs the batch again with its current parameters, backwards from
 * that gradient and updates (a delayed gradient; not under async).
 * Classification labels only; no interface on the output layer. The
 * pipeline runs the DNI's own blocks and interfaces: the blocks are views
 * whose parameters and optimizer moments are the network's, so the
 * network's parameters are current between ticks (only its step counter
 * waits for dnic_pipe_sync_to_net). The blocks' optimizer settings,
 * learning-rate schedules (each over the block's own step counter) and
 * clip norm are the network's at creation. While the pipeline lives,
 * dnic_dni_train_step and a second pipeline on the DNI are refused
 * (DNIC_ERR_STATE). Freeing the DNI (or its network) first is safe: the
 * pipeline keeps working and the DNI goes with dnic_pipe_free
 * (Lifetimes, at the top). A block whose step counter is at
 * DNIC_MAX_STEP fails its update with DNIC_ERR_SIZE (the tick returns
 * it, as it returns a non-finite value). */
typedef struct dnic_pipe_s dnic_pipe_t;
DNIC_API dnic_status dnic_pipe_create(dnic_pipe_t **out, dnic_dni_t *dni);
/* The async schedule over the same blocks: no ticks, no barriers. Worker
 * threads (min(dnic_get_num_threads() of the feeding thread, blocks), each
 * block single-threaded inside unless there is one worker) run whichever
 * block has work; every queue between blocks (batches up, gradients down)
 * holds at most `queue` (1..1024) messages, so a block runs at most that
 * far ahead (block 0's inbox holds max(2 * queue, 4) batches fed). Not deterministic: results depend on
 * timing. The same calls drive it: dnic_pipe_tick with x queues the batch
 * (waiting while the inbox is full) and reports the batches that finished
 * since the last call; without x it drains (waits until every batch fed
 * has passed every block and trained every interface) and stops the
 * workers. While workers run (dnic_pipe_pending), the blocks are theirs:
 * sync, set_block_step and set_update_prob return DNIC_ERR_STATE. A
 * block's failure (non-finite values) stops every worker and is returned
 * by the next tick. Free drains first. */
DNIC_API dnic_status dnic_pipe_create_async(dnic_pipe_t **out, dnic_dni_t *dni, int queue);
DNIC_API int dnic_pipe_is_async(const dnic_pipe_t *p);
DNIC_API void dnic_pipe_free(dnic_pipe_t *p);
DNIC_API int dnic_pipe_num_blocks(const dnic_pipe_t *p);
/* One tick, feeding the batch x (B, input), labels (B); x NULL feeds
 * nothing (draining). *finished_out is the number of batches that reached
 * the loss (pipeline: this tick, 0 or 1; async: since the last call), with
 * their mean loss in *loss_out (NaN if none); either may be NULL. */
DNIC_API dnic_status dnic_pipe_tick(dnic_pipe_t *p, const float *x, const int32_t *labels, int B, float *loss_out,
                                    int *finished_out);
/* dnic_pipe_tick on the batch of rows idx[0..B) of X (n_rows, input dim)
 * and their labels, gathered by the schedule: async copies them straight
 * into its inbox on the calling thread alone (no OpenMP team beside the
 * workers). An index outside [0, n_rows) is DNIC_ERR_ARG. */
DNIC_API dnic_status dnic_pipe_tick_rows(dnic_pipe_t *p, const float *X, const int32_t *labels, size_t n_rows,
                                         const int32_t *idx, int B, float *loss_out, int *finished_out);
/* 1 while messages are in flight (a tick without input would do work);
 * async: while its workers run. */
DNIC_API int dnic_pipe_pending(const dnic_pipe_t *p);
/* Ticks without input until nothing is in flight: every batch fed has
 * updated every block and trained every interface. */
DNIC_API dnic_status dnic_pipe_flush(dnic_pipe_t *p);
/* Update decoupling (Jaderberg et al. 2016): each block applies its update
 * for a batch with probability prob (0 < prob <= 1; 1, the default, is
 * every batch), its gradients otherwise dropped; interfaces always train.
 * Block s's draw for the pipeline's batch b is a hash of (seed, s,
 * first_batch + b): no state, so a run resumed with first_batch = the
 * batches already trained draws as the uninterrupted run. first_batch in
 * [0, DNIC_MAX_STEP], else DNIC_ERR_ARG. */
DNIC_API dnic_status dnic_pipe_set_update_prob(dnic_pipe_t *p, float prob, uint64_t seed, int64_t first_batch);
/* Block s's optimizer step (updates applied), -1 for a bad s; and setting
 * it when resuming (blocks skip different updates under decoupling), in
 * [0, DNIC_MAX_STEP] (else DNIC_ERR_ARG). */
DNIC_API int64_t dnic_pipe_block_step(const dnic_pipe_t *p, int s);
DNIC_API dnic_status dnic_pipe_set_block_step(dnic_pipe_t *p, int s, int64_t step);
/* Hands the network the top block's step counter (before evaluating it or
 * saving a checkpoint: its parameters and optimizer moments are already
 * the blocks'). Refused while async workers run (DNIC_ERR_STATE). On MPI
 * rank 0 of a pipeline attached with dnic_mpi_attach (dnic_mpi.h) it first
 * gathers every other rank's block: only then is the network current, and
 * freeing the pipeline without it leaves those blocks' layers as they were. */
DNIC_API dnic_status dnic_pipe_sync_to_net(dnic_pipe_t *p);
/* Block s (0 = bottom): seconds computing and seconds of the schedule's
 * run it did not compute (waiting for messages or room), since creation.
 * Safe while async workers run, like the two below. */
DNIC_API dnic_status dnic_pipe_block_stats(dnic_pipe_t *p, int s, double *busy_seconds, double *wait_seconds);
/* Staleness of the targets block s's interface trained on: the number of
 * batches the block forwarded between a batch and that batch's target
 * (pipeline: 1 in steady state; async: up to about 2 * queue). Mean, max
 * and how many targets (the top block has none: 0, 0, 0). */
DNIC_API dnic_status dnic_pipe_block_staleness(dnic_pipe_t *p, int s, double *mean, int64_t *max,
                                               int64_t *count);
/* Interface loss of block s's last interface training (NaN if none). */
DNIC_API float dnic_pipe_iface_loss(dnic_pipe_t *p, int s);
/* The pipeline's in-flight state at a tick boundary, for a checkpoint
 * that resumes bit for bit: the activations and gradients in flight
 * (*n_values floats) and the messages, rings, labels and counters
 * (*n_ints integers). NULL buffers: only the sizes; buffers smaller than
 * the sizes given -> DNIC_ERR_SIZE. Pipeline without delayed (ORACLE)
 * blocks only; otherwise DNIC_ERR_STATE (drain before a checkpoint). Together with the synced network, the
 * interfaces and the block steps it is the whole schedule. */
DNIC_API dnic_status dnic_pipe_export_inflight(const dnic_pipe_t *p, float *values, size_t *n_values, int64_t *ints,
                                               size_t *n_ints);
/* Restores what export wrote into a fresh pipeline (no tick yet) over a
 * network and interfaces holding what the exporting one had (and its
 * block steps set). Every count, index and value is checked; anything
 * inconsistent, short, long or not finite -> DNIC_ERR_ARG with the
 * pipeline left fresh. Update decoupling's first batch comes from the
 * state (batch numbers continue). On a network holding one block's
 * layers (dnic_net_create_range: an MPI rank) it takes the whole
 * pipeline's state; the other blocks' values in flight get buffers of
 * their own (the block reads its neighbours' messages at its first tick;
 * rows x width floats each, no more). Out of memory: DNIC_ERR_NOMEM. */
DNIC_API dnic_status dnic_pipe_import_inflight(dnic_pipe_t *p, const float *values, size_t n_values,
                                               const int64_t *ints, size_t n_ints);
/* Block s's network (for tests and inspection; the DNI owns it: freeing
 * it does nothing). */
DNIC_API dnic_net_t *dnic_pipe_block_net(dnic_pipe_t *p, int s);

/* -------------------------------------------------------- instruction set */

/* The instruction sets dnic's OWN kernels run on: activations, the fused
 * bias + activation and derivative + bias-sum passes, batch norm, losses,
 * optimizer updates, gradient norms. The library is built for baseline
 * x86-64 (it runs on any x86-64 CPU); each of those kernels also has an
 * AVX2+FMA and an AVX-512 variant, chosen at run time. The level used is
 * the highest the CPU and the OS support (cpuid + xgetbv), capped by
 *   - $DNIC_ISA, read once at the first kernel or ISA call: "baseline",
 *     "avx2" or "avx512". Any other value caps nothing; dnic_isa_get_info
 *     reports it (env_status DNIC_ERR_ARG). The core never prints.
 *   - dnic_set_isa_limit, which replaces the cap of $DNIC_ISA.
 * Results at different levels may differ in the last bits (FMA
 * contraction, wider vector reductions); at one level, with the same seed
 * and thread count, they are identical run to run. The GEMM backends choose
 * their own kernels (dnic_gemm_get_info). Elsewhere than x86-64 every level
 * runs the portable code and the CPU level is DNIC_ISA_BASELINE. */
typedef enum {
    DNIC_ISA_BASELINE = 0, /* what the compiler targets by default (x86-64: SSE2) */
    DNIC_ISA_AVX2 = 1,     /* AVX2 + FMA */
    DNIC_ISA_AVX512 = 2    /* AVX-512 F + BW + DQ + VL */
} dnic_isa;

/* The level dnic's kernels run at now: the CPU's level, capped. */
DNIC_API dnic_isa dnic_get_isa(void);
/* Caps the level at `level` (a dnic_isa value), replacing any earlier cap
 * and $DNIC_ISA's. A level above the CPU's is accepted and runs at the
 * CPU's (dnic_get_isa says which). Out of range -> DNIC_ERR_ARG, cap kept.
 * Not while another thread is inside a dnic kernel. */
DNIC_API dnic_status dnic_set_isa_limit(int level);
/* "baseline", "avx2", "avx512"; "unknown" for other values. */
DNIC_API const char *dnic_isa_name(dnic_isa isa);
/* The level named by `name` (the names above, as $DNIC_ISA takes them).
 * NULL -> DNIC_ERR_NULL; another name -> DNIC_ERR_ARG, *out untouched. */
DNIC_API dnic_status dnic_isa_from_name(const char *name, dnic_isa *out);

typedef struct {
    dnic_isa active;        /* what the kernels run at: min(cpu, limit) */
    dnic_isa cpu;           /* the highest level this CPU and OS support */
    dnic_isa limit;         /* the cap in force (DNIC_ISA_AVX512 when none) */
    dnic_status env_status; /* DNIC_OK when $DNIC_ISA is unset or names a
                               level; DNIC_ERR_ARG when it names none (ignored) */
    char env[32];           /* $DNIC_ISA as found at start-up ("" = unset) */
    char reason[128];       /* where the cap comes from: "none", "DNIC_ISA=avx2",
                               "dnic_set_isa_limit(baseline)", ... */
} dnic_isa_info_t;

/* Describes the levels (detecting them if not done yet). */
DNIC_API dnic_status dnic_isa_get_info(dnic_isa_info_t *info);

#ifdef __cplusplus
}
#endif

#endif /* DNIC_H */
