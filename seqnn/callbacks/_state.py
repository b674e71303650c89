"""Reading a callback's saved state strictly: it comes from a backup file, which may be damaged or forged.

Each reader returns the value or raises ValueError naming the callback, the
key, what was expected and what came, so that ``set_state`` refuses a bad
state before it changes anything.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

_FLOAT_WORDS = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def check_keys(owner: str, state: Any, keys: Iterable[str]) -> dict:
    """``state`` as a dict holding exactly ``keys``."""
    keys = set(keys)
    if not isinstance(state, dict) or set(state) != keys:
        got = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"{owner}.set_state: expected the keys {sorted(keys)}, got {got}")
    return state


def whole_number(owner: str, state: dict, key: str, minimum: int = 0, allow_none: bool = False) -> int | None:
    value = state[key]
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{owner}.set_state: {key} must be a whole number >= {minimum}"
                         f"{' or None' if allow_none else ''}, got {value!r}")
    return value


def encoded_float(owner: str, state: dict, key: str) -> float | None:
    """A number written by ``encode_float``: a number, ``"inf"``, ``"-inf"``, ``"nan"`` or None."""
    value = state[key]
    if value is None:
        return None
    if isinstance(value, str) and value in _FLOAT_WORDS:
        return _FLOAT_WORDS[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{owner}.set_state: {key} must be a number, 'inf', '-inf', 'nan' or None, got {value!r}")
    return float(value)
