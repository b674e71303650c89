"""F-scores: the weighted harmonic mean of precision and recall, per class or averaged (Keras 3's).

With per-class counts from :mod:`seqnn.metrics.class_counts`::

    F_β = (1 + β²) · P · R / (β² · P + R) = (1 + β²) TP / ((1 + β²) TP + β² FN + FP)

β > 1 weighs recall more, β < 1 precision; F₁ is the harmonic mean. The
count form is used, so a class with TP = 0 scores exactly 0 (Keras adds an
ε = 1e-7 to each denominator instead, which moves values by ~1e-7).

Inputs: predictions (n, C) (or (n,) for one binary output) and targets of the
same shape, or integer labels (n,) / (n, 1) that are expanded to one-hot. A
row's predicted class: with ``threshold=None`` the highest score (C ≥ 2), or
score > 0.5 for a one-column output; with a threshold, every column above it
(multi-label).

``average=None`` returns a numpy vector with one F-score per class, so such a
metric has ``scalar = False``: use it directly, not in ``compile(metrics=...)``
(training logs are numbers). "micro", "macro" and "weighted" return a float.
"""
from __future__ import annotations

import numbers

import numpy as np

from .base import Metric, register
from .class_counts import ClassCounts, check_average


@register("fbeta_score")
class FBetaScore(Metric):
    """Streaming F_β score.

    Args:
        average: None (per-class vector), "micro", "macro" or "weighted".
        beta: weight of recall relative to precision, > 0.
        threshold: None (the highest-scoring class is predicted) or a value
            in (0, 1] above which each column is predicted.

    Example::

        f = FBetaScore(average="macro", beta=2.0)
        f.update_state([0, 2, 1], [[.8, .1, .1], [.2, .3, .5], [.6, .3, .1]])
        f.result()   # macro F₂ over the 3 classes
    """

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str = "fbeta_score", dtype=None):
        self.average = check_average(average)
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta > 0:
            raise ValueError(f"beta must be a number greater than 0, got {beta!r}")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, numbers.Real)
                                      or not 0.0 < threshold <= 1.0):
            raise ValueError(f"threshold must be None or a number in (0, 1], got {threshold!r}")
        self.beta = float(beta)
        self.threshold = None if threshold is None else float(threshold)
        self._counts = ClassCounts()
        super().__init__(name=name, dtype=dtype)

    @property
    def scalar(self) -> bool:
        return self.average is not None

    def reset_state(self):
        self._counts.reset()

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._counts.update(self._where, y_true, y_pred, sample_weight, self.threshold)

    def result(self) -> float | np.ndarray:
        return self._counts.score("fbeta", self.average, self.beta)

    def get_config(self) -> dict:
        return {"name": self.name, "average": self.average, "beta": self.beta, "threshold": self.threshold}


@register("f1_score")
class F1Score(FBetaScore):
    """Streaming F₁ score, the harmonic mean of precision and recall (FBetaScore with β = 1).

    Example::

        f1 = F1Score(average="weighted")
        f1.update_state(y_true_labels, probabilities)
    """

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str = "f1_score",
                 dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
