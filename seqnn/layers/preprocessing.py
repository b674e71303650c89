"""Rescaling: scale (and shift) inputs inside the model, batch by batch."""
from __future__ import annotations

from ..argument_checks import check_number
from .base import Layer, register


@register()
class Rescaling(Layer):
    """y = x·scale + offset, as Keras's ``Rescaling``.

    Put first in a model to feed raw uint8 images: ``Rescaling(1/255)`` turns
    each batch into [0, 1] floats as it is converted, so no float copy of the
    whole dataset is ever made. Gradient: dx = scale·dy.
    """

    def __init__(self, scale: float, offset: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = check_number(scale, "Rescaling", "scale")
        self.offset = check_number(offset, "Rescaling", "offset")

    def forward(self, x, training=False):
        b = self.backend
        y = b.multiply(x, self.scale, out=self.buffer("y", x.shape))
        return b.add(y, self.offset, out=y) if self.offset else y

    def backward(self, dy, need_input_grad=True):
        return self.backend.multiply(dy, self.scale, out=dy) if need_input_grad else None

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
