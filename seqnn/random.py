"""The global seed behind weight initialisation, shuffling and dropout.

``seqnn.utils.set_random_seed(s)`` (as in Keras) makes everything that draws
random numbers afterwards reproducible: each draw takes the next seed of one
``numpy.random.SeedSequence`` stream. Without it, seeds come from the OS.
This is the one piece of global state besides the registries; it exists
because Keras's ``set_random_seed`` is global by definition.
"""
from __future__ import annotations

import random as _py_random

import numpy as np

_state = {"sequence": np.random.SeedSequence(), "drawn": 0}


def set_seed(seed: int) -> None:
    """Seed seqnn (and Python's and numpy's global generators, as Keras does)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    _state["sequence"] = np.random.SeedSequence(int(seed))
    _state["drawn"] = 0
    _py_random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def next_seed() -> int:
    """A fresh 63-bit seed; the n-th call after ``set_seed(s)`` always returns the same value."""
    seq = _state["sequence"]
    _state["drawn"] += 1
    child = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, _state["drawn"]))
    return int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))


def generator(seed: int | None = None) -> np.random.Generator:
    """A host numpy Generator from ``seed``, or from the global stream when None."""
    return np.random.default_rng(next_seed() if seed is None else seed)


def get_state() -> dict:
    """Where the global seed stream stands, for :func:`set_state` (a refused call rewinds it)."""
    return dict(_state)


def set_state(state: dict) -> None:
    """Put the global seed stream back where :func:`get_state` saw it."""
    _state.update(state)
