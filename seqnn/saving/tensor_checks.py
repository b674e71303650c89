"""Strict comparison of the tensors a file holds with the ones a reader expects.

Shapes are compared before anything is allocated for them, so a file that
declares big weights it does not hold costs nothing but the error.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

# An error lists at most this many names of each kind; a file can hold thousands.
_LISTED = 10


class WeightsMismatchError(ValueError):
    """A weights file does not hold exactly the tensors the model expects."""


def check_names_and_shapes(expected: dict[str, tuple], found: dict[str, np.ndarray], path: str,
                           require_float: bool = True) -> None:
    """One error naming every missing tensor, every extra tensor and every shape mismatch.

    ``expected`` maps names to shapes; ``found`` maps names to arrays (or
    anything with ``shape`` and ``dtype``). With ``require_float``, the
    expected tensors must also be floating point, as weights are.
    """
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    common = sorted(set(expected) & set(found))
    shapes = [f"{k}: model {tuple(expected[k])}, file {tuple(found[k].shape)}" for k in common
              if tuple(found[k].shape) != tuple(expected[k])]
    not_float = [f"{k} ({found[k].dtype})" for k in expected if k in found and np.dtype(found[k].dtype).kind != "f"] \
        if require_float else []
    problems = []
    if missing:
        problems.append(f"missing tensors: {_listing(missing)}")
    if extra:
        problems.append(f"unexpected tensors: {_listing(extra)}")
    if shapes:
        problems.append(f"shape mismatches: {_listing(shapes, '; ')}")
    if not_float:
        problems.append(f"non-floating-point weights: {_listing(not_float)}")
    if problems:
        raise WeightsMismatchError(f"{path} does not match the model: " + " | ".join(problems))


def _listing(items: Iterable[str], separator: str = ", ") -> str:
    items = list(items)
    shown = separator.join(items[:_LISTED])
    return shown if len(items) <= _LISTED else f"{shown}{separator}... ({len(items) - _LISTED} more)"
