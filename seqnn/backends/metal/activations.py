"""GELU on Metal (kernels/activations.metal): the one activation the core ops cannot compose.

The other activations have defaults in ``seqnn.backends.fused`` written in
the core ops, so they already run on the elementwise and select kernels;
GELU needs erfc, which Metal lacks, so its kernel carries its own. Other
dtypes, and an ``out`` that overlaps an input at another offset, run numpy
on the shared memory.
"""
from __future__ import annotations

import numpy as np

from .elementwise import SAME, _alias_ok


class ActivationOps:
    def gelu(self, x, approximate, out=None):
        if not self._elementwise_ready(x, out):
            return self._numpy_fallback("gelu", x, approximate, out=out)
        out = self._device.empty(x.shape, np.float32) if out is None else out
        self._device.run("activations", "gelu", x.size, (x, out), "II", x.size, int(bool(approximate)))
        return out

    def gelu_backward(self, dy, x, y, approximate, out=None):
        if not (self._kernel_ready(dy) and dy.shape == x.shape and self._elementwise_ready(x, out)
                and (out is None or _alias_ok(out, dy, SAME))):
            return self._numpy_fallback("gelu_backward", dy, x, y, approximate, out=out)
        out = self._device.empty(x.shape, np.float32) if out is None else out
        self._device.run("activations", "gelu_backward", x.size, (dy, x, out), "II", x.size,
                         int(bool(approximate)))
        return out
