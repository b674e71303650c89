"""ParameterArena: a model's trainable parameters as views into one flat vector.

The optimizer then updates the whole model with one fused call per step
instead of one per tensor, and its state (Adam's m and v, ...) is one flat
vector per slot. Each layer keeps using its own ``params[name]`` and
``grads[name]``: after packing, those are views into the arena.
"""
from __future__ import annotations

import math
from typing import Iterable


class ParameterArena:
    """Flat storage for the trainable parameters (and their gradients) of some layers.

    ``entries`` are ``(path, layer, key)``: ``layer.params[key]`` is stored
    under ``path`` (``layers.<i>.<param>``, the name used in weight files),
    in model order. A plain list of layers stands for their trainable weights,
    named by position.
    """

    def __init__(self, backend, dtype: str, entries: Iterable):
        self.backend, self.dtype = backend, dtype
        self.paths: list[str] = []
        self.shapes: dict[str, tuple] = {}
        self.offsets: dict[str, int] = {}
        entries = [item for index, item in enumerate(entries) for item in _as_entries(index, item)]
        offset = 0
        for path, layer, key in entries:
            shape = tuple(layer.params[key].shape)
            self.paths.append(path)
            self.shapes[path], self.offsets[path] = shape, offset
            offset += math.prod(shape)
        self.size = offset
        self.values = backend.zeros((offset,), dtype)
        self.grads = backend.zeros((offset,), dtype)
        for path, layer, key in entries:
            view = self.view(self.values, path)
            backend.copy_into(view, layer.params[key])
            layer.params[key] = view
            layer.grads[key] = self.view(self.grads, path)

    def view(self, flat, path: str):
        """The part of a flat arena-sized vector that belongs to ``path``, shaped like it."""
        start, shape = self.offsets[path], self.shapes[path]
        return flat[start:start + math.prod(shape)].reshape(shape)

    def segments(self) -> list[tuple[int, int]]:
        """``(start, stop)`` of every parameter in the flat vectors, in model order."""
        return [(self.offsets[p], self.offsets[p] + math.prod(self.shapes[p])) for p in self.paths]

    def views(self, flat) -> dict:
        return {path: self.view(flat, path) for path in self.paths}


def _as_entries(index: int, item) -> list[tuple]:
    """An entry as given, or a layer's trainable weights as ``layers.<index>.<key>`` entries."""
    if isinstance(item, tuple):
        return [item]
    return [(f"layers.{index}.{key}", item, key) for key in item.trainable_names]
