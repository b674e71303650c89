"""Cropping1D and Cropping2D: remove rows and columns at the borders of each sample.

Cropping is the adjoint of zero padding: y = x[:, top:H − bottom, left:W − right]
and dL/dx is dL/dy with the cropped rows and columns put back as zeros.
"""
from __future__ import annotations

from typing import Any

from .base import register
from .padding import Margins2D


@register()
class Cropping2D(Margins2D):
    """Crop the height and width of (batch, height, width, channels) inputs.

    y[n, i, j, c] = x[n, top + i, left + j, c], of size (H − top − bottom, W − left − right).

    Args:
        cropping: an int (all four sides), a pair (rows, columns) cropped
            symmetrically, or ((top, bottom), (left, right)), as in Keras.
        data_format: "channels_last" (or None) only.

    Example::

        model.add(sn.layers.Cropping2D(((1, 0), (2, 2))))   # (n, 8, 8, c) → (n, 7, 4, c)
    """

    argument = "cropping"
    grow = False

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self._init_2d(cropping, data_format)


@register()
class Cropping1D(Margins2D):
    """Crop the steps of (batch, steps, channels) inputs: y[n, t, c] = x[n, before + t, c].

    ``cropping``: an int (both ends) or (before, after); Keras's default (1, 1).
    """

    rank = 1
    argument = "cropping"
    grow = False

    def __init__(self, cropping: Any = (1, 1), **kwargs):
        super().__init__(**kwargs)
        self._init_1d(cropping)
