"""Checks of the option arguments of fit, evaluate and predict (everything but the data itself).

Each runs before any work and raises with the argument's name, what it takes
and what came, so that a typo (``seed="abc"``, ``validation_split="0.2"``)
reads as the user's mistake rather than as a failure deep inside numpy.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..argument_checks import describe


def check_seed(seed: Any) -> None:
    """``fit(seed=...)``: None or a non-negative integer (what numpy's SeedSequence takes)."""
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {describe(seed)}")


def check_validation_split(value: Any) -> float:
    """``fit(validation_split=...)``: a number in [0, 1) (0 means no split), returned as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"validation_split must be a number in [0, 1) (the fraction kept for validation), "
                         f"got {describe(value)}")
    return float(value)


def check_initial_epoch(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"initial_epoch must be a non-negative integer, got {describe(value)}")


def check_validation_freq(value: Any) -> None:
    """A positive integer (every N epochs) or a list of positive epoch numbers (1-based), as in Keras."""
    if isinstance(value, (list, tuple)):
        if all(isinstance(e, (int, np.integer)) and not isinstance(e, bool) and e > 0 for e in value):
            return
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0:
        return
    raise ValueError(f"validation_freq must be a positive integer or a list of epochs (1-based), got {describe(value)}")


def check_shuffle(value: Any) -> bool:
    """``fit(shuffle=...)``: True, False, or Keras's ``"batch"`` (read as True: seqnn shuffles whole arrays)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value == "batch":
        return True
    raise TypeError(f"shuffle must be True, False or 'batch', got {describe(value)}")


def callback_list(callbacks: Any) -> list:
    """``callbacks=``: None, a list (or tuple) of Callback instances, or one Callback (Keras flattens it too)."""
    if callbacks is None:
        return []
    from ..callbacks import Callback

    if isinstance(callbacks, Callback):
        return [callbacks]
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of seqnn.callbacks.Callback instances, got {describe(callbacks)}")
    for index, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            hint = " (pass an instance: add the parentheses)" if isinstance(cb, type) else ""
            raise TypeError(f"callbacks[{index}] must be a seqnn.callbacks.Callback instance, got {describe(cb)}{hint}")
    return list(callbacks)


def check_class_weight(class_weight: Any) -> dict[int, float] | None:
    """``fit(class_weight=...)``: a dict from class index (a non-negative integer) to a finite weight ≥ 0.

    A NaN, infinite or negative weight would make every weight of the model
    NaN (or train it to increase the loss), so it is refused like a NaN in ``x``.
    """
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict {{class index: weight}}, got {describe(class_weight)}")
    out = {}
    for key, weight in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or key < 0:
            raise ValueError(f"class_weight: keys must be class indices (non-negative integers), got the key {key!r}")
        if (isinstance(weight, bool) or not isinstance(weight, numbers.Real)
                or not math.isfinite(float(weight)) or float(weight) < 0):
            raise ValueError(f"class_weight: the weight of class {key} must be a finite number >= 0, "
                             f"got {describe(weight)}")
        out[int(key)] = float(weight)
    return out
