"""ZeroPadding1D and ZeroPadding2D: add rows and columns of zeros around each sample.

Cropping (seqnn/layers/cropping.py) is the adjoint of zero padding, so both
share :class:`Margins2D`: one direction runs ``Backend.pad2d`` forward and
``pad2d_backward`` backward, the other the reverse.
"""
from __future__ import annotations

from typing import Any

from .base import Layer, register
from .spatial_args import as_image, check_data_format, check_input_shape, margin_pair, margins_2d


class Margins2D(Layer):
    """Rows and columns added around (``grow`` True) or removed from (False) each sample.

    The amounts live in the attribute named by ``argument`` ("padding" or
    "cropping"), as ((top, bottom), (left, right)) for 2-D layers and
    (before, after) for 1-D ones.
    """

    rank = 2
    argument = "padding"
    grow = True

    def _init_2d(self, value: Any, data_format: str | None) -> None:
        owner = type(self).__name__
        setattr(self, self.argument, margins_2d(value, owner, self.argument))
        self.data_format = check_data_format(data_format, owner)

    def _init_1d(self, value: Any) -> None:
        setattr(self, self.argument, margin_pair(value, type(self).__name__, self.argument, "steps"))

    def _margins2d(self):
        margins = getattr(self, self.argument)
        return margins if self.rank == 2 else ((0, 0), margins)

    def compute_output_shape(self, input_shape):
        owner = type(self).__name__
        check_input_shape(input_shape, self.rank, owner)
        sign = 1 if self.grow else -1
        margins = self._margins2d()[2 - self.rank:]
        sizes = tuple(d + sign * (before + after) for d, (before, after) in zip(input_shape[1:-1], margins))
        if any(d < 1 for d in sizes):
            raise ValueError(f"{owner} {self.argument} {getattr(self, self.argument)} must leave at least one row "
                             f"and column of the input of shape {tuple(input_shape)}, got output sizes {sizes}")
        return (input_shape[0], *sizes, input_shape[-1])

    def forward(self, x, training=False):
        n = x.shape[0]
        self._x_shape = x.shape
        y = self.buffer("y", (n, *self.output_shape[1:]))
        op = self.backend.pad2d if self.grow else self.backend.pad2d_backward
        op(as_image(self.rank, x), self._margins2d(), out=as_image(self.rank, y))
        return y

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        dx = self.buffer("dx", self._x_shape)
        op = self.backend.pad2d_backward if self.grow else self.backend.pad2d
        op(as_image(self.rank, dy), self._margins2d(), out=as_image(self.rank, dx))
        return dx

    def get_config(self):
        margins = getattr(self, self.argument)
        if self.rank == 1:
            return {**super().get_config(), self.argument: list(margins)}
        return {**super().get_config(), self.argument: [list(p) for p in margins], "data_format": self.data_format}


@register()
class ZeroPadding2D(Margins2D):
    """Zeros around the height and width of (batch, height, width, channels) inputs.

    ``padding``: an int (all four sides), a pair (rows, columns) applied
    symmetrically, or ((top, bottom), (left, right)), as in Keras.
    """

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self._init_2d(padding, data_format)


@register()
class ZeroPadding1D(Margins2D):
    """Zeros before and after the steps of (batch, steps, channels) inputs.

    ``padding``: an int (both ends) or (before, after).
    """

    rank = 1

    def __init__(self, padding: Any = 1, **kwargs):
        super().__init__(**kwargs)
        self._init_1d(padding)
        self.data_format = "channels_last"
