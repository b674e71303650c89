"""Nadam, Adam with Nesterov momentum (Dozat, 2016)."""
from __future__ import annotations

from typing import Any

from .base import Optimizer, _check, _check_decay, register


@register("nadam")
class Nadam(Optimizer):
    """Adam whose momentum looks one step ahead, with Dozat's warming momentum schedule::

        μₜ = β₁·(1 − ½·0.96^(ψ·t))      ψ = momentum_decay = 0.004 (= 1/250)
        Πₜ = μ₁·μ₂·…·μₜ                 (scalar state ``mu_product``)
        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        v̂ = v/(1 − β₂ᵗ)
        p ← p − lr·[(1 − μₜ)/(1 − Πₜ)·g + μₜ₊₁/(1 − Πₜ·μₜ₊₁)·m] / (√v̂ + ε)

    This is PyTorch's ``NAdam`` exactly, including keeping Πₜ as a running
    product. Keras 3's ``Nadam`` has the same update but the schedule
    μₜ = β₁·(1 − ½·0.96ᵗ): its exponent lacks the paper's ψ, so its momentum
    is within 1% of β₁ after about a hundred steps, where Dozat's warms up over
    thousands. ``momentum_decay=1.0`` (PyTorch's argument name; not a Keras
    argument) reproduces Keras 3. Both add ε to √v̂, as here.

    Slots: ``m`` and ``v``; scalar state: ``mu_product`` (see
    :meth:`~seqnn.optimizers.Optimizer.state_scalars`).

    Example::

        opt = seqnn.optimizers.Nadam(learning_rate=2e-3)
    """

    slot_names = ("m", "v")
    non_negative_slots = ("v",)

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, momentum_decay: float = 0.004, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = _check_decay("beta_1", beta_1)
        self.beta_2 = _check_decay("beta_2", beta_2)
        self.epsilon = _check("epsilon", epsilon)
        self.momentum_decay = _check("momentum_decay", momentum_decay)
        self.mu_product = 1.0

    def momentum_at(self, step: int) -> float:
        """μ for the 1-based ``step``."""
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** (step * self.momentum_decay))

    def update(self, p, g, lr):
        step = self.iterations + 1
        mu_t, mu_next = self.momentum_at(step), self.momentum_at(step + 1)
        mu_product = self.mu_product * mu_t
        s = self.slots
        self.backend.nadam_update(p, g, s["m"], s["v"], lr, self.beta_1, self.beta_2, self.epsilon,
                                  mu_t, mu_next, mu_product, step)
        self.mu_product = mu_product

    def _extra_state_scalars(self):
        return {"mu_product": self.mu_product}

    def _set_extra_state_scalars(self, values):
        mu_product = values["mu_product"]
        if not 0.0 < mu_product <= 1.0:
            raise ValueError(f"mu_product must be in (0, 1], got {mu_product!r}")
        self.mu_product = mu_product

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "momentum_decay": self.momentum_decay}
