"""Convolution on Metal (kernels/conv.metal): conv2d, its kernel and input gradients, pad2d and its adjoint.

A convolution is a matrix product over the patch matrix P[M, K] (row m =
(n, i, j) the receptive field of output pixel (n, i, j), K = KH·KW·Cin; see
kernels/conv.metal), so each op is one data-movement kernel and one gemm on
the tiled gemm kernel (``self.gemm``):

* forward: P = im2col(x), y = P·W (W the kernel as a [K, Cout] matrix), then
  the bias added in place (``bias_add``); P is what ``saved`` holds;
* kernel gradient: dW = Pᵀ·dy (the TN gemm, no transposed copy), P from
  ``saved`` or gathered again from x; the bias gradient is dy's column sum;
* input gradient: dP = dy·Wᵀ (the NT gemm), then col2im, a gather (one
  thread per element of dx sums the entries of dP that read it: no atomics,
  a fixed order of summation).

A 1×1 convolution with unit strides and no padding needs no patches: x
itself, as an [M, Cin] matrix, is P (and dx is dP). The patch matrices live
in ``scratch`` (the layer's reused buffers) when it is given. At inference
(``save_for_backward=False``) the batch goes through in chunks whose patch
matrix stays small, as on the numpy backend.

Whatever the kernels do not take (float64 or host arrays, an ``out`` of
another shape or overlapping an input, a ``saved`` from the numpy code,
negative padding, a kernel that does not fit, arrays past 32-bit indexing)
runs the numpy backend's code on the same memory, which also raises its
errors.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..numpy_backend.conv import out_size

# At inference the batch is convolved in chunks whose patch matrix has at most this many elements (16 MiB).
_INFERENCE_PATCH_ELEMENTS = 1 << 22
# Kernels index with 32-bit uints: no array they touch may reach this many elements.
_INDEX_LIMIT = 2**32


class _Saved(NamedTuple):
    """What this backend's conv2d keeps for conv2d_backward_kernel: the patch matrix P[M, K]."""
    patches: np.ndarray


class _Geometry(NamedTuple):
    """The sizes of one convolution, in the order the kernels' ConvParams take them (after ``count``)."""
    h: int
    w: int
    cin: int
    oh: int
    ow: int
    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    top: int
    left: int

    @property
    def taps(self) -> int:
        """K, the columns of the patch matrix."""
        return self.kh * self.kw * self.cin

    @property
    def identity(self) -> bool:
        """A 1×1 kernel at unit strides without padding: x itself is the patch matrix."""
        return (self.kh == self.kw == 1 and self.sh == self.sw == 1 and self.top == self.left == 0
                and (self.oh, self.ow) == (self.h, self.w))


def _geometry(x_shape, kernel_shape, strides, padding, dilation) -> _Geometry | None:
    """The convolution's geometry, or None where the kernels cannot take it (numpy then decides)."""
    if len(x_shape) != 4 or len(kernel_shape) != 4 or x_shape[3] != kernel_shape[2]:
        return None
    (top, bottom), (left, right) = padding
    (sh, sw), (dh, dw) = strides, dilation
    if min(top, bottom, left, right) < 0 or min(sh, sw, dh, dw) < 1 or min(x_shape) < 1 or min(kernel_shape) < 1:
        return None
    _, h, w, cin = (int(d) for d in x_shape)
    kh, kw = int(kernel_shape[0]), int(kernel_shape[1])
    oh, ow = out_size(h, kh, sh, dh, top, bottom), out_size(w, kw, sw, dw, left, right)
    if oh < 1 or ow < 1:
        return None  # the kernel does not fit: numpy's code raises the error
    return _Geometry(h, w, cin, oh, ow, kh, kw, int(sh), int(sw), int(dh), int(dw), int(top), int(left))


class ConvOps:
    # ------------------------------------------------------------ padding ---
    def pad2d(self, x, padding, out=None):
        (top, bottom), (left, right) = padding
        shape = None
        if self._kernel_ready(x) and x.ndim == 4 and min(top, bottom, left, right) >= 0:
            n, h, w, c = x.shape
            shape = (n, h + top + bottom, w + left + right, c)
        if shape is None or not self._out_ready(out, shape, x) or math.prod(shape) >= _INDEX_LIMIT:
            return self._numpy_fallback("pad2d", x, padding, out=out)
        if out is None:
            out = self._device.empty(shape, np.float32)
        self._device.run("conv", "pad2d", out.size, (x, out), "IIIIIIII",
                         out.size, h, w, c, shape[1], shape[2], top, left)
        return out

    def pad2d_backward(self, dy, padding, out=None):
        (top, bottom), (left, right) = padding
        shape = None
        if self._kernel_ready(dy) and dy.ndim == 4 and min(top, bottom, left, right) >= 0:
            n, padded_h, padded_w, c = dy.shape
            shape = (n, padded_h - top - bottom, padded_w - left - right, c)
        if shape is None or min(shape) < 1 or not self._out_ready(out, shape, dy):
            return self._numpy_fallback("pad2d_backward", dy, padding, out=out)
        if out is None:
            out = self._device.empty(shape, np.float32)
        self._device.run("conv", "crop2d", out.size, (dy, out), "IIIIIIII",
                         out.size, shape[1], shape[2], c, padded_h, padded_w, top, left)
        return out

    # ------------------------------------------------------------ forward ---
    def conv2d(self, x, kernel, bias, strides, padding, dilation, scratch=None, out=None,
               save_for_backward=True):
        g = _geometry(x.shape, kernel.shape, strides, padding, dilation)
        n, cout = x.shape[0], kernel.shape[-1]
        shape = (n, g.oh, g.ow, cout) if g else None
        # Whole-batch patches when they are kept for the backward pass, else chunks of samples.
        chunk = n if save_for_backward or g is None else max(1, _INFERENCE_PATCH_ELEMENTS // (g.oh * g.ow * g.taps))
        ready = (g is not None and self._kernel_ready(x, kernel) and self._out_ready(out, shape, x, kernel, bias)
                 and (bias is None or (self._kernel_ready(bias) and tuple(bias.shape) == (cout,)))
                 and chunk * g.oh * g.ow * max(g.taps, cout) < _INDEX_LIMIT)
        if not ready:
            return self._numpy_fallback("conv2d", x, kernel, bias, strides, padding, dilation, scratch=scratch,
                                        out=out, save_for_backward=save_for_backward)
        if out is None:
            out = self._device.empty(shape, np.float32)
        weights = kernel.reshape(g.taps, cout)
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            patches = self._patches(x[start:stop], g, scratch)
            self.gemm(patches, weights, out=out[start:stop].reshape(-1, cout))
        if bias is not None:
            rows = out.reshape(-1, cout)
            self.bias_add(rows, bias, out=rows)
        return out, (_Saved(patches) if save_for_backward else None)

    # ----------------------------------------------------------- backward ---
    def conv2d_backward_kernel(self, dy, x, saved, kernel_shape, strides, padding, dilation, scratch=None,
                               out=None, bias_out=None):
        kernel_shape = tuple(int(d) for d in kernel_shape)
        g = _geometry(x.shape, kernel_shape, strides, padding, dilation)
        cout = kernel_shape[-1]
        m = x.shape[0] * g.oh * g.ow if g else 0
        # x is read only to gather the patches again.
        ready = (g is not None and self._kernel_ready(dy) and tuple(dy.shape) == (x.shape[0], g.oh, g.ow, cout)
                 and (isinstance(saved, _Saved) or (saved is None and self._kernel_ready(x)))
                 and m * g.taps < _INDEX_LIMIT
                 and self._out_ready(out, kernel_shape, dy, x) and self._out_ready(bias_out, (cout,), dy, x))
        if not ready:
            # numpy reads its own saved tuple; ours it cannot, so it gathers the patches again from x.
            numpy_saved = None if isinstance(saved, _Saved) else saved
            return self._numpy_fallback("conv2d_backward_kernel", dy, x, numpy_saved, kernel_shape, strides,
                                        padding, dilation, scratch=scratch, out=out, bias_out=bias_out)
        if saved is None:
            patches = self._patches(x, g, scratch)
        else:
            patches = saved.patches
            if tuple(patches.shape) != (m, g.taps):
                raise ValueError(f"conv2d_backward_kernel: saved patches of shape {tuple(patches.shape)} do not "
                                 f"belong to this convolution, which has patches of shape {(m, g.taps)}; pass "
                                 "the saved value conv2d returned in this step, or None")
        if out is None:
            out = self._device.empty(kernel_shape, np.float32)
        dy_rows = dy.reshape(m, cout)
        self.gemm(patches, dy_rows, out=out.reshape(g.taps, cout), trans_a=True)
        if bias_out is not None:
            self.sum(dy_rows, axis=0, out=bias_out)
        return out

    def conv2d_backward_input(self, dy, kernel, x_shape, strides, padding, dilation, scratch=None, out=None):
        x_shape = tuple(int(d) for d in x_shape)
        g = _geometry(x_shape, kernel.shape, strides, padding, dilation)
        cout = kernel.shape[-1]
        m = x_shape[0] * g.oh * g.ow if g else 0
        ready = (g is not None and self._kernel_ready(dy, kernel) and tuple(dy.shape) == (x_shape[0], g.oh, g.ow, cout)
                 and m * g.taps < _INDEX_LIMIT and self._out_ready(out, x_shape, dy, kernel))
        if not ready:
            return self._numpy_fallback("conv2d_backward_input", dy, kernel, x_shape, strides, padding, dilation,
                                        scratch=scratch, out=out)
        if out is None:
            out = self._device.empty(x_shape, np.float32)
        weights, dy_rows = kernel.reshape(g.taps, cout), dy.reshape(m, cout)
        if g.identity:  # dx is dP itself
            self.gemm(dy_rows, weights, out=out.reshape(m, g.cin), trans_b=True)
            return out
        dpatches = self._scratch(scratch, "conv_dpatches", (m, g.taps))
        self.gemm(dy_rows, weights, out=dpatches, trans_b=True)
        self._device.run("conv", "col2im", out.size, (dpatches, out), "I" * 14, out.size, *g)
        return out

    # ------------------------------------------------------------ helpers ---
    def _patches(self, x, g: _Geometry, scratch):
        """The patch matrix P[N·OH·OW, K] of x (x itself, reshaped, for a 1×1 unit-stride unpadded kernel)."""
        m = x.shape[0] * g.oh * g.ow
        if g.identity:
            return x.reshape(m, g.cin)
        patches = self._scratch(scratch, "conv_patches", (m, g.taps))
        self._device.run("conv", "im2col", patches.size, (x, patches), "I" * 14, patches.size, *g)
        return patches

    def _scratch(self, scratch, key: str, shape):
        """A float32 working array of ``shape`` in a Metal buffer: from ``scratch`` (flat, so the layer's
        leading-rows reuse serves any shape) when it gives one, else new."""
        if scratch is not None:
            flat = scratch(key, (math.prod(shape),), "float32")
            if self._kernel_ready(flat):
                return flat.reshape(shape)
        return self._device.empty(shape, np.float32)

    def _out_ready(self, out, shape, *inputs) -> bool:
        """Whether a kernel may write ``out``: None (allocate one), or a float32 Metal array of ``shape``
        that overlaps none of ``inputs`` (None among them stands for an absent input)."""
        if out is None:
            return True
        return (self._kernel_ready(out) and tuple(out.shape) == tuple(shape)
                and not any(a is not None and np.may_share_memory(out, a) for a in inputs))
