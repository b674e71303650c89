"""Random draws that depend on the global sample position, not on the process.

Dropout and noise layers draw from a counter-based stream
(:mod:`seqnn.backends.counter_rng`): word ``p`` is a pure function of the
seed and ``p``. One process drawing for a batch of ``n`` rows with ``k``
words per row takes words ``o … o + n·k − 1`` (row ``i`` gets
``o + i·k … o + i·k + k − 1``) and moves the stream to ``o + n·k``. A
:class:`ShardedStream` makes a process that computes rows ``a … b − 1`` of
that batch take the same span and hand back only its rows' words
(``o + a·k …``), so every row gets the mask it gets on one process, and
every process's stream ends where the one-process stream does.
"""
from __future__ import annotations

from .errors import DistributedError
from .sharder import Sharder


class ShardedStream:
    """A layer's random stream, drawing as one process would for the whole global batch.

    Outside a sharded step (``sharder.current`` is None) it is the stream itself.
    """

    def __init__(self, stream, sharder: Sharder, owner: str):
        self.inner, self.sharder, self.owner = stream, sharder, owner

    def take(self, count: int) -> tuple[int, int]:
        """Reserve the words of this process's rows: (seed, position of its first word)."""
        shard = self.sharder.current
        if shard is None:
            return self.inner.take(count)
        rows = shard.compute.stop - shard.compute.start
        if count % rows:
            raise DistributedError(f"{self.owner}: drew {count} random numbers for a shard of {rows} rows, which is "
                                   "not a whole number per row; data-parallel training needs random draws made per "
                                   "sample")
        per_row = count // rows
        seed, start = self.inner.take(per_row * shard.total)
        return seed, start + shard.compute.start * per_row

    @property
    def seed(self) -> int:
        return self.inner.seed

    @property
    def offset(self) -> int:
        return self.inner.offset

    @property
    def state(self) -> dict:
        return self.inner.state

    @state.setter
    def state(self, value: dict) -> None:
        self.inner.state = value


def random_layers(model) -> list:
    """The model's layers (nested models included) that own a random stream now."""
    return [layer for layer in model.innermost_layers() if getattr(layer, "rng", None) is not None]


def shard_streams(model, sharder: Sharder) -> None:
    """Wrap every random layer's stream in a :class:`ShardedStream` (for the length of a ``fit``)."""
    for layer in random_layers(model):
        if not isinstance(layer.rng, ShardedStream):
            layer.rng = ShardedStream(layer.rng, sharder, f"layer {layer.name!r} ({type(layer).__name__})")


def unshard_streams(model) -> None:
    """Put back the streams :func:`shard_streams` wrapped (they have moved on as one process's would)."""
    for layer in random_layers(model):
        if isinstance(layer.rng, ShardedStream):
            layer.rng = layer.rng.inner
