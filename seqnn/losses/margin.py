"""Hinge losses (maximum-margin classification): hinge, squared hinge, categorical hinge.

Predictions are scores (no activation, or tanh), not probabilities. The
binary forms want labels in {−1, 1}; as in Keras, a batch whose labels are
all 0 or 1 is read as {0, 1} labels and mapped to {−1, 1} by t ↦ 2t − 1
(the check is made per batch, over the whole batch, like Keras's per call).
"""
from __future__ import annotations

from .base import SampleMeanLoss, register


def hinge_labels(b, y_true):
    """``2t − 1`` when every entry of t is 0 or 1 (binary labels), else t unchanged (Keras's rule)."""
    # t·(t − 1) is zero exactly at t = 0 and t = 1, so the sum of its magnitudes is zero iff t is binary.
    # Decided on the device (a 0-d condition), with no wait for the host.
    binary = b.less_equal(b.sum(b.abs(b.multiply(y_true, b.subtract(y_true, 1.0)))), 0.0)
    return b.where(binary, b.subtract(b.multiply(y_true, 2.0), 1.0), y_true)


class _BinaryHinge(SampleMeanLoss):
    """Per element, a function of the margin violation h = max(1 − t·p, 0)."""

    def values(self, y_pred, y_true):
        b = self.backend
        self._t = hinge_labels(b, y_true)
        self._h = b.maximum(b.subtract(1.0, b.multiply(self._t, y_pred)), 0.0)
        return self.penalty(self._h)

    def penalty(self, h):
        raise NotImplementedError


@register("hinge")
class Hinge(_BinaryHinge):
    """``ℓ = mean(max(1 − t·p, 0))`` with labels t in {−1, 1} ({0, 1} labels are mapped to them).

    Zero once a prediction is on the right side with margin 1. ∂ℓ/∂p = −t/D
    where 1 − t·p > 0, 0 elsewhere.
    """

    def penalty(self, h):
        return h

    def values_grad(self):
        b = self.backend
        return b.where(b.less_equal(self._h, 0.0), 0.0, b.multiply(self._t, -1.0))


@register("squared_hinge")
class SquaredHinge(_BinaryHinge):
    """``ℓ = mean(max(1 − t·p, 0)²)`` with labels t in {−1, 1} ({0, 1} labels are mapped to them).

    Smooth at the margin, unlike the hinge: ∂ℓ/∂p = −2t·max(1 − t·p, 0) / D.
    """

    def penalty(self, h):
        return self.backend.square(h)

    def values_grad(self):
        b = self.backend
        return b.multiply(b.multiply(self._t, -2.0), self._h)


@register("categorical_hinge")
class CategoricalHinge(SampleMeanLoss):
    """``ℓ = max(neg − pos + 1, 0)`` with ``pos = Σ_c t_c·p_c``, ``neg = max_c (1 − t_c)·p_c`` (last axis).

    The multi-class hinge (Crammer & Singer): the score of the true class
    (one-hot t) must beat the best other score by 1. Labels are used as
    given (no {0, 1} mapping, as in Keras). Where ℓ > 0,
    ∂ℓ/∂p_c = (1 − t_c)·[c attains neg]/k − t_c, with k the number of classes
    attaining it (a tie's gradient is shared equally, as TensorFlow, JAX and
    PyTorch do for a maximum); elsewhere 0.
    """

    def values(self, y_pred, y_true):
        b = self.backend
        self._t = y_true
        self._wrong = b.multiply(b.subtract(1.0, y_true), y_pred)
        self._neg = b.max(self._wrong, axis=-1, keepdims=True)
        pos = b.sum(b.multiply(y_true, y_pred), axis=-1, keepdims=True)
        self._margin = b.add(b.subtract(self._neg, pos), 1.0)
        loss = b.maximum(self._margin, 0.0)
        return loss.reshape(loss.shape[:-1])

    def values_grad(self):
        b = self.backend
        # One array operand keeps the predictions' dtype (two Python floats would give float64).
        attains = b.where(b.less_equal(self._neg, self._wrong), 1.0, b.zeros(self._wrong.shape, self._wrong.dtype))
        share = b.divide(attains, b.sum(attains, axis=-1, keepdims=True))
        grad = b.subtract(b.multiply(share, b.subtract(1.0, self._t)), self._t)
        return b.where(b.less_equal(self._margin, 0.0), 0.0, grad, out=grad)
