"""Regression metrics: running, sample-weighted means of per-sample errors.

For a sample i with outputs j = 1…D and error eᵢⱼ = ŷᵢⱼ − yᵢⱼ, each metric
averages a per-sample value vᵢ over the epoch with weights wᵢ (1 by default)::

    MSE  = Σᵢ wᵢ vᵢ / Σᵢ wᵢ,   vᵢ = (1/D) Σⱼ eᵢⱼ²
    MAE  :                     vᵢ = (1/D) Σⱼ |eᵢⱼ|
    RMSE = √MSE                (the root of the epoch's mean, not a mean of roots)
    MAPE :                     vᵢ = (100/D) Σⱼ |eᵢⱼ| / max(|yᵢⱼ|, ε)
    MSLE :                     vᵢ = (1/D) Σⱼ (log(1 + max(ŷᵢⱼ, ε)) − log(1 + max(yᵢⱼ, ε)))²

with ε = 1e-7 as in Keras. Targets of shape (n,) against predictions (n, 1)
are one target per sample (Keras's rank matching); other shapes must match.
"""
from __future__ import annotations

import numpy as np

from .base import MeanMetricWrapper, register

_EPSILON = 1e-7


def _pair(y_true, y_pred, fn: str) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    elif y_pred.ndim == y_true.ndim - 1 and y_true.shape[-1] == 1:
        y_pred = y_pred[..., None]
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{fn}: y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}")
    return y_true, y_pred


def _per_sample(values: np.ndarray) -> np.ndarray:
    return values.reshape(values.shape[0], -1).mean(axis=-1) if values.ndim > 1 else values


def mean_squared_error(y_true, y_pred):
    """Per-sample mean of squared errors."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_squared_error")
    return _per_sample(np.square(y_pred - y_true))


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean of absolute errors."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_absolute_error")
    return _per_sample(np.abs(y_pred - y_true))


def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample mean of ``100·|error| / |target|`` (targets near 0 divide by ε instead)."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_absolute_percentage_error")
    return _per_sample(100.0 * np.abs(y_pred - y_true) / np.maximum(np.abs(y_true), _EPSILON))


def mean_squared_logarithmic_error(y_true, y_pred):
    """Per-sample mean of squared differences of log(1 + value), values floored at ε."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_squared_logarithmic_error")
    diff = np.log1p(np.maximum(y_pred, _EPSILON)) - np.log1p(np.maximum(y_true, _EPSILON))
    return _per_sample(np.square(diff))


class _ErrorMetric(MeanMetricWrapper):
    """A mean of per-sample errors; smaller is better."""

    direction = "down"


@register("mse", "mean_squared_error")
class MeanSquaredError(_ErrorMetric):
    """Mean of squared errors over the epoch."""

    def __init__(self, name: str = "mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name)


@register("mae", "mean_absolute_error")
class MeanAbsoluteError(_ErrorMetric):
    """Mean of absolute errors over the epoch."""

    def __init__(self, name: str = "mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name)


@register("mape", "mean_absolute_percentage_error")
class MeanAbsolutePercentageError(_ErrorMetric):
    """Mean absolute percentage error over the epoch."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name)


@register("msle", "mean_squared_logarithmic_error")
class MeanSquaredLogarithmicError(_ErrorMetric):
    """Mean squared logarithmic error over the epoch."""

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name)


@register("root_mean_squared_error")
class RootMeanSquaredError(_ErrorMetric):
    """√(mean of squared errors over the epoch): the root is taken of the running mean."""

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name)

    def result(self) -> float:
        return float(np.sqrt(super().result()))
