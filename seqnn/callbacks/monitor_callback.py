"""MonitorCallback: the shared "watch one logged quantity" logic.

EarlyStopping, ModelCheckpoint and ReduceLROnPlateau all watch one key of the
logs and ask "is this value better than that one?". That logic lives here,
once:

* **Direction** (``mode``): "min" or "max" as given; "auto" resolves on first
  use (when the compiled metrics are known), in this order:

  1. ``loss`` / ``val_loss`` → min;
  2. a compiled metric with that name (``val_`` stripped) → its
     ``direction`` ("up" → max, "down" → min), as Keras 3 does;
  3. a name containing ``acc``, ``auc``, ``precision``, ``recall`` or ``f1``
     → max (Keras 2's name rule, which covers custom metrics logged by
     other callbacks);
  4. anything else → min. Keras 3 raises here instead; seqnn picks "min"
     because the other quantities that get logged (errors, losses,
     counts of mistakes) are ones to minimise; pass ``mode`` to be explicit.

* **Improvement**: ``current`` beats ``reference`` when it is better by more
  than ``min_delta`` (an absolute amount, always ≥ 0): for min,
  ``current < reference - min_delta``; for max, ``current > reference +
  min_delta``. No reference yet (``None``) means any number improves. A NaN
  never improves, so a diverged run counts as "no improvement".

* **A missing key** warns once per ``fit`` (a ``UserWarning`` that lists the
  keys that are there) and the epoch is skipped. Once, because the usual cause
  — ``val_loss`` without validation data — is the same every epoch.

An unknown ``mode`` is an error (Keras warns and falls back to "auto"; a typo
such as ``mode="mx"`` silently minimising an accuracy is worse than an error).

Resumable state stores the best value through :func:`encode_float` /
:func:`decode_float`: infinities become strings, so the state stays strict
JSON.
"""
from __future__ import annotations

import math
import numbers
import warnings

from .callback import Callback

_MODES = ("auto", "min", "max")
_HIGHER_IS_BETTER_WORDS = ("acc", "auc", "precision", "recall", "f1")


def check_non_negative_int(owner: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative integer, got {value!r}")
    return value


def check_number(owner: str, name: str, value, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    # A real number only: float("0.5") would turn a string into one.
    number = float(value) if isinstance(value, numbers.Real) else math.nan
    if isinstance(value, bool) or math.isnan(number):
        raise ValueError(f"{owner}: {name} must be a number{' or None' if allow_none else ''}, got {value!r}")
    return number


def encode_float(value: float | None) -> float | str | None:
    """A float for a JSON state: finite numbers as is, ``inf``/``-inf``/``nan`` as strings."""
    if value is None or math.isfinite(value):
        return value
    return repr(float(value))


def decode_float(value: float | str | None) -> float | None:
    return None if value is None else float(value)


class MonitorCallback(Callback):
    """Base class for callbacks that watch ``logs[monitor]``; see the module notes for the rules.

    Args:
        monitor: the logs key to watch, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: how much better a value must be to count as an improvement.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", min_delta: float = 0.0):
        super().__init__()
        owner = type(self).__name__
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"{owner}: monitor must be the name of a logged quantity such as 'val_loss', "
                             f"got {monitor!r}")
        if mode not in _MODES:
            raise ValueError(f"{owner}: mode must be one of 'auto', 'min', 'max', got {mode!r}")
        self.monitor = monitor
        self.mode = mode
        self.min_delta = abs(check_number(owner, "min_delta", min_delta))
        self._direction: str | None = None if mode == "auto" else mode
        self._warned_missing = False

    # ------------------------------------------------------------ direction ---
    @property
    def direction(self) -> str:
        """ "min" or "max": ``mode``, or what "auto" resolves to for this model's metrics."""
        if self._direction is None:
            self._direction = resolve_direction(self.monitor, self.model)
        return self._direction

    def _reset_monitor(self) -> None:
        """Per-fit reset: warn again about a missing key; re-resolve "auto" (the metrics may differ)."""
        self._warned_missing = False
        if self.mode == "auto":
            self._direction = None

    # ---------------------------------------------------------- comparison ---
    def _is_improvement(self, current: float, reference: float | None) -> bool:
        if math.isnan(current):
            return False
        if reference is None:
            return True
        if self.direction == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def get_monitor_value(self, logs: dict | None) -> float | None:
        """``logs[monitor]`` as a float, or None (after one warning per fit) when it is not logged."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            if not self._warned_missing:
                self._warned_missing = True
                available = ", ".join(logs) if logs else "(none)"
                hint = (" (val_ keys need validation_data or validation_split in fit, and are logged only on "
                        "epochs where validation runs)" if self.monitor.startswith("val_") else "")
                warnings.warn(f"{type(self).__name__}: monitor={self.monitor!r} is not in the logs, so this "
                              f"callback does nothing at steps where it is missing; available keys: "
                              f"{available}{hint}", UserWarning, stacklevel=3)
            return None
        return float(value)


def resolve_direction(monitor: str, model) -> str:
    """ "min" or "max" for ``mode="auto"`` (rules in the module notes)."""
    name = monitor[len("val_"):] if monitor.startswith("val_") else monitor
    if name == "loss":
        return "min"
    for metric in getattr(model, "compiled_metrics", None) or []:
        if getattr(metric, "name", None) == name and getattr(metric, "direction", None) in ("up", "down"):
            return "max" if metric.direction == "up" else "min"
    lowered = name.lower()
    return "max" if any(word in lowered for word in _HIGHER_IS_BETTER_WORDS) else "min"
