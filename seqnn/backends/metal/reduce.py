"""Reductions on Metal (kernels/reduce.metal): sums, maxima and argmax.

These are the reductions the layers, losses and the fused defaults ask for:
the bias gradient (a sum over axis 0 of a [rows, C] view), softmax's row
sums and row maxima (last axis, keepdims), full sums and maxima (the loss, a
gradient norm) that stay on the device as 0-d arrays, and the row-wise
argmax of predictions. Other axes, other dtypes and empty reductions run
numpy on the shared memory (numpy raises its own error where it must).
"""
from __future__ import annotations

import math

import numpy as np

# A full reduction of more elements than this is done in two passes (per-chunk partial results, then
# theirs), so that many SIMD-groups share the work instead of one.
_ONE_PASS_LIMIT = 4096
_MAX_PARTIALS = 1024


class ReduceOps:
    def sum(self, a, axis=None, keepdims=False, out=None):
        kind = self._reduce_kind(a, axis)
        shape = None if kind is None else _reduced_shape(a, axis, keepdims)
        if kind is not None:
            if out is None:
                out = self._device.empty(shape, np.float32)
            elif not (self._kernel_ready(out) and tuple(out.shape) == shape):
                kind = None
        if kind is None:
            return self._numpy_fallback("sum", a, axis=axis, keepdims=keepdims, out=out)
        if kind == "all":
            self._reduce_all("sum_rows", a, out)
        elif kind == "rows":
            self._reduce_rows("sum_rows", a, out, math.prod(a.shape[:-1]), a.shape[-1])
        else:
            self._sum_columns(a, out, a.shape[0], math.prod(a.shape[1:]))
        return out

    def max(self, a, axis=None, keepdims=False):
        kind = self._reduce_kind(a, axis)
        if kind not in ("all", "rows") or a.size == 0:
            return self._numpy_fallback("max", a, axis=axis, keepdims=keepdims)
        out = self._device.empty(_reduced_shape(a, axis, keepdims), np.float32)
        if kind == "all":
            self._reduce_all("max_rows", a, out)
        else:
            self._reduce_rows("max_rows", a, out, math.prod(a.shape[:-1]), a.shape[-1])
        return out

    def argmax(self, a, axis=-1):
        if self._reduce_kind(a, axis) != "rows" or a.size == 0:
            return self._numpy_fallback("argmax", a, axis=axis)
        out = self._device.empty(a.shape[:-1], np.int64)
        self._reduce_rows("argmax_rows", a, out, math.prod(a.shape[:-1]), a.shape[-1])
        return out

    def _reduce_kind(self, a, axis) -> str | None:
        """Which kernel layout reduces ``a`` over ``axis`` ("all", "rows", "columns"), or None for numpy."""
        if not self._kernel_ready(a):
            return None
        if axis is None:
            return "all"
        if not (a.ndim and -a.ndim <= axis < a.ndim):
            return None  # numpy raises its own error
        axis %= a.ndim
        return "rows" if axis == a.ndim - 1 else "columns" if axis == 0 else None

    def _reduce_rows(self, kernel: str, a, out, rows: int, cols: int, n: int | None = None):
        """out[r] = reduction of a[r·cols : (r+1)·cols], one SIMD-group a row (elements at or past n left out)."""
        self._device.run("reduce", kernel, rows * 32, (a, out), "III", rows, cols, a.size if n is None else n)

    def _sum_columns(self, a, out, rows: int, cols: int):
        """out[j] = Σ_r a[r·cols + j]."""
        self._device.run("reduce", "sum_columns", cols, (a, out), "II", rows, cols)

    def _reduce_all(self, kernel: str, a, out):
        """The reduction of every element of ``a`` into the one-element ``out`` (a sum or a max)."""
        n = a.size
        if n <= _ONE_PASS_LIMIT:
            if n == 0:
                return self.fill(out, 0.0)  # an empty sum (max refuses empty arrays before this)
            return self._reduce_rows(kernel, a, out, 1, n)
        # Every chunk starts below n (rows·(rows − 1) < n here), as max_rows needs a first element.
        rows = min(_MAX_PARTIALS, -(-n // _ONE_PASS_LIMIT))
        cols = -(-n // rows)
        partial = self._device.empty((rows,), np.float32)
        self._reduce_rows(kernel, a, partial, rows, cols)
        self._reduce_rows(kernel, partial, out, 1, rows)


def _reduced_shape(a, axis, keepdims) -> tuple:
    """The shape numpy gives a reduction of ``a`` over ``axis`` (None: every axis)."""
    if axis is None:
        return (1,) * a.ndim if keepdims else ()
    axis %= a.ndim
    return tuple(1 if i == axis else d for i, d in enumerate(a.shape) if keepdims or i != axis)
