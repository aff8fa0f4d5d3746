/* async.h — the async engine (async.c) as the schedules' handle
 * (pipeline.c) drives it: the only way from pipeline.c into async.c, which
 * in turn knows nothing of the lockstep pipeline. Not part of the API. */
#ifndef DNIC_ASYNC_H
#define DNIC_ASYNC_H

#include "train/pipe_internal.h"

/* At create: block 0's inbox and the engine's lock and conditions. */
dnic_status dnic__async_setup(dnic_pipe_t *p, int queue);
/* At free: drains a running engine, then frees what setup made. */
void dnic__async_free(dnic_pipe_t *p);
/* dnic_pipe_tick with a batch: copies it into the inbox (waiting for room;
 * the engine starts at the first), and the losses of batches finished since. */
dnic_status dnic__async_feed(dnic_pipe_t *p, const float *x, const int32_t *labels, int B, float *loss_out,
                             int *finished_out);
/* Gathers rows idx of X (checked) straight into the inbox, on this thread alone. */
dnic_status dnic__async_feed_rows(dnic_pipe_t *p, const float *X, const int32_t *labels, const int32_t *idx, int B,
                                  float *loss_out, int *finished_out);
/* dnic_pipe_tick without a batch: waits until every batch fed has passed
 * every block and trained every interface, then stops the engine. */
dnic_status dnic__async_drain(dnic_pipe_t *p, float *loss_out, int *finished_out);

#endif
