"""Sums on Metal (kernels/reduce.metal): over the last axis, over axis 0, over everything.

These are the sums the layers and the fused defaults ask for: the bias
gradient (axis 0 of a [rows, C] view), softmax's row sums (last axis,
keepdims) and full sums (the loss, a gradient norm) that stay on the device
as 0-d arrays. Other axes run numpy's sum on the shared memory.
"""
from __future__ import annotations

import math

import numpy as np

# A full sum of more elements than this is done in two passes (per-chunk partial sums, then their sum),
# so that many SIMD-groups share the work instead of one.
_ONE_PASS_LIMIT = 4096
_MAX_PARTIALS = 1024


class ReduceOps:
    def sum(self, a, axis=None, keepdims=False, out=None):
        kind = self._sum_kind(a, axis)
        if kind is not None:
            if axis is None:
                shape = (1,) * a.ndim if keepdims else ()
            else:
                axis %= a.ndim
                shape = tuple(1 if i == axis else d for i, d in enumerate(a.shape) if keepdims or i != axis)
            if out is None:
                out = self._device.empty(shape, np.float32)
            elif not (self._kernel_ready(out) and tuple(out.shape) == shape):
                kind = None
        if kind is None:
            return self._numpy_fallback("sum", a, axis=axis, keepdims=keepdims, out=out)
        if kind == "all":
            self._sum_all(a, out)
        elif kind == "rows":
            self._sum_rows(a, out, math.prod(a.shape[:-1]), a.shape[-1])
        else:
            self._sum_columns(a, out, a.shape[0], math.prod(a.shape[1:]))
        return out

    def _sum_kind(self, a, axis) -> str | None:
        """Which kernel sums ``a`` over ``axis`` ("all", "rows", "columns"), or None for numpy."""
        if not self._kernel_ready(a):
            return None
        if axis is None:
            return "all"
        if not (a.ndim and -a.ndim <= axis < a.ndim):
            return None  # numpy raises its own error
        axis %= a.ndim
        return "rows" if axis == a.ndim - 1 else "columns" if axis == 0 else None

    def _sum_rows(self, a, out, rows: int, cols: int, n: int | None = None):
        """out[r] = Σ a[r·cols : (r+1)·cols] (elements at or past n count as 0)."""
        self._device.run("reduce", "sum_rows", rows * 32, (a, out), "III", rows, cols, a.size if n is None else n)

    def _sum_columns(self, a, out, rows: int, cols: int):
        """out[j] = Σ_r a[r·cols + j]."""
        self._device.run("reduce", "sum_columns", cols, (a, out), "II", rows, cols)

    def _sum_all(self, a, out):
        n = a.size
        if n <= _ONE_PASS_LIMIT:
            if n == 0:
                return self.fill(out, 0.0)
            return self._sum_rows(a, out, 1, n)
        rows = min(_MAX_PARTIALS, -(-n // _ONE_PASS_LIMIT))
        cols = -(-n // rows)
        partial = self._device.empty((rows,), np.float32)
        self._sum_rows(a, partial, rows, cols)
        self._sum_rows(partial, out, 1, rows)
