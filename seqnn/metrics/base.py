"""The Metric base class: streaming state, updated per batch, read as a float.

Metrics run on the host on numpy arrays (a batch's predictions are small), so
one implementation serves every backend. ``result()`` is the value over all
batches since ``reset_state()``: the model resets at each epoch start, so logs
carry running values over the epoch, as in Keras. State is a few counters whose
size does not depend on the number of samples seen, so a metric never keeps
the predictions themselves.

Two class attributes tell the model how to use a metric:

- ``scalar``: True when ``result()`` is one number. Training logs are plain
  floats, so ``compile(metrics=...)`` refuses a metric whose ``scalar`` is
  False (``F1Score(average=None)``, ``ConfusionMatrix``); such metrics still
  work when called directly. Check with :func:`is_scalar`.
- ``direction``: ``"up"`` when larger is better (accuracy, AUC), ``"down"``
  when smaller is better (errors), as Keras's ``_direction``; callbacks that
  monitor a metric use it for ``mode="auto"``.

Internally, sums are float64 whatever the model's dtype: a running sum over an
epoch loses digits in float32 long before a sample count does. ``dtype`` is
accepted everywhere for Keras compatibility and otherwise ignored.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..argument_checks import check_name
from ..naming import snake_case
from ..registry import Registry
from . import _inputs


class Metric:
    """Base class: ``update_state(y_true, y_pred, sample_weight=None)``, ``result()``, ``reset_state()``.

    Subclasses set the attributes that ``reset_state`` needs before calling
    ``super().__init__``, which resets the state.
    """

    scalar: bool = True
    direction: str = "up"

    def __init__(self, name: str | None = None, dtype: Any = None):
        self.name = check_name(name, type(self).__name__) or snake_case(type(self).__name__)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def reset_state(self) -> None:
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None) -> Any:
        """Keras's functional use: update with this batch and return the running result."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    @property
    def _where(self) -> str:
        # The prefix of every input error, so a message says which metric refused the batch.
        return f"metric {self.name!r} ({type(self).__name__})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def is_scalar(metric: Any) -> bool:
    """Whether ``metric.result()`` is one number, so the model can log it.

    Objects without a ``scalar`` attribute (plain callables, third-party
    metrics) are assumed scalar, as Keras assumes.
    """
    return bool(getattr(metric, "scalar", True))


class _Average(Metric):
    """A weighted running mean: ``total = Σ wᵢ vᵢ``, ``count = Σ wᵢ``, result ``total / count``."""

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def _accumulate(self, values: np.ndarray, weights: np.ndarray | None) -> None:
        if weights is None:
            self.total += float(values.sum())
            self.count += float(values.shape[0])
        else:
            self.total += float(values @ weights)
            self.count += float(weights.sum())

    def result(self) -> float:
        # No samples yet reads as 0, not NaN, so a log line never shows NaN for an empty epoch.
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(_Average):
    """Weighted mean over samples of a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    ``fn`` returns one value per sample, or per element (then a sample's value
    is the mean over its elements, as Keras reduces). The result is
    ``Σᵢ wᵢ vᵢ / Σᵢ wᵢ`` over every sample since the last reset.
    """

    def __init__(self, fn, name: str | None = None, dtype: Any = None, **kwargs):
        self._fn, self._fn_kwargs = fn, kwargs
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _inputs.batch(self._where, y_true, y_pred)
        weights = _inputs.sample_weights(self._where, sample_weight, len(y_pred))
        try:
            values = np.asarray(self._fn(y_true, y_pred, **self._fn_kwargs), dtype=np.float64)
        except ValueError as error:
            raise ValueError(f"{self._where}: {error}") from None
        if values.ndim == 0:
            raise ValueError(f"{self._where}: the metric function must return one value per sample, "
                             "got a scalar")
        values = values.reshape(values.shape[0], -1).mean(axis=-1)
        self._accumulate(values, weights)

    def get_config(self) -> dict:
        return {"name": self.name, **self._fn_kwargs}


class Mean(_Average):
    """Weighted running mean of the values passed to ``update_state(values, sample_weight=None)``.

    ``sample_weight`` is a scalar or one weight per value.
    """

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if sample_weight is None:
            weights = None
        else:
            weights = np.asarray(sample_weight, dtype=np.float64)
            if weights.size not in (1, values.size):
                raise ValueError(f"{self._where}: sample_weight must be a scalar or one weight per value "
                                 f"({values.size}), got shape {weights.shape}")
            weights = np.broadcast_to(weights.reshape(-1), values.shape)
        self._accumulate(values, weights)


# A plain function ``fn(y_true, y_pred)`` is a metric too: the mean of its per-sample values.
registry = Registry("metric", base=Metric, wrap_function=MeanMetricWrapper)
register = registry.register


def running_state(metric: Metric) -> dict[str, Any]:
    """The metric's accumulated state: every number and array it holds, by attribute path.

    Lets an interrupted epoch resume with the same running values (see
    ``seqnn.models.resume``). Walks the metric's attributes and those of
    helper objects from this package; configuration values come along, which is
    harmless since restoring writes back the same values.
    """
    out: dict[str, Any] = {}

    def walk(obj, prefix):
        for key, value in vars(obj).items():
            if isinstance(value, (np.ndarray, bool, int, float, np.number)) or value is None:
                out[prefix + key] = value
            elif type(value).__module__.startswith(__name__.rsplit(".", 1)[0]) and hasattr(value, "__dict__"):
                walk(value, f"{prefix}{key}.")

    walk(metric, "")
    return out


def restore_running_state(metric: Metric, state: dict[str, Any]) -> None:
    """Write back what :func:`running_state` returned."""
    for path, value in state.items():
        *parents, leaf = path.split(".")
        target = metric
        for name in parents:
            target = getattr(target, name)
        setattr(target, leaf, np.array(value) if isinstance(value, np.ndarray) else value)
