"""Elementwise ops on Metal (kernels/elementwise.metal): binary ops, unary ops, fill.

The binary kernel covers the broadcasts that layers, losses and the fused
defaults use: same shapes, a Python float, one row over the leading axes (a
bias), one value per row (a keepdims reduction) and a one-element device
array (a norm, a 0-d sum), on either side. Anything else (another broadcast,
another dtype, an ``out`` that partly overlaps an input) runs numpy's op on
the shared memory, so every case numpy allows still works.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

BINARY_OPS = {"add": 0, "subtract": 1, "multiply": 2, "divide": 3, "maximum": 4, "minimum": 5}
_COPY = 6  # the binary kernel's "second operand" op: copy_into's broadcast copy
UNARY_OPS = {"square": 0, "sqrt": 1, "abs": 2, "sign": 3, "exp": 4, "log": 5, "clip": 6}
# How the kernel indexes the second operand (enum Broadcast in elementwise.metal).
SAME, ROW, COLUMN, FIRST, SCALAR = range(5)


def _is_scalar(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, np.ndarray)


def broadcast_mode(shape: tuple, out_shape: tuple) -> int | None:
    """How an operand of ``shape`` broadcasts to ``out_shape`` (SAME, ROW, COLUMN, FIRST), or None."""
    if len(shape) > len(out_shape):
        return None
    padded = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    if padded == tuple(out_shape):
        return SAME
    if math.prod(shape) == 1:
        return FIRST
    if padded == (1,) * (len(out_shape) - 1) + tuple(out_shape[-1:]):
        return ROW
    if padded == tuple(out_shape[:-1]) + (1,):
        return COLUMN
    return None


def _alias_ok(out: np.ndarray, operand, mode: int) -> bool:
    """out may be an operand itself (same memory, indexed the same way), but not overlap one otherwise."""
    if _is_scalar(operand) or not np.may_share_memory(out, operand):
        return True
    same_start = out.__array_interface__["data"][0] == operand.__array_interface__["data"][0]
    return mode == SAME and same_start and out.size == operand.size


def _kernel_op(name: str, kernel: str):
    """The public op ``name``: ``self._<kernel>(name, *operands, out)`` (the kernel, or numpy when it cannot)."""
    def method(self, *operands, out=None):
        return getattr(self, f"_{kernel}")(name, *operands, out)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``{name}`` through the {kernel} kernel where the operands allow it, numpy otherwise."
    return method


class ElementwiseOps:
    def _binary(self, name: str, a, b, out):
        plan = self._binary_plan(a, b, out)
        if plan is None:
            return self._numpy_fallback(name, a, b, out=out)
        full, other, mode, swap, out_shape = plan
        if out is None:
            out = self._device.empty(out_shape, np.float32)
        scalar = float(other) if mode == SCALAR else 0.0
        second = full if mode == SCALAR else other  # the kernel ignores it for a scalar; any buffer will do
        inner = out_shape[-1] if out_shape else 1
        self._device.run("elementwise", "binary", out.size, (full, second, out), "IIIIIf",
                         out.size, BINARY_OPS[name], mode, inner, swap, scalar)
        return out

    def _binary_plan(self, a, b, out):
        """(full operand, other operand, its broadcast mode, swapped?, output shape), or None for numpy."""
        if _is_scalar(a) and not _is_scalar(b):
            plan = self._binary_plan(b, a, out)
            return None if plan is None else (*plan[:3], 1 - plan[3], plan[4])
        if not self._kernel_ready(a) or not (_is_scalar(b) or self._kernel_ready(b)):
            return None
        if _is_scalar(b):
            full, other, mode, swap, out_shape = a, b, SCALAR, 0, tuple(a.shape)
        else:
            try:
                out_shape = tuple(np.broadcast_shapes(a.shape, b.shape))
            except ValueError:
                return None  # numpy raises its own error
            mode_a, mode_b = broadcast_mode(a.shape, out_shape), broadcast_mode(b.shape, out_shape)
            if mode_a == SAME and mode_b is not None:
                full, other, mode, swap = a, b, mode_b, 0
            elif mode_b == SAME and mode_a is not None:
                full, other, mode, swap = b, a, mode_a, 1
            else:
                return None
        if out is not None:
            if not self._kernel_ready(out) or tuple(out.shape) != out_shape:
                return None
            if not (_alias_ok(out, full, SAME) and _alias_ok(out, other, mode)):
                return None
        return full, other, mode, swap, out_shape

    def _elementwise_ready(self, a, out) -> bool:
        """Whether a one-thread-per-element kernel can map ``a`` to ``out`` (None: allocated): float32 in
        Metal buffers, ``out`` of a's shape and either ``a`` itself or apart from it."""
        return self._kernel_ready(a) and (out is None or (
            self._kernel_ready(out) and out.shape == a.shape and _alias_ok(out, a, SAME)))

    def _unary(self, name: str, a, out, *bounds):
        if not self._elementwise_ready(a, out):
            return self._numpy_fallback(name, a, *bounds, out=out)
        if out is None:
            out = self._device.empty(a.shape, np.float32)
        lo, hi = bounds or (0.0, 0.0)
        self._device.run("elementwise", "unary", a.size, (a, out), "IIff", a.size, UNARY_OPS[name], lo, hi)
        return out

    def clip(self, a, lo, hi, out=None):
        return self._unary("clip", a, out, float(lo), float(hi))

    def fill(self, a, value):
        if self._kernel_ready(a):
            self._device.run("elementwise", "fill", a.size, (a,), "If", a.size, value)
        else:
            a.fill(value)
        return a

    def copy_into(self, dst, src):
        """dst[...] = src: the binary kernel's broadcast copy when src is on the device, numpy otherwise."""
        plan = self._binary_plan(dst, src, dst) if self._kernel_ready(dst) else None
        if plan is None or plan[0] is not dst:  # host data, another dtype or broadcast: numpy on the memory
            return self._numpy_fallback("copy_into", dst, src)
        _, other, mode, _, shape = plan
        scalar = float(other) if mode == SCALAR else 0.0
        self._device.run("elementwise", "binary", dst.size, (dst, dst if mode == SCALAR else other, dst),
                         "IIIIIf", dst.size, _COPY, mode, shape[-1] if shape else 1, 0, scalar)
        return dst

    def transpose(self, a, axes, out=None):
        """Axes permuted (up to 4 of them) by the transpose kernel; numpy for more axes or other dtypes."""
        axes = tuple(int(ax) % a.ndim for ax in axes) if a.ndim else ()
        shape = tuple(a.shape[ax] for ax in axes)
        if not (0 < a.ndim <= 4 and self._kernel_ready(a)
                and (out is None or (self._kernel_ready(out) and tuple(out.shape) == shape
                                     and not np.may_share_memory(out, a)))):
            return self._numpy_fallback("transpose", a, axes, out=out)
        out = self._device.empty(shape, np.float32) if out is None else out
        strides = [s // a.itemsize for s in a.strides]
        pad = 4 - a.ndim
        self._device.run("elementwise", "transpose", a.size, (a, out), "I" + "I" * 8, a.size,
                         *([1] * pad + list(shape)), *([0] * pad + [strides[ax] for ax in axes]))
        return out

    def scale_(self, a, factor):
        """``a *= factor`` in place, through the binary kernel."""
        return self.multiply(a, float(factor), out=a)


# add, subtract, ... and square, sqrt, ...: one public op per kernel op code (clip has its bounds above).
for _name in BINARY_OPS:
    setattr(ElementwiseOps, _name, _kernel_op(_name, "binary"))
for _name in UNARY_OPS:
    if _name != "clip":
        setattr(ElementwiseOps, _name, _kernel_op(_name, "unary"))
