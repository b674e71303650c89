"""Pooling layers: max and average over windows, and over the whole image (global)."""
from __future__ import annotations

import math
from typing import Any

from ..argument_checks import check_bool
from .base import Layer, register
from .spatial_args import (as_2d, as_image, check_data_format, check_input_shape, normalize_padding,
                           normalize_tuple, spatial_geometry)


class _Pooling(Layer):
    """Shared code of the windowed pooling layers (1-D runs as 2-D with height 1).

    ``strides`` defaults to ``pool_size`` (non-overlapping windows), as in
    Keras. With padding="same" the padded entries never win a max and are not
    counted in a mean.
    """

    rank = 2
    kind = "max"
    # Set by Sequential when the layer before ends in ReLU: max pooling commutes with
    # it, relu(max(z)) = max(relu(z)), so the ReLU runs here on the pooled output (4x
    # smaller for 2x2 windows) with bit-identical results (see ``take_relu``).
    _relu_output = False

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size", owner)
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, self.rank, "strides", owner)
        self.padding = normalize_padding(padding, owner)
        self.data_format = check_data_format(data_format, owner)

    def _geometry(self, input_shape):
        return spatial_geometry(type(self).__name__, input_shape[1:-1], self.pool_size, self.strides,
                                (1,) * self.rank, self.padding, what="pool_size")

    def compute_output_shape(self, input_shape):
        check_input_shape(input_shape, self.rank, type(self).__name__)
        _, out = self._geometry(input_shape)
        return (input_shape[0], *out, input_shape[-1])

    def build(self, input_shape):
        self._padding2d = as_2d(self.rank, self._geometry(input_shape)[0], (0, 0))
        self._pool2d = as_2d(self.rank, self.pool_size, 1)
        self._strides2d = as_2d(self.rank, self.strides, 1)

    def forward(self, x, training=False):
        b = self.backend
        n = x.shape[0]
        self._x_shape = x.shape
        x2 = as_image(self.rank, x)
        self._x2_shape = x2.shape
        y = self.buffer("y", (n, *self.output_shape[1:]))
        args = (self._pool2d, self._strides2d, self._padding2d)
        if self.kind == "max":
            _, self._indices = b.maxpool2d(x2, *args, scratch=self.buffer, out=as_image(self.rank, y))
            if self._applies_relu():
                b.relu(y, out=y)
        else:
            b.avgpool2d(x2, *args, scratch=self.buffer, out=as_image(self.rank, y))
        return y

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        b = self.backend
        dx = self.buffer("dx", self._x_shape)
        args = (self._x2_shape, self._pool2d, self._strides2d, self._padding2d)
        if self.kind == "max":
            if self._applies_relu():
                dy = b.relu_backward(dy, None, self.buffer("y", dy.shape), out=dy)
            b.maxpool2d_backward(as_image(self.rank, dy), self._indices, *args, scratch=self.buffer,
                                 out=as_image(self.rank, dx))
        else:
            b.avgpool2d_backward(as_image(self.rank, dy), *args, scratch=self.buffer, out=as_image(self.rank, dx))
        return dx

    @property
    def commutes_with_relu(self) -> bool:
        return self.kind == "max"

    def take_relu(self, take: bool) -> None:
        """Apply the previous layer's ReLU after pooling (max pooling only; that layer defers it).

        Winners and gradients do not change: ReLU keeps positive values and their
        order, and a window whose maximum is ≤ 0 passes no gradient either way.
        """
        if take and not self.commutes_with_relu:
            raise ValueError(f"{type(self).__name__} does not commute with ReLU; only max pooling can take it")
        self._relu_output = bool(take)

    def _applies_relu(self) -> bool:
        return self._relu_output and not self._calling_alone

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format}


@register("MaxPool2D")
class MaxPooling2D(_Pooling):
    """Maximum over (ph, pw) windows of (batch, height, width, channels) inputs.

    Example: ``MaxPooling2D(2)`` halves height and width (a trailing odd row or column is dropped).
    Backward sends each gradient to the input that won its window (the first on ties).
    """

    rank, kind = 2, "max"


@register("AvgPool2D")
class AveragePooling2D(_Pooling):
    """Mean over (ph, pw) windows of (batch, height, width, channels) inputs."""

    rank, kind = 2, "avg"


@register("MaxPool1D")
class MaxPooling1D(_Pooling):
    """Maximum over windows of ``pool_size`` steps of (batch, steps, channels) inputs."""

    rank, kind = 1, "max"


@register("AvgPool1D")
class AveragePooling1D(_Pooling):
    """Mean over windows of ``pool_size`` steps of (batch, steps, channels) inputs."""

    rank, kind = 1, "avg"


class _GlobalPooling(Layer):
    """Max or mean over every spatial position: (batch, *spatial, channels) → (batch, channels)."""

    rank = 2
    kind = "max"

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__)
        self.keepdims = check_bool(keepdims, type(self).__name__, "keepdims")

    def compute_output_shape(self, input_shape):
        check_input_shape(input_shape, self.rank, type(self).__name__)
        if self.keepdims:
            return (input_shape[0], *(1,) * self.rank, input_shape[-1])
        return (input_shape[0], input_shape[-1])

    def forward(self, x, training=False):
        b = self.backend
        n, c = x.shape[0], x.shape[-1]
        self._x_shape = x.shape
        x3 = x.reshape(n, -1, c)
        y = self.buffer("y", (n, c))
        if self.kind == "max":
            _, self._indices = b.global_maxpool(x3, out=y)
        else:
            b.global_avgpool(x3, out=y)
        return y.reshape(n, *self.output_shape[1:])

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        b = self.backend
        n, c = dy.shape[0], dy.shape[-1]
        spatial = math.prod(self._x_shape[1:-1])
        dx = self.buffer("dx", (n, spatial, c))
        if self.kind == "max":
            b.global_maxpool_backward(dy.reshape(n, c), self._indices, spatial, out=dx)
        else:
            b.global_avgpool_backward(dy.reshape(n, c), spatial, out=dx)
        return dx.reshape(self._x_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


@register("GlobalMaxPool2D")
class GlobalMaxPooling2D(_GlobalPooling):
    """Maximum over height and width: (batch, h, w, c) → (batch, c) (``keepdims``: (batch, 1, 1, c))."""

    rank, kind = 2, "max"


@register("GlobalAvgPool2D")
class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width: (batch, h, w, c) → (batch, c) (``keepdims``: (batch, 1, 1, c))."""

    rank, kind = 2, "avg"


@register("GlobalMaxPool1D")
class GlobalMaxPooling1D(_GlobalPooling):
    """Maximum over steps: (batch, steps, c) → (batch, c)."""

    rank, kind = 1, "max"


@register("GlobalAvgPool1D")
class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over steps: (batch, steps, c) → (batch, c)."""

    rank, kind = 1, "avg"
