"""The Optimizer base class: learning rate (or schedule), clipping, weight decay, state.

One ``apply()`` is one training step over a :class:`~seqnn.parameters.ParameterArena`:

1. gradient clipping, at most one kind, as in Keras 3: ``clipvalue``
   (elementwise to [−c, c]), ``clipnorm`` (each parameter tensor rescaled
   to norm ≤ c) or ``global_clipnorm`` (all gradients rescaled together so
   that their joint norm is ≤ c);
2. decoupled weight decay p ← p·(1 − lr·weight_decay), for every optimizer,
   as Keras 3 does (PyTorch's ``weight_decay`` on Adam/SGD instead adds
   wd·p to the gradient, which is L2 regularisation; use a
   :mod:`~seqnn.regularizers` regulariser for that);
3. the subclass's fused update (one backend call over the flat vector);
4. ``iterations += 1``.

The learning rate used at a step is ``learning_rate(iterations)`` for a
schedule, evaluated before the increment (step 0 first), as in Keras.

State is the per-parameter slots (flat vectors, see :meth:`Optimizer.variables`)
plus a few scalars (:meth:`Optimizer.state_scalars`), so that a checkpoint can
save and restore an optimizer exactly.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import user_warnings
from ..argument_checks import check_name
from ..registry import Configurable, Registry
from . import schedules

_KERAS_ONLY_ARGS = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                    "loss_scale_factor": None, "gradient_accumulation_steps": None, "jit_compile": True}


def _keras2_arguments(optimizer: str, kwargs: dict) -> None:
    """Keras 3's handling of Keras 2's ``decay`` and ``lr``, taken out of ``kwargs``.

    ``decay`` (Keras 2's inverse-time decay of the rate) is ignored with a
    warning, whatever its value (Keras 3 warns for any value but None);
    ``lr`` is refused (Keras 3 raises "Argument(s) not recognized").
    """
    decay = kwargs.pop("decay", None)
    if decay is not None:
        user_warnings.warn(f"{optimizer}: argument `decay` is no longer supported and will be ignored (as in Keras 3; "
                      f"got decay={decay!r}). For Keras 2's decay, pass learning_rate=optimizers.schedules."
                      f"InverseTimeDecay(learning_rate, decay_steps=1, decay_rate={decay!r})")
    if "lr" in kwargs:
        raise ValueError(f"{optimizer}: argument `lr` is not recognized (Keras 3 removed Keras 2's name for the "
                         f"learning rate); pass learning_rate={kwargs['lr']!r} instead")


def _check(name: str, value: Any, low: float = 0.0, high: float | None = None, low_open=False) -> float:
    """``value`` as a float if it is a finite number in the range, else ValueError naming ``name``."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = (math.isfinite(value) and (value > low if low_open else value >= low)
              and (high is None or value <= high))
    if not ok:
        lo = "(" if low_open else "["
        hi = f"{high}]" if high is not None else "inf)"
        raise ValueError(f"{name} must be a number in {lo}{low}, {hi}, got {value!r}")
    return value


def _check_decay(name: str, value: Any) -> float:
    """A decay rate (β, ρ, momentum) in [0, 1): at 1 the average would never move."""
    value = _check(name, value, 0.0, 1.0)
    if value == 1.0:
        raise ValueError(f"{name} must be a number in [0.0, 1.0), got {value!r}")
    return value


class Optimizer(Configurable):
    """Base class of every optimizer.

    A subclass names its per-parameter state in ``slot_names`` (or, when it
    depends on the configuration, in :meth:`active_slots`), gives non-zero
    starting values through :meth:`initial_slot_value`, and implements
    :meth:`update` as one fused backend call. Slot names become tensor names
    in weight files (``optimizer.<slot>.layers.<i>.<param>``), so they say
    what the slot holds.
    """

    slot_names: tuple[str, ...] = ()
    # Slots that only ever hold values >= 0 (running squares, maxima): a saved state with a negative value
    # there is damaged, and restoring it would feed negative numbers to a square root.
    non_negative_slots: tuple[str, ...] = ()

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None, **kwargs):
        _keras2_arguments(type(self).__name__, kwargs)
        for key, value in kwargs.items():
            if key not in _KERAS_ONLY_ARGS:
                raise TypeError(f"{type(self).__name__} got an unexpected argument {key!r}")
            if value != _KERAS_ONLY_ARGS[key] and key != "jit_compile":
                raise ValueError(f"{type(self).__name__}: {key}={value!r} is not supported by seqnn "
                                 f"(leave it at {_KERAS_ONLY_ARGS[key]!r})")
        clip_args = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(value is not None for value in clip_args.values()) > 1:
            given = ", ".join(f"{k}={v!r}" for k, v in clip_args.items() if v is not None)
            raise ValueError(f"pass at most one of clipnorm, clipvalue and global_clipnorm "
                             f"(as in Keras 3), got {given}")
        self.weight_decay = None if weight_decay is None else _check("weight_decay", weight_decay)
        self.clipnorm = None if clipnorm is None else _check("clipnorm", clipnorm, low_open=True)
        self.clipvalue = None if clipvalue is None else _check("clipvalue", clipvalue, low_open=True)
        self.global_clipnorm = (None if global_clipnorm is None
                                else _check("global_clipnorm", global_clipnorm, low_open=True))
        self.name = check_name(name, type(self).__name__) or type(self).__name__.lower()
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
    def uses_schedule(self) -> bool:
        """True when the learning rate comes from a LearningRateSchedule (and cannot be set)."""
        return self._schedule is not None

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
        """Allocate the state slots for ``arena`` (``initial_slot_value``, zero by default).

        Building again on a new arena (the model re-packs its parameters when
        a layer is frozen or unfrozen) keeps the state of every parameter that
        is in both arenas with the same shape; only new parameters start
        fresh. ``iterations`` and scalar state carry on, as in Keras, so a
        schedule does not restart.
        """
        old_arena, old_slots = self.arena, self.slots
        self.arena, self.backend = arena, arena.backend
        self.slots = {name: arena.backend.full((arena.size,), self.initial_slot_value(name), arena.dtype)
                      for name in self.active_slots()}
        if old_arena is not None and old_arena is not arena:
            for slot, flat in self.slots.items():
                if slot not in old_slots:
                    continue
                for path in set(arena.paths) & set(old_arena.paths):
                    if arena.shapes[path] == old_arena.shapes[path]:
                        old = old_arena.backend.to_numpy(old_arena.view(old_slots[slot], path))
                        arena.backend.copy_into(arena.view(flat, path), old)

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

    def state_scalars(self) -> dict[str, float]:
        """The optimizer's scalar state: ``{"step": iterations, **extra}``.

        ``step`` is the number of updates applied (``iterations``; the weight
        file's ``optimizer.step``). Subclasses with scalar state of their own
        (Nadam's ``mu_product``) add it by overriding :meth:`_extra_state_scalars`.
        Together with :meth:`variables` this is everything needed to resume.
        """
        return {"step": self.iterations, **self._extra_state_scalars()}

    def set_state_scalars(self, values: dict[str, float]) -> None:
        """Restore what :meth:`state_scalars` returned; every name is required, no other is accepted."""
        expected = set(self.state_scalars())
        if set(values) != expected:
            missing, extra = sorted(expected - set(values)), sorted(set(values) - expected)
            raise ValueError(f"{type(self).__name__}.set_state_scalars: expected the names {sorted(expected)}, "
                             f"missing {missing}, unexpected {extra}")
        step = values["step"]
        if isinstance(step, bool) or not float(step).is_integer() or step < 0:
            raise ValueError(f"step must be a non-negative whole number, got {step!r}")
        self.iterations = int(step)
        self._set_extra_state_scalars({k: float(v) for k, v in values.items() if k != "step"})

    def _extra_state_scalars(self) -> dict[str, float]:
        return {}

    def _set_extra_state_scalars(self, values: dict[str, float]) -> None:
        pass

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
        elif self.clipnorm is not None:
            b.clip_segments_by_norm_(g, self.arena.segments(), self.clipnorm)
        elif self.global_clipnorm is not None:
            b.clip_by_global_norm_(g, self.global_clipnorm)

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




registry = Registry("optimizer", base=Optimizer)
register = registry.register


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name, a config dict, a class or an instance (returned as is).

    Args:
        identifier: ``"adam"`` (names are case-insensitive; the optimizer's
            default arguments), ``{"class_name": "SGD", "config":
            {"learning_rate": 0.1}}``, an Optimizer subclass or instance.

    Returns:
        The :class:`Optimizer`.

    Raises:
        ValueError: an unknown name (the message lists the known ones).

    >>> opt = sn.optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9}})
    >>> type(opt).__name__, opt.learning_rate, opt.momentum
    ('SGD', 0.1, 0.9)
    """
    return registry.get(identifier)


def serialize(optimizer: Optimizer) -> dict:
    """``{"class_name": ..., "config": ...}``: the plain-JSON form :func:`get` reads back.

    >>> sn.optimizers.serialize(sn.optimizers.Adam(1e-3))["config"]["learning_rate"]
    0.001
    """
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
