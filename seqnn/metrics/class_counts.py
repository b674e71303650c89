"""Per-class confusion counts and their averages: the state behind F-scores and averaged precision/recall.

For predictions of shape (n, C) each column c is a class. With truth
tᵢ꜀ ∈ {0, 1} (one-hot or multi-hot targets, or integer labels expanded to
one-hot), decision dᵢ꜀ ∈ {0, 1} and sample weight wᵢ::

    TP꜀ = Σᵢ wᵢ dᵢ꜀ tᵢ꜀      FP꜀ = Σᵢ wᵢ dᵢ꜀ (1 − tᵢ꜀)
    FN꜀ = Σᵢ wᵢ (1 − dᵢ꜀) tᵢ꜀   support꜀ = Σᵢ wᵢ tᵢ꜀

Decisions (Keras's ``F1Score`` rule):

- ``threshold=None`` and C ≥ 2: single-label, the highest-scoring column of
  each row is predicted (a tie predicts every tied column; an all-zero row
  predicts none);
- ``threshold=None`` and C = 1: a binary output, predicted when the score is
  above 0.5 (Keras would predict every sample here, which is never wanted);
- a threshold t: each column independently, predicted when its score > t
  (multi-label).

Scores per class s꜀ (precision TP/(TP+FP), recall TP/(TP+FN), F_β) are 0 where
their denominator is 0, as scikit-learn's ``zero_division=0``. Averages:

- ``None``: the vector (s₀ … s_{C−1});
- ``"micro"``: the score of the summed counts ΣTP, ΣFP, ΣFN;
- ``"macro"``: the unweighted mean over all C columns, including classes that
  never occur (they score 0, as in Keras; scikit-learn agrees when given
  ``labels=range(C)``);
- ``"weighted"``: the mean weighted by support꜀ (0 if no sample has a positive).
"""
from __future__ import annotations

import numpy as np

from . import _inputs
from .thresholds import safe_divide

AVERAGES = (None, "micro", "macro", "weighted")


def check_average(average) -> str | None:
    if average not in AVERAGES:
        raise ValueError("average must be one of None, 'micro', 'macro' or 'weighted', "
                         f"got {average!r}")
    return average


def decisions(scores: np.ndarray, threshold: float | None) -> np.ndarray:
    """0/1 predictions of shape (n, C) from scores, by the rule in the module docstring."""
    if threshold is not None:
        return (scores > threshold).astype(np.float64)
    if scores.shape[1] == 1:
        return (scores > 0.5).astype(np.float64)
    top = scores.max(axis=1, keepdims=True)
    # |s| > 1e-9, not s != 0: Keras's guard so a row of zeros predicts nothing.
    return ((scores >= top) & (np.abs(scores) > 1e-9)).astype(np.float64)


class ClassCounts:
    """Streaming weighted TP, FP, FN and support per column; the column count is fixed by the first batch."""

    def __init__(self):
        self.num_classes: int | None = None
        self.reset()

    def reset(self) -> None:
        size = self.num_classes or 0
        self.tp, self.fp, self.fn, self.support = (np.zeros(size) for _ in range(4))

    def update(self, where: str, y_true, y_pred, sample_weight, threshold: float | None) -> None:
        y_true, y_pred = _inputs.batch(where, y_true, y_pred)
        scores = _inputs.columns(where, y_pred)
        if self.num_classes is None:
            self.num_classes = scores.shape[1]
            self.reset()
        elif scores.shape[1] != self.num_classes:
            raise ValueError(f"{where}: y_pred has {scores.shape[1]} columns but earlier batches had "
                             f"{self.num_classes}; use a new metric for a model with a different output width")
        truth = _inputs.targets_like(where, y_true, scores)
        predicted = decisions(scores, threshold)
        weights = _inputs.sample_weights(where, sample_weight, len(scores))
        w = (np.ones(len(scores)) if weights is None else weights)[:, None]
        self.tp += (w * predicted * truth).sum(axis=0)
        self.fp += (w * predicted * (1.0 - truth)).sum(axis=0)
        self.fn += (w * (1.0 - predicted) * truth).sum(axis=0)
        self.support += (w * truth).sum(axis=0)

    def score(self, kind: str, average: str | None, beta: float = 1.0):
        """Precision, recall or F_β from the counts, averaged as asked; a float unless average is None."""
        if self.num_classes is None:
            return np.zeros(0) if average is None else 0.0
        counts = (self.tp, self.fp, self.fn)
        if average == "micro":
            return float(_score(kind, *(c.sum() for c in counts), beta))
        per_class = _score(kind, *counts, beta)
        if average is None:
            return per_class
        if average == "macro":
            return float(per_class.mean())
        return float(safe_divide((per_class * self.support).sum(), self.support.sum()))


def _score(kind: str, tp, fp, fn, beta: float):
    if kind == "precision":
        return safe_divide(tp, tp + fp)
    if kind == "recall":
        return safe_divide(tp, tp + fn)
    # F_β = (1+β²)PR / (β²P + R), written with counts so that P or R being 0/0 needs no special case.
    b2 = beta * beta
    return safe_divide((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)
