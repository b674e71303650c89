"""Preprocessing inside the model: Rescaling (scale and shift) and Normalization (per-feature standardization)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..argument_checks import check_bool, check_number
from . import unallocated
from .base import Layer, register


@register()
class Rescaling(Layer):
    """y = x·scale + offset, as Keras's ``Rescaling``.

    Put first in a model to feed raw uint8 images: ``Rescaling(1/255)`` turns
    each batch into [0, 1] floats as it is converted, so no float copy of the
    whole dataset is ever made. Gradient: dx = scale·dy.
    """

    def __init__(self, scale: float, offset: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = check_number(scale, "Rescaling", "scale")
        self.offset = check_number(offset, "Rescaling", "offset")

    def forward(self, x, training=False):
        b = self.backend
        y = b.multiply(x, self.scale, out=self.buffer("y", x.shape))
        return b.add(y, self.offset, out=y) if self.offset else y

    def backward(self, dy, need_input_grad=True):
        return self.backend.multiply(dy, self.scale, out=dy) if need_input_grad else None

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


# Keras's backend.epsilon(): the smallest standard deviation Normalization divides by.
NORMALIZATION_EPSILON = 1e-7


@register()
class Normalization(Layer):
    """Per-feature standardization, as Keras's ``Normalization``: y = (x − mean) / max(√variance, ε).

    ``mean`` and ``variance`` are given, or learned from data by
    :meth:`adapt` (before or after the layer is built). They are weights
    that are not trained (``mean``, ``variance``, in that order) and are
    saved and loaded with the model, so a model that starts with this layer
    takes raw inputs. ``invert=True`` computes the inverse,
    y = mean + x·max(√variance, ε): it turns standardized outputs back into
    the data's units. ε is Keras's ``backend.epsilon()``, 1e-7. Gradient:
    dx = dy / max(√variance, ε) (times it when inverted).

    Args:
        axis: the feature axis; only the last (-1) is supported (Keras's default).
        mean: the mean of each feature (a number, or one per feature), or None
            to take it from :meth:`adapt`.
        variance: the variance of each feature, given with ``mean``.
        invert: apply the inverse transformation.

    Example::

        norm = sn.layers.Normalization()
        norm.adapt(x_train)                  # per-feature mean and variance
        model = sn.Sequential([sn.Input((x_train.shape[1],)), norm, sn.layers.Dense(1)])
    """

    def __init__(self, axis: Any = -1, mean: Any = None, variance: Any = None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Normalization axis must be an int (the feature axis), got {axis!r}")
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: give both mean and variance, or neither (and call adapt())")
        self.axis = axis
        self.invert = check_bool(invert, "Normalization", "invert")
        self.mean = None if mean is None else _statistic(mean, "mean")
        self.variance = None if variance is None else _statistic(variance, "variance")
        if self.variance is not None and np.any(self.variance < 0):
            raise ValueError(f"Normalization variance must be >= 0, got {variance!r}")
        self._adapted: tuple[np.ndarray, np.ndarray] | None = None

    def adapt(self, data: Any) -> None:
        """Set ``mean`` and ``variance`` to those of ``data``, per feature (the last axis).

        Args:
            data: an array of samples (n, ..., features), or an iterable of
                such batches; every value must be finite.
        """
        one_array = hasattr(data, "shape") or isinstance(data, (list, tuple))
        batches = [data] if one_array else data
        count, total, squares, shift = 0, None, None, None
        for batch in batches:
            a = np.asarray(batch, np.float64)
            if a.ndim < 2 or a.size == 0:
                raise ValueError(f"Normalization.adapt: expected samples of shape (n, ..., features), "
                                 f"got an array of shape {a.shape}")
            if not np.isfinite(a).all():
                raise ValueError("Normalization.adapt: the data holds NaN or inf")
            a = a.reshape(-1, a.shape[-1])
            if total is not None and a.shape[1] != len(total):
                raise ValueError(f"Normalization.adapt: batches have {len(total)} and {a.shape[1]} features")
            shift = a[0] if shift is None else shift  # shifted sums: no cancellation for large means
            centred = a - shift
            total = centred.sum(0) + (0 if total is None else total)
            squares = (centred ** 2).sum(0) + (0 if squares is None else squares)
            count += len(a)
        if total is None:
            raise ValueError("Normalization.adapt: no data")
        mean_shifted = total / count
        stats = (shift + mean_shifted, np.maximum(squares / count - mean_shifted ** 2, 0.0))
        if self.built:
            self._check_features(stats[0], "adapt", self.input_shape[-1])
            for name, value in zip(("mean", "variance"), stats):
                self.backend.copy_into(self.params[name], value.astype(self.dtype))
        self._adapted = stats

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)
        if rank < 2 or self.axis not in (-1, rank - 1):
            raise ValueError(f"Normalization supports only the last axis (axis=-1); got axis={self.axis} for "
                             f"inputs of shape {tuple(input_shape)}")
        if input_shape[-1] is None:
            raise ValueError(f"Normalization needs a known feature count, got shape {tuple(input_shape)}")
        return input_shape

    def build(self, input_shape):
        features = input_shape[-1]
        mean = self.add_weight("mean", (features,), "zeros", trainable=False)
        variance = self.add_weight("variance", (features,), "ones", trainable=False)
        stats = self._adapted or ((self.mean, self.variance) if self.mean is not None else None)
        if stats is not None and not isinstance(mean, unallocated.Unallocated):
            for param, value in zip((mean, variance), stats):
                self.backend.copy_into(param, np.broadcast_to(self._check_features(value, "build", features),
                                                              (features,)).astype(self.dtype))

    def _check_features(self, value: np.ndarray, when: str, features: int) -> np.ndarray:
        if value.size not in (1, features):
            raise ValueError(f"Normalization: {value.size} statistics for inputs with {features} features "
                             f"(at {when}); give one value, or one per feature")
        return value

    def _factor(self):
        """max(√variance, ε), or its reciprocal: what x is multiplied by."""
        b = self.backend
        std = b.maximum(b.sqrt(self.params["variance"]), NORMALIZATION_EPSILON)
        return std if self.invert else b.divide(1.0, std)

    def forward(self, x, training=False):
        b = self.backend
        self._multiplier = self._factor()
        y = self.buffer("y", x.shape)
        if self.invert:
            b.multiply(x, self._multiplier, out=y)
            return b.add(y, self.params["mean"], out=y)
        b.subtract(x, self.params["mean"], out=y)
        return b.multiply(y, self._multiplier, out=y)

    def backward(self, dy, need_input_grad=True):
        return self.backend.multiply(dy, self._multiplier, out=dy) if need_input_grad else None

    def get_config(self):
        def plain(value):
            return None if value is None else (float(value) if value.ndim == 0 else value.tolist())
        return {**super().get_config(), "axis": self.axis, "mean": plain(self.mean),
                "variance": plain(self.variance), "invert": self.invert}


def _statistic(value: Any, name: str) -> np.ndarray:
    """A mean or variance argument as a float64 scalar or vector of finite numbers."""
    try:
        a = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"Normalization {name} must be a number or a list of numbers, got {value!r}") from None
    if a.ndim > 1 or not np.isfinite(a).all():
        raise ValueError(f"Normalization {name} must be a finite number or a 1-D list of them, got {value!r}")
    return a
