"""UpSampling1D and UpSampling2D: integer-factor upsampling of channels-last samples."""
from __future__ import annotations

from typing import Any

from .base import Layer, register
from .spatial_args import as_2d, as_image, check_data_format, check_input_shape, normalize_tuple

INTERPOLATIONS = ("nearest", "bilinear")


@register()
class UpSampling2D(Layer):
    """Upsample (batch, height, width, channels) inputs by integer factors (sh, sw).

    ``interpolation="nearest"`` repeats each pixel: y[n, i, j, c] = x[n, ⌊i/sh⌋, ⌊j/sw⌋, c],
    and dL/dx[n, i, j, c] sums dL/dy over the pixel's sh × sw block.
    ``"bilinear"`` interpolates with half-pixel centres: output row i samples
    source row (i + ½)/sh − ½ clamped to [0, H − 1], mixing its two nearest
    rows linearly (columns alike), as Keras's (TensorFlow's, JAX's) resize and
    PyTorch's ``align_corners=False``; its gradient is the transposed linear map.

    Args:
        size: int or (sh, sw), default (2, 2): (batch, H, W, C) → (batch, H·sh, W·sw, C).
        data_format: "channels_last" (or None) only.
        interpolation: "nearest" (default) or "bilinear"; Keras's "bicubic",
            "lanczos3" and "lanczos5" are not supported.

    Example::

        model.add(sn.layers.UpSampling2D(2))   # (n, 7, 7, c) → (n, 14, 14, c)
    """

    rank = 2

    def __init__(self, size: Any = (2, 2), data_format: str | None = None, interpolation: str = "nearest",
                 **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.size = normalize_tuple(size, self.rank, "size", owner)
        self.data_format = check_data_format(data_format, owner)
        mode = interpolation.lower() if isinstance(interpolation, str) else interpolation
        if mode not in INTERPOLATIONS:
            raise ValueError(f"{owner} interpolation must be one of {', '.join(map(repr, INTERPOLATIONS))}, "
                             f"got {interpolation!r}")
        self.interpolation = mode

    def compute_output_shape(self, input_shape):
        check_input_shape(input_shape, self.rank, type(self).__name__)
        return (input_shape[0], *(d * s for d, s in zip(input_shape[1:-1], self.size)), input_shape[-1])

    def forward(self, x, training=False):
        self._x_shape = x.shape
        y = self.buffer("y", (x.shape[0], *self.output_shape[1:]))
        self.backend.upsample2d(as_image(self.rank, x), as_2d(self.rank, self.size, 1), self.interpolation,
                                out=as_image(self.rank, y))
        return y

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        dx = self.buffer("dx", self._x_shape)
        self.backend.upsample2d_backward(as_image(self.rank, dy), as_2d(self.rank, self.size, 1),
                                         self.interpolation, out=as_image(self.rank, dx))
        return dx

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "data_format": self.data_format,
                "interpolation": self.interpolation}


@register()
class UpSampling1D(UpSampling2D):
    """Repeat each step of (batch, steps, channels) inputs ``size`` times (default 2):
    y[n, t, c] = x[n, ⌊t/size⌋, c]; the gradient sums over the repeats."""

    rank = 1

    def __init__(self, size: int = 2, **kwargs):
        super().__init__(size, None, "nearest", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"], config["interpolation"]
        return {**config, "size": self.size[0]}
