"""Regression losses: squared, absolute, Huber, log-cosh, percentage, squared-log errors; cosine similarity.

Each but the cosine similarity is a mean over the output features of a
per-element penalty (Keras's convention), so a sample's loss does not grow
with the number of outputs. The first four depend on d = y_pred − y_true only.
"""
from __future__ import annotations

import math

from ..argument_checks import check_number
from .base import SampleMeanLoss, register

#: Keras's ``backend.epsilon()``, which guards its divisions and logarithms
EPSILON = 1e-7


class _ElementwiseLoss(SampleMeanLoss):
    """ℓᵢ = mean_j f(dᵢⱼ) with d = y_pred − y_true; subclasses give f(d) and f'(d)."""

    def values(self, y_pred, y_true):
        self._d = self.backend.subtract(y_pred, y_true)
        return self.penalty(self._d)

    def values_grad(self):
        return self.penalty_grad(self._d)

    def penalty(self, d):
        raise NotImplementedError

    def penalty_grad(self, d):
        """f'(d), a new array (it is scaled in place)."""
        raise NotImplementedError


@register("mse", "mean_squared_error")
class MeanSquaredError(_ElementwiseLoss):
    """ℓ = mean(d²); ∂ℓ/∂y_pred = 2d / D."""

    def penalty(self, d):
        return self.backend.square(d)

    def penalty_grad(self, d):
        return self.backend.multiply(d, 2.0)


@register("mae", "mean_absolute_error")
class MeanAbsoluteError(_ElementwiseLoss):
    """``ℓ = mean(|d|)``; ``∂ℓ/∂y_pred = sign(d) / D`` (0 at d = 0)."""

    def penalty(self, d):
        return self.backend.abs(d)

    def penalty_grad(self, d):
        return self.backend.sign(d)


@register("huber", "huber_loss")
class Huber(_ElementwiseLoss):
    """``ℓ = mean(h(d))`` with ``h(d) = d²/2`` for ``|d| ≤ δ``, else ``δ·(|d| − δ/2)``.

    h is quadratic near 0 and linear beyond δ, so outliers pull with a bounded
    force: h'(d) = clip(d, −δ, δ).
    """

    default_name = "huber_loss"

    def __init__(self, delta: float = 1.0, reduction: str = "sum_over_batch_size", name: str | None = None):
        super().__init__(reduction=reduction, name=name)
        self.delta = check_number(delta, "Huber", "delta", 0.0, low_open=True)

    def penalty(self, d):
        b, delta = self.backend, self.delta
        a = b.abs(d)
        quadratic = b.minimum(a, delta)
        linear = b.subtract(a, quadratic)
        # h = q²/2 + δ·(|d| − q) with q = min(|d|, δ): equal to both branches.
        return b.add(b.multiply(b.square(quadratic), 0.5), b.multiply(linear, delta))

    def penalty_grad(self, d):
        return self.backend.clip(d, -self.delta, self.delta)

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


@register("log_cosh", "logcosh")
class LogCosh(_ElementwiseLoss):
    """``ℓ = mean(log(cosh(d)))``, computed as Keras does: ``d + softplus(−2d) − log 2``.

    About d²/2 for small d and ``|d| − log 2`` for large: like the squared error
    near the target, like the absolute error far from it, and finite for any
    d (cosh itself would overflow). ∂ℓ/∂y_pred = tanh(d) / D.
    """

    def penalty(self, d):
        b = self.backend
        return b.subtract(b.add(d, b.softplus(b.multiply(d, -2.0))), math.log(2.0))

    def penalty_grad(self, d):
        return self.backend.tanh(d)


@register("mape", "mean_absolute_percentage_error")
class MeanAbsolutePercentageError(SampleMeanLoss):
    """``ℓ = 100·mean(|y_true − y_pred| / max(|y_true|, ε))``, ε = 1e-7 (Keras's guard against t = 0).

    ``∂ℓ/∂y_pred = 100·sign(y_pred − y_true) / max(|y_true|, ε) / D`` (0 where they are equal).
    """

    def values(self, y_pred, y_true):
        b = self.backend
        self._scale = b.divide(100.0, b.maximum(b.abs(y_true), EPSILON))
        self._d = b.subtract(y_pred, y_true)
        return b.multiply(b.abs(self._d), self._scale)

    def values_grad(self):
        return self.backend.multiply(self.backend.sign(self._d), self._scale)


@register("msle", "mean_squared_logarithmic_error")
class MeanSquaredLogarithmicError(SampleMeanLoss):
    """``ℓ = mean((log(max(y_pred, ε) + 1) − log(max(y_true, ε) + 1))²)``, ε = 1e-7, as Keras.

    Values below ε count as ε (so the logarithm is defined); the gradient is
    zero there, 2·(a − c)/(y_pred + 1)/D elsewhere, with a and c the two logarithms.
    """

    def values(self, y_pred, y_true):
        b = self.backend
        self._shifted = b.add(b.maximum(y_pred, EPSILON), 1.0)
        self._y_pred = y_pred
        self._gap = b.subtract(b.log(self._shifted), b.log(b.add(b.maximum(y_true, EPSILON), 1.0)))
        return b.square(self._gap)

    def values_grad(self):
        b = self.backend
        grad = b.divide(b.multiply(self._gap, 2.0), self._shifted)
        return b.where(b.less_equal(EPSILON, self._y_pred), grad, 0.0, out=grad)


@register("cosine_similarity")
class CosineSimilarity(SampleMeanLoss):
    """``ℓ = −Σ_axis (t / max(‖t‖, ε))·(p / max(‖p‖, ε))``, norms along ``axis``, ε = 1e-7.

    The negated cosine of the angle between prediction and target, in
    [−1, 1]: −1 when they point the same way, 0 when orthogonal or when either
    is a zero vector (Keras's normalisation, x·rsqrt(max(Σx², ε²))). For
    outputs of rank above 2 the sample's loss is the mean over the other
    feature axes. With û the normalised vectors and n = max(‖p‖, ε),
    ∂ℓ/∂p = −(û_t − [‖p‖ > ε]·(û_t·û_p)·û_p) / n.

    Args:
        axis: the feature axis along which the similarity is computed (-1:
            the last); the batch axis (0) is refused.
    """

    def __init__(self, axis: int = -1, reduction: str = "sum_over_batch_size", name: str | None = None):
        super().__init__(reduction=reduction, name=name)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"CosineSimilarity axis must be an int, got {type(axis).__name__}: {axis!r}")
        if axis == 0:
            raise ValueError("CosineSimilarity axis must be a feature axis (-1 or >= 1), got axis=0, the batch axis")
        self.axis = axis

    def _feature_axis(self, ndim: int) -> int:
        if not -ndim < self.axis < ndim or self.axis % ndim == 0:
            raise ValueError(f"CosineSimilarity axis={self.axis} is not a feature axis of predictions of rank "
                             f"{ndim} (the feature axes are 1..{ndim - 1}, or -1..-{ndim - 1})")
        return self.axis % ndim

    def _unit(self, x, axis):
        """(x / n, n) with n = max(‖x‖, ε) along ``axis``, kept as a length-1 axis."""
        b = self.backend
        norm = b.maximum(b.sqrt(b.sum(b.square(x), axis=axis, keepdims=True)), EPSILON)
        return b.divide(x, norm), norm

    def values(self, y_pred, y_true):
        b = self.backend
        axis = self._feature_axis(y_pred.ndim)
        self._u_pred, self._norm = self._unit(y_pred, axis)
        self._u_true, _ = self._unit(y_true, axis)
        self._cos = b.sum(b.multiply(self._u_pred, self._u_true), axis=axis, keepdims=True)
        shape = self._cos.shape
        return b.multiply(self._cos, -1.0).reshape(shape[:axis] + shape[axis + 1:])

    def values_grad(self):
        b = self.backend
        # Where ‖p‖ ≤ ε the norm is the constant ε, and û_p = p/ε has no projection term.
        projection = b.where(b.less_equal(self._norm, EPSILON), 0.0, self._cos)
        grad = b.subtract(b.multiply(self._u_pred, projection), self._u_true)
        return b.divide(grad, self._norm, out=grad)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
