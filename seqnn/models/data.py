"""Turning user data into batches: validation up front, conversion per batch.

Arrays are validated once before any work (shape against the model, lengths,
NaN/inf, labels against the loss) and then gathered batch by batch, so data
may stay uint8 (or any dtype) and only one batch at a time is converted to the
model's float dtype. Anything else iterable is treated as a data loader that
yields ``(x, y)`` or ``(x, y, sample_weight)`` batches (or ``x`` alone for
predict); each of its batches is checked as it arrives.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np


def is_array_like(x: Any) -> bool:
    return isinstance(x, np.ndarray) or (hasattr(x, "__array__") and hasattr(x, "shape"))


def as_array(x: Any, name: str) -> np.ndarray:
    """x as a numpy array (no copy for arrays and memmaps), or a clear TypeError."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple)) or is_array_like(x):
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{name}: expected an array, got {type(x).__name__} that numpy cannot convert ({e})")
        if arr.dtype == object:
            raise TypeError(f"{name}: expected a numeric array, got ragged or non-numeric data")
        return arr
    raise TypeError(f"{name}: expected a numpy array (or array-like), got {type(x).__name__}")


def check_numeric(x: np.ndarray, name: str) -> None:
    """Numbers (bool, integer or float), not strings, dates or complex values."""
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected numeric data, got dtype {x.dtype}")


def check_features(x: np.ndarray, expected: tuple | None, name: str = "x") -> None:
    """Check x's per-sample shape against the model's input shape (batch dim excluded)."""
    check_numeric(x, name)
    if x.ndim == 0:
        raise ValueError(f"{name}: expected a batch of samples (rank >= 1), got a scalar")
    if expected is None:
        return
    got = tuple(x.shape[1:])
    if got != tuple(expected):
        want = ", ".join(["n", *map(str, expected)])
        what = "rank" if len(got) != len(expected) else "feature shape"
        raise ValueError(f"{name}: wrong {what} for this model: expected shape ({want}) from its input, "
                         f"got {tuple(x.shape)}")


def check_finite(x: np.ndarray, name: str = "x") -> None:
    """Raise if x holds NaN or inf."""
    finite_range(x, name)


def finite_range(x: np.ndarray, name: str = "x", chunk: int = 1 << 22) -> tuple[float, float] | None:
    """``(min, max)`` of x (None when x is empty or not numeric); raises if x holds NaN or inf.

    One min and one max serve both purposes (NaN propagates through them and
    inf shows as itself), so predict's finiteness check also gives the input
    range for free. Chunked by rows: no full-size temporary, whatever x's strides.
    """
    if x.size == 0 or x.dtype.kind not in "biuf":
        return None
    if x.size <= chunk:
        parts = (x,)
    else:
        rows = max(1, chunk // (x.size // len(x)))
        parts = (x[i:i + rows] for i in range(0, len(x), rows))
    lo, hi = math.inf, -math.inf
    for part in parts:
        part_lo, part_hi = float(part.min()), float(part.max())
        # Checked per part: Python's min() and max() would pass a NaN over (every comparison with it is False).
        if not (math.isfinite(part_lo) and math.isfinite(part_hi)):
            where = np.argwhere(~np.isfinite(x))[0]
            raise ValueError(f"{name}: contains NaN or inf (first at index {tuple(int(i) for i in where)}); "
                             "clean or impute the data first")
        lo, hi = min(lo, part_lo), max(hi, part_hi)
    return lo, hi


def sample_weights(value: Any) -> np.ndarray:
    """``sample_weight``: one number per sample, of shape (n,) or (n, 1), as a 1-D array."""
    w = as_array(value, "sample_weight")
    check_numeric(w, "sample_weight")
    if w.ndim == 2 and w.shape[1] == 1:
        w = w.reshape(-1)
    if w.ndim != 1:
        raise ValueError(f"sample_weight: expected one weight per sample, shape (n,), got shape {tuple(w.shape)}")
    return w


def check_lengths(**arrays: np.ndarray | None) -> int:
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValueError(f"x, y and sample_weight must have the same number of samples: {detail}")
    n = next(iter(lengths.values()))
    if n == 0:
        raise ValueError("x: got 0 samples; need at least one")
    return n


def check_positive_int(value: Any, name: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def class_weights_for(y: np.ndarray, class_weight: dict, sparse: bool) -> np.ndarray:
    """Per-sample weights from a {class: weight} dict (labels or one-hot rows)."""
    labels = y.reshape(-1) if sparse or y.ndim == 1 or y.shape[-1] == 1 else np.argmax(y, axis=-1)
    labels = np.rint(labels).astype(np.int64)
    missing = sorted(set(np.unique(labels).tolist()) - set(int(k) for k in class_weight))
    if missing:
        raise ValueError(f"class_weight: no weight for classes {missing[:10]}; it must give every class in y")
    table = np.zeros(max(int(k) for k in class_weight) + 1)
    for k, w in class_weight.items():
        table[int(k)] = float(w)
    return table[labels]


def split_validation(arrays: list, fraction: float) -> tuple[list, list]:
    """Keras's validation_split: the last ``fraction`` of the samples, before any shuffling."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {fraction!r}")
    n = len(arrays[0])
    n_val = int(math.floor(n * fraction))
    if n_val == 0 or n_val == n:
        raise ValueError(f"validation_split={fraction} leaves {n - n_val} training and {n_val} validation "
                         f"samples out of {n}; both need at least one")
    cut = n - n_val
    return [None if a is None else a[:cut] for a in arrays], [None if a is None else a[cut:] for a in arrays]


class ArrayBatches:
    """Batches of (x, y, weights) from in-memory arrays, reshuffled every epoch if asked."""

    def __init__(self, x, y, sample_weight, batch_size: int, shuffle: bool, rng: np.random.Generator | None,
                 steps: int | None = None):
        self.x, self.y, self.w = x, y, sample_weight
        self.n = len(x)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = rng
        self.steps = steps
        self.sharder = None  # data-parallel training: yields only this process's rows (seqnn.distribute)

    def num_steps(self) -> int:
        full = math.ceil(self.n / self.batch_size)
        return full if self.steps is None else min(self.steps, full)

    def __iter__(self) -> Iterator[tuple]:
        return self.epoch()

    def epoch(self, skip: int = 0) -> Iterator[tuple]:
        """One epoch's batches, from batch ``skip`` on (the order is drawn for the whole epoch first)."""
        bs = self.batch_size
        order = self.rng.permutation(self.n) if self.shuffle else None
        for step in range(skip, self.num_steps()):
            if order is None:
                index = slice(step * bs, min(self.n, (step + 1) * bs))
            else:
                index = order[step * bs:(step + 1) * bs]
            if self.sharder is not None:
                index = self.sharder.take(index)  # only this process's rows are gathered
            yield tuple(None if a is None else a[index] for a in (self.x, self.y, self.w))

    def start_epoch(self, epoch: int, initial_epoch: int) -> None:
        """Nothing to do: the shuffling generator's state (:attr:`shuffle_state`) replays an epoch."""

    def end_epoch(self) -> None:
        """Nothing to do: arrays are reshuffled when the next epoch starts."""

    @property
    def shuffle_state(self) -> dict | None:
        """The shuffling generator's state (JSON-able), to replay an epoch's order exactly."""
        return None if self.rng is None else self.rng.bit_generator.state

    @shuffle_state.setter
    def shuffle_state(self, state: dict | None) -> None:
        if state is not None and self.rng is not None:
            self.rng.bit_generator.state = state


class LoaderBatches:
    """Batches from a user iterable (a data loader or generator).

    A re-iterable object (``iter(x) is not x``) is iterated afresh every epoch;
    a one-shot iterator (a generator) is drawn from continuously: with
    ``steps_per_epoch`` each epoch takes that many batches, without it the
    first epoch takes everything and a second one finds it exhausted.

    The loader protocol, for exact resume (``BackupAndRestore``): a
    re-iterable loader whose order changes from epoch to epoch provides
    ``set_epoch(n)``, after which its next iteration yields its epoch ``n``,
    the same batches in the same order every time, and an ``epoch`` attribute
    (its own count, the epoch its next iteration would yield). ``fit`` calls
    ``set_epoch`` before every epoch (see :meth:`start_epoch`), and for a
    validation loader before every validation. A loader without ``set_epoch``
    must yield the same batches every time it is iterated; a generator cannot
    be resumed exactly. ``on_epoch_end()`` is called after each training epoch,
    as Keras's ``PyDataset`` is.
    """

    def __init__(self, source, steps: int | None, with_targets: bool = True, name: str = "x"):
        # A string or a dict is iterable too, but never a loader of batches: say so instead of failing
        # later on its first "batch" (a character, a key).
        if not hasattr(source, "__iter__") or isinstance(source, (str, bytes, dict)):
            raise TypeError(f"{name}: expected a numpy array (or array-like) or an iterable of batches, "
                            f"got {type(source).__name__}")
        self.source = source
        self._loader_epoch = _loader_epoch(source)  # its own count as fit begins, before iter() may move it
        self.one_shot = iter(source) is source
        self.steps = steps
        self.with_targets = with_targets
        set_epoch = getattr(source, "set_epoch", None)
        self._set_epoch = set_epoch if callable(set_epoch) and not self.one_shot else None
        self.sharder = None  # data-parallel training: cuts each global batch to this process's rows (seqnn.distribute)

    def num_steps(self) -> int | None:
        """Batches per epoch, when known (progress bars and ``History.params`` show it)."""
        if self.steps is not None:
            return self.steps
        return len(self.source) if hasattr(self.source, "__len__") else None

    shuffle_state = None  # a loader shuffles (or not) on its own; start_epoch tells it which epoch it is

    def start_epoch(self, epoch: int, initial_epoch: int) -> None:
        """Tell a loader with ``set_epoch`` which of its epochs fit's epoch ``epoch`` is.

        Its epochs count on, one per epoch of fit, from its own ``epoch`` when
        fit began or from ``initial_epoch`` if that is later; epochs that a
        resumed run skips count too. So a rerun after a crash, which makes a
        new loader, gets the same order in the epoch it resumes as the
        interrupted run had; a second ``fit`` on the same loader goes on
        shuffling; and ``fit(initial_epoch=k)`` with a new loader starts at
        the loader's epoch k, as an uninterrupted run would be there.
        """
        if self._set_epoch is not None:
            self._set_epoch(max(self._loader_epoch, initial_epoch) + epoch - initial_epoch)

    def end_epoch(self) -> None:
        """Tell the source a training epoch ended (Keras's ``PyDataset.on_epoch_end``)."""
        on_epoch_end = getattr(self.source, "on_epoch_end", None)
        if callable(on_epoch_end):
            on_epoch_end()

    def __iter__(self) -> Iterator[tuple]:
        return self.epoch()

    def epoch(self, skip: int = 0) -> Iterator[tuple]:
        """One epoch's batches; the first ``skip`` are drawn and dropped (resuming mid-epoch)."""
        it = self.source if self.one_shot else iter(self.source)
        for _ in range(skip):
            if next(it, None) is None:
                return
        count = skip
        while self.steps is None or count < self.steps:
            try:
                batch = next(it)
            except StopIteration:
                return
            batch = self._unpack(batch)
            yield batch if self.sharder is None else self.sharder.split(batch)
            count += 1

    def _unpack(self, batch) -> tuple:
        if not self.with_targets:
            x = batch[0] if isinstance(batch, tuple) else batch
            return as_array(x, "x batch"), None, None
        if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
            raise ValueError(f"x: a data loader must yield (x, y) or (x, y, sample_weight) tuples, "
                             f"got {type(batch).__name__}")
        x, y, *w = batch
        return as_array(x, "x batch"), as_array(y, "y batch"), (as_array(w[0], "sample_weight batch") if w else None)


def _loader_epoch(source) -> int:
    """A loader's own epoch counter (``source.epoch``, as BatchLoader keeps one), or 0 without one."""
    epoch = getattr(source, "epoch", 0)
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        return 0
    return int(epoch)
