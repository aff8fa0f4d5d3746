"""dnic.Pipeline: a DNI's blocks trained unlocked, in lockstep ticks
("pipeline") or free-running on worker threads with bounded queues
("async") — dnic_pipe_t."""
import math

from ._core import check, features, ffi, floats, ints, labels, lib


class Pipeline:
    """The blocks of `dni` (cut at its interfaces) run unlocked. While the
    pipeline lives the DNI's own train_step is refused; call sync() before
    evaluating or saving the network (it then holds the blocks' values),
    and close() (or leave the `with` block) to give the DNI back."""

    def __init__(self, dni, schedule="pipeline", queue=4):
        if schedule not in ("pipeline", "async"):
            raise ValueError("schedule %r is not one of pipeline, async" % (schedule,))
        out = ffi.new("dnic_pipe_t **")
        if schedule == "async":
            check(lib.dnic_pipe_create_async(out, dni._handle, int(queue)), "Pipeline(async)")
        else:
            check(lib.dnic_pipe_create(out, dni._handle), "Pipeline")
        self._handle = ffi.gc(out[0], lib.dnic_pipe_free)
        self.dni = dni
        self.schedule = schedule

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _live(self):
        if self._handle is None:
            raise RuntimeError("the pipeline is closed")
        return self._handle

    @property
    def pending(self):
        """Whether batches are in flight (a tick without input would do
        work); async: whether its workers run."""
        return bool(lib.dnic_pipe_pending(self._live()))

    @property
    def num_blocks(self):
        return lib.dnic_pipe_num_blocks(self._live())

    def tick(self, X=None, y=None):
        """Feeds the batch X, y (pipeline: one tick; async: queues it) and
        returns (mean loss of the batches that reached the loss meanwhile
        (NaN if none), how many). Without X: a tick that feeds nothing."""
        loss, finished = ffi.new("float *"), ffi.new("int *")
        if X is None:
            check(lib.dnic_pipe_tick(self._live(), ffi.NULL, ffi.NULL, 0, loss, finished), "tick")
        else:
            X = features(X, self.dni.network.input_dim)
            y = labels(y, X.shape[0], self.dni.network.classes)
            check(lib.dnic_pipe_tick(self._live(), floats(X), ints(y), X.shape[0], loss, finished), "tick")
        return (float(loss[0]) if finished[0] else math.nan), finished[0]

    def flush(self):
        """Runs until every batch fed has updated every block and trained every interface."""
        check(lib.dnic_pipe_flush(self._live()), "flush")

    def sync(self):
        """Hands the network the blocks' step counter (async: drain first with flush)."""
        check(lib.dnic_pipe_sync_to_net(self._live()), "sync")

    def block_steps(self):
        """Each block's optimizer steps, bottom first."""
        return [lib.dnic_pipe_block_step(self._live(), s) for s in range(self.num_blocks)]

    def block_stats(self):
        """Each block's (seconds computing, seconds waiting), bottom first."""
        busy, wait = ffi.new("double *"), ffi.new("double *")
        stats = []
        for s in range(self.num_blocks):
            check(lib.dnic_pipe_block_stats(self._live(), s, busy, wait), "block_stats")
            stats.append((busy[0], wait[0]))
        return stats

    def close(self):
        """Drains, syncs the network and frees the schedule (idempotent)."""
        if self._handle is None:
            return
        try:
            self.flush()
            self.sync()
        finally:
            ffi.release(self._handle)  # runs dnic_pipe_free now
            self._handle = None
