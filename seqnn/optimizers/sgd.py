"""Stochastic gradient descent, with optional (Nesterov) momentum."""
from __future__ import annotations

from typing import Any

from ..argument_checks import check_bool
from .base import Optimizer, _check_decay, register


@register("sgd")
class SGD(Optimizer):
    """Gradient descent, optionally with momentum μ (Polyak) or Nesterov momentum::

        momentum = 0:   p ← p − lr·g
        momentum μ:     v ← μ·v − lr·g;   p ← p + v
        nesterov=True:  v ← μ·v − lr·g;   p ← p + μ·v − lr·g

    This is Keras's formulation: the velocity v holds steps already scaled by
    the learning rate. PyTorch keeps b ← μ·b + g and steps p ← p − lr·b
    (nesterov: p ← p − lr·(g + μ·b)). With v = −lr·b the two are the same rule
    while the learning rate is constant. When a schedule changes it, seqnn and
    Keras keep past steps at the rate they were taken with, while PyTorch
    rescales the whole accumulated buffer by the new rate. PyTorch's
    ``dampening`` is not offered (it is 0 here).

    Slot: ``velocity`` (only when momentum > 0).

    Example::

        opt = seqnn.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    """

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = _check_decay("momentum", momentum)
        self.nesterov = check_bool(nesterov, type(self).__name__, "nesterov")

    def active_slots(self):
        return ("velocity",) if self.momentum > 0 else ()

    def update(self, p, g, lr):
        self.backend.sgd_update(p, g, self.slots.get("velocity"), lr, self.momentum, self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
