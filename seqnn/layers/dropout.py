"""Dropout: inverted dropout in training, identity at inference; and the seeding shared by random layers."""
from __future__ import annotations

from .. import random as sn_random
from ..argument_checks import check_seed
from .base import Layer, register


def check_rate(rate, owner: str) -> float:
    """A dropout rate: a number in [0, 1)."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
        raise ValueError(f"{owner} rate must be a number in [0, 1), got {rate!r}")
    return float(rate)


class RandomLayer(Layer):
    """A layer that draws random numbers in training from the backend's counter-based generator.

    The generator (``self.rng``) is seeded at build by ``seed``, else by the
    global seed; ``fit(seed=...)`` reseeds it through :meth:`reseed`, and a
    resumable checkpoint saves its state.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = check_seed(seed, type(self).__name__)
        self.rng = None

    def build(self, input_shape):
        self.reseed(self.seed if self.seed is not None else sn_random.next_seed())

    def reseed(self, seed: int) -> None:
        self.rng = self.backend.rng(seed)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@register()
class Dropout(RandomLayer):
    """Zero each input with probability ``rate`` in training and scale the rest by 1/(1−rate).

    Scaling at training time ("inverted" dropout, as Keras and PyTorch) keeps
    the expected activation unchanged, so inference is the identity. Masks come
    from the backend's counter-based generator, seeded by ``seed``, by
    ``fit(seed=...)``, or by the global seed.
    """

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if noise_shape is not None:
            raise ValueError("Dropout noise_shape is not supported; pass noise_shape=None")
        self.rate = check_rate(rate, type(self).__name__)

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
        return {**super().get_config(), "rate": self.rate}
