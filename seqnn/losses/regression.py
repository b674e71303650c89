"""Regression losses: mean squared error, mean absolute error, Huber.

Each is a mean over the output features of a per-element penalty of
d = y_pred − y_true (Keras's convention), so a sample's loss does not grow with
the number of outputs.
"""
from __future__ import annotations

from .base import Loss, register


class _ElementwiseLoss(Loss):
    """ℓᵢ = mean_j f(dᵢⱼ); subclasses give f(d) and f'(d)."""

    def per_sample(self, y_pred, y_true):
        b = self.backend
        self._d = b.subtract(y_pred, y_true)
        per_element = self.penalty(self._d)
        per_element = per_element.reshape(per_element.shape[0], -1)
        self._features = per_element.shape[1]
        return b.mean(per_element, axis=-1)

    def per_sample_backward(self, weights):
        b = self.backend
        grad = self.penalty_grad(self._d)
        w = b.multiply(weights, 1.0 / self._features).reshape(-1, *([1] * (grad.ndim - 1)))
        return b.multiply(grad, w, out=grad)

    def penalty(self, d):
        raise NotImplementedError

    def penalty_grad(self, d):
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

    def __init__(self, delta: float = 1.0, reduction: str = "sum_over_batch_size", name: str | None = None):
        super().__init__(reduction=reduction, name=name or "huber_loss")
        if delta <= 0:
            raise ValueError(f"Huber delta must be > 0, got {delta!r}")
        self.delta = float(delta)

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
