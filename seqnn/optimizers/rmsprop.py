"""RMSprop (Hinton, 2012, lecture 6e of "Neural Networks for Machine Learning")."""
from __future__ import annotations

from typing import Any

from ..argument_checks import check_bool
from .base import Optimizer, _check, _check_decay, register


@register("rmsprop")
class RMSprop(Optimizer):
    """Divide each gradient by a running root mean square of its recent values::

        s ← ρ·s + (1 − ρ)·g²
        d = √(s + ε)                               (centered=False)
        ḡ ← ρ·ḡ + (1 − ρ)·g;   d = √(s − ḡ² + ε)   (centered=True: the variance)
        p ← p − lr·g/d                             (momentum = 0)
        b ← μ·b + lr·g/d;      p ← p − b           (momentum μ > 0)

    This is Keras's rule. PyTorch differs in two places: ε is added outside the
    root, d = √s + ε (so Keras's ε = 1e-7 acts like PyTorch's ε ≈ 3e-4 near
    s = 0), and its momentum buffer holds b ← μ·b + g/d, stepping p ← p − lr·b,
    which is the same rule while the learning rate is constant. seqnn follows
    Keras: ε inside the root also absorbs the rounding that can make the
    centered s − ḡ² slightly negative. PyTorch calls ρ ``alpha`` (default 0.99;
    ε 1e-8 and lr 0.01 there).

    Slots: ``mean_square`` (s), ``mean_grad`` (ḡ, when centered) and
    ``momentum`` (b, when momentum > 0).

    Example::

        opt = seqnn.optimizers.RMSprop(learning_rate=1e-3, rho=0.9, centered=True)
    """

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = _check_decay("rho", rho)
        self.momentum = _check_decay("momentum", momentum)
        self.epsilon = _check("epsilon", epsilon)
        self.centered = check_bool(centered, type(self).__name__, "centered")

    non_negative_slots = ("mean_square",)

    def active_slots(self):
        return (("mean_square",) + (("mean_grad",) if self.centered else ())
                + (("momentum",) if self.momentum > 0 else ()))

    def update(self, p, g, lr):
        s = self.slots
        self.backend.rmsprop_update(p, g, s["mean_square"], s.get("mean_grad"), s.get("momentum"), lr,
                                    self.rho, self.momentum, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
