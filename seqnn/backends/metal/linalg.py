"""Matrix products on Metal (kernels/gemm.metal) in the NN, NT and TN forms."""
from __future__ import annotations

import numpy as np

# The kernel computes C in 32x32 blocks and is launched with 1024 threads per
# block: one threadgroup per block where the pipeline allows 1024 threads
# (metalcompute uses the maximum), smaller groups sharing the same blocks.
_BLOCK = 32
_THREADS_PER_BLOCK = 1024


class LinalgOps:
    def gemm(self, a, b, out=None, trans_a=False, trans_b=False):
        if not (self._kernel_ready(a, b) and a.ndim == 2 and b.ndim == 2):
            return self._numpy_fallback("gemm", a, b, out=out, trans_a=trans_a, trans_b=trans_b)
        m, k = reversed(a.shape) if trans_a else a.shape
        k_b, n = reversed(b.shape) if trans_b else b.shape
        usable_out = out is None or (self._kernel_ready(out) and tuple(out.shape) == (m, n)
                                     and not np.may_share_memory(out, a) and not np.may_share_memory(out, b))
        if k != k_b or not usable_out:
            return self._numpy_fallback("gemm", a, b, out=out, trans_a=trans_a, trans_b=trans_b)
        if out is None:
            out = self._device.empty((m, n), np.float32)
        blocks = -(-m // _BLOCK) * -(-n // _BLOCK)
        self._device.run("gemm", "gemm", blocks * _THREADS_PER_BLOCK, (a, b, out), "IIIII",
                         m, n, k, int(trans_a), int(trans_b))
        return out
