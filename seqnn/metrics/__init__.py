"""Metrics: streaming, host-side, reported as running values over the epoch."""
from __future__ import annotations

from typing import Any

from .accuracy import (
    BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy, accuracy_for, binary_accuracy, categorical_accuracy,
    sparse_categorical_accuracy, sparse_top_k_categorical_accuracy, top_k_categorical_accuracy,
)
from .base import Mean, MeanMetricWrapper, Metric, register, registry

_ACCURACY_NAMES = ("accuracy", "acc")


def get(identifier: Any) -> Metric:
    return registry.get(identifier)


def resolve(identifier: Any, loss, output_shape: tuple) -> Metric:
    """A metric for ``compile(metrics=[...])``: resolves "accuracy"/"acc" from the loss and shape."""
    if isinstance(identifier, str) and identifier.lower() in _ACCURACY_NAMES:
        return accuracy_for(loss, output_shape, name=identifier)
    metric = get(identifier)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric


def serialize(metric: Metric) -> dict:
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


__all__ = [
    "BinaryAccuracy", "CategoricalAccuracy", "Mean", "MeanMetricWrapper", "Metric",
    "SparseCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "TopKCategoricalAccuracy",
    "binary_accuracy", "categorical_accuracy", "get", "register", "registry", "resolve", "serialize",
    "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy",
]
