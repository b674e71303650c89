"""Adam and AdamW (Kingma & Ba, 2015; Loshchilov & Hutter, 2019)."""
from __future__ import annotations

from typing import Any

from ..argument_checks import check_bool
from .base import Optimizer, _check, _check_decay, register


@register("adam")
class Adam(Optimizer):
    """Adam: per-parameter steps from running moments of the gradient.

    With t the 1-based step::

        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
        p ← p − lr · m̂ / (√v̂ + ε)

    ε is added to √v̂ as in Algorithm 1 of the paper and in PyTorch; Keras adds
    it to √v before the bias correction (the paper's "ε̂" form), which is this
    rule with ε replaced by ε/√(1 − β₂ᵗ), larger in the first steps. Defaults
    are Keras's (ε = 1e-7; PyTorch's is 1e-8).

    ``amsgrad=True`` (Reddi et al., 2018) keeps v_max ← max(v_max, v) and uses
    v_max in place of v above (still divided by 1 − β₂ᵗ), as Keras and
    PyTorch do.

    Slots: ``m``, ``v`` and, with amsgrad, ``v_max``.

    Example::

        opt = seqnn.optimizers.Adam(learning_rate=1e-3, amsgrad=True)
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = _check_decay("beta_1", beta_1)
        self.beta_2 = _check_decay("beta_2", beta_2)
        self.epsilon = _check("epsilon", epsilon)
        self.amsgrad = check_bool(amsgrad, type(self).__name__, "amsgrad")

    non_negative_slots = ("v", "v_max")

    def active_slots(self):
        return ("m", "v", "v_max") if self.amsgrad else ("m", "v")

    def update(self, p, g, lr):
        s = self.slots
        self.backend.adam_update(p, g, s["m"], s["v"], s.get("v_max"), lr, self.beta_1, self.beta_2,
                                 self.epsilon, self.iterations + 1)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


@register("adamw")
class AdamW(Adam):
    """Adam with decoupled weight decay, p ← p·(1 − lr·λ) before each step.

    Keras's default λ = 0.004 (PyTorch's is 0.01); the decay multiplies the
    learning rate as both do, and applies to every trainable parameter. Every
    seqnn optimizer decays this way when given ``weight_decay``; AdamW only
    changes the default from None to 0.004.
    """

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
