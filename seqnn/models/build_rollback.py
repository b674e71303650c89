"""Undoing the build that a refused call started, so that a refused call leaves the model as it was.

``fit``, ``evaluate`` and ``predict`` build an unbuilt model from the first
data they see (its shape is what they check ``x`` against), and only then can
check the rest: targets against the output shape, validation data, class
weights. When one of those checks refuses, the model must be unbuilt again;
otherwise it stays built for the shape of the rejected data and refuses the
next call with the right data. The global seed stream is rewound too:
building drew the initial weights from it, and a refused call must not change
the weights that the next build draws.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

from .. import random as sn_random
from .nesting import NestedModel


@contextlib.contextmanager
def unbuilt_on_error(model, start: int = 0) -> Iterator[None]:
    """Inside the ``with``, an exception unbuilds every layer that was not built when it began.

    Only the layers from index ``start`` on are looked at (``add`` builds just the new one, and must not
    cost a pass over the whole model).
    """
    if all(layer.built for layer in model._layers[start:]):  # nothing to undo: built layers are never rebuilt
        yield
        return
    saved = _snapshot(model, start)
    seeds = sn_random.get_state()
    try:
        yield
    except BaseException:
        _restore(saved)
        sn_random.set_state(seeds)
        raise


def _snapshot(model, start: int = 0) -> list[tuple]:
    """``(model, its Input, backend, dtype, layers not yet built)`` for the model and every model nested in it."""
    layers = model._layers[start:]
    out = [(model, model.input_layer, model.backend, model.dtype,
            [layer for layer in layers if not isinstance(layer, NestedModel) and not layer.built])]
    for layer in layers:
        if isinstance(layer, NestedModel):
            out += _snapshot(layer)
    return out


def _restore(saved: list[tuple]) -> None:
    for model, input_layer, backend, dtype, unbuilt in saved:
        for layer in unbuilt:
            layer._unbuild()
        model.input_layer, model.backend, model.dtype = input_layer, backend, dtype
        model._structure_changed()
