"""compile()'s ``metrics`` and ``weighted_metrics``: resolved, updated every batch, logged under unique keys.

As in Keras, ``metrics`` ignore sample weights (``sample_weight`` and
``class_weight`` weigh the loss only), and ``weighted_metrics`` use them. A
weighted metric whose name an unweighted one already has is logged as
``weighted_<name>``.
"""
from __future__ import annotations

from typing import Any, Sequence

from .. import metrics as metrics_module

_ACCURACY = ("accuracy", "acc")


def _spec(spec: Any) -> Any:
    """The Metric for a name, config dict, class, function or instance; "accuracy" stays a name.

    Resolving at compile (not at the first fit) makes unknown names and
    array-valued metrics fail there, and lets a model loaded with
    ``custom_objects`` keep its custom metrics after the loading scope ends.
    "accuracy" waits for the loss and the output shape (see :meth:`bind`).
    """
    if isinstance(spec, str) and spec.lower() in _ACCURACY:
        return spec
    metric = metrics_module.get(spec)
    if isinstance(spec, str):
        metric.name = spec  # the log key is the name as written
    metrics_module.check_scalar(metric)
    return metric


def _check_list(value: Any, argument: str) -> list:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{argument} must be a list of names or Metric objects, got {type(value).__name__}")
    return list(value)


class CompileMetrics:
    """The metrics of one compile() call."""

    def __init__(self, metrics: Sequence[Any] | None = None, weighted_metrics: Sequence[Any] | None = None):
        given = {"metrics": _check_list(metrics, "metrics"),
                 "weighted_metrics": _check_list(weighted_metrics, "weighted_metrics")}
        self.config: dict[str, list] = {}
        self._specs: list[tuple[Any, bool]] = []
        for argument, specs in given.items():
            resolved = [_spec(spec) for spec in specs]
            self._specs += [(spec, argument == "weighted_metrics") for spec in resolved]
            if specs or argument == "metrics":
                self.config[argument] = [spec if isinstance(spec, str) else metrics_module.serialize(metric)
                                         for spec, metric in zip(specs, resolved)]
        self.keys = self._unique_keys()
        self.metrics: list = []  # resolved by bind()

    def _unique_keys(self) -> list[str]:
        keys: list[str] = []
        for spec, weighted in self._specs:
            name = spec if isinstance(spec, str) else spec.name
            if name in keys and weighted:
                name = f"weighted_{name}"
            base, index = name, 1
            while name in keys:
                name, index = f"{base}_{index}", index + 1
            keys.append(name)
        return keys

    def bind(self, loss, output_shape: tuple) -> None:
        """Resolve "accuracy" for this loss and output shape (Keras's rule)."""
        self.metrics = [metrics_module.resolve(spec, loss, output_shape) for spec, _ in self._specs]

    def update(self, y_true, y_pred, sample_weight) -> None:
        for metric, (_, weighted) in zip(self.metrics, self._specs):
            metric.update_state(y_true, y_pred, sample_weight if weighted else None)

    def reset(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def results(self) -> dict[str, float]:
        return {key: float(metric.result()) for key, metric in zip(self.keys, self.metrics)}
