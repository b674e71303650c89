"""Adamax, Adam with the infinity norm (Kingma & Ba, 2015, section 7.1)."""
from __future__ import annotations

from typing import Any

from .base import Optimizer, _check, _check_decay, register


@register("adamax")
class Adamax(Optimizer):
    """Adam whose second moment is a decaying maximum of ``|g|`` instead of a mean of g²::

        m ← β₁·m + (1 − β₁)·g
        u ← max(β₂·u, |g|)
        p ← p − lr/(1 − β₁ᵗ) · m/(u + ε)

    The paper has no ε (u > 0 once any gradient is non-zero); seqnn follows
    Keras and adds it to u at every step. PyTorch instead puts it inside the
    maximum, ``u ← max(β₂·u, |g| + ε)``, and divides by u alone, so there ε
    enters u only when ``|g|`` wins and then decays with it. The rules agree for
    ε = 0.

    Slots: ``m`` and ``u``.

    Example::

        opt = seqnn.optimizers.Adamax(learning_rate=2e-3)
    """

    slot_names = ("m", "u")
    non_negative_slots = ("u",)

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = _check_decay("beta_1", beta_1)
        self.beta_2 = _check_decay("beta_2", beta_2)
        self.epsilon = _check("epsilon", epsilon)

    def update(self, p, g, lr):
        s = self.slots
        self.backend.adamax_update(p, g, s["m"], s["u"], lr, self.beta_1, self.beta_2, self.epsilon,
                                   self.iterations + 1)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
