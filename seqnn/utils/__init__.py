"""Keras's utilities: seeding, label encoding, sessions and PyDataset."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..naming import clear_session
from ..random import set_seed
from .py_dataset import PyDataset, Sequence


def set_random_seed(seed: int) -> None:
    """Seed seqnn's weight initialisation, shuffling and dropout (and Python's and numpy's generators)."""
    set_seed(seed)


def to_categorical(y: Any, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """One-hot rows from integer class labels: ``to_categorical([0, 2], 3)`` → [[1,0,0],[0,0,1]].

    Labels of shape (n,) or (n, 1) give (n, num_classes); higher ranks keep
    their shape and gain a last axis. ``num_classes`` defaults to max(y) + 1.
    """
    y = np.asarray(y)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError("y: to_categorical needs whole-number class labels, got non-integer values")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"y: to_categorical needs integer class labels, got dtype {y.dtype}")
    labels = y.astype(np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.size and labels.min() < 0:
        raise ValueError(f"y: class labels must be >= 0, got {labels.min()}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif labels.size and labels.max() >= num_classes:
        raise ValueError(f"y: label {labels.max()} is out of range for num_classes={num_classes}")
    out = np.zeros((*labels.shape, num_classes), dtype=dtype)
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return out


__all__ = ["PyDataset", "Sequence", "clear_session", "set_random_seed", "to_categorical"]
