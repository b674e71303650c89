"""Adadelta (Zeiler, 2012, "ADADELTA: An Adaptive Learning Rate Method")."""
from __future__ import annotations

from typing import Any

from .base import Optimizer, _check, _check_decay, register


@register("adadelta")
class Adadelta(Optimizer):
    """Steps scaled by the ratio of two running root mean squares: of past steps and of gradients::

        a ← ρ·a + (1 − ρ)·g²
        Δ = √(d + ε) / √(a + ε) · g
        d ← ρ·d + (1 − ρ)·Δ²
        p ← p − lr·Δ

    This is Keras 3's rule (``keras/src/optimizers/adadelta.py``), and also
    PyTorch's: both put ε inside both square roots and multiply the step by a
    learning rate (the paper has none, which is lr = 1). Only the defaults
    differ: Keras's lr = 0.001, ρ = 0.95, ε = 1e-7, which seqnn takes; PyTorch's
    lr = 1.0, ρ = 0.9, ε = 1e-6. Since Δ starts at √ε·g/√(a + ε), the first
    steps are tiny and the rate adapts from there; Adadelta usually wants a
    much larger learning rate than 0.001 (Keras 2's default was 1.0). PyTorch's
    ``weight_decay`` adds λ·p to the gradient (L2); seqnn's, as every seqnn
    optimizer's, is decoupled, as in Keras 3.

    Slots: ``mean_square_grad`` (a, Zeiler's E[g²]) and ``mean_square_delta``
    (d, Zeiler's E[Δx²]); Keras calls them ``accumulated_grad`` and
    ``accumulated_delta_var``.

    Example::

        opt = seqnn.optimizers.Adadelta(learning_rate=1.0, rho=0.95)
    """

    slot_names = ("mean_square_grad", "mean_square_delta")
    non_negative_slots = ("mean_square_grad", "mean_square_delta")

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = _check_decay("rho", rho)
        self.epsilon = _check("epsilon", epsilon)

    def update(self, p, g, lr):
        s = self.slots
        self.backend.adadelta_update(p, g, s["mean_square_grad"], s["mean_square_delta"], lr, self.rho,
                                     self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
