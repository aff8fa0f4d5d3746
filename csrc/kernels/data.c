/* data.c — batch gathering from a dataset buffer by an index array.
 * Indices are validated before any copy, so a bad index leaves dst as it
 * was.
 */
#include "base/internal.h"

#include <string.h>

static dnic_status check_idx(const int32_t *idx, int B, size_t n_rows, const char *fn) {
    for (int r = 0; r < B; r++)
        if (idx[r] < 0 || (size_t)idx[r] >= n_rows)
            return dnic__fail(DNIC_ERR_ARG, "%s: idx[%d] = %d is outside 0..%zu", fn, r, (int)idx[r],
                              n_rows - 1);
    return DNIC_OK;
}

dnic_status dnic_gather_rows(float *dst, const float *src, const int32_t *idx, int B,
                             size_t row_len, size_t n_rows) {
    if (!dst || !src || !idx)
        return dnic__fail(DNIC_ERR_NULL, "dnic_gather_rows: NULL pointer argument (dst or src or idx)");
    if (B < 1 || row_len < 1 || n_rows < 1 || row_len > ((size_t)1 << 40))
        return dnic__fail(DNIC_ERR_SIZE, "dnic_gather_rows: B = %d, row_len = %zu, n_rows = %zu: need >= 1 each, "
                          "row_len <= 2^40", B, row_len, n_rows);
    dnic_status st = check_idx(idx, B, n_rows, "dnic_gather_rows");
    if (st != DNIC_OK) return st;
#pragma omp parallel for if ((size_t)B * row_len > DNIC_PAR_MIN)
    for (int r = 0; r < B; r++)
        memcpy(dst + (size_t)r * row_len, src + (size_t)idx[r] * row_len, sizeof(float) * row_len);
    return DNIC_OK;
}

dnic_status dnic_gather_rows_ref(float *dst, const float *src, const int32_t *idx, int B,
                                 size_t row_len, size_t n_rows) {
    if (!dst || !src || !idx)
        return dnic__fail(DNIC_ERR_NULL, "dnic_gather_rows_ref: NULL pointer argument (dst or src or idx)");
    if (B < 1 || row_len < 1 || n_rows < 1)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_gather_rows_ref: B = %d, row_len = %zu, n_rows = %zu: need >= 1 "
                          "each", B, row_len, n_rows);
    dnic_status st = check_idx(idx, B, n_rows, "dnic_gather_rows_ref");
    if (st != DNIC_OK) return st;
    for (int r = 0; r < B; r++)
        for (size_t j = 0; j < row_len; j++) dst[(size_t)r * row_len + j] = src[(size_t)idx[r] * row_len + j];
    return DNIC_OK;
}

dnic_status dnic_gather_labels(int32_t *dst, const int32_t *src, const int32_t *idx, int B,
                               size_t n_rows) {
    if (!dst || !src || !idx)
        return dnic__fail(DNIC_ERR_NULL, "dnic_gather_labels: NULL pointer argument (dst or src or idx)");
    if (B < 1 || n_rows < 1)
        return dnic__fail(DNIC_ERR_SIZE, "dnic_gather_labels: B = %d, n_rows = %zu (need >= 1 each)", B, n_rows);
    dnic_status st = check_idx(idx, B, n_rows, "dnic_gather_labels");
    if (st != DNIC_OK) return st;
    for (int r = 0; r < B; r++) dst[r] = src[idx[r]];
    return DNIC_OK;
}
