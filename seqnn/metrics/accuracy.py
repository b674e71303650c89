"""Accuracy metrics, and Keras's resolution of the plain name "accuracy".

Each is a :class:`MeanMetricWrapper` over a per-sample match function, so the
result is the (sample-weighted) fraction of matches over the epoch::

    accuracy = Σᵢ wᵢ·matchᵢ / Σᵢ wᵢ

Where a sample has several outputs (a multi-label binary output, a sequence),
its match is the mean over them, as Keras reduces.
"""
from __future__ import annotations

import numpy as np

from ..argument_checks import check_number
from . import _inputs
from .base import MeanMetricWrapper, register

def _same_rank(y_true: np.ndarray, y_pred: np.ndarray, fn: str) -> tuple[np.ndarray, np.ndarray]:
    # Keras's squeeze_or_expand_to_same_rank: (n,) against (n, 1) is one target per sample.
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    elif y_pred.ndim == y_true.ndim - 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.ndim != y_pred.ndim or any(t not in (1, p) for t, p in zip(y_true.shape, y_pred.shape)):
        raise ValueError(f"{fn}: y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}")
    return y_true, y_pred


def _sparse_labels(y_true, y_pred: np.ndarray, fn: str) -> np.ndarray:
    """Integer labels shaped like y_pred without its class axis; validated against the class count."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(f"{fn}: y_true must be integer labels of shape {y_pred.shape[:-1]} (or with a "
                         f"trailing 1) for y_pred of shape {y_pred.shape}; got shape {y_true.shape}. "
                         "One-hot targets need the non-sparse metric")
    return _inputs.labels(fn, y_true, y_pred.shape[-1])


def _one_hot_labels(y_true, y_pred: np.ndarray, fn: str) -> np.ndarray:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{fn}: y_true must be one-hot rows shaped like y_pred {y_pred.shape}; got shape "
                         f"{y_true.shape}. Integer labels need the sparse metric")
    return np.argmax(y_true, axis=-1)


def accuracy(y_true, y_pred):
    """1 where y_pred equals y_true exactly (Keras's ``Accuracy``: predictions that are already labels)."""
    y_true, y_pred = _same_rank(np.asarray(y_true), np.asarray(y_pred), "accuracy")
    return (y_true == y_pred).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where ``y_pred > threshold`` (as 0/1) equals y_true, per output.

    As in Keras, a target matches only when it is exactly 0 or 1; soft
    targets (0.9) never match.
    """
    y_true, y_pred = _same_rank(np.asarray(y_true), np.asarray(y_pred), "binary_accuracy")
    return ((y_pred > threshold).astype(np.float64) == y_true).astype(np.float64)


def categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals argmax(y_true) (one-hot targets); ties go to the first class."""
    y_pred = np.asarray(y_pred)
    truth = _one_hot_labels(y_true, y_pred, "categorical_accuracy")
    return (np.argmax(y_pred, axis=-1) == truth).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals the integer label; ties go to the first class."""
    y_pred = np.asarray(y_pred)
    truth = _sparse_labels(y_true, y_pred, "sparse_categorical_accuracy")
    return (np.argmax(y_pred, axis=-1) == truth).astype(np.float64)


def _in_top_k(truth: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    # TF's in_top_k: classes tied with the label's score at the top-k boundary all count
    # as in the top k, i.e. the label is in if fewer than k classes score strictly higher.
    target = np.take_along_axis(y_pred, truth[..., None], axis=-1)
    return ((y_pred > target).sum(axis=-1) < k).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the one-hot target's class is among the k highest scores."""
    y_pred = np.asarray(y_pred)
    return _in_top_k(_one_hot_labels(y_true, y_pred, "top_k_categorical_accuracy"), y_pred, int(k))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1 where the integer label is among the k highest scores.

    With ``from_sorted_ids=True``, ``y_pred`` holds class ids sorted by score
    (best first), as Keras allows, and the label must be among the first k.
    """
    y_pred = np.asarray(y_pred)
    if from_sorted_ids:
        y_true = np.asarray(y_true)
        y_true = y_true[..., 0] if y_true.ndim == y_pred.ndim else y_true
        return np.any(y_pred[..., : int(k)] == y_true[..., None], axis=-1).astype(np.float64)
    return _in_top_k(_sparse_labels(y_true, y_pred, "sparse_top_k_categorical_accuracy"), y_pred, int(k))


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


@register("accuracy")
class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (for predictions that are class ids already)."""

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(accuracy, name=name)


@register("binary_accuracy")
class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches a 0/1 target.

    Args:
        name: the key in the logs.
        dtype: accepted for Keras compatibility.
        threshold: a score above it counts as a prediction of 1 (default 0.5).

    >>> m = sn.metrics.BinaryAccuracy()
    >>> m.update_state(np.array([[1], [0], [1]]), np.array([[0.8], [0.3], [0.4]]))
    >>> round(m.result(), 4)
    0.6667
    """

    def __init__(self, name: str = "binary_accuracy", dtype=None, threshold: float = 0.5):
        threshold = check_number(threshold, "BinaryAccuracy", "threshold")
        super().__init__(binary_accuracy, name=name, threshold=threshold)
        self.threshold = threshold


@register("categorical_accuracy")
class CategoricalAccuracy(MeanMetricWrapper):
    """How often the highest score is the one-hot target's class."""

    def __init__(self, name: str = "categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name)


@register("sparse_categorical_accuracy")
class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the highest score is the integer label's class.

    Args:
        name: the key in the logs.
        dtype: accepted for Keras compatibility.

    >>> m = sn.metrics.SparseCategoricalAccuracy()
    >>> m.update_state(np.array([2, 0]), np.array([[0.1, 0.3, 0.6], [0.2, 0.5, 0.3]]))
    >>> m.result()
    0.5
    """

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name)


@register("top_k_categorical_accuracy")
class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target's class is among the ``k`` highest scores.

    Args:
        k: how many of the highest scores count (default 5).
        name: the key in the logs.
        dtype: accepted for Keras compatibility.
    """

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, k=_check_k(k))
        self.k = int(k)


@register("sparse_top_k_categorical_accuracy")
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest scores.

    Args:
        k: how many of the highest scores count (default 5).
        name: the key in the logs.
        dtype: accepted for Keras compatibility.
        from_sorted_ids: True when ``y_pred`` holds each row's class ids
            sorted by score (best first) instead of the scores, as Keras's.

    >>> m = sn.metrics.SparseTopKCategoricalAccuracy(k=2)
    >>> m.update_state(np.array([2, 0]), np.array([[0.1, 0.3, 0.6], [0.2, 0.5, 0.3]]))
    >>> m.result()
    0.5
    """

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids: bool = False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, k=_check_k(k),
                         from_sorted_ids=bool(from_sorted_ids))
        self.k, self.from_sorted_ids = int(k), bool(from_sorted_ids)


def accuracy_for(loss, output_shape: tuple, name: str):
    """What Keras means by "accuracy" for this loss and output shape.

    Sparse cross-entropy → sparse categorical; a single output or a binary
    cross-entropy → binary; otherwise categorical. The metric keeps the name
    the user wrote ("accuracy" or "acc"), which is the key in the logs.
    """
    if getattr(loss, "sparse_targets", False):
        return SparseCategoricalAccuracy(name=name)
    if output_shape[-1] == 1 or type(loss).__name__ == "BinaryCrossentropy":
        return BinaryAccuracy(name=name)
    return CategoricalAccuracy(name=name)
