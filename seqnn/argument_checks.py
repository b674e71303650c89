"""Checks of constructor arguments that every kind of object has: flags, names, seeds, numbers.

Each raises before the object is made, with the owner (``"Dense"``,
``"EarlyStopping"``), the argument's name, what it takes and what came. A
flag must be a real bool because Python would read any non-empty string as
True: ``use_bias="no"`` would silently keep the bias.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def describe(value: Any) -> str:
    """What came, for a message: the value, with its type where the repr alone would hide it ('0.2' vs 0.2)."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    plain = value is None or isinstance(value, (bool, int, float, np.integer, np.floating, np.bool_))
    return text if plain else f"{type(value).__name__} {text}"


def is_integer(value: Any) -> bool:
    """A Python or numpy integer, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_bool(value: Any, owner: str, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {describe(value)}")
    return bool(value)


def check_name(value: Any, owner: str) -> str | None:
    """An object's ``name=``: a string, or None for the automatic one."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{owner}: name must be a string (or None), got {describe(value)}")
    return value


def check_seed(value: Any, owner: str, name: str = "seed") -> int | None:
    """A seed: None (the global seed stream decides) or a non-negative integer, as numpy takes it."""
    if value is not None and not (is_integer(value) and value >= 0):
        raise ValueError(f"{owner}: {name} must be a non-negative integer or None, got {describe(value)}")
    return None if value is None else int(value)


def check_number(value: Any, owner: str, name: str, low: float = -math.inf, high: float = math.inf,
                 low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number (not a bool, not a string) in the interval from ``low`` to ``high``.

    ``low_open`` / ``high_open`` exclude the bound. Returns it as a float.
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)
    if ok:
        number = float(value)
        ok = (number > low if low_open else number >= low) and (number < high if high_open else number <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open or high == math.inf else ']'}"
        raise ValueError(f"{owner}: {name} must be a number in {interval}, got {describe(value)}")
    return float(value)


def check_verbose(value: Any, owner: str) -> int:
    """A callback's ``verbose``: 0 (silent) or 1 (print); True and False count as 1 and 0, as in Keras."""
    if not (isinstance(value, (bool, np.bool_)) or is_integer(value)) or value < 0:
        raise ValueError(f"{owner}: verbose must be 0 (silent) or 1 (print), got {describe(value)}")
    return int(value)
