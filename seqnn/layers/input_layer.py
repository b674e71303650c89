"""Input: declares the shape of one sample, so a model can build before it sees data."""
from __future__ import annotations

from typing import Sequence

from .base import Layer, register
from .shape_args import is_integer, is_sequence, sample_shape


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
            if not is_sequence(batch_shape) or len(batch_shape) < 2:
                raise ValueError(f"Input batch_shape must be a tuple (batch size or None, *sample shape), "
                                 f"got {batch_shape!r}")
            batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
        if shape is None:
            raise ValueError("Input needs a shape, e.g. Input((784,)) or Input(shape=(28, 28, 1))")
        self.shape = sample_shape(shape, "Input")
        if batch_size is not None and not (is_integer(batch_size) and batch_size > 0):
            raise ValueError(f"Input batch_size must be a positive integer or None, got {batch_size!r}")
        self.batch_size = None if batch_size is None else int(batch_size)

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
