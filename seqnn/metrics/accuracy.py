"""Accuracy metrics, and Keras's resolution of the plain name "accuracy"."""
from __future__ import annotations

import numpy as np

from .base import MeanMetricWrapper, register


def _labels(y_true: np.ndarray) -> np.ndarray:
    y = np.asarray(y_true)
    return y.reshape(-1) if y.ndim > 1 and y.shape[-1] == 1 else y


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where (y_pred > threshold) equals y_true, per output; averaged over outputs."""
    y_pred = np.asarray(y_pred).reshape(len(y_pred), -1)
    y_true = np.asarray(y_true).reshape(len(y_true), -1)
    return ((y_pred > threshold) == (y_true > 0.5)).mean(axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals argmax(y_true) (one-hot targets)."""
    return (np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals the integer label."""
    return (np.argmax(y_pred, axis=-1) == _labels(y_true).astype(np.int64)).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return sparse_top_k_categorical_accuracy(np.argmax(y_true, axis=-1), y_pred, k=k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the label is among the k highest scores (ties broken toward the label, as Keras)."""
    y_pred = np.asarray(y_pred)
    labels = _labels(y_true).astype(np.int64)
    target = y_pred[np.arange(len(labels)), labels]
    higher = (y_pred > target[:, None]).sum(axis=-1)
    return (higher < k).astype(np.float64)


@register("binary_accuracy")
class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5, dtype=None):
        self.threshold = float(threshold)
        super().__init__(binary_accuracy, name=name, threshold=self.threshold)

    def get_config(self):
        return {"name": self.name, "threshold": self.threshold}


@register("categorical_accuracy")
class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name)


@register("sparse_categorical_accuracy")
class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name)


@register("top_k_categorical_accuracy")
class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype=None):
        self.k = int(k)
        super().__init__(top_k_categorical_accuracy, name=name, k=self.k)

    def get_config(self):
        return {"name": self.name, "k": self.k}


@register("sparse_top_k_categorical_accuracy")
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype=None):
        self.k = int(k)
        super().__init__(sparse_top_k_categorical_accuracy, name=name, k=self.k)

    def get_config(self):
        return {"name": self.name, "k": self.k}


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
