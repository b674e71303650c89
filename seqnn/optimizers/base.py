"""The Optimizer base class: learning rate (or schedule), clipping, weight decay, state.

One ``apply()`` is one training step over a :class:`~seqnn.parameters.ParameterArena`:

1. gradient clipping, in Keras's order: ``clipvalue`` (elementwise to
   [−v, v]), then ``clipnorm`` (each parameter tensor rescaled to norm ≤ c),
   then ``global_clipnorm`` (all gradients rescaled together);
2. decoupled weight decay p ← p·(1 − lr·weight_decay), for every optimizer,
   as Keras 3 does (PyTorch's ``weight_decay`` on Adam/SGD instead adds
   wd·p to the gradient, which is L2 regularisation; use a
   :mod:`~seqnn.regularizers` regulariser for that);
3. the subclass's fused update (one backend call over the flat vector);
4. ``iterations += 1``.

The learning rate used at a step is ``learning_rate(iterations)`` for a
schedule, evaluated before the increment (step 0 first), as in Keras.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Registry
from . import schedules

_KERAS_ONLY_ARGS = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                    "loss_scale_factor": None, "gradient_accumulation_steps": None, "jit_compile": True}


def _check(name: str, value: Any, low: float = 0.0, high: float | None = None, low_open=False) -> float:
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = (value > low if low_open else value >= low) and (high is None or value <= high)
    if not ok:
        lo = "(" if low_open else "["
        hi = f"{high}]" if high is not None else "inf)"
        raise ValueError(f"{name} must be a number in {lo}{low}, {hi}, got {value!r}")
    return value


class Optimizer:
    """Base class; subclasses declare their state slots and implement ``update``."""

    #: default name and constructor arguments are subclass-specific
    slot_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None, **kwargs):
        for key, value in kwargs.items():
            if key not in _KERAS_ONLY_ARGS:
                raise TypeError(f"{type(self).__name__} got an unexpected argument {key!r}")
            if value != _KERAS_ONLY_ARGS[key] and key != "jit_compile":
                raise ValueError(f"{type(self).__name__}: {key}={value!r} is not supported by seqnn "
                                 f"(leave it at {_KERAS_ONLY_ARGS[key]!r})")
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError("pass at most one of clipnorm and global_clipnorm")
        self.weight_decay = None if weight_decay is None else _check("weight_decay", weight_decay)
        self.clipnorm = None if clipnorm is None else _check("clipnorm", clipnorm, low_open=True)
        self.clipvalue = None if clipvalue is None else _check("clipvalue", clipvalue, low_open=True)
        self.global_clipnorm = (None if global_clipnorm is None
                                else _check("global_clipnorm", global_clipnorm, low_open=True))
        self.name = name or type(self).__name__.lower()
        self._set_learning_rate(learning_rate)
        self.iterations = 0
        self.arena = None
        self.backend = None
        self.slots: dict[str, Any] = {}

    # ------------------------------------------------------- learning rate ---
    def _set_learning_rate(self, value: Any) -> None:
        if isinstance(value, dict):
            value = schedules.get(value)
        if isinstance(value, schedules.LearningRateSchedule):
            self._schedule, self._learning_rate = value, None
        else:
            self._schedule, self._learning_rate = None, _check("learning_rate", value)

    @property
    def learning_rate(self) -> float:
        """The rate the next step will use (a schedule is evaluated at ``iterations``)."""
        if self._schedule is not None:
            return float(self._schedule(self.iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        if self._schedule is not None:
            raise TypeError("this optimizer's learning rate is a LearningRateSchedule, which sets it at "
                            "every step; it cannot be set by hand (create the optimizer with a float to do so)")
        self._learning_rate = _check("learning_rate", value)

    # Keras spells it both ways.
    lr = learning_rate

    # --------------------------------------------------------------- state ---
    def build(self, arena) -> None:
        """Allocate the state slots for ``arena`` (zeros unless ``initial_slot_value`` says otherwise)."""
        self.arena, self.backend = arena, arena.backend
        self.slots = {name: arena.backend.full((arena.size,), self.initial_slot_value(name), arena.dtype)
                      for name in self.active_slots()}

    def active_slots(self) -> tuple[str, ...]:
        """The slots this configuration needs (e.g. SGD keeps momentum only if momentum > 0)."""
        return self.slot_names

    def initial_slot_value(self, slot: str) -> float:
        return 0.0

    @property
    def built(self) -> bool:
        return self.arena is not None

    def variables(self) -> dict[str, Any]:
        """Per-parameter state, ``{"<slot>.layers.<i>.<param>": array}`` (views), as stored in weight files."""
        out = {}
        for slot, flat in self.slots.items():
            for path, view in self.arena.views(flat).items():
                out[f"{slot}.{path}"] = view
        return out

    # ---------------------------------------------------------------- step ---
    def apply(self) -> None:
        """One update of ``arena.values`` from ``arena.grads`` (which clipping may rescale)."""
        if self.arena is None:
            raise RuntimeError("optimizer.build(arena) must be called before apply()")
        b, g, p = self.backend, self.arena.grads, self.arena.values
        self.clip_gradients(g)
        lr = self.learning_rate
        if self.weight_decay:
            b.scale_(p, 1.0 - lr * self.weight_decay)
        self.update(p, g, lr)
        self.iterations += 1

    def clip_gradients(self, g) -> None:
        b = self.backend
        if self.clipvalue is not None:
            b.clip(g, -self.clipvalue, self.clipvalue, out=g)
        if self.clipnorm is not None:
            for view in self.arena.views(g).values():
                norm = b.norm(view)
                if norm > self.clipnorm:
                    b.scale_(view, self.clipnorm / norm)
        if self.global_clipnorm is not None:
            norm = b.norm(g)
            if norm > self.global_clipnorm:
                b.scale_(g, self.global_clipnorm / norm)

    def update(self, p, g, lr: float) -> None:
        """The optimizer's rule on the flat vectors (one fused backend call)."""
        raise NotImplementedError

    # -------------------------------------------------------------- config ---
    def get_config(self) -> dict:
        lr = schedules.serialize(self._schedule) if self._schedule is not None else self._learning_rate
        config = {"name": self.name, "learning_rate": lr}
        for key in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


registry = Registry("optimizer", base=Optimizer)
register = registry.register


def get(identifier: Any) -> Optimizer:
    return registry.get(identifier)


def serialize(optimizer: Optimizer) -> dict:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
