"""Flatten and Reshape (views, no copies), Permute and RepeatVector: no parameters."""
from __future__ import annotations

import math
from typing import Sequence

from .base import Layer, register
from .shape_args import is_integer, is_sequence
from .spatial_args import check_data_format


class _ViewLayer(Layer):
    def forward(self, x, training=False):
        self._x_shape = x.shape
        return x.reshape(x.shape[0], *self.output_shape[1:])

    def backward(self, dy, need_input_grad=True):
        return dy.reshape(self._x_shape) if need_input_grad else None


@register()
class Flatten(_ViewLayer):
    """(batch, d1, d2, ...) → (batch, d1·d2·...).

    ``data_format`` is Keras's; only ``"channels_last"`` (or None) exists here,
    so the order of the flattened values is Keras's default one.
    """

    def __init__(self, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, "Flatten")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], math.prod(input_shape[1:]))


@register()
class Reshape(_ViewLayer):
    """Reshape the features (not the batch) to ``target_shape``; one entry may be -1."""

    def __init__(self, target_shape: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        # Each entry an integer itself: "34" would otherwise read as (3, 4).
        if (not is_sequence(target_shape) or len(target_shape) == 0
                or not all(is_integer(d) and (d > 0 or d == -1) for d in target_shape)
                or sum(d == -1 for d in target_shape) > 1):
            raise ValueError(f"Reshape target_shape must be a tuple of positive sizes with at most one -1, "
                             f"got {type(target_shape).__name__}: {target_shape!r}")
        self.target_shape = tuple(int(d) for d in target_shape)

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


@register()
class Permute(Layer):
    """Reorder the non-batch axes: ``y.shape = (batch, *(x.shape[d] for d in dims))``.

    ``dims`` is a permutation of 1 … rank − 1, 1-based as in Keras (axis 0 is
    the batch, which never moves): ``Permute((2, 1))`` swaps the two axes of
    (batch, steps, features). ``y = transpose(x, (0, *dims))``, and dL/dx is
    dL/dy transposed by the inverse permutation.
    """

    def __init__(self, dims: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(dims)
        except TypeError:
            raise TypeError(f"Permute dims must be a tuple of ints, got {dims!r}") from None
        if (any(isinstance(d, bool) or not isinstance(d, int) for d in dims)
                or sorted(dims) != list(range(1, len(dims) + 1))):
            raise ValueError(f"Permute dims must be a permutation of 1 … {len(dims)} (the non-batch axes, "
                             f"1-based as in Keras), got {dims!r}")
        self.dims = dims

    def compute_output_shape(self, input_shape):
        if len(input_shape) - 1 != len(self.dims):
            raise ValueError(f"Permute dims {self.dims} needs inputs with {len(self.dims)} non-batch axes, "
                             f"got shape {tuple(input_shape)}")
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def forward(self, x, training=False):
        self._x_shape = x.shape
        return self.backend.transpose(x, (0, *self.dims), out=self.buffer("y", (x.shape[0], *self.output_shape[1:])))

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        axes = (0, *self.dims)
        inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))
        return self.backend.transpose(dy, inverse, out=self.buffer("dx", self._x_shape))

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


@register()
class RepeatVector(Layer):
    """Repeat each (batch, features) sample n times: y[b, r, f] = x[b, f], shape (batch, n, features).

    dL/dx[b, f] = Σ_r dL/dy[b, r, f].
    """

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"RepeatVector n must be an int, got {n!r}")
        if n < 1:
            raise ValueError(f"RepeatVector n must be a positive integer, got {n!r}")
        self.n = n

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"RepeatVector expects inputs of rank 2 (batch, features), got shape {tuple(input_shape)}")
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, x, training=False):
        n, features = x.shape
        y = self.buffer("y", (n, self.n, features))
        return self.backend.copy_into(y, x.reshape(n, 1, features))

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        return self.backend.sum(dy, axis=1, out=self.buffer("dx", (dy.shape[0], dy.shape[2])))

    def get_config(self):
        return {**super().get_config(), "n": self.n}
