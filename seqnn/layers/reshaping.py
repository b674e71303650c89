"""Flatten and Reshape: views, no copies, no parameters."""
from __future__ import annotations

import math
from typing import Sequence

from .base import Layer, register


class _ViewLayer(Layer):
    def forward(self, x, training=False):
        self._x_shape = x.shape
        return x.reshape(x.shape[0], *self.output_shape[1:])

    def backward(self, dy, need_input_grad=True):
        return dy.reshape(self._x_shape) if need_input_grad else None


@register()
class Flatten(_ViewLayer):
    """(batch, d1, d2, ...) → (batch, d1·d2·...)."""

    def compute_output_shape(self, input_shape):
        return (input_shape[0], math.prod(input_shape[1:]))


@register()
class Reshape(_ViewLayer):
    """Reshape the features (not the batch) to ``target_shape``; one entry may be -1."""

    def __init__(self, target_shape: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in target_shape) > 1 or any(d == 0 or d < -1 for d in target_shape):
            raise ValueError(f"target_shape must be positive sizes with at most one -1, got {target_shape}")
        self.target_shape = target_shape

    def compute_output_shape(self, input_shape):
        size = math.prod(input_shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                raise ValueError(f"cannot reshape input of shape {input_shape[1:]} ({size} values) "
                                 f"to {self.target_shape}")
            shape = tuple(size // known if d == -1 else d for d in self.target_shape)
        else:
            shape = self.target_shape
        if math.prod(shape) != size:
            raise ValueError(f"cannot reshape input of shape {input_shape[1:]} ({size} values) "
                             f"to {self.target_shape} ({math.prod(shape)} values)")
        return (input_shape[0], *shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}
