"""Building layers without allocating or initialising their weights, for loaders.

A model read from a file gets every weight from the file, so running the
initialisers would waste time, and a file's config can declare weights far
bigger than the tensors it holds (a 247-byte file can declare ``Dense(10**7)``).
Inside :func:`shapes_only`, ``add_weight`` records an :class:`Unallocated`
placeholder (shape and dtype, no memory, no random draws); the loader
compares those shapes with the file's tensors and only then fills each weight
with :meth:`Layer.fill_weight`.
"""
from __future__ import annotations

import contextlib
import contextvars
import math
from typing import Iterator

import numpy as np

_SHAPES_ONLY = contextvars.ContextVar("seqnn_shapes_only", default=False)


class Unallocated:
    """A weight whose shape and dtype are known and whose values are not there yet."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple, dtype):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __repr__(self) -> str:
        return f"Unallocated(shape={self.shape}, dtype={self.dtype.name})"


@contextlib.contextmanager
def shapes_only() -> Iterator[None]:
    """Inside the ``with``, layers built in this thread record weight shapes and allocate nothing."""
    token = _SHAPES_ONLY.set(True)
    try:
        yield
    finally:
        _SHAPES_ONLY.reset(token)


def active() -> bool:
    return _SHAPES_ONLY.get()
