/* dense.c — the dense (fully connected) layer, forward and backward, on
 * the BLAS wrapper; plain-loop references beside them.
 * Not here: bias + activation fusion (the network composes kernels).
 */
#include "base/internal.h"

#include <string.h>

/* out (B,O) = in (B,I) W (I,O) + b (O) */
void dnic_dense_forward(float *out, const float *in, const float *W, const float *b, int B,
                        int I, int O) {
    if (b) {
        for (int r = 0; r < B; r++) memcpy(out + (size_t)r * O, b, sizeof(float) * O);
    }
    dnic_sgemm(0, 0, B, O, I, 1.0f, in, I, W, O, b ? 1.0f : 0.0f, out, O);
}

void dnic_dense_forward_ref(float *out, const float *in, const float *W, const float *b, int B,
                            int I, int O) {
    for (int r = 0; r < B; r++)
        for (int o = 0; o < O; o++) {
            double s = b ? b[o] : 0.0;
            for (int i = 0; i < I; i++) s += (double)in[(size_t)r * I + i] * W[(size_t)i * O + o];
            out[(size_t)r * O + o] = (float)s;
        }
}

/* din (B,I) += dout (B,O) W^T; dW (I,O) += in^T dout; db (O) += colsum(dout) */
void dnic_dense_backward(float *din, float *dW, float *db, const float *dout, const float *in,
                         const float *W, int B, int I, int O) {
    if (din) dnic_sgemm(0, 1, B, I, O, 1.0f, dout, O, W, O, 1.0f, din, I);
    if (dW) dnic_sgemm(1, 0, I, O, B, 1.0f, in, I, dout, O, 1.0f, dW, O);
    if (db) {
        /* 64-column strips split across threads: each thread owns its db
         * entries, rows stream contiguously, and every column is summed in
         * the same order whatever the thread count. */
        int strips = (O + 63) / 64;
#pragma omp parallel for if ((size_t)B * O > DNIC_PAR_MIN)
        for (int s = 0; s < strips; s++) {
            int lo = s * 64, hi = lo + 64 < O ? lo + 64 : O;
            for (int r = 0; r < B; r++) {
                const float *row = dout + (size_t)r * O;
                for (int o = lo; o < hi; o++) db[o] += row[o];
            }
        }
    }
}

void dnic_dense_backward_ref(float *din, float *dW, float *db, const float *dout,
                             const float *in, const float *W, int B, int I, int O) {
    if (din)
        for (int r = 0; r < B; r++)
            for (int i = 0; i < I; i++) {
                double s = 0;
                for (int o = 0; o < O; o++) s += (double)dout[(size_t)r * O + o] * W[(size_t)i * O + o];
                din[(size_t)r * I + i] += (float)s;
            }
    if (dW)
        for (int i = 0; i < I; i++)
            for (int o = 0; o < O; o++) {
                double s = 0;
                for (int r = 0; r < B; r++) s += (double)in[(size_t)r * I + i] * dout[(size_t)r * O + o];
                dW[(size_t)i * O + o] += (float)s;
            }
    if (db)
        for (int o = 0; o < O; o++) {
            double s = 0;
            for (int r = 0; r < B; r++) s += dout[(size_t)r * O + o];
            db[o] += (float)s;
        }
}
