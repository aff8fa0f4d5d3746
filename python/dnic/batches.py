"""The order in which `dnic train` visits a training set, so a loop in
Python feeds the core exactly the batches the command line would: every
epoch shuffles 0..n-1 afresh with the core's Fisher-Yates (dnic_shuffle)
over one RNG stream, seeded from the run's seed, and cuts it into batches
of `batch` rows (the epoch's last batch takes what is left)."""
import numpy as np

from ._core import check, ffi, lib

# the data order's stream, from the run's seed (as dnic train)
DATA_SEED_SALT = 0x0DA7A0DE5EED


class BatchOrder:
    """Rows of each batch, as int32 index arrays, for a training set of n rows."""

    def __init__(self, n, batch, seed=1):
        if n < 1 or batch < 1:
            raise ValueError("a batch order needs rows (n = %d) and a batch size >= 1 (batch = %d)" % (n, batch))
        self.n, self.batch = int(n), min(int(batch), int(n))
        self._rng = ffi.new("uint64_t *", (int(seed) ^ DATA_SEED_SALT) & 0xFFFFFFFFFFFFFFFF)
        self._order = np.arange(self.n, dtype=np.int32)
        self._position = self.n  # the first call shuffles
        self._epoch_rng = None   # the RNG before this epoch's shuffle (None: no epoch begun)

    @property
    def steps_per_epoch(self):
        return (self.n + self.batch - 1) // self.batch

    def next(self):
        """The next batch's row indices (a view: copy it to keep it)."""
        if self._position >= self.n:
            self._shuffle()
            self._position = 0
        rows = self._order[self._position:self._position + self.batch]
        self._position += rows.shape[0]
        return rows

    def _shuffle(self):
        self._epoch_rng = self._rng[0]
        self._order[:] = np.arange(self.n, dtype=np.int32)
        check(lib.dnic_shuffle(ffi.cast("int32_t *", ffi.from_buffer(self._order)), self.n, self._rng), "shuffle")

    # -- checkpoint support (dnic.checkpoint) -----------------------------
    def state(self):
        """Where the order stands, as a checkpoint's trainer_state says it:
        (epoch_rng: the RNG before the current epoch's shuffle, position:
        rows of the epoch used, in_epoch: whether an epoch has begun)."""
        if self._epoch_rng is None:
            return int(self._rng[0]), 0, False
        return int(self._epoch_rng), int(self._position), True

    def next_epoch_rng(self):
        """The RNG state the next epoch's shuffle starts from (to continue
        this order in a new BatchOrder: restore(that, 0, False))."""
        return int(self._rng[0])

    def restore(self, epoch_rng, position, in_epoch):
        """Continues from a state(): the current epoch's order is shuffled
        again from its RNG, and the next batch starts at `position`."""
        if not 0 <= position <= self.n:
            raise ValueError("position %d lies outside the %d rows of an epoch" % (position, self.n))
        self._rng[0] = int(epoch_rng) & 0xFFFFFFFFFFFFFFFF
        if in_epoch:
            self._shuffle()
            self._position = int(position)
        else:
            self._epoch_rng, self._position = None, self.n
