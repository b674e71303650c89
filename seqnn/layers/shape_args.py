"""Checking the shape of one sample, as ``Input(shape)`` and a first layer's ``input_shape=`` give it."""
from __future__ import annotations

from typing import Any

import numpy as np


def is_integer(value: Any) -> bool:
    """A Python or numpy integer, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_sequence(value: Any) -> bool:
    """A tuple, a list or a 1-D array: what a shape may be written as (not a string, which is iterable too)."""
    return isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim == 1)


def sample_shape(value: Any, owner: str, name: str = "shape") -> tuple[int, ...]:
    """``value`` as a tuple of positive ints; an int ``n`` means ``(n,)``.

    Every entry must be an integer itself: ``"28"`` would otherwise read as
    (2, 8) and ``int(28.5)`` as 28.
    """
    if is_integer(value):
        value = (value,)
    if not is_sequence(value) or len(value) == 0 or not all(is_integer(d) and d > 0 for d in value):
        raise ValueError(f"{owner} {name} must be a tuple of positive integers (the shape of one sample, "
                         f"e.g. (784,)), got {type(value).__name__}: {value!r}")
    return tuple(int(d) for d in value)
