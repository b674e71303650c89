"""BatchNormalization and LayerNormalization (Keras semantics and defaults)."""
from __future__ import annotations

import math
from typing import Any

from .. import initializers, regularizers
from ..argument_checks import check_bool
from .base import Layer, register


def _check_number(value: Any, name: str, owner: str, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < low or (high is not None and value > high):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{owner} {name} must be a number {bounds}, got {value!r}")
    return float(value)


class _Normalization(Layer):
    """γ·x̂ + β with x̂ normalized over some axes; γ ('scale') and β ('center') optional."""

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.axis = axis
        self.epsilon = _check_number(epsilon, "epsilon", owner, 0.0)
        if self.epsilon <= 0:
            raise ValueError(f"{owner} epsilon must be > 0, got {epsilon!r}")
        self.center = check_bool(center, type(self).__name__, "center")
        self.scale = check_bool(scale, type(self).__name__, "scale")
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def _add_affine_weights(self, shape):
        # Keras's weight order: gamma, beta (then any moving statistics).
        if self.scale:
            self.add_weight("gamma", shape, self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.add_weight("beta", shape, self.beta_initializer, self.beta_regularizer)

    def _flat(self, name, store):
        a = store.get(name)
        return None if a is None else a.reshape(-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer)}


@register()
class BatchNormalization(_Normalization):
    """Normalizes each channel (the last axis) with batch statistics in training, moving ones at inference.

    Training (``fit``, or a call with ``training=True``): with μ and σ² the
    mean and (biased) variance of each channel over the batch and every
    spatial position, y = γ·(x − μ)/√(σ² + ε) + β, and the moving statistics
    follow moving ← momentum·moving + (1 − momentum)·batch. Inference, and a
    layer with ``trainable=False`` (Keras's rule, for fine-tuning), uses the
    moving statistics instead. Weights, in Keras's order: gamma, beta (both
    trainable), moving_mean, moving_variance (not trained, but saved with the
    model). PyTorch's BatchNorm momentum is 1 − this momentum, and its
    running variance is the unbiased one.

    Args:
        axis: the channel axis; only the last (-1, channels-last) is supported.
        momentum: decay of the moving statistics (default 0.99).
        epsilon: added to the variance (default 1e-3).
        center, scale: learn β, γ.
    """

    def __init__(self, axis: Any = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros", moving_variance_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, **kwargs)
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"BatchNormalization axis must be an int (the channel axis), got {axis!r}")
        self.axis = axis
        self.momentum = _check_number(momentum, "momentum", "BatchNormalization", 0.0, 1.0)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)
        if rank < 2:
            raise ValueError(f"BatchNormalization expects inputs of rank >= 2 (batch, ..., channels), "
                             f"got shape {tuple(input_shape)}")
        if self.axis not in (-1, rank - 1):
            raise ValueError(f"BatchNormalization supports only the last axis (channels-last, axis=-1); got "
                             f"axis={self.axis} for inputs of shape {tuple(input_shape)}")
        if input_shape[-1] is None:
            raise ValueError(f"BatchNormalization needs a known channel count, got shape {tuple(input_shape)}")
        return input_shape

    def build(self, input_shape):
        channels = (input_shape[-1],)
        self._add_affine_weights(channels)
        self.add_weight("moving_mean", channels, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", channels, self.moving_variance_initializer, trainable=False)

    def forward(self, x, training=False):
        b = self.backend
        self._x_shape = x.shape
        c = x.shape[-1]
        x2 = x.reshape(-1, c)
        y = self.buffer("y", x2.shape)
        gamma, beta = self.params.get("gamma"), self.params.get("beta")
        self._batch_stats = bool(training) and self.trainable
        if self._batch_stats:
            _, self._saved = b.batchnorm_train(x2, gamma, beta, self.params["moving_mean"],
                                               self.params["moving_variance"], self.momentum, self.epsilon,
                                               scratch=self.buffer, out=y)
        else:
            self._x2 = x2
            b.batchnorm_infer(x2, gamma, beta, self.params["moving_mean"], self.params["moving_variance"],
                              self.epsilon, out=y)
        return y.reshape(self._x_shape)

    def backward(self, dy, need_input_grad=True):
        b = self.backend
        c = dy.shape[-1]
        dy2 = dy.reshape(-1, c)
        dx = self.buffer("dx", dy2.shape)
        grads = self.grads if self.trainable else {}
        gamma = self.params.get("gamma")
        if self._batch_stats:
            b.batchnorm_backward(dy2, gamma, self._saved, gamma_out=grads.get("gamma"),
                                 beta_out=grads.get("beta"), out=dx)
        else:
            b.batchnorm_infer_backward(dy2, self._x2, gamma, self.params["moving_mean"],
                                       self.params["moving_variance"], self.epsilon,
                                       gamma_out=grads.get("gamma"), beta_out=grads.get("beta"), out=dx)
        return dx.reshape(self._x_shape) if need_input_grad else None

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum,
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer)}


@register()
class LayerNormalization(_Normalization):
    """Normalizes each sample over its last axes: y = γ·(x − μ)/√(σ² + ε) + β.

    μ and σ² are the mean and variance of each sample's entries along
    ``axis`` (default -1, the features; a list of trailing axes normalizes
    over all of them, e.g. [-3, -2, -1] for a whole image). γ and β have the
    shape of those axes. Same in training and inference.

    Args:
        axis: int or list of the trailing axes to normalize over.
        epsilon: added to the variance (default 1e-3, Keras's).
        center, scale: learn β, γ.
    """

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, rms_scaling: bool = False,
                 **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, **kwargs)
        if check_bool(rms_scaling, "LayerNormalization", "rms_scaling"):
            raise ValueError("LayerNormalization rms_scaling=True is not supported")
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
            raise ValueError(f"LayerNormalization axis must be an int or a list of ints, got {axis!r}")
        self.axis = axes[0] if not isinstance(axis, (list, tuple)) else axes

    def _axes(self, rank):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        return sorted(a % rank if -rank <= a < rank else -1 for a in axes)

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)
        axes = self._axes(rank)
        if rank < 2 or axes != list(range(rank - len(axes), rank)) or 0 in axes:
            raise ValueError(f"LayerNormalization normalizes over trailing non-batch axes; axis={self.axis} "
                             f"does not fit inputs of shape {tuple(input_shape)}")
        if any(input_shape[a] is None for a in axes):
            raise ValueError(f"LayerNormalization needs known sizes on axis={self.axis}, got shape "
                             f"{tuple(input_shape)}")
        return input_shape

    def build(self, input_shape):
        axes = self._axes(len(input_shape))
        self._add_affine_weights(tuple(input_shape[a] for a in axes))
        self._features = math.prod(input_shape[a] for a in axes)

    def forward(self, x, training=False):
        self._x_shape = x.shape
        x2 = x.reshape(-1, self._features)
        y = self.buffer("y", x2.shape)
        _, self._saved = self.backend.layernorm(x2, self._flat("gamma", self.params), self._flat("beta", self.params),
                                                self.epsilon, scratch=self.buffer, out=y)
        return y.reshape(self._x_shape)

    def backward(self, dy, need_input_grad=True):
        dy2 = dy.reshape(-1, self._features)
        dx = self.buffer("dx", dy2.shape)
        grads = self.grads if self.trainable else {}
        self.backend.layernorm_backward(dy2, self._flat("gamma", self.params), self._saved,
                                        gamma_out=self._flat("gamma", grads), beta_out=self._flat("beta", grads),
                                        out=dx)
        return dx.reshape(self._x_shape) if need_input_grad else None
