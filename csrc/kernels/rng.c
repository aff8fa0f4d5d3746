/* rng.c — explicit-state randomness (splitmix64), shuffling and weight
 * initialisation. Nothing here keeps hidden state: same seed, same numbers.
 */
#include "kernels/kernels_internal.h"

#include <math.h>

uint64_t dnic_rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* splitmix64 advances its state by a constant, so streams seeded seed,
 * seed + c, ... would be the same sequence shifted: a layer's starting
 * state is instead the seed and its index hashed together. */
uint64_t dnic__layer_stream(uint64_t seed, int layer) {
    uint64_t s = seed ^ (0xd1b54a32d192ed03ULL * (uint64_t)(layer + 1));
    return dnic_rng_next(&s);
}

float dnic_rng_uniform(uint64_t *state) {
    /* top 24 bits: every value exactly representable, strictly below 1 */
    return (float)(dnic_rng_next(state) >> 40) * (1.0f / 16777216.0f);
}

float dnic_rng_normal(uint64_t *state) {
    /* Box-Muller in double; u1 in (0, 1] so the log is finite */
    double u1 = ((double)(dnic_rng_next(state) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(dnic_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* Unbiased integer in [0, n) by rejection (Lemire would be faster; this is
 * not on a hot path). */
static uint64_t below(uint64_t *state, uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = dnic_rng_next(state); while (r >= limit);
    return r % n;
}

dnic_status dnic_shuffle(int32_t *idx, size_t n, uint64_t *state) {
    if (!state || (n > 0 && !idx))
        return dnic__fail(DNIC_ERR_NULL, "dnic_shuffle: NULL pointer argument (state or idx)");
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)below(state, i);
        int32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
    return DNIC_OK;
}

dnic_status dnic_init_weights(float *W, int fan_in, int fan_out, dnic_init kind,
                              uint64_t *state) {
    if (!W || !state)
        return dnic__fail(DNIC_ERR_NULL, "dnic_init_weights: NULL pointer argument (W or state)");
    if (fan_in < 1 || fan_out < 1 || fan_in > DNIC_MAX_DIM || fan_out > DNIC_MAX_DIM)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_init_weights: fan_in = %d, fan_out = %d: each must be in 1..%d", fan_in,
                          fan_out, DNIC_MAX_DIM);
    size_t n = (size_t)fan_in * fan_out;
    double glorot_var = 2.0 / ((double)fan_in + fan_out), he_var = 2.0 / fan_in;
    switch (kind) {
    case DNIC_INIT_GLOROT_UNIFORM:
    case DNIC_INIT_HE_UNIFORM: {
        /* U(-a, a) has variance a^2 / 3 */
        float a = (float)sqrt(3.0 * (kind == DNIC_INIT_HE_UNIFORM ? he_var : glorot_var));
        for (size_t i = 0; i < n; i++) W[i] = a * (2.0f * dnic_rng_uniform(state) - 1.0f);
        return DNIC_OK;
    }
    case DNIC_INIT_GLOROT_NORMAL:
    case DNIC_INIT_HE_NORMAL: {
        float s = (float)sqrt(kind == DNIC_INIT_HE_NORMAL ? he_var : glorot_var);
        for (size_t i = 0; i < n; i++) W[i] = s * dnic_rng_normal(state);
        return DNIC_OK;
    }
    case DNIC_INIT_ZERO:
        for (size_t i = 0; i < n; i++) W[i] = 0.0f;
        return DNIC_OK;
    }
    return dnic__fail(DNIC_ERR_ARG, "dnic_init_weights: kind = %d is not a dnic_init (0..4)", (int)kind);
}
