"""Dropout: inverted dropout in training, identity at inference."""
from __future__ import annotations

from .. import random as sn_random
from .base import Layer, register


@register()
class Dropout(Layer):
    """Zero each input with probability ``rate`` in training and scale the rest by 1/(1−rate).

    Scaling at training time ("inverted" dropout, as Keras and PyTorch) keeps
    the expected activation unchanged, so inference is the identity. Masks come
    from the backend's counter-based generator, seeded by ``seed``, by
    ``fit(seed=...)``, or by the global seed.
    """

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be a number in [0, 1), got {rate!r}")
        if noise_shape is not None:
            raise ValueError("Dropout noise_shape is not supported; pass noise_shape=None")
        self.rate = float(rate)
        self.seed = seed
        self.rng = None

    def build(self, input_shape):
        self.reseed(self.seed if self.seed is not None else sn_random.next_seed())

    def reseed(self, seed: int) -> None:
        self.rng = self.backend.rng(seed)

    def forward(self, x, training=False):
        self._mask = None
        if not training or self.rate == 0.0:
            return x
        y, self._mask = self.backend.dropout(x, self.rate, self.rng, out=self.buffer("y", x.shape),
                                             mask_out=self.buffer("mask", x.shape))
        return y

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad or self._mask is None:
            return dy if need_input_grad else None
        return self.backend.multiply(dy, self._mask, out=dy)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
