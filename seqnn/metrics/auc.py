"""Area under the ROC or precision-recall curve, streamed with Keras's threshold buckets.

Scores are compared with T fixed thresholds t₀ = −ε < t₁ < … < t_{T−1} = 1 + ε
(by default tⱼ = j / (T − 1) inside, ε = 1e-7), and the state is the weighted
TP, FP, TN, FN at each threshold (:mod:`seqnn.metrics.thresholds`): O(T)
memory whatever the number of samples. The curve through the T points is then
integrated by a Riemann sum over the T − 1 intervals:

- ROC: x = FPR = FP / (FP + TN), y = TPR = TP / (TP + FN);
- PR:  x = recall, y = precision = TP / (TP + FP);

    AUC = Σⱼ (xⱼ − xⱼ₊₁) · hⱼ,   hⱼ = (yⱼ + yⱼ₊₁)/2 (interpolation),
                                    min(yⱼ, yⱼ₊₁) (minoring), max (majoring).

PR with interpolation uses Davis & Goadrich's rule instead (precision is not
linear between points): within an interval, TP and P = TP + FP change linearly,
so with slope s = ΔTP/ΔP and intercept a = TPⱼ₊₁ − s·Pⱼ₊₁ the area is

    s · (ΔTP + a · log(Pⱼ / Pⱼ₊₁)) / (TPⱼ₊₁ + FNⱼ₊₁).

Samples whose scores fall in the same bucket count as tied, so with the
interpolation rule the ROC AUC equals the exact (Mann-Whitney) AUC up to half
the fraction of positive-negative pairs that share a bucket; it is exact when
no bucket holds both a positive and a negative.

Inputs as Keras's: scores in [0, 1] (clipped; ``from_logits=True`` applies a
sigmoid first) and targets of the same shape (non-zero = positive), or
integer labels expanded to one-hot. With ``multi_label=False`` every element is
pooled into one curve; with ``multi_label=True`` each column of an (n, L)
output gets its own curve and the result is their (``label_weights``-weighted)
mean.
"""
from __future__ import annotations

import numpy as np

from . import _inputs
from .base import Metric, register
from .thresholds import parse_thresholds, safe_divide, threshold_counts

MAX_THRESHOLDS = 1_000_000
_EPSILON = 1e-7
_CURVES = {"roc": "ROC", "pr": "PR"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


@register("auc")
class AUC(Metric):
    """Streaming area under the ROC (default) or PR curve.

    Args:
        num_thresholds: number of thresholds, > 1; more is finer and slower.
        curve: "ROC" or "PR".
        summation_method: "interpolation" (trapezoids; Davis-Goadrich for
            PR), "minoring" (lower sum) or "majoring" (upper sum).
        thresholds: explicit thresholds in [0, 1] (replaces num_thresholds).
        multi_label: one curve per column of an (n, L) output, averaged.
        num_labels: L, when known in advance (multi_label only).
        label_weights: per-column weights: for the average of the curves
            with multi_label, else for each column's elements.
        from_logits: apply a sigmoid to the predictions first.

    Example::

        auc = AUC()
        auc.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        auc.result()   # 0.75
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, dtype=None, thresholds=None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights=None, from_logits: bool = False):
        if str(curve).lower() not in _CURVES:
            raise ValueError(f"curve must be 'ROC' or 'PR', got {curve!r}")
        if str(summation_method).lower() not in _SUMMATIONS:
            raise ValueError(f"summation_method must be one of {', '.join(map(repr, _SUMMATIONS))}, "
                             f"got {summation_method!r}")
        self.curve, self.summation_method = _CURVES[str(curve).lower()], str(summation_method).lower()
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(parse_thresholds(thresholds, 0.5))
        else:
            # Bounded: each threshold costs memory at once and at every batch, and a model file's
            # compile_config must not be able to ask for billions of them.
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)) \
                    or not 1 < num_thresholds <= MAX_THRESHOLDS:
                raise ValueError(f"num_thresholds must be an integer from 2 to {MAX_THRESHOLDS:,}, "
                                 f"got {num_thresholds!r}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        # End points just outside [0, 1], so that scores of exactly 0 and 1 fall inside the range.
        self._thresholds = np.array([-_EPSILON, *inner, 1.0 + _EPSILON])
        self.num_thresholds = len(self._thresholds)
        self.multi_label = bool(multi_label)
        if num_labels is not None and not self.multi_label:
            raise ValueError("num_labels is needed only when multi_label=True")
        self.num_labels = None if num_labels is None else int(num_labels)
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64)
        if self.label_weights is not None and self.label_weights.ndim != 1:
            raise ValueError(f"label_weights must be one weight per label, got shape {self.label_weights.shape}")
        self.from_logits = bool(from_logits)
        super().__init__(name=name, dtype=dtype)

    @property
    def thresholds(self) -> list[float]:
        return self._thresholds.tolist()

    def reset_state(self):
        labels = (self.num_labels,) if self.multi_label and self.num_labels else ()
        self._counts = None if self.multi_label and not self.num_labels else np.zeros(
            (4, self.num_thresholds, *labels))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _inputs.batch(self._where, y_true, y_pred)
        weights = _inputs.sample_weights(self._where, sample_weight, len(y_pred))
        scores = y_pred.astype(np.float64)
        truth = _inputs.targets_like(self._where, y_true, scores) != 0
        if self.from_logits:
            with np.errstate(over="ignore"):  # exp overflow for very negative logits is just a 0 score
                scores = 1.0 / (1.0 + np.exp(-scores))
        scores = np.clip(scores, 0.0, 1.0)
        columns = scores.shape[-1] if scores.ndim > 1 else 1
        if self.label_weights is not None and len(self.label_weights) != columns:
            raise ValueError(f"{self._where}: label_weights has {len(self.label_weights)} entries but y_pred has "
                             f"{columns} labels (last axis of shape {scores.shape})")
        w = np.ones(len(scores)) if weights is None else weights
        w = np.broadcast_to(w.reshape(-1, *([1] * (scores.ndim - 1))), scores.shape)
        if self.multi_label:
            self._update_per_label(truth, scores, w)
            return
        if self.label_weights is not None:
            w = w * self.label_weights
        self._counts += threshold_counts(truth.ravel(), scores.ravel(), w.ravel(), self._thresholds)

    def _update_per_label(self, truth, scores, w):
        if scores.ndim != 2:
            raise ValueError(f"{self._where}: multi_label=True needs y_pred of shape (n, labels), got shape "
                             f"{scores.shape}")
        if self._counts is None:
            self._counts = np.zeros((4, self.num_thresholds, scores.shape[1]))
        if scores.shape[1] != self._counts.shape[2]:
            raise ValueError(f"{self._where}: y_pred has {scores.shape[1]} labels but the metric counts "
                             f"{self._counts.shape[2]} (num_labels or an earlier batch)")
        for label in range(scores.shape[1]):
            self._counts[..., label] += threshold_counts(truth[:, label], scores[:, label], w[:, label],
                                                         self._thresholds)

    def result(self) -> float:
        if self._counts is None:
            return 0.0
        tp, fp, tn, fn = self._counts
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = _interpolated_pr_areas(tp, fp, fn)
        else:
            recall = safe_divide(tp, tp + fn)
            if self.curve == "ROC":
                x, y = safe_divide(fp, fp + tn), recall
            else:
                x, y = recall, safe_divide(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = np.minimum(y[:-1], y[1:])
            else:
                heights = np.maximum(y[:-1], y[1:])
            areas = (x[:-1] - x[1:]) * heights
        by_label = areas.sum(axis=0)
        if not self.multi_label:
            return float(by_label)
        if self.label_weights is None:
            return float(by_label.mean())
        return float(safe_divide((by_label * self.label_weights).sum(), self.label_weights.sum()))

    def get_config(self) -> dict:
        config = {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                  "from_logits": self.from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


def _interpolated_pr_areas(tp, fp, fn):
    """Davis & Goadrich's per-interval PR areas, Keras's closed form (see the module docstring)."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = safe_divide(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = np.where(both, safe_divide(p[:-1], np.maximum(p[1:], 0)), 1.0)
    return safe_divide(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))
