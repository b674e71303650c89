"""The hook through which batch sources hand each process only its shard of every global batch.

``fit`` attaches a :class:`Sharder` to its batch sources (``sharder``
attribute, see :mod:`seqnn.models.data` and
:class:`~seqnn.datasets.BatchLoader`). A source that builds batches from an
index (arrays, memory maps) passes the global batch's index through
:meth:`Sharder.take` and reads only the rows it gets back; a loader of the
user's own yields whole global batches, which :meth:`Sharder.split` cuts.
Either way the sharder remembers the batch's :class:`~seqnn.distribute.shards.Shard`
as :attr:`Sharder.current` until the training step that uses it is done, and
tells :attr:`Sharder.on_shard` (if set) each time that changes.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .shards import Shard, shard_of


class Sharder:
    """Cuts global batches into this process's shard and remembers the last one.

    Attributes:
        current: the shard of the batch being processed, from the moment it is
            read until the step's results are gathered; None between steps
            and outside a distributed loop.
        on_shard: called with :attr:`current` whenever it is set (a shard, or
            None when the step is done); DataParallel's exact sums use it to
            give the loss the global batch's row count for the step.
    """

    def __init__(self, rank: int, size: int):
        self.rank, self.size = rank, size
        self.on_shard: Callable[[Shard | None], None] | None = None
        self._current: Shard | None = None

    @property
    def current(self) -> Shard | None:
        return self._current

    @current.setter
    def current(self, shard: Shard | None) -> None:
        self._current = shard
        if self.on_shard is not None:
            self.on_shard(shard)

    def take(self, index):
        """This process's part of a global batch's index (a ``slice`` of step 1, or a 1-D array of row numbers)."""
        if isinstance(index, slice):
            start = 0 if index.start is None else index.start
            if index.stop is None or index.step not in (None, 1):
                raise ValueError(f"Sharder.take: expected a slice with a stop and step 1, got {index!r}")
            self.current = shard = shard_of(index.stop - start, self.rank, self.size)
            rows = shard.compute
            return slice(start + rows.start, start + rows.stop)
        index = np.asarray(index)
        self.current = shard = shard_of(len(index), self.rank, self.size)
        return index[shard.compute]

    def split(self, batch: tuple) -> tuple:
        """This process's rows of a whole global batch ``(x, y, sample_weight)`` (entries may be None)."""
        self.current = shard = shard_of(len(batch[0]), self.rank, self.size)
        rows = shard.compute
        return tuple(None if part is None else part[rows] for part in batch)
