"""Adagrad (Duchi, Hazan & Singer, 2011)."""
from __future__ import annotations

from typing import Any

from .base import Optimizer, _check, register


@register("adagrad")
class Adagrad(Optimizer):
    """Per-parameter rates that shrink with the sum of all past squared gradients::

        a ← a + g²                  (a starts at initial_accumulator_value)
        p ← p − lr·g/√(a + ε)

    This is Keras's rule. PyTorch adds ε outside the root, p ← p − lr·g/(√a + ε),
    starts the accumulator at 0 by default and has an ``lr_decay`` (the rate
    lr/(1 + (t − 1)·lr_decay)), which seqnn leaves to a learning-rate schedule.
    Adagrad tends to want a larger learning rate than the default 0.001; the
    paper's form is lr = 1.

    Slot: ``accumulator``.

    Example::

        opt = seqnn.optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.1)
    """

    slot_names = ("accumulator",)
    non_negative_slots = ("accumulator",)

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = _check("initial_accumulator_value", initial_accumulator_value)
        self.epsilon = _check("epsilon", epsilon)

    def initial_slot_value(self, slot):
        return self.initial_accumulator_value

    def update(self, p, g, lr):
        self.backend.adagrad_update(p, g, self.slots["accumulator"], lr, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
