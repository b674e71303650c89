"""ZeroPadding1D and ZeroPadding2D: add rows and columns of zeros around each sample."""
from __future__ import annotations

from typing import Any

from .base import Layer, register
from .spatial_args import as_image, check_data_format, check_input_shape, keras_default_name


def _pair(value: Any, owner: str, what: str) -> tuple[int, int]:
    """An int (both sides) or a (before, after) pair of non-negative ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        pair = (value, value)
    else:
        try:
            pair = tuple(value)
        except TypeError:
            pair = ()
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in pair):
        raise ValueError(f"{owner} padding for {what} must be an int or a (before, after) pair of "
                         f"non-negative ints, got {value!r}")
    return pair


@register()
class ZeroPadding2D(Layer):
    """Zeros around the height and width of (batch, height, width, channels) inputs.

    ``padding``: an int (all four sides), a pair (rows, columns) applied
    symmetrically, or ((top, bottom), (left, right)), as in Keras.
    """

    rank = 2

    def default_name(self) -> str:
        return keras_default_name(super().default_name())

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        if isinstance(padding, int) and not isinstance(padding, bool):
            padding = (padding, padding)
        try:
            rows, cols = padding
        except (TypeError, ValueError):
            raise ValueError(f"{owner} padding must be an int, (rows, cols) or ((top, bottom), (left, right)), "
                             f"got {padding!r}") from None
        self.padding = (_pair(rows, owner, "rows"), _pair(cols, owner, "columns"))
        self.data_format = check_data_format(data_format, owner)

    def _padding2d(self):
        return self.padding

    def compute_output_shape(self, input_shape):
        check_input_shape(input_shape, self.rank, type(self).__name__)
        (top, bottom), (left, right) = self._padding2d()
        spatial = input_shape[1:-1]
        grown = (spatial[0] + left + right,) if self.rank == 1 else (spatial[0] + top + bottom,
                                                                      spatial[1] + left + right)
        return (input_shape[0], *grown, input_shape[-1])


    def forward(self, x, training=False):
        n = x.shape[0]
        self._x_shape = x.shape
        y = self.buffer("y", (n, *self.output_shape[1:]))
        self.backend.pad2d(as_image(self.rank, x), self._padding2d(), out=as_image(self.rank, y))
        return y

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        dx = self.buffer("dx", self._x_shape)
        self.backend.pad2d_backward(as_image(self.rank, dy), self._padding2d(), out=as_image(self.rank, dx))
        return dx

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding],
                "data_format": self.data_format}


@register()
class ZeroPadding1D(ZeroPadding2D):
    """Zeros before and after the steps of (batch, steps, channels) inputs.

    ``padding``: an int (both ends) or (before, after).
    """

    rank = 1

    def __init__(self, padding: Any = 1, **kwargs):
        Layer.__init__(self, **kwargs)
        self.padding = _pair(padding, type(self).__name__, "steps")
        self.data_format = "channels_last"

    def _padding2d(self):
        return ((0, 0), self.padding)

    def get_config(self):
        return {**Layer.get_config(self), "padding": list(self.padding)}
