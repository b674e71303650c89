"""Cross-entropy losses: binary, categorical (one-hot) and sparse (integer labels).

Each takes probabilities by default and logits with ``from_logits=True``. The
logits forms are the numerically stable ones (log-sum-exp for softmax,
max(z,0) − z·t + log(1 + e^−|z|) for sigmoid): finite for logits of any
magnitude. The probability forms clip to [ε, 1 − ε] with ε = 1e-7, as Keras.
When a model ends in softmax (sigmoid) and its loss is the matching
cross-entropy on probabilities, ``Sequential.compile`` moves the activation
into the loss and uses the logits form (see :meth:`Loss.with_logits`).
"""
from __future__ import annotations

import numpy as np

from ..argument_checks import check_bool, check_number
from .base import Loss, SampleMeanLoss, register, within

EPSILON = 1e-7


def _inside_clip(b, p):
    """Where ε ≤ p ≤ 1 − ε, i.e. where clip(p, ε, 1 − ε) has slope one."""
    return within(b, p, EPSILON, 1.0 - EPSILON)


class _CrossEntropy(Loss):
    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 reduction: str = "sum_over_batch_size", name: str | None = None):
        super().__init__(reduction=reduction, name=name)
        owner = type(self).__name__
        self.label_smoothing = check_number(label_smoothing, owner, "label_smoothing", 0.0, 1.0, high_open=True)
        self.from_logits = check_bool(from_logits, owner, "from_logits")

    def with_logits(self):
        config = {**self.get_config(), "from_logits": True}
        return type(self).from_config(config)

    def get_config(self):
        config = {**super().get_config(), "from_logits": self.from_logits}
        if self.label_smoothing:
            config["label_smoothing"] = self.label_smoothing
        return config


@register("binary_crossentropy", "bce")
class BinaryCrossentropy(_CrossEntropy, SampleMeanLoss):
    """ℓ = −mean_j [tⱼ·log pⱼ + (1 − tⱼ)·log(1 − pⱼ)], p = sigmoid(z) with from_logits.

    Targets are probabilities in [0, 1]; ``label_smoothing`` s replaces t by
    t·(1 − s) + s/2. Gradient: (p − t)/D w.r.t. logits, (p − t)/(p(1 − p))/D
    w.r.t. probabilities.

    Args:
        from_logits: True when the model's outputs are logits (no final sigmoid),
            which is the numerically stable form.
        label_smoothing: s in [0, 1): targets move towards 1/2, t·(1 − s) + s/2.
        reduction, name: as for every :class:`Loss`.

    >>> bce = sn.losses.BinaryCrossentropy()
    >>> round(bce(np.array([[1.0], [0.0]]), np.array([[0.9], [0.2]])), 4)
    0.1643
    """

    fusable_activation = "sigmoid"

    def validate_targets(self, y_true, output_shape):
        y = super().validate_targets(y_true, output_shape)
        if y.size and (np.nanmin(y) < 0 or np.nanmax(y) > 1):
            raise ValueError(f"y: binary cross-entropy targets must lie in [0, 1], got values in "
                             f"[{np.nanmin(y)}, {np.nanmax(y)}]")
        return y

    def _smoothed(self, t):
        if not self.label_smoothing:
            return t
        return self.backend.add(self.backend.multiply(t, 1.0 - self.label_smoothing), 0.5 * self.label_smoothing)

    def values(self, y_pred, y_true):
        b = self.backend
        t = self._smoothed(y_true)
        self._t = t
        if self.from_logits:
            loss, self.probabilities = b.sigmoid_cross_entropy(y_pred, t)
            return loss
        p = b.clip(y_pred, EPSILON, 1.0 - EPSILON)
        self.probabilities, self._y_pred = p, y_pred
        one_minus_t = b.subtract(1.0, t)
        return b.subtract(0.0, b.add(b.multiply(t, b.log(p)), b.multiply(one_minus_t, b.log(b.subtract(1.0, p)))))

    def values_grad(self):
        b = self.backend
        grad = b.subtract(self.probabilities, self._t)
        if not self.from_logits:
            # d/dp of the clipped form; the clip itself has zero slope outside [ε, 1 − ε] (as in Keras).
            b.divide(grad, b.multiply(self.probabilities, b.subtract(1.0, self.probabilities)), out=grad)
            b.where(_inside_clip(b, self._y_pred), grad, 0.0, out=grad)
        return grad


class _SoftmaxCrossEntropy(_CrossEntropy):
    fusable_activation = "softmax"

    def per_sample(self, y_pred, y_true):
        b = self.backend
        self._labels = self.smoothed_targets(y_true, y_pred)
        if self.from_logits:
            loss, self.probabilities = b.softmax_cross_entropy(y_pred, self._labels, self.sparse_labels)
            return loss
        # Probabilities: renormalise rows (Keras does), clip, then -Σ t·log p.
        total = b.sum(y_pred, axis=-1, keepdims=True)
        p = b.clip(b.divide(y_pred, total), EPSILON, 1.0 - EPSILON)
        self._y_pred, self._total, self.probabilities = y_pred, total, p
        onehot = self._dense_targets(p)
        return b.sum(b.multiply(onehot, b.log(p)), axis=-1) * -1.0

    def per_sample_backward(self, weights):
        b = self.backend
        if self.from_logits:
            return b.softmax_cross_entropy_backward(self.probabilities, self._labels, self.sparse_labels, weights)
        # ℓ = −Σ t log p, p = clip(q/S), S = Σq  ⇒  ∂ℓ/∂q_j = (Σ_k t'_k)/S − t'_j/q_j with t' = t where
        # q/S lies inside the clip range and 0 where the clip is flat (Keras's gradient).
        onehot = self._dense_targets(self.probabilities)
        inside = _inside_clip(b, b.divide(self._y_pred, self._total))
        onehot = b.where(inside, onehot, 0.0)
        grad = b.subtract(b.divide(b.sum(onehot, axis=-1, keepdims=True), self._total),
                          b.divide(onehot, b.multiply(self.probabilities, self._total)))
        return self.weigh_rows(grad, weights)

    @property
    def sparse_labels(self) -> bool:
        return self.sparse_targets and not self.label_smoothing

    def smoothed_targets(self, y_true, y_pred):
        if not self.label_smoothing:
            return y_true
        # Classes and dtype come from the predictions: a loss made by with_logits() has never seen
        # validate_targets, and float64 one-hot rows would promote a float32 loss.
        t = self._dense_targets_from(y_true, y_pred.shape[-1], y_pred.dtype) if self.sparse_targets else y_true
        s = self.label_smoothing
        classes = t.shape[-1]
        return self.backend.add(self.backend.multiply(t, 1.0 - s), s / classes)

    def _dense_targets(self, like):
        labels = self._labels
        if not self.sparse_labels:
            return labels
        return self._dense_targets_from(labels, like.shape[-1], like.dtype)

    def _dense_targets_from(self, labels, classes=None, dtype=None):
        b = self.backend
        host = np.asarray(b.to_numpy(labels))
        classes = classes or self._classes
        onehot = np.zeros((host.shape[0], classes), dtype or np.float64)
        onehot[np.arange(host.shape[0]), host] = 1.0
        return b.asarray(onehot, onehot.dtype)


@register("categorical_crossentropy", "cce")
class CategoricalCrossentropy(_SoftmaxCrossEntropy):
    """ℓ = −Σ_c t_c·log p_c with one-hot (or soft) targets t, p = softmax(z) with from_logits.

    Gradient w.r.t. logits: p·Σt − t (= p − t for targets summing to one).

    Args:
        from_logits: True when the model's outputs are logits (no final softmax),
            which is the numerically stable form.
        label_smoothing: s in [0, 1): one-hot targets move towards uniform, t·(1 − s) + s/C.
        reduction, name: as for every :class:`Loss`.
    """

    def validate_targets(self, y_true, output_shape):
        y = np.asarray(y_true)
        classes = output_shape[-1]
        if y.ndim != 2 or y.shape[1] != classes:
            hint = (" (integer labels need loss='sparse_categorical_crossentropy')"
                    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1) else "")
            raise ValueError(f"y: categorical cross-entropy expects one-hot targets of shape (n, {classes}), "
                             f"got shape {tuple(y.shape)}{hint}")
        # A negative target makes the loss unbounded below (training drives its logit to -inf, the weights
        # to NaN); above 1 it is no probability. Soft targets inside [0, 1] are fine.
        if y.size and (np.nanmin(y) < 0 or np.nanmax(y) > 1):
            raise ValueError(f"y: categorical cross-entropy targets must lie in [0, 1] (one-hot rows or "
                             f"probabilities), got values in [{np.nanmin(y)}, {np.nanmax(y)}]")
        self._classes = classes
        return y


@register("sparse_categorical_crossentropy", "scce")
class SparseCategoricalCrossentropy(_SoftmaxCrossEntropy):
    """Categorical cross-entropy with integer class labels: ℓ = −log p_y.

    Labels are integers in [0, C) of shape (n,) or (n, 1). Gradient w.r.t.
    logits: p − onehot(y).

    Args:
        from_logits: True when the model's outputs are logits (no final softmax),
            which is the numerically stable form.
        label_smoothing: s in [0, 1): the one-hot form of the labels moves towards uniform, as in Keras.
        reduction, name: as for every :class:`Loss`.

    >>> scce = sn.losses.SparseCategoricalCrossentropy()
    >>> round(scce(np.array([0, 1]), np.array([[0.9, 0.1], [0.4, 0.6]])), 4)
    0.3081
    """

    sparse_targets = True

    def validate_targets(self, y_true, output_shape):
        y = np.asarray(y_true)
        classes = output_shape[-1]
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.reshape(-1)
        if y.ndim != 1:
            hint = " (one-hot targets need loss='categorical_crossentropy')" if y.ndim == 2 else ""
            raise ValueError(f"y: sparse categorical cross-entropy expects integer labels of shape (n,), "
                             f"got shape {tuple(y.shape)}{hint}")
        if y.size:
            if y.dtype.kind == "f":
                if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
                    raise ValueError("y: labels must be whole numbers (class indices), got non-integer values")
            elif y.dtype.kind not in "iu":
                raise ValueError(f"y: labels must be integers, got dtype {y.dtype}")
            lo, hi = y.min(), y.max()
            if lo < 0 or hi >= classes:
                raise ValueError(f"y: labels must be in [0, {classes - 1}] for a model with {classes} outputs, "
                                 f"got labels in [{int(lo)}, {int(hi)}]")
        self._classes = classes
        return y.astype(np.int64, copy=False)
