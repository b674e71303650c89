"""Probabilistic losses besides the cross-entropies: KL divergence and Poisson."""
from __future__ import annotations

from .base import SampleMeanLoss, register, within
from .regression import EPSILON


@register("kl_divergence", "kld", "kullback_leibler_divergence")
class KLDivergence(SampleMeanLoss):
    """``ℓ = Σ_c t_c·log(t_c / p_c)`` over the last axis, with t and p clipped to [ε, 1], ε = 1e-7.

    The Kullback-Leibler divergence of the predicted distribution p from the
    target distribution t, both probabilities along the last axis (rows of a
    softmax, say). The clip is Keras's: it keeps the logarithm finite for
    zero entries; a target entry of 0 then adds ε·log(ε/p), almost nothing.
    It is a sum over the classes, not a mean (as in Keras); for outputs of
    rank above 2 the sample's loss is the mean of the sums over the other
    feature axes. ∂ℓ/∂p_c = −t_c/p_c where ε ≤ p_c ≤ 1, zero where the clip is flat.
    """

    default_name = "kl_divergence"

    def values(self, y_pred, y_true):
        b = self.backend
        self._t = b.clip(y_true, EPSILON, 1.0)
        self._p = b.clip(y_pred, EPSILON, 1.0)
        self._y_pred = y_pred
        return b.sum(b.multiply(self._t, b.log(b.divide(self._t, self._p))), axis=-1)

    def values_grad(self):
        b = self.backend
        grad = b.divide(self._t, self._p)
        b.multiply(grad, -1.0, out=grad)
        return b.where(within(b, self._y_pred, EPSILON, 1.0), grad, 0.0, out=grad)


@register("poisson")
class Poisson(SampleMeanLoss):
    """``ℓ = mean(p − t·log(p + ε))``, ε = 1e-7: the Poisson negative log-likelihood of counts t at rate p.

    The constant log(t!) is left out, as in Keras (PyTorch's
    ``PoissonNLLLoss(log_input=False, full=False, eps=1e-7)`` is the same
    number). Predictions are rates, so the model should end in an activation
    that keeps them positive, such as ``"softplus"``.
    ∂ℓ/∂p = (1 − t/(p + ε)) / D.
    """

    def values(self, y_pred, y_true):
        b = self.backend
        self._t, self._shifted = y_true, b.add(y_pred, EPSILON)
        return b.subtract(y_pred, b.multiply(y_true, b.log(self._shifted)))

    def values_grad(self):
        b = self.backend
        return b.subtract(1.0, b.divide(self._t, self._shifted))
