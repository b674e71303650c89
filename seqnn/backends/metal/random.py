"""Dropout and Gaussian noise on Metal (kernels/random.metal), from the counter-based stream.

A word of the stream is a function of the seed and its position
(seqnn.backends.counter_rng), so the kernels draw exactly the numpy
backend's masks; only the stream's position advances on the host.
"""
from __future__ import annotations

import numpy as np

from .. import counter_rng

_LOW = 0xFFFFFFFF


def _halves(value: int) -> tuple[int, int]:
    return value & _LOW, value >> 32


class RandomOps:
    def rng(self, seed):
        return counter_rng.CounterStream(seed)

    def dropout(self, x, rate, rng, out=None, mask_out=None):
        out = self.empty(x.shape, x.dtype) if out is None else out
        mask_out = self.empty(x.shape, x.dtype) if mask_out is None else mask_out
        if not self._on_kernels(x, out, mask_out):
            return self._numpy_fallback("dropout", x, rate, rng, out=out, mask_out=mask_out)
        seed, position = rng.take(x.size)
        self._device.run("random", "dropout", x.size, [x, out, mask_out], "IIIIIIf",
                         *_halves(seed), *_halves(position), x.size, counter_rng.keep_threshold(rate),
                         1.0 / (1.0 - rate))
        return out, mask_out

    def gaussian_noise(self, x, stddev, rng, out=None):
        out = self.empty(x.shape, x.dtype) if out is None else out
        if not self._on_kernels(x, out):
            return self._numpy_fallback("gaussian_noise", x, stddev, rng, out=out)
        seed, position = rng.take(x.size)
        self._device.run("random", "gaussian_noise", x.size, [x, out], "IIIIIf",
                         *_halves(seed), *_halves(position), x.size, stddev)
        return out

    def _on_kernels(self, *arrays) -> bool:
        """float32 arrays in Metal buffers (``_kernel_ready``), none overlapping another (the kernels' case)."""
        return self._kernel_ready(*arrays) and not any(
            np.may_share_memory(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1:])
