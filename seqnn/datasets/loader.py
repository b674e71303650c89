"""BatchLoader: batches from arrays, ``np.memmap`` or ``.npy`` files, for data larger than memory.

Pass a loader where ``fit`` / ``evaluate`` / ``predict`` take ``x``::

    x = np.lib.format.open_memmap("x.npy", mode="w+", dtype=np.uint8, shape=(n, 28, 28))
    ...                                   # fill it in chunks
    loader = BatchLoader("x.npy", "y.npy", batch_size=128, seed=0)
    model.fit(loader, epochs=5)
    model.evaluate(BatchLoader("x_test.npy", "y_test.npy", shuffle=False))

``.npy`` paths are opened with ``mmap_mode="r"``: only the rows of the batch
being built are read from disk, and the data is never copied whole.
"""
from __future__ import annotations

import math
import os
from typing import Any, Iterator

import numpy as np

from .. import random as sn_random
from . import npy_format
from .errors import DataFileError

_SHUFFLE_MODES = (True, False, "batch")


def open_npy(path: str | os.PathLike, name: str = "x") -> np.ndarray:
    """A read-only memory map of an ``.npy`` file (pickled data refused).

    Raises:
        DataFileError: (a ValueError) not an ``.npy`` file, or one whose
            header is malformed or declares more or less data than the file
            holds; the message names ``name``, the file and the problem.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        if f.read(4) in (b"PK\x03\x04", b"PK\x05\x06"):  # an .npz archive is a zip file
            raise DataFileError(path, "an .npz archive", f"{name}: {path} is an .npz archive; pass its arrays or "
                                                         "save them as .npy files")
        f.seek(0)
        try:
            header = npy_format.read_header(f, path)
            npy_format.check_size(header, os.fstat(f.fileno()).st_size - header.data_offset, path)
        except DataFileError as e:
            raise DataFileError(path, e.problem, f"{name}: {path} is not a readable .npy file ({e.problem})") from None
    return npy_format.memory_map(path, header)


class BatchLoader:
    """Re-iterable batches ``(x, y)`` / ``(x, y, sample_weight)`` / ``x`` with seeded per-epoch shuffling.

    Args:
        x: an array, an ``np.memmap``, or the path of an ``.npy`` file.
        y: targets, in the same forms (None for predict-only data).
        sample_weight: optional per-sample weights, in the same forms.
        batch_size: samples per batch.
        shuffle: ``True`` draws a new sample order every epoch; ``"batch"``
            keeps each batch's samples contiguous and shuffles only the
            order of the batches (sequential disk reads, for data on slow
            storage); ``False`` reads in order.
        seed: fixes the shuffling; epoch e's order depends only on
            ``(seed, e)``. Without one a seed is drawn from the global
            stream (``seqnn.utils.set_random_seed``) when the loader is made.
        drop_remainder: leave out the last batch when it is smaller than
            ``batch_size``.

    Each ``iter(loader)`` is one epoch and advances :attr:`epoch`;
    :meth:`set_epoch` chooses it. ``fit`` calls :meth:`set_epoch` before each
    epoch, counting on from :attr:`epoch`, so a run resumed by
    ``BackupAndRestore`` replays the interrupted epoch's order exactly.
    ``len(loader)`` is the number of batches per epoch. Batches are numpy
    arrays in the stored dtype (the model converts each batch). An ``.npy``
    file must hold samples of numbers; anything else raises
    :class:`~seqnn.datasets.DataFileError`.
    """

    def __init__(self, x: Any, y: Any = None, sample_weight: Any = None, batch_size: int = 32,
                 shuffle: bool | str = True, seed: int | None = None, drop_remainder: bool = False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not any(shuffle is mode or shuffle == mode for mode in _SHUFFLE_MODES):
            raise ValueError(f"shuffle must be True, False or 'batch', got {shuffle!r}")
        self.x = _as_source(x, "x")
        self.y = None if y is None else _as_source(y, "y")
        self.sample_weight = None if sample_weight is None else _as_source(sample_weight, "sample_weight")
        given = {"x": (x, self.x), "y": (y, self.y), "sample_weight": (sample_weight, self.sample_weight)}
        lengths = {_label(k, value): len(a) for k, (value, a) in given.items() if a is not None}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"x, y and sample_weight must have the same number of samples, got {lengths}")
        self.num_samples = len(self.x)
        if self.num_samples == 0:
            raise ValueError(f"{_label('x', x)}: got 0 samples; need at least one")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = sn_random.next_seed() if seed is None and shuffle else seed
        self.drop_remainder = bool(drop_remainder)
        self.epoch = 0
        # Set by data-parallel fit (seqnn.distribute): each global batch's index goes through it, and only
        # this process's rows are read.
        self.sharder = None
        if len(self) == 0:
            raise ValueError(f"drop_remainder with batch_size={batch_size} leaves no batch of {self.num_samples} "
                             "samples")

    def __len__(self) -> int:
        if self.drop_remainder:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter()`` produce epoch ``epoch``'s order."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
        self.epoch = int(epoch)

    def batch_order(self, epoch: int) -> list[np.ndarray | slice]:
        """The batches of epoch ``epoch``: a sorted index array (or a slice) per batch."""
        n, bs, count = self.num_samples, self.batch_size, len(self)
        if self.shuffle is True:
            order = np.random.default_rng([self.seed, epoch]).permutation(n)
            # sorted within the batch: memmap reads move forward through the file
            return [np.sort(order[i * bs:(i + 1) * bs]) for i in range(count)]
        slices = [slice(i * bs, min(n, (i + 1) * bs)) for i in range(count)]
        if self.shuffle == "batch":
            perm = np.random.default_rng([self.seed, epoch]).permutation(count)
            slices = [slices[i] for i in perm]
        return slices

    def __iter__(self) -> Iterator:
        epoch, self.epoch = self.epoch, self.epoch + 1
        for index in self.batch_order(epoch):
            if self.sharder is not None:
                index = self.sharder.take(index)
            xb = np.asarray(self.x[index])
            if self.y is None:
                yield xb
                continue
            yb = np.asarray(self.y[index])
            if self.sample_weight is None:
                yield xb, yb
            else:
                yield xb, yb, np.asarray(self.sample_weight[index])

    def __repr__(self) -> str:
        return (f"BatchLoader({self.num_samples} samples, batch_size={self.batch_size}, shuffle={self.shuffle!r}, "
                f"{len(self)} batches per epoch)")


def _as_source(value: Any, name: str) -> np.ndarray:
    if isinstance(value, (str, os.PathLike)):
        return _check_file_array(open_npy(value, name), os.fspath(value), name)
    if isinstance(value, np.ndarray):
        array = value
    elif hasattr(value, "__array__") or isinstance(value, (list, tuple)):
        array = np.asarray(value)
    else:
        raise TypeError(f"{name}: expected an array, an np.memmap or an .npy path, got {type(value).__name__}")
    if array.ndim == 0:
        raise ValueError(f"{name}: expected an array of samples, got a scalar")
    if array.dtype == object:
        raise TypeError(f"{name}: expected numeric data, got an object array")
    return array


def _label(name: str, value: Any) -> str:
    """``x``, or ``x (path)`` when it came from a file, so that a message names the file."""
    return f"{name} ({os.fspath(value)})" if isinstance(value, (str, os.PathLike)) else name


def _check_file_array(array: np.ndarray, path: str, name: str) -> np.ndarray:
    """An .npy file's array must be samples of numbers: it is the loader's data, not an argument to fix."""
    if array.ndim == 0:
        raise DataFileError(path, "a single value", f"{name}: {path} holds a single value (shape ()), expected an "
                                                    "array of samples (one per row)")
    if array.dtype.kind not in "biuf":
        raise DataFileError(path, f"dtype {array.dtype}", f"{name}: {path} holds {array.dtype.str} data, expected "
                                                          "numbers (bool, integer or float)")
    return array
