"""Input: declares the shape of one sample, so a model can build before it sees data."""
from __future__ import annotations

from typing import Sequence

from .base import Layer, register


@register("Input")
class InputLayer(Layer):
    """The model's input: ``Input((784,))`` or ``Input(shape=(28, 28, 1))``.

    ``shape`` excludes the batch dimension, as in Keras; ``batch_size`` may fix
    it (the model still accepts any batch size, the value is informational).
    It is not one of ``model.layers`` (as in Keras) and has no weights.
    """

    def __init__(self, shape: Sequence[int] | None = None, batch_size: int | None = None,
                 name: str | None = None, dtype=None, batch_shape: Sequence[int] | None = None,
                 **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is not None:
            if shape is not None:
                raise ValueError("pass either shape or batch_shape to Input, not both")
            batch_size, shape = batch_shape[0], batch_shape[1:]
        if shape is None:
            raise ValueError("Input needs a shape, e.g. Input((784,)) or Input(shape=(28, 28, 1))")
        if isinstance(shape, int):
            shape = (shape,)
        try:
            shape = tuple(int(d) for d in shape)
        except (TypeError, ValueError):
            raise ValueError(f"Input shape must be a tuple of positive integers, got {shape!r}") from None
        if not shape or any(d <= 0 for d in shape):
            raise ValueError(f"Input shape must be a tuple of positive integers, got {shape!r}")
        self.shape = shape
        self.batch_size = batch_size

    @property
    def batch_shape(self) -> tuple:
        return (self.batch_size, *self.shape)

    def forward(self, x, training=False):
        return x

    def backward(self, dy, need_input_grad=True):
        return dy

    def get_config(self):
        return {"name": self.name, "batch_shape": list(self.batch_shape)}


def Input(shape: Sequence[int] | None = None, batch_size: int | None = None,
          name: str | None = None, dtype=None, batch_shape: Sequence[int] | None = None) -> InputLayer:
    """Keras's ``Input(shape)``: the first entry of a Sequential model."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype, batch_shape=batch_shape)
