/* pipe_state.c — one pipeline block's whole state as bytes, so another
 * process running that block (an MPI rank) can hand it to the one that
 * evaluates and checkpoints: the parameters and optimizer moments of its
 * layers (running statistics are parameters) and of its interface, both
 * step counters, its rings of batches in flight, its messages of the last
 * tick and its figures. Layout: int64 fields, then doubles, then floats;
 * every buffer at full size, so the size depends on the shape alone. It
 * moves in pieces (pack_range, unpack_range): a wide block's state is
 * several times its parameters, and a whole copy of it would double what
 * the rank holds. */
#include "train/pipe_internal.h"

#include <string.h>

enum { STATE_INTS_FIXED = 6, STATE_INTS_PER_SLOT = 3, STATE_INTS_PER_PARITY = 5, STATE_DOUBLES = 2 };

static size_t n_ints(const pipe_block_t *b) {
    return STATE_INTS_FIXED + STATE_INTS_PER_SLOT * (size_t)b->ring_n + 2 * STATE_INTS_PER_PARITY;
}

static size_t iface_floats(const pipe_block_t *b) {
    size_t n = 0;
    if (b->it) dnic_iface_params(b->it, &n);
    return 3 * n; /* parameters, then both moments */
}

static size_t n_floats(const dnic_pipe_t *p, const pipe_block_t *b) {
    size_t n = 0, mb = (size_t)p->max_batch;
    dnic_net_params(b->net, &n);
    size_t down = b->down[0] ? 2 * mb * (size_t)b->in_dim : 0;
    return 1 + 3 * n + iface_floats(b) + (size_t)b->ring_n * mb * (size_t)b->top_dim + down;
}

size_t dnic__pipe_block_state_size(const dnic_pipe_t *p, int s) {
    const pipe_block_t *b = &p->blocks[s];
    return n_ints(b) * sizeof(int64_t) + STATE_DOUBLES * sizeof(double) + n_floats(p, b) * sizeof(float);
}

/* The float arrays of the state, in order, with their lengths. */
typedef struct {
    float *at[8];
    size_t len[8];
    int n;
} float_parts;

static void add_part(float_parts *f, float *at, size_t len) {
    f->at[f->n] = at;
    f->len[f->n] = len;
    f->n++;
}

static float_parts parts_of(const dnic_pipe_t *p, pipe_block_t *b) {
    (void)p;
    float_parts f = {{0}, {0}, 0};
    size_t n = 0;
    float *params = dnic_net_params(b->net, &n);
    add_part(&f, params, n);
    add_part(&f, dnic__net_moment(b->net, 0), n);
    add_part(&f, dnic__net_moment(b->net, 1), n);
    if (b->it) {
        size_t k = 0, k2 = 0;
        float *ip = dnic_iface_params(b->it, &k), *io = dnic_iface_optim_state(b->it, &k2);
        add_part(&f, ip, k);
        add_part(&f, io, 2 * k);
    }
    return f; /* the ring's and messages' buffers are walked apart */
}

/* The header: the int64 fields, the doubles and the interface's loss. */
static size_t header_size(const pipe_block_t *b) {
    return n_ints(b) * sizeof(int64_t) + STATE_DOUBLES * sizeof(double) + sizeof(float);
}

enum { MAX_HEADER = (STATE_INTS_FIXED + STATE_INTS_PER_SLOT * 64 + 2 * STATE_INTS_PER_PARITY) * 8 +
                    STATE_DOUBLES * 8 + 4 };

static void header_pack(const pipe_block_t *b, unsigned char *dst) {
    int64_t ints[STATE_INTS_FIXED + STATE_INTS_PER_SLOT * 64 + 2 * STATE_INTS_PER_PARITY];
    size_t k = 0;
    ints[k++] = dnic_net_optim_step(b->net);
    ints[k++] = b->it ? dnic_iface_step(b->it) : 0;
    ints[k++] = b->next_slot;
    ints[k++] = b->forwarded;
    ints[k++] = b->stale_count;
    ints[k++] = b->stale_max;
    for (int r = 0; r < b->ring_n; r++) {
        ints[k++] = b->ring_batch[r];
        ints[k++] = b->ring_rows[r];
        ints[k++] = b->ring_fwd[r];
    }
    for (int q = 0; q < 2; q++) {
        ints[k++] = b->up_msg[q].batch;
        ints[k++] = b->up_msg[q].rows;
        ints[k++] = b->up_msg[q].slot;
        ints[k++] = b->down_msg[q].batch;
        ints[k++] = b->down_msg[q].rows;
    }
    memcpy(dst, ints, k * sizeof(int64_t));
    dst += k * sizeof(int64_t);
    double d[STATE_DOUBLES] = {b->busy, b->stale_sum};
    memcpy(dst, d, sizeof d);
    dst += sizeof d;
    float loss = b->iface_loss;
    memcpy(dst, &loss, sizeof loss);
}

static dnic_status header_unpack(pipe_block_t *b, const unsigned char *src) {
    size_t k = 0, ni = n_ints(b);
    int64_t ints[STATE_INTS_FIXED + STATE_INTS_PER_SLOT * 64 + 2 * STATE_INTS_PER_PARITY];
    memcpy(ints, src, ni * sizeof(int64_t));
    src += ni * sizeof(int64_t);
    /* the sender runs the same shape: its counters are trusted as our own */
    dnic_status st = dnic_net_set_optim_step(b->net, ints[k++]);
    int64_t iface_step = ints[k++];
    if (st == DNIC_OK && b->it) st = dnic_iface_set_step(b->it, iface_step);
    if (st != DNIC_OK) return st;
    b->next_slot = (int)ints[k++];
    b->forwarded = ints[k++];
    b->stale_count = ints[k++];
    b->stale_max = ints[k++];
    for (int r = 0; r < b->ring_n; r++) {
        b->ring_batch[r] = (int)ints[k++];
        b->ring_rows[r] = (int)ints[k++];
        b->ring_fwd[r] = ints[k++];
    }
    for (int q = 0; q < 2; q++) {
        b->up_msg[q].batch = (int)ints[k++];
        b->up_msg[q].rows = (int)ints[k++];
        b->up_msg[q].slot = (int)ints[k++];
        b->down_msg[q].batch = (int)ints[k++];
        b->down_msg[q].rows = (int)ints[k++];
        b->down_msg[q].slot = -1;
    }
    double d[STATE_DOUBLES];
    memcpy(d, src, sizeof d);
    src += sizeof d;
    b->busy = d[0];
    b->stale_sum = d[1];
    memcpy(&b->iface_loss, src, sizeof b->iface_loss);
    return DNIC_OK;
}

/* After the header, the state's float arrays in order: the parameters and
 * moments (parts_of), the ring's activations, the gradients sent down. */
typedef struct {
    float *at[8 + 64 + 2];
    size_t len[8 + 64 + 2];
    int n;
} segments_t;

static void segments_of(const dnic_pipe_t *p, pipe_block_t *b, segments_t *g) {
    size_t mb = (size_t)p->max_batch;
    float_parts f = parts_of(p, b);
    g->n = 0;
    for (int i = 0; i < f.n; i++, g->n++) g->at[g->n] = f.at[i], g->len[g->n] = f.len[i];
    for (int r = 0; r < b->ring_n; r++, g->n++) g->at[g->n] = b->ring_h[r], g->len[g->n] = mb * (size_t)b->top_dim;
    for (int q = 0; b->down[0] && q < 2; q++, g->n++) g->at[g->n] = b->down[q], g->len[g->n] = mb * (size_t)b->in_dim;
}

/* Walks bytes [off, off + len) of the state's float arrays (offsets past
 * the header), copying to (out = 1) or from `buf`, which holds those bytes. */
static void walk(const segments_t *g, size_t off, size_t len, unsigned char *buf, int out) {
    size_t at = 0;
    for (int i = 0; i < g->n && len > 0; i++) {
        size_t bytes = g->len[i] * sizeof(float);
        if (off < at + bytes) {
            size_t from = off - at, n = bytes - from < len ? bytes - from : len;
            if (out) memcpy(buf, (unsigned char *)g->at[i] + from, n);
            else memcpy((unsigned char *)g->at[i] + from, buf, n);
            buf += n, off += n, len -= n;
        }
        at += bytes;
    }
}

void dnic__pipe_block_state_pack_range(const dnic_pipe_t *p, int s, size_t off, size_t len, unsigned char *dst) {
    pipe_block_t *b = &((dnic_pipe_t *)p)->blocks[s];
    size_t h = header_size(b);
    if (off < h) {
        unsigned char head[MAX_HEADER];
        header_pack(b, head);
        size_t n = h - off < len ? h - off : len;
        memcpy(dst, head + off, n);
        dst += n, off += n, len -= n;
    }
    segments_t g;
    segments_of(p, b, &g);
    walk(&g, off - h, len, dst, 1);
}

dnic_status dnic__pipe_block_state_unpack_range(dnic_pipe_t *p, int s, size_t off, size_t len,
                                                const unsigned char *src) {
    pipe_block_t *b = &p->blocks[s];
    if (b->ring_n > 64) return DNIC_ERR_SIZE;
    size_t h = header_size(b);
    if (off > 0 && off < h) return DNIC_ERR_ARG; /* the header comes whole, in the first piece */
    if (off == 0) {
        if (len < h) return DNIC_ERR_ARG;
        dnic_status st = header_unpack(b, src);
        if (st != DNIC_OK) return st;
        src += h, off += h, len -= h;
    }
    segments_t g;
    segments_of(p, b, &g);
    walk(&g, off - h, len, (unsigned char *)src, 0);
    return DNIC_OK;
}

void dnic__pipe_block_state_pack(const dnic_pipe_t *p, int s, unsigned char *dst) {
    dnic__pipe_block_state_pack_range(p, s, 0, dnic__pipe_block_state_size(p, s), dst);
}

dnic_status dnic__pipe_block_state_unpack(dnic_pipe_t *p, int s, const unsigned char *src) {
    return dnic__pipe_block_state_unpack_range(p, s, 0, dnic__pipe_block_state_size(p, s), src);
}
