"""Conv1DTranspose and Conv2DTranspose: the adjoint of a convolution, plus bias and activation.

A transposed convolution maps an input image back to the shape a
convolution's input would have. With the kernel W[kh, kw, filters, in]
(Keras's layout) and explicit padding (before, after) per axis,

    z[n, o_h, o_w, f] = Σ x[n, i, j, c]·W[a, b, f, c] + bias[f]
                        over i·sh + a·dh − top = o_h and j·sw + b·dw − left = o_w,
    y = act(z),

which is dL/dx̃ of the convolution conv(ỹ, W) (ỹ of the output's shape):
forward is ``Backend.conv2d_backward_input``. So with dz = act'(z) ⊙ dy the
backward pass is two convolution ops again: dx = conv(dz, W) (``conv2d``)
and dW[a, b, f, c] = Σ dz̃[n, i·sh + a·dh, j·sw + b·dw, f]·x[n, i, j, c]
(``conv2d_backward_kernel`` with x in the role of dy); db = Σ dz.
The output size and the padding follow Keras 3 (see
``spatial_args.transpose_geometry``).
"""
from __future__ import annotations

from typing import Any

from .base import register
from .conv import _Conv
from .spatial_args import as_image, normalize_tuple, transpose_geometry


class _ConvTranspose(_Conv):
    """Shared code of Conv1DTranspose and Conv2DTranspose (the 1-D one runs as 2-D with height 1)."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None, dilation_rate: Any = 1,
                 activation: Any = None, use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer, **kwargs)
        owner = type(self).__name__
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(output_padding, self.rank, "output_padding", owner, minimum=0)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(f"{owner} output_padding must be smaller than strides {self.strides} "
                                 f"along every axis, got {output_padding!r}")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{owner} strides > 1 cannot be combined with dilation_rate > 1 (as in Keras), "
                             f"got strides={self.strides} and dilation_rate={self.dilation_rate}")

    # ------------------------------------------------------------ building ---
    def _geometry(self, input_shape):
        return transpose_geometry(type(self).__name__, input_shape[1:-1], self.kernel_size, self.strides,
                                  self.dilation_rate, self.padding, self.output_padding)

    def _kernel_shape(self, in_channels: int) -> tuple:
        return (*self.kernel_size, self.filters, in_channels)  # Keras's layout: the convolution's, transposed

    # ------------------------------------------------------------- compute ---
    def forward(self, x, training=False):
        b = self.backend
        self._x_shape = x.shape
        self._x = as_image(self.rank, x)
        z = self.buffer("z", (x.shape[0], *self.output_shape[1:]))
        z_image = as_image(self.rank, z)
        b.conv2d_backward_input(self._x, self.params["kernel"].reshape(self._kernel_shape2d), z_image.shape,
                                self._strides2d, self._padding2d, self._dilation2d, scratch=self.buffer,
                                out=z_image)
        if self.use_bias:
            b.bias_add(z, self.params["bias"], out=z)
        return self.activate(z)

    def backward(self, dy, need_input_grad=True):
        b = self.backend
        dz = as_image(self.rank, self.activation_backward(dy))
        geometry = (self._strides2d, self._padding2d, self._dilation2d)
        dx = saved = None
        if need_input_grad:  # its patches of dz serve the kernel gradient too
            dx, saved = b.conv2d(dz, self.params["kernel"].reshape(self._kernel_shape2d), None, *geometry,
                                 scratch=self.buffer, out=self.buffer("dx", self._x.shape),
                                 save_for_backward=self.trainable)
        if self.trainable:
            b.conv2d_backward_kernel(self._x, dz, saved, self._kernel_shape2d, *geometry, scratch=self.buffer,
                                     out=self.grads["kernel"].reshape(self._kernel_shape2d))
            if self.use_bias:
                b.bias_grad(dz, out=self.grads["bias"])
        return None if dx is None else dx.reshape(self._x_shape)

    # -------------------------------------------------------------- config ---
    def get_config(self):
        config = super().get_config()
        del config["groups"]
        config["output_padding"] = None if self.output_padding is None else list(self.output_padding)
        return config


@register("Convolution2DTranspose")
class Conv2DTranspose(_ConvTranspose):
    """2-D transposed convolution ("deconvolution") over (batch, height, width, channels) inputs.

    Args:
        filters: output channels.
        kernel_size: int or (kh, kw); the kernel is [kh, kw, filters, in_channels], as in Keras.
        strides: int or (sh, sw), default 1: the output is about stride times the input.
        padding: "valid" or "same". Per axis, with e = dilation·(kernel − 1) + 1,
            "valid" gives (size − 1)·stride + max(e, stride) and "same" gives size·stride.
        output_padding: None, or int or pair (each < the stride): the size becomes
            (size − 1)·stride + e + output_padding ("valid") or
            (size − 1)·stride + e mod 2 + output_padding ("same"), Keras 3's rule.
        dilation_rate: int or (dh, dw); > 1 only with strides 1 (as Keras).
        activation: as in :class:`Conv2D`, and so are ``use_bias``, ``kernel_initializer``,
            ``bias_initializer``, ``kernel_regularizer`` and ``bias_regularizer``.
        data_format: "channels_last" only.

    Example::

        model.add(sn.layers.Conv2DTranspose(8, 3, strides=2, padding="same"))   # (n, 7, 7, c) → (n, 14, 14, 8)
    """

    rank = 2


@register("Convolution1DTranspose")
class Conv1DTranspose(_ConvTranspose):
    """1-D transposed convolution over (batch, steps, channels) inputs.

    As :class:`Conv2DTranspose` with int ``kernel_size``, ``strides``,
    ``output_padding`` and ``dilation_rate``; the kernel is [k, filters, in_channels].
    """

    rank = 1
