"""Learning-rate schedules: callables from the optimizer's step count to a learning rate.

Accepted wherever a learning rate is (``Adam(learning_rate=CosineDecay(...))``).
The step is the number of updates already applied (0 for the first), as in
Keras. Formulas and argument names are Keras's.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..registry import Configurable, Registry


class LearningRateSchedule(Configurable):
    """Base class: ``schedule(step)`` is the learning rate for the update after ``step`` updates.

    A subclass lists its constructor arguments in ``config_keys``, each kept
    as the attribute of that name, and :meth:`get_config` returns them (or it
    overrides ``get_config``).
    """

    config_keys: tuple[str, ...] = ()

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        if not self.config_keys:
            raise NotImplementedError(f"{type(self).__name__} must define config_keys or get_config()")
        return {key: getattr(self, key) for key in self.config_keys}




registry = Registry("learning-rate schedule", base=LearningRateSchedule)
register = registry.register


def _number(name: str, value: Any, low: float = 0.0, low_open: bool = False) -> int | float:
    """``value`` if it is a finite number above ``low``, else ValueError naming ``name``.

    An int stays an int (and a numpy scalar becomes a Python one), so that
    configs read back as they were written.
    """
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        value = value.item() if isinstance(value, (np.integer, np.floating)) else value
        ok = math.isfinite(value) and value >= low and not (low_open and value == low)
    if not ok:
        bound = f"> {low}" if low_open else f">= {low}"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return value


def _positive(name: str, value: Any) -> float:
    return _number(name, value, 0.0, low_open=True)


class _StepDecay(LearningRateSchedule):
    """The arguments ExponentialDecay and InverseTimeDecay share, and their progress p = step / decay_steps."""

    config_keys = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name")

    #: whether decay_rate = 0 is refused (it would zero the exponential's rate after step 0)
    decay_rate_must_be_positive = False

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str | None = None):
        self.initial_learning_rate = float(_number("initial_learning_rate", initial_learning_rate))
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.decay_rate = float(_number("decay_rate", decay_rate, low_open=self.decay_rate_must_be_positive))
        self.staircase = bool(staircase)
        self.name = name

    def progress(self, step) -> float:
        """step / decay_steps, floored with ``staircase``."""
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p


@register()
class ExponentialDecay(_StepDecay):
    """lr(step) = initial_learning_rate · decay_rate^(step / decay_steps).

    With ``staircase=True`` the exponent is floored, so the rate drops in steps.
    """

    decay_rate_must_be_positive = True

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self.progress(step)


@register()
class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step ≤ boundaries[0], values[1] while step ≤ boundaries[1], ..., values[-1] after.

    ``values`` has one more entry than ``boundaries``; boundaries increase.
    """

    config_keys = ("boundaries", "values", "name")

    def __init__(self, boundaries: Sequence[int], values: Sequence[float], name: str | None = None):
        boundaries = [_number(f"boundaries[{i}]", b, float("-inf")) for i, b in enumerate(boundaries)]
        values = [float(_number(f"values[{i}]", v)) for i, v in enumerate(values)]
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"values must have one more entry than boundaries, got {len(boundaries)} "
                             f"boundaries and {len(values)} values")
        if any(b2 <= b1 for b1, b2 in zip(boundaries, boundaries[1:])):
            raise ValueError(f"boundaries must increase strictly, got {boundaries}")
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]


@register()
class CosineDecay(LearningRateSchedule):
    """Optional linear warm-up, then cosine decay (Loshchilov & Hutter, 2017).

    Without warm-up: lr(step) = initial · ((1 − alpha)·½(1 + cos(π·min(step, decay_steps)/decay_steps)) + alpha).
    With ``warmup_steps`` > 0 and ``warmup_target``: the rate rises linearly from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then the
    cosine decays from ``warmup_target`` over the next ``decay_steps``.
    """

    config_keys = ("initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target", "warmup_steps")

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str | None = None, warmup_target: float | None = None, warmup_steps: int = 0):
        self.initial_learning_rate = float(_number("initial_learning_rate", initial_learning_rate))
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.alpha = float(_number("alpha", alpha))
        if self.alpha > 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
        self.warmup_target = None if warmup_target is None else float(_number("warmup_target", warmup_target))
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"warmup_steps must be a whole number >= 0, got {warmup_steps!r}")
        self.warmup_steps, self.name = warmup_steps, name

    def __call__(self, step):
        warming = self.warmup_target is not None
        if warming and step < self.warmup_steps:
            return self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) * (
                step / self.warmup_steps)
        top = self.warmup_target if warming else self.initial_learning_rate
        t = min(step - (self.warmup_steps if warming else 0), self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * t))
        return top * ((1.0 - self.alpha) * cosine + self.alpha)


@register()
class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps``::

        lr(step) = (initial − end) · (1 − s / decay_steps)^power + end,   s = min(step, decay_steps)

    and ``end_learning_rate`` after that. ``power=1`` is a straight line. With
    ``cycle=True`` the decay restarts: decay_steps is replaced by its first
    multiple that is ≥ step (decay_steps itself at step 0), so the rate jumps
    back up just after each multiple and decays to the end rate again, ever
    more slowly.

    Example::

        PolynomialDecay(0.1, decay_steps=10000, end_learning_rate=0.01, power=0.5)
    """

    config_keys = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle", "name")

    def __init__(self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str | None = None):
        self.initial_learning_rate = float(_number("initial_learning_rate", initial_learning_rate))
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.end_learning_rate = float(_number("end_learning_rate", end_learning_rate))
        self.power = float(_number("power", power))
        self.cycle = bool(cycle)
        self.name = name

    def __call__(self, step):
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= 1 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, decay_steps)
        # max(·, 0): a rounding error must not make a fractional power of a negative number.
        remaining = max(1.0 - step / decay_steps, 0.0)
        return (self.initial_learning_rate - self.end_learning_rate) * remaining ** self.power + self.end_learning_rate


@register()
class InverseTimeDecay(_StepDecay):
    """lr(step) = initial_learning_rate / (1 + decay_rate · step / decay_steps).

    With ``staircase=True`` step / decay_steps is floored, so the rate drops
    in steps. ``InverseTimeDecay(lr, decay_steps=1, decay_rate=d)`` is Keras
    2's ``decay=d`` optimizer argument (lr / (1 + d·iterations)).
    """

    def __call__(self, step):
        return self.initial_learning_rate / (1.0 + self.decay_rate * self.progress(step))


def get(identifier: Any) -> LearningRateSchedule | None:
    """A schedule from a config dict, a class or an instance (returned as is).

    Args:
        identifier: ``{"class_name": "ExponentialDecay", "config": {...}}``
            (what :func:`serialize` writes; names are case-insensitive), a
            LearningRateSchedule subclass or instance.

    Returns:
        The :class:`LearningRateSchedule`.

    >>> schedule = sn.optimizers.schedules.get({"class_name": "ExponentialDecay", "config": {
    ...     "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}})
    >>> schedule(10)
    0.05
    """
    return registry.get(identifier)


def serialize(schedule: LearningRateSchedule) -> dict:
    """``{"class_name": ..., "config": ...}``: the plain-JSON form :func:`get` reads back.

    >>> sn.optimizers.schedules.serialize(sn.optimizers.schedules.CosineDecay(0.1, 100))["class_name"]
    'CosineDecay'
    """
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}
