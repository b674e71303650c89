"""Training-time noise: GaussianNoise, and SpatialDropout1D/2D (whole channels dropped).

Both are the identity at inference. Their random numbers come from the
backend's counter-based generator, seeded like :class:`Dropout`'s (``seed``,
``fit(seed=...)`` or the global seed).
"""
from __future__ import annotations

import math

from .base import register
from .dropout import Dropout, RandomLayer
from .spatial_args import check_data_format, check_input_shape


@register()
class GaussianNoise(RandomLayer):
    """Add zero-mean Gaussian noise in training: y = x + ε, ε ~ N(0, stddev²) drawn per element.

    At inference y = x. In both cases dL/dx = dL/dy (the noise does not depend on x).

    Args:
        stddev: the noise's standard deviation, a finite number >= 0 (Keras
            also refuses values above 1; seqnn accepts them).
        seed: seed of the layer's generator; None uses the global seed.
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if (isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or not math.isfinite(stddev)
                or stddev < 0):
            raise ValueError(f"GaussianNoise stddev must be a finite number >= 0, got {stddev!r}")
        self.stddev = float(stddev)

    def forward(self, x, training=False):
        if not training or self.stddev == 0.0:
            return x
        return self.backend.gaussian_noise(x, self.stddev, self.rng, out=self.buffer("y", x.shape))

    def backward(self, dy, need_input_grad=True):
        return dy if need_input_grad else None

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class _SpatialDropout(Dropout):
    """Dropout of whole channels: one mask entry per (sample, channel), shared by every position.

    y[n, ..., c] = x[n, ..., c]·m[n, c] with m[n, c] = 0 with probability
    ``rate``, else 1/(1 − rate); dL/dx = dL/dy·m. Adjacent positions of a
    feature map are strongly correlated, so dropping single entries barely
    regularizes a convolutional layer; dropping the channel does.
    """

    rank = 2

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def compute_output_shape(self, input_shape):
        check_input_shape(input_shape, self.rank, type(self).__name__)
        return input_shape

    def forward(self, x, training=False):
        self._mask = None
        if not training or self.rate == 0.0:
            return x
        b = self.backend
        shape = (x.shape[0], *(1,) * self.rank, x.shape[-1])
        # The dropout op on ones of the mask's shape draws the mask itself.
        ones = b.fill(self.buffer("ones", shape), 1.0)
        self._mask, _ = b.dropout(ones, self.rate, self.rng, out=self.buffer("mask", shape),
                                  mask_out=self.buffer("mask_draw", shape))
        return b.multiply(x, self._mask, out=self.buffer("y", x.shape))


@register()
class SpatialDropout2D(_SpatialDropout):
    """Drop whole channels of (batch, height, width, channels) inputs in training (mask (batch, 1, 1, channels)).

    ``rate`` in [0, 1), ``seed`` as in :class:`Dropout`; ``data_format``
    "channels_last" (or None) only.
    """

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


@register()
class SpatialDropout1D(_SpatialDropout):
    """Drop whole channels of (batch, steps, channels) inputs in training (mask (batch, 1, channels)).

    ``rate`` in [0, 1), ``seed`` as in :class:`Dropout`.
    """

    rank = 1
