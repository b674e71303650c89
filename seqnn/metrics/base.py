"""The Metric base class: streaming state, updated per batch, read as a float.

Metrics run on the host on numpy arrays (a batch's predictions are small), so
one implementation serves every backend. ``result()`` is the value over all
batches since ``reset_state()``: the model resets at each epoch start, so logs
carry running values over the epoch, as in Keras.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Registry


class Metric:
    """Base class: ``update_state(y_true, y_pred, sample_weight=None)``, ``result()``, ``reset_state()``."""

    def __init__(self, name: str | None = None, dtype: Any = None):
        self.name = name or _snake(type(self).__name__)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def reset_state(self) -> None:
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """Keras's stateless use: update with this batch and return the running result."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class MeanMetricWrapper(Metric):
    """Weighted mean over samples of a per-sample function ``fn(y_true, y_pred) -> [N]``."""

    def __init__(self, fn, name: str | None = None, **fn_kwargs):
        self._fn, self._fn_kwargs = fn, fn_kwargs
        super().__init__(name=name)

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = np.asarray(self._fn(np.asarray(y_true), np.asarray(y_pred), **self._fn_kwargs), dtype=np.float64)
        values = values.reshape(values.shape[0], -1).mean(axis=-1) if values.ndim > 1 else values
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.shape[0]
        else:
            w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            self.total += float(values @ w)
            self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


class Mean(Metric):
    """Weighted running mean of the values passed to ``update_state(values, sample_weight=None)``."""

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        w = np.ones_like(values) if sample_weight is None else np.broadcast_to(
            np.asarray(sample_weight, dtype=np.float64).reshape(-1), values.shape)
        self.total += float(values @ w)
        self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


def _snake(name: str) -> str:
    import re

    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


registry = Registry("metric", base=Metric)
register = registry.register
