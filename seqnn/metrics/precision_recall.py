"""Precision, recall and the raw confusion counts of thresholded decisions.

Keras mode (``average=None``, the default): every output element is one
binary decision, positive when its score is above the threshold (0.5 by
default), and a target counts as positive when it is non-zero. All elements
are pooled (a multi-label output is "micro" over its labels)::

    precision(t) = TP(t) / (TP(t) + FP(t))      recall(t) = TP(t) / (TP(t) + FN(t))

(0 where the denominator is 0). ``thresholds`` may be a list, giving one
value per threshold; ``top_k`` first keeps only each row's k highest scores
as candidates (along the last axis: for 1-D predictions, the batch, as
Keras does); ``class_id`` restricts the counts to one column. Integer
labels of shape (n,) against predictions (n, C ≥ 2) are expanded to one-hot,
so a sparse model gets what a one-hot model gets.

Averaged mode (seqnn's addition, ``average="micro" | "macro" | "weighted"``):
each column of an (n, C) output is a class and the per-class scores are
averaged, as scikit-learn's ``precision_score(average=...)``. Which class a
row predicts follows :mod:`seqnn.metrics.class_counts`: with no threshold,
the highest-scoring column for C ≥ 2 (single-label multi-class) and
``score > 0.5`` for a one-column binary output (which then has one class, so
every average equals the binary score); with a threshold, each column on its
own (multi-label). For single-label multi-class data, micro precision and
micro recall both equal accuracy. For per-class values use
``Precision(class_id=c)`` or :func:`seqnn.metrics.classification_report`.
"""
from __future__ import annotations

import numpy as np

from . import _inputs
from .base import Metric, register
from .class_counts import ClassCounts, check_average
from .thresholds import NEG_INF, keep_top_k, parse_thresholds, safe_divide, threshold_counts

class _ThresholdCounts(Metric):
    """Streams (TP, FP, TN, FN) at each threshold over the flattened (top-k / class-filtered) decisions."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.top_k, self.class_id = top_k, class_id
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer))
                                  or top_k < 1):
            raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer))
                                     or class_id < 0):
            raise ValueError(f"class_id must be a non-negative integer or None, got {class_id!r}")
        # With top_k alone, being in the top k is the decision (Keras's default of −∞).
        self.thresholds = parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        # What the user gave, as plain JSON for get_config (None keeps the top_k-dependent default).
        self.init_thresholds = (None if thresholds is None else
                                self.thresholds[0] if np.ndim(thresholds) == 0 else list(self.thresholds))
        super().__init__(name=name, dtype=dtype)

    @property
    def scalar(self) -> bool:
        return len(self.thresholds) == 1

    def reset_state(self):
        self.counts = np.zeros((4, len(self.thresholds)))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _inputs.batch(self._where, y_true, y_pred)
        weights = _inputs.sample_weights(self._where, sample_weight, len(y_pred))
        truth = _inputs.targets_like(self._where, y_true, y_pred) != 0
        scores = y_pred.astype(np.float64)
        if self.top_k is not None:
            # Along the last axis, as Keras: for 1-D predictions that is the whole batch.
            scores = keep_top_k(scores, self.top_k)
        if self.class_id is not None:
            if scores.ndim < 2 or self.class_id >= scores.shape[-1]:
                raise ValueError(f"{self._where}: class_id={self.class_id} needs y_pred of shape (n, classes) "
                                 f"with more than {self.class_id} columns, got shape {scores.shape}")
            scores, truth = scores[..., self.class_id], truth[..., self.class_id]
        if weights is not None:
            weights = np.broadcast_to(weights.reshape(-1, *([1] * (scores.ndim - 1))), scores.shape).ravel()
        self.counts += threshold_counts(truth.ravel(), scores.ravel(), weights, self.thresholds)

    def _value(self, values: np.ndarray):
        return float(values[0]) if self.scalar else values

    def get_config(self) -> dict:
        return {"name": self.name, "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class _Count(_ThresholdCounts):
    """Keras's TruePositives & co.: one weighted count per threshold."""

    _index = 0

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self):
        return self._value(self.counts[self._index].copy())

    def get_config(self) -> dict:
        return {"name": self.name, "thresholds": self.init_thresholds}


@register("true_positives")
class TruePositives(_Count):
    """Weighted number of positive targets predicted positive."""

    _index = 0


@register("false_positives")
class FalsePositives(_Count):
    """Weighted number of negative targets predicted positive."""

    _index = 1
    direction = "down"


@register("true_negatives")
class TrueNegatives(_Count):
    """Weighted number of negative targets predicted negative."""

    _index = 2


@register("false_negatives")
class FalseNegatives(_Count):
    """Weighted number of positive targets predicted negative."""

    _index = 3
    direction = "down"


class _PrecisionRecall(_ThresholdCounts):
    _kind = ""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None, average=None):
        self.average = check_average(average)
        if self.average is not None:
            if top_k is not None or class_id is not None:
                raise ValueError(f"average={average!r} averages over all classes; it cannot be combined with "
                                 f"top_k ({top_k!r}) or class_id ({class_id!r})")
            if thresholds is not None and np.ndim(thresholds) != 0:
                raise ValueError(f"average={average!r} takes one threshold (or None for the highest-scoring "
                                 f"class), got thresholds={thresholds!r}")
        self._classes = ClassCounts()
        super().__init__(thresholds=thresholds, top_k=top_k, class_id=class_id, name=name, dtype=dtype)
        # Averaged mode with no threshold decides by the highest score, not by 0.5.
        self._class_threshold = None if thresholds is None else self.thresholds[0]

    @property
    def scalar(self) -> bool:
        return self.average is not None or len(self.thresholds) == 1

    def reset_state(self):
        super().reset_state()
        self._classes.reset()

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.average is None:
            super().update_state(y_true, y_pred, sample_weight)
        else:
            self._classes.update(self._where, y_true, y_pred, sample_weight, self._class_threshold)

    def result(self):
        if self.average is not None:
            return self._classes.score(self._kind, self.average)
        tp, fp, _, fn = self.counts
        return self._value(safe_divide(tp, tp + (fp if self._kind == "precision" else fn)))

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average}


@register("precision")
class Precision(_PrecisionRecall):
    """Precision TP / (TP + FP): of the predicted positives, the fraction that are positive.

    Args:
        thresholds: a float or a list of floats in [0, 1]; a score above it is
            a positive prediction. Default 0.5 (−∞ when ``top_k`` is set). A
            list makes ``result()`` an array, one value per threshold.
        top_k: only each row's k highest scores can be positive.
        class_id: count only this column.
        average: None (Keras's pooled binary decisions) or "micro" / "macro" /
            "weighted" over the C classes of an (n, C) output; see the module
            docstring for how a row's class is decided.

    Example::

        m = Precision()
        m.update_state([0, 1, 1, 1], [1, 0, 1, 1])   # result() -> 0.666…
    """

    _kind = "precision"


@register("recall")
class Recall(_PrecisionRecall):
    """Recall TP / (TP + FN): of the positive targets, the fraction predicted positive.

    Arguments as :class:`Precision`.
    """

    _kind = "recall"
