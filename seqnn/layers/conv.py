"""Conv1D and Conv2D: y = act(conv(x, kernel) + bias), channels-last as in Keras."""
from __future__ import annotations

from typing import Any

from .. import activations, initializers, regularizers
from ..argument_checks import check_bool
from .activated import ActivatedLayer
from .base import Layer, register
from .spatial_args import (as_2d, as_image, check_data_format, check_input_shape, normalize_padding,
                           normalize_tuple, spatial_geometry)


class _Conv(ActivatedLayer, Layer):
    """Shared code of Conv1D and Conv2D (a 1-D convolution runs as a 2-D one of height 1).

    The kernel is [*kernel_size, in_channels, filters] (Keras's layout). With
    z = conv(x, W) + b and dz = act'(z) ⊙ dy, the gradients are dW = the
    correlation of x with dz, db = Σ dz, and dx = the transposed convolution
    of dz with W; the backend computes them (see ``Backend.conv2d``).
    """

    rank = 2
    paddings = ("valid", "same")

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: Any = None, use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{owner} filters must be a positive integer, got {filters!r}")
        if groups != 1:
            raise ValueError(f"{owner} groups must be 1 (grouped convolution is not supported), got {groups!r}")
        self.filters = filters
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, self.rank, "strides", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate", owner)
        self.padding = normalize_padding(padding, owner, self.paddings)
        self.data_format = check_data_format(data_format, owner)
        self.activation = activations.get(activation)
        self.use_bias = check_bool(use_bias, type(self).__name__, "use_bias")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    # ------------------------------------------------------------ building ---
    def compute_output_shape(self, input_shape):
        owner = type(self).__name__
        check_input_shape(input_shape, self.rank, owner)
        _, out = self._geometry(input_shape)
        return (input_shape[0], *out, self.filters)

    def _geometry(self, input_shape):
        return spatial_geometry(type(self).__name__, input_shape[1:-1], self.kernel_size, self.strides,
                                self.dilation_rate, self.padding)

    def _kernel_shape(self, in_channels: int) -> tuple:
        return (*self.kernel_size, in_channels, self.filters)

    def build(self, input_shape):
        self._padding2d = as_2d(self.rank, self._geometry(input_shape)[0], (0, 0))
        self._strides2d = as_2d(self.rank, self.strides, 1)
        self._dilation2d = as_2d(self.rank, self.dilation_rate, 1)
        shape = self._kernel_shape(input_shape[-1])
        self._kernel_shape2d = as_2d(self.rank, shape, 1)
        self.add_weight("kernel", shape, self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)

    # ------------------------------------------------------------- compute ---
    def forward(self, x, training=False):
        b = self.backend
        n = x.shape[0]
        self._x_shape = x.shape
        self._x = as_image(self.rank, x)
        out_shape = (n, *self.output_shape[1:])
        z = self.buffer("z", out_shape)
        _, self._saved = b.conv2d(self._x, self.params["kernel"].reshape(self._kernel_shape2d),
                                  self.params.get("bias"), self._strides2d, self._padding2d, self._dilation2d,
                                  scratch=self.buffer, out=as_image(self.rank, z), save_for_backward=bool(training))
        return self.activate(z)

    def backward(self, dy, need_input_grad=True):
        b = self.backend
        dz = as_image(self.rank, self.activation_backward(dy))
        geometry = (self._strides2d, self._padding2d, self._dilation2d)
        if self.trainable:
            b.conv2d_backward_kernel(dz, self._x, self._saved, self._kernel_shape2d, *geometry, scratch=self.buffer,
                                     out=self.grads["kernel"].reshape(self._kernel_shape2d),
                                     bias_out=self.grads.get("bias"))
        if not need_input_grad:
            return None
        dx = b.conv2d_backward_input(dz, self.params["kernel"].reshape(self._kernel_shape2d), self._x.shape,
                                     *geometry, scratch=self.buffer, out=self.buffer("dx", self._x.shape))
        return dx.reshape(self._x_shape)

    # -------------------------------------------------------------- config ---
    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": 1,
                "activation": self.activation.serialize(), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}


@register("Convolution2D")
class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels) inputs.

    Args:
        filters: output channels.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw), default 1.
        padding: "valid" (no padding) or "same" (output size ceil(input/stride)).
        dilation_rate: int or (dh, dw): kernel taps this many pixels apart.
        activation: as in :class:`Dense`; also ``use_bias``,
            ``kernel_initializer``, ``bias_initializer``, ``kernel_regularizer``
            and ``bias_regularizer``.
        data_format: "channels_last" only.
        groups: 1 only.

    Example::

        model.add(sn.layers.Conv2D(32, 3, activation="relu"))   # (n, 28, 28, 1) → (n, 26, 26, 32)
    """

    rank = 2


@register("Convolution1D")
class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels) inputs.

    As :class:`Conv2D` with int ``kernel_size``, ``strides`` and
    ``dilation_rate``; ``padding`` may also be "causal" (output t sees inputs
    up to t only: the padding is all on the left).
    """

    rank = 1
    paddings = ("valid", "same", "causal")
