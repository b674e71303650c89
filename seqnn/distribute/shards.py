"""Which rows of a global batch each process takes.

A global batch of ``n`` rows is split over ``N`` processes into contiguous
shards in rank order: rank ``r`` takes ``counts[r] = n // N + (r < n % N)``
rows, starting at ``Σ_{q<r} counts[q]``. Shards differ by at most one row;
concatenated in rank order they are the batch in its own order, which is what
makes metrics gathered in rank order equal the one-process ones.

The gradient of the global batch is a weighted sum of the shards' gradients.
With the loss reduced as ``sum_over_batch_size`` (Keras's default),
``L = (1/n) Σᵢ wᵢℓᵢ``, and a shard computes ``Lᵣ = (1/nᵣ) Σ_{i∈r} wᵢℓᵢ``, so

    L = Σᵣ (nᵣ/n)·Lᵣ      and      ∇L = Σᵣ (nᵣ/n)·∇Lᵣ;

with ``sum`` reduction the share is 1. :meth:`Shard.share` gives that factor.

A process whose shard is empty (``n < N``, e.g. a last batch of 1 row on 2
processes) still runs the step, on the batch's last row with share 0, so that
every process takes part in the same collective operations and random draws.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    """This process's part of one global batch.

    Attributes:
        rank: this process's rank.
        counts: rows of every rank's shard, in rank order (they sum to ``total``).
        total: rows in the global batch.
    """

    rank: int
    counts: tuple[int, ...]
    total: int

    @property
    def start(self) -> int:
        """Index, in the global batch, of this shard's first row."""
        return sum(self.counts[:self.rank])

    @property
    def count(self) -> int:
        """Rows of this shard (0 when the batch has fewer rows than there are processes)."""
        return self.counts[self.rank]

    @property
    def compute(self) -> slice:
        """The rows this process computes: its shard, or the batch's last row (with share 0) when that is empty."""
        if self.count == 0:
            return slice(self.total - 1, self.total)
        return slice(self.start, self.start + self.count)

    def share(self, reduction: str = "sum_over_batch_size", rank: int | None = None) -> float:
        """The factor that turns rank ``rank``'s (default: this one's) loss and gradient into its part of the whole.

        ``nᵣ/n`` for ``"sum_over_batch_size"``, 1 for ``"sum"`` (0 for an empty shard either way).
        """
        count = self.counts[self.rank if rank is None else rank]
        if count == 0:
            return 0.0
        if reduction == "sum":
            return 1.0
        if reduction == "sum_over_batch_size":
            return count / self.total
        raise ValueError(f"a distributed step needs a reduced loss ('sum_over_batch_size' or 'sum'), got "
                         f"reduction={reduction!r}")

    def weight(self, rank: int | None = None) -> float:
        """Rank ``rank``'s fraction of the batch, ``nᵣ/n``: the weight of its batch statistics."""
        return self.counts[self.rank if rank is None else rank] / self.total


def shard_counts(total: int, size: int) -> tuple[int, ...]:
    """Rows per rank for a batch of ``total`` rows on ``size`` processes; the first ``total % size`` get one more."""
    base, extra = divmod(total, size)
    return tuple(base + (r < extra) for r in range(size))


def shard_of(total: int, rank: int, size: int) -> Shard:
    """Rank ``rank``'s shard of a global batch of ``total`` rows on ``size`` processes."""
    if total <= 0:
        raise ValueError(f"a global batch needs at least one row, got {total}")
    if not 0 <= rank < size:
        raise ValueError(f"rank must be in [0, {size}), got {rank}")
    return Shard(rank, shard_counts(total, size), total)
