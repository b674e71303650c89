"""Metrics: streaming, host-side, reported as running values over the epoch.

Every metric is a :class:`Metric` with ``update_state(y_true, y_pred,
sample_weight=None)``, ``result()`` and ``reset_state()``; its state has a
fixed size (counters, never the predictions). Names resolve through the
registry, case-insensitively, by class name or Keras's snake_case alias::

    seqnn.metrics.get("f1_score")          # F1Score()
    seqnn.metrics.get("mse")               # MeanSquaredError()
    seqnn.metrics.get({"class_name": "AUC", "config": {"curve": "PR"}})

``compile(metrics=[...])`` accepts only metrics whose result is one number
(:func:`is_scalar`); per-class results (``F1Score(average=None)``,
``ConfusionMatrix``) are for direct use and for callbacks.
"""
from __future__ import annotations

from typing import Any

from .accuracy import (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy, accuracy, accuracy_for, binary_accuracy, categorical_accuracy,
    sparse_categorical_accuracy, sparse_top_k_categorical_accuracy, top_k_categorical_accuracy,
)
from .auc import AUC
from .base import Mean, MeanMetricWrapper, Metric, is_scalar, register, registry
from .confusion import (
    ConfusionMatrix, classification_report, confusion_matrix, format_report, report_from_confusion,
)
from .fscore import F1Score, FBetaScore
from .precision_recall import FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from .regression import (
    MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError,
    RootMeanSquaredError, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error,
)

_ACCURACY_NAMES = ("accuracy", "acc")


def _register_loss_functions() -> None:
    """Keras's loss names are metric names too: the mean over samples of the loss function."""
    import functools

    from ..losses import functions

    for name in ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
                 "categorical_hinge", "cosine_similarity", "hinge", "huber", "kl_divergence", "log_cosh",
                 "poisson", "squared_hinge"):
        if name not in registry:
            registry.add(name, functools.partial(MeanMetricWrapper, getattr(functions, name)))


_register_loss_functions()


def get(identifier: Any) -> Metric:
    """A metric from None, a name, a config dict, a class or an instance (returned as is)."""
    return registry.get(identifier)


def resolve(identifier: Any, loss, output_shape: tuple) -> Metric:
    """A metric for ``compile(metrics=[...])``.

    "accuracy"/"acc" resolve from the loss and output shape (Keras's rule);
    a name becomes the metric's log key, as written. Metrics whose result is
    not one number are refused here, since training logs are floats.
    """
    if isinstance(identifier, str) and identifier.lower() in _ACCURACY_NAMES:
        return accuracy_for(loss, output_shape, name=identifier)
    metric = get(identifier)
    if isinstance(identifier, str):
        metric.name = identifier
    check_scalar(metric)
    return metric


def check_scalar(metric: Any) -> None:
    """Raise ValueError unless ``metric.result()`` is one number (see :func:`is_scalar`)."""
    if is_scalar(metric):
        return
    name = getattr(metric, "name", type(metric).__name__)
    hint = {
        "FBetaScore": "pass average='micro', 'macro' or 'weighted'",
        "F1Score": "pass average='micro', 'macro' or 'weighted'",
        "Precision": "pass a single threshold",
        "Recall": "pass a single threshold",
    }.get(type(metric).__name__, "use it directly (update_state / result) or from a callback")
    raise ValueError(f"metrics: {type(metric).__name__} {name!r} returns an array, not one number, so it cannot "
                     f"be logged during training; {hint}")


def serialize(metric: Metric) -> dict | str:
    """A config dict, or for a metric function its name (resolved again through the registry on load)."""
    if type(metric) is MeanMetricWrapper:
        return metric.name
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


__all__ = [
    "AUC", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "ConfusionMatrix", "F1Score", "FBetaScore",
    "FalseNegatives", "FalsePositives", "Mean", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanMetricWrapper", "MeanSquaredError", "MeanSquaredLogarithmicError", "Metric", "Precision", "Recall",
    "RootMeanSquaredError", "SparseCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy", "TrueNegatives", "TruePositives",
    "accuracy", "binary_accuracy", "categorical_accuracy", "check_scalar", "classification_report",
    "confusion_matrix", "format_report", "get", "is_scalar", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "register",
    "registry", "report_from_confusion", "resolve", "serialize", "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy",
]
