/* train_internal.h — the training floor's internal calls between the
 * network (net.c), the interfaces (iface.c) and the DNI trainer (dni.c),
 * and what the unlocked schedules take from them (pipe_internal.h has
 * the schedules' own). Not installed. */
#ifndef DNIC_TRAIN_INTERNAL_H
#define DNIC_TRAIN_INTERNAL_H

#include "base/internal.h"

/* net.c: a block of layers [first, last] of `whole` as its own network
 * (values not imported), and the copy of parameters, optimizer state,
 * step, optimizer settings and clip between a block and the whole */
dnic_status dnic__net_block_create(dnic_net_t **out, const dnic_net_t *whole, int first, int last, int max_batch);
/* ... or with activations only (BLOCK_VIEW, for dnic__net_block_view), or
 * shape only (BLOCK_SHAPE: no values, no activations; a block another
 * process runs, under a network made by dnic_net_create_range) */
enum { BLOCK_OWN, BLOCK_VIEW, BLOCK_SHAPE };
dnic_status dnic__net_block_shape(dnic_net_t **out, const dnic_net_t *whole, int first, int last, int max_batch,
                                  int kind);
/* net.c: whether the network holds layers [first, last]'s values */
int dnic__net_holds(const dnic_net_t *n, int first, int last);
void dnic__net_block_sync(dnic_net_t *block, dnic_net_t *whole, int first, int to_whole);
/* net.c, iface.c: lifetimes (dnic.h). A DNI borrows its network (freed
 * with the last borrower when the caller freed it first) and owns its
 * blocks and interfaces (the public free functions skip an owned handle;
 * the owner clears the mark, then frees). */
void dnic__net_borrow(dnic_net_t *net);
void dnic__net_release(dnic_net_t *net);
void dnic__net_set_owned(dnic_net_t *net, int owned);
void dnic__iface_set_owned(dnic_iface_t *it, int owned);
/* net.c: block views, whose parameters, gradients and moments are the
 * whole's (every schedule's blocks); their settings, the whole's update
 * through them, the step counter handed back */
dnic_status dnic__net_block_view(dnic_net_t **out, dnic_net_t *whole, int first, int last);
void dnic__net_view_refresh(dnic_net_t *view, const dnic_net_t *whole);
dnic_status dnic__net_update_blocks(dnic_net_t *whole, dnic_net_t *const *blocks, int n);
void dnic__net_view_publish_step(const dnic_net_t *view, dnic_net_t *whole);
/* The optimizer's first (0) or second (1) moment block, n_params floats
 * (a view's point into its whole's). */
float *dnic__net_moment(dnic_net_t *n, int which);
/* Names the tensor that went non-finite elsewhere (another rank's copy). */
DNIC_INTERNAL_API void dnic__net_set_fault(dnic_net_t *n, int tensor, int gradient);

/* iface.c: kinds whose parameters an update trains (LINEAR, NOLABEL, SIGMOID, MLP) */
int dnic__iface_kind_trainable(dnic_iface_kind k);
/* net.c: whether layer l has batch norm (0 outside the network) */
int dnic__net_layer_batchnorm(const dnic_net_t *n, int l);

/* net.c: fills one parameter-table entry (name, place in the block, shape, flags) */
void dnic__tensor_info_set(dnic_tensor_info *t, const char *name, size_t offset, int rows, int cols,
                           int trainable, int decay, int group);

/* net.c: zero_grad deferred to the next backward through each layer; only
 * for code that runs backward and update before anyone reads gradients */
void dnic__net_zero_grad_lazy(dnic_net_t *n);

/* dni.c: what the pipeline needs of a DNI trainer */
dnic_net_t *dnic__dni_net(dnic_dni_t *dni);
const dnic_iface_desc *dnic__dni_desc(const dnic_dni_t *dni, int i);
int dnic__dni_tracking(const dnic_dni_t *dni);
int dnic__dni_num_blocks(const dnic_dni_t *dni);
dnic_net_t *dnic__dni_block(dnic_dni_t *dni, int k);
int dnic__dni_block_first(const dnic_dni_t *dni, int k);
dnic_status dnic__dni_lend_blocks(dnic_dni_t *dni, int lend);

#endif
