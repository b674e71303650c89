"""Confusion matrices and the per-class report built from one.

The confusion matrix M of C classes counts samples by true and predicted
class, rows = true class, columns = predicted class::

    M[a, b] = Σᵢ wᵢ · [trueᵢ = a] · [predᵢ = b]

From it, per class c: precision = M[c,c] / Σₐ M[a,c], recall = M[c,c] / Σ_b M[c,b],
F₁ = 2·M[c,c] / (Σₐ M[a,c] + Σ_b M[c,b]), support = Σ_b M[c,b] (0 where a
denominator is 0), and accuracy = trace(M) / ΣM.

What counts as a class id:

- ``y_true``: integer labels (n,) or (n, 1), or one-hot rows (n, C) (argmax);
- ``y_pred``: scores (n, C) with C ≥ 2 → the argmax (ties to the first
  class); one column or (n,): whole numbers are class ids, anything else is the
  probability of class 1, thresholded at 0.5 (a binary output, C = 2).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import _inputs
from .base import Metric, register
from .thresholds import safe_divide

# Inferring C from the largest label guards against a stray huge label allocating C² counts.
_MAX_INFERRED_CLASSES = 10_000


def _predicted_ids(where: str, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    if y_pred.ndim == 2 and y_pred.shape[1] >= 2:
        if y_pred.shape[1] != num_classes:
            raise ValueError(f"{where}: y_pred has {y_pred.shape[1]} columns but num_classes is {num_classes}")
        return np.argmax(y_pred, axis=1)
    if y_pred.ndim == 1 or (y_pred.ndim == 2 and y_pred.shape[1] == 1):
        values = y_pred.reshape(-1)
        if values.dtype.kind in "biu" or np.array_equal(values, np.round(values)):
            return _inputs.labels(where, values, num_classes, arg="y_pred")
        if num_classes != 2:
            raise ValueError(f"{where}: y_pred of shape {y_pred.shape} holds probabilities of one binary output, "
                             f"which needs num_classes=2, got num_classes={num_classes}")
        return (values > 0.5).astype(np.int64)
    raise ValueError(f"{where}: y_pred must be scores of shape (n, {num_classes}), or class ids or binary "
                     f"probabilities of shape (n,) or (n, 1); got shape {y_pred.shape}")


@register("confusion_matrix")
class ConfusionMatrix(Metric):
    """Streaming (C, C) confusion matrix: rows are true classes, columns predicted classes.

    ``result()`` is a numpy array (int64 counts, float64 once any batch had
    sample weights), so ``scalar`` is False: use it directly or from a
    callback, not in ``compile(metrics=...)``.

    Example::

        cm = ConfusionMatrix(3)
        cm.update_state([0, 1, 2, 2], [[.9, .1, 0], [.2, .7, .1], [.1, .1, .8], [.6, .2, .2]])
        cm.result()   # [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    """

    scalar = False

    def __init__(self, num_classes: int, name: str = "confusion_matrix", dtype=None):
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2 (a binary output has 2), got {num_classes!r}")
        self.num_classes = int(num_classes)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._matrix = np.zeros((self.num_classes, self.num_classes))
        self._weighted = False

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _inputs.batch(self._where, y_true, y_pred)
        weights = _inputs.sample_weights(self._where, sample_weight, len(y_pred))
        truth = _inputs.class_ids(self._where, y_true, self.num_classes)
        predicted = _predicted_ids(self._where, y_pred, self.num_classes)
        c = self.num_classes
        self._matrix += np.bincount(truth * c + predicted, weights=weights, minlength=c * c).reshape(c, c)
        self._weighted |= weights is not None

    def result(self) -> np.ndarray:
        return self._matrix.copy() if self._weighted else self._matrix.astype(np.int64)

    def get_config(self) -> dict:
        return {"name": self.name, "num_classes": self.num_classes}


def _infer_num_classes(y_true: np.ndarray, y_pred: np.ndarray) -> int:
    for a in (y_pred, y_true):
        if a.ndim == 2 and a.shape[1] >= 2:
            return a.shape[1]
    largest = 1  # at least two classes: a binary problem may show only one of them
    for a in (y_true, y_pred):
        finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
        if finite.size:
            largest = max(largest, int(np.max(finite)))
    if largest >= _MAX_INFERRED_CLASSES:
        raise ValueError(f"confusion_matrix: the largest class id is {largest}, which would make a "
                         f"{largest + 1}x{largest + 1} matrix; pass num_classes if that is really meant")
    return largest + 1


def confusion_matrix(y_true, y_pred, num_classes: int | None = None, sample_weight=None) -> np.ndarray:
    """The (C, C) confusion matrix of one set of predictions (rows true, columns predicted).

    Args:
        y_true: integer labels (n,) / (n, 1), or one-hot rows (n, C).
        y_pred: scores (n, C), class ids (n,), or binary probabilities (n,) / (n, 1).
        num_classes: C; by default the width of y_pred or y_true, else the
            largest class id + 1 (at least 2).
        sample_weight: optional weight per sample; the matrix is then float.

    Example::

        confusion_matrix([0, 1, 1], [0, 1, 0])   # [[1, 0], [1, 1]]
    """
    where = "confusion_matrix"
    y_true, y_pred = _inputs.batch(where, y_true, y_pred)
    metric = ConfusionMatrix(num_classes if num_classes is not None else _infer_num_classes(y_true, y_pred))
    metric.update_state(y_true, y_pred, sample_weight)
    return metric.result()


def report_from_confusion(matrix, target_names: Sequence[str] | None = None) -> dict[str, Any]:
    """Per-class precision, recall, F₁ and support from a confusion matrix, scikit-learn's dict layout.

    Keys are the class names (``"0"``, ``"1"``, … or ``target_names``), each
    ``{"precision", "recall", "f1-score", "support"}``, then ``"accuracy"``,
    ``"macro avg"`` (over the classes that occur in the labels or the
    predictions, as scikit-learn's) and ``"weighted avg"`` (weighted by
    support).
    """
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"matrix must be a square (C, C) confusion matrix, got shape {m.shape}")
    names = [str(i) for i in range(len(m))] if target_names is None else [str(n) for n in target_names]
    if len(names) != len(m):
        raise ValueError(f"target_names has {len(names)} names but the matrix has {len(m)} classes")
    as_count = int if m.dtype.kind in "iu" else float
    m = m.astype(np.float64)
    tp, support, predicted = np.diag(m), m.sum(axis=1), m.sum(axis=0)
    scores = {"precision": safe_divide(tp, predicted), "recall": safe_divide(tp, support),
              "f1-score": safe_divide(2 * tp, support + predicted)}
    report: dict[str, Any] = {
        name: {**{k: float(v[c]) for k, v in scores.items()}, "support": as_count(support[c])}
        for c, name in enumerate(names)}
    total = support.sum()
    report["accuracy"] = float(safe_divide(tp.sum(), total))
    # scikit-learn's rule: the macro average is over the classes present in the labels or the predictions;
    # a class that appears in neither would count as a 0 and drag it down (3 of 3 correct is not 0.3).
    present = (support + predicted) > 0
    present = present if present.any() else np.ones_like(present)
    report["macro avg"] = {**{k: float(v[present].mean()) for k, v in scores.items()}, "support": as_count(total)}
    report["weighted avg"] = {**{k: float(safe_divide((v * support).sum(), total)) for k, v in scores.items()},
                              "support": as_count(total)}
    return report


def classification_report(y_true, y_pred, num_classes: int | None = None, sample_weight=None,
                          target_names: Sequence[str] | None = None) -> dict[str, Any]:
    """Per-class precision, recall, F₁ and support of predictions, as a dict (see :func:`report_from_confusion`).

    Example::

        report = classification_report(y_test, model.predict(x_test))
        report["macro avg"]["f1-score"]
    """
    return report_from_confusion(confusion_matrix(y_true, y_pred, num_classes, sample_weight), target_names)


def format_report(report: dict[str, Any], digits: int = 3) -> str:
    """A classification report dict as an aligned text table, one row per class and per average."""
    rows = [(name, row) for name, row in report.items() if isinstance(row, dict)]
    width = max([len(name) for name, _ in rows] + [len("weighted avg")])
    columns = ("precision", "recall", "f1-score", "support")
    lines = [" " * width + "".join(f"{c:>11}" for c in columns)]
    for name, row in rows:
        if name == "macro avg":
            total = row["support"]
            lines.append(f"{'accuracy':>{width}}" + " " * 22 + f"{report['accuracy']:>11.{digits}f}"
                         + f"{total:>11}")
        cells = "".join(f"{row[c]:>11.{digits}f}" for c in columns[:3])
        lines.append(f"{name:>{width}}{cells}{row['support']:>11}")
    return "\n".join(lines)
