"""Masks and selection on Metal (kernels/select.metal): ``less_equal`` and ``where``.

A mask is a numpy bool array in a Metal buffer, as the numpy backend's
``less_equal`` returns (one byte per element), so a mask from either code
path feeds either ``where``. The kernels take the broadcasts the binary
kernel takes (same shape, a Python float, a row, one value per row, a
one-element array); ``where`` needs a mask of the output's shape. Anything
else (a broadcast mask, other dtypes, two Python floats, whose numpy result
is float64) runs numpy's op on the shared memory.
"""
from __future__ import annotations

import numpy as np

from .elementwise import SCALAR, _alias_ok, _is_scalar, broadcast_mode


class SelectOps:
    def less_equal(self, a, b):
        plan = self._binary_plan(a, b, None)
        if plan is None:
            return self._numpy_fallback("less_equal", a, b)
        full, other, mode, swap, out_shape = plan
        out = self._device.empty(out_shape, np.bool_)
        scalar = float(other) if mode == SCALAR else 0.0
        second = full if mode == SCALAR else other  # unread for a scalar; any buffer will do
        self._device.run("select", "less_equal", out.size, (full, second, out), "IIIIf",
                         out.size, mode, out_shape[-1] if out_shape else 1, swap, scalar)
        return out

    def where(self, cond, a, b, out=None):
        plan = self._where_plan(cond, a, b, out)
        if plan is None:
            return self._numpy_fallback("where", cond, a, b, out=out)
        (a_mode, b_mode), out_shape = plan
        if out is None:
            out = self._device.empty(out_shape, np.float32)
        # A Python float travels in the params; its buffer slot is bound to the mask, never read.
        a_array, b_array = (cond if _is_scalar(x) else x for x in (a, b))
        a_value, b_value = (float(x) if _is_scalar(x) else 0.0 for x in (a, b))
        self._device.run("select", "where_select", out.size, (cond, a_array, b_array, out), "IIIIff",
                         out.size, a_mode, b_mode, out_shape[-1] if out_shape else 1, a_value, b_value)
        return out

    def _where_plan(self, cond, a, b, out):
        """((a's broadcast mode, b's), output shape) when the kernel covers the call, else None."""
        arrays = [x for x in (a, b) if not _is_scalar(x)]
        if not arrays or not self._mask_ready(cond) or not self._kernel_ready(*arrays):
            return None
        out_shape = tuple(cond.shape)
        modes = tuple(SCALAR if _is_scalar(x) else broadcast_mode(x.shape, out_shape) for x in (a, b))
        if None in modes:
            return None  # e.g. an operand bigger than the mask: numpy broadcasts the mask (or raises)
        if out is not None:
            if not (self._kernel_ready(out) and tuple(out.shape) == out_shape):
                return None
            if np.may_share_memory(out, cond) or not all(_alias_ok(out, x, m) for x, m in zip((a, b), modes)):
                return None
        return modes, out_shape

    def _mask_ready(self, cond) -> bool:
        """A bool array in one of this device's buffers (C-contiguous): what the kernel reads as uchar."""
        return isinstance(cond, np.ndarray) and cond.dtype == np.bool_ and self._device.locate(cond) is not None

