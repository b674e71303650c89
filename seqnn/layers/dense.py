"""Dense: y = act(x·W + b)."""
from __future__ import annotations

from typing import Any

from .. import activations, initializers, regularizers
from ..argument_checks import check_bool
from .activated import ActivatedLayer
from .base import Layer, register


@register()
class Dense(ActivatedLayer, Layer):
    """Fully connected layer, y = act(x·W + b), W of shape [in, out].

    Inputs of rank > 2 are transformed along the last axis, as in Keras.

    Gradients, with z = x·W + b and dz = act'(z) ⊙ dy:
    dW = xᵀ·dz, db = Σ_batch dz, dx = dz·Wᵀ.

    Args:
        units: output features.
        activation: name or :class:`seqnn.activations.Activation` (default linear).
        use_bias: add b.
        kernel_initializer, bias_initializer: see :mod:`seqnn.initializers`.
        kernel_regularizer, bias_regularizer: see :mod:`seqnn.regularizers`.
    """

    supports_exact_sums = True  # dW and db are batch sums (see Layer.exact_sums)

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = check_bool(use_bias, type(self).__name__, "use_bias")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"Dense needs inputs of rank >= 2 (batch, features), got shape {input_shape}")
        return (*input_shape[:-1], self.units)

    def build(self, input_shape):
        self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                        self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer)

    def forward(self, x, training=False):
        b = self.backend
        self._x_shape = x.shape
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim > 2 else x
        self._x = x2
        z = b.gemm(x2, self.params["kernel"], out=self.buffer("z", (x2.shape[0], self.units)))
        if self.use_bias:
            b.bias_add(z, self.params["bias"], out=z)
        y = self.activate(z)
        return y.reshape(*self._x_shape[:-1], self.units) if len(self._x_shape) > 2 else y

    def backward(self, dy, need_input_grad=True):
        b = self.backend
        dz = self.activation_backward(dy.reshape(-1, self.units) if dy.ndim > 2 else dy)
        if self.exact_sums is not None:  # data-parallel: float64 sums over the batch (seqnn.distribute.exact_sums)
            self.exact_sums.dense(self, self._x, dz)
        elif self.trainable:
            b.gemm(self._x, dz, out=self.grads["kernel"], trans_a=True)
            if self.use_bias:
                b.bias_grad(dz, out=self.grads["bias"])
        if not need_input_grad:
            return None
        dx = b.gemm(dz, self.params["kernel"], out=self.buffer("dx", self._x.shape), trans_b=True)
        return dx.reshape(self._x_shape) if len(self._x_shape) > 2 else dx

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": self.activation.serialize(), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}
