"""2-D convolution (NHWC, kernel [KH, KW, Cin, Cout]) on numpy: im2col + one gemm.

Forward gathers every receptive field into a patch matrix with one strided
copy (a view of the padded input with the window axes, no Python loop over
pixels or samples) and multiplies it by the kernel in one BLAS call. The bias
rides along in that call: the patch matrix has an extra column of ones and
the kernel matrix an extra row holding the bias, so neither the bias add nor
the bias gradient (the same extra row of the kernel gradient) costs a pass
over the output. The patches are returned as ``saved``; the kernel gradient
is one more gemm with them (patchesᵀ·dy), and the input gradient one
batched gemm (dy·kernelᵀ per kernel tap) followed by col2im, KH·KW strided
adds into the input gradient.

Patch layout: rows (M = N·OH·OW, K) when a receptive field has a few
contiguous runs worth copying; columns (K, M) when Cin is tiny (the first
layer of an image model), where each of the K rows is one long copy.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .batch_threads import over_batch
from .blas import matmul

# Inference (no backward) works through the batch in chunks whose patch matrix
# stays under this many elements, so a large predict batch needs no huge buffer.
_INFERENCE_PATCH_ELEMENTS = 1 << 22
# Below this many input channels the patch matrix is stored transposed (K, M).
_COLUMN_LAYOUT_MAX_CIN = 3


def scratch_array(scratch, key, shape, dtype):
    """A C-contiguous array of ``shape`` from ``scratch`` (or a new one when scratch is None).

    Requests a flat buffer and reshapes it, so the leading-rows reuse of
    ``Layer.buffer`` works for any shape.
    """
    shape = tuple(int(d) for d in shape)
    size = 1
    for d in shape:
        size *= d
    if scratch is None:
        return np.empty(shape, dtype)
    return scratch(key, (size,), np.dtype(dtype).name).reshape(shape)


def out_size(size: int, kernel: int, stride: int, dilation: int, before: int, after: int) -> int:
    return (size + before + after - dilation * (kernel - 1) - 1) // stride + 1


def fill_border(a, padding, value) -> None:
    """Set the ``padding`` rim of a (N, H, W, C) array to ``value``."""
    (top, bottom), (left, right) = padding
    h, w = a.shape[1], a.shape[2]
    if top:
        a[:, :top] = value
    if bottom:
        a[:, h - bottom:] = value
    if left:
        a[:, top:h - bottom, :left] = value
    if right:
        a[:, top:h - bottom, w - right:] = value


def padded(x, padding, value, scratch, key):
    """x itself when there is no padding, else a scratch copy with a ``value`` rim."""
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    xp = scratch_array(scratch, key, (n, h + top + bottom, w + left + right, c), x.dtype)
    fill_border(xp, padding, value)
    xp[:, top:top + h, left:left + w] = x
    return xp


def window_view(xp, offset, shape, strides):
    """(N, OH, OW, C) view of xp starting at (row, col) = offset, stepping by ``strides``."""
    a, b = offset
    s0, s1, s2, s3 = xp.strides
    return as_strided(xp[:, a:, b:], shape=shape, strides=(s0, strides[0] * s1, strides[1] * s2, s3),
                      writeable=True)


class ConvOps:
    # ------------------------------------------------------------ padding ---
    def pad2d(self, x, padding, out=None):
        (top, bottom), (left, right) = padding
        n, h, w, c = x.shape
        if out is None:
            out = np.empty((n, h + top + bottom, w + left + right, c), x.dtype)
        fill_border(out, padding, 0)
        out[:, top:top + h, left:left + w] = x
        return out

    def pad2d_backward(self, dy, padding, out=None):
        (top, bottom), (left, right) = padding
        crop = dy[:, top:dy.shape[1] - bottom, left:dy.shape[2] - right]
        if out is None:
            return np.ascontiguousarray(crop)
        np.copyto(out, crop)
        return out

    # ------------------------------------------------------------ patches ---
    @staticmethod
    def _geometry(x_shape, kernel_shape, strides, padding, dilation):
        n, h, w, cin = x_shape
        kh, kw = kernel_shape[0], kernel_shape[1]
        (top, bottom), (left, right) = padding
        oh = out_size(h, kh, strides[0], dilation[0], top, bottom)
        ow = out_size(w, kw, strides[1], dilation[1], left, right)
        if oh < 1 or ow < 1:
            raise ValueError(f"conv2d: a {kh}x{kw} kernel (dilation {tuple(dilation)}) does not fit "
                             f"a {h}x{w} input padded by {tuple(map(tuple, padding))}")
        return oh, ow

    @staticmethod
    def _im2col(xp, kh, kw, oh, ow, strides, dilation, patches, columns):
        """Copy every receptive field of xp into ``patches`` ((M, K+) rows or (K+, M) columns)."""
        n, _, _, c = xp.shape
        s0, s1, s2, s3 = xp.strides
        (sh, sw), (dh, dw) = strides, dilation
        item = patches.itemsize
        row = patches.strides[0]
        if columns:
            src = as_strided(xp, shape=(kh, kw, c, n, oh, ow),
                             strides=(dh * s1, dw * s2, s3, s0, sh * s1, sw * s2), writeable=False)
            dst = as_strided(patches, shape=(kh, kw, c, n, oh, ow),
                             strides=(kw * c * row, c * row, row, oh * ow * item, ow * item, item))
        else:
            src = as_strided(xp, shape=(n, oh, ow, kh, kw, c),
                             strides=(s0, sh * s1, sw * s2, dh * s1, dw * s2, s3), writeable=False)
            dst = as_strided(patches, shape=(n, oh, ow, kh, kw, c),
                             strides=(oh * ow * row, ow * row, row, kw * c * item, c * item, item))
        np.copyto(dst, src)

    def _patches(self, xp, kernel_shape, oh, ow, strides, dilation, with_ones, scratch):
        """The patch matrix of xp (plus a ones row/column for the bias); returns (patches, columns)."""
        kh, kw, cin, _ = kernel_shape
        k = kh * kw * cin
        n = xp.shape[0]
        m = n * oh * ow
        columns = cin <= _COLUMN_LAYOUT_MAX_CIN
        k1 = k + 1 if with_ones else k
        patches = scratch_array(scratch, "conv_patches", (k1, m) if columns else (m, k1), xp.dtype)

        def copy_rows(start, stop):  # the patches of samples start..stop-1
            block = slice(start * oh * ow, stop * oh * ow)
            self._im2col(xp[start:stop], kh, kw, oh, ow, strides, dilation,
                         patches[:, block] if columns else patches[block], columns)

        over_batch(copy_rows, n, patches.size)
        if with_ones:
            (patches[k] if columns else patches[:, k]).fill(1)
        return patches, columns

    # ------------------------------------------------------------ forward ---
    def conv2d(self, x, kernel, bias, strides, padding, dilation, scratch=None, out=None,
               save_for_backward=True):
        n = x.shape[0]
        kh, kw, cin, cout = kernel.shape
        oh, ow = self._geometry(x.shape, kernel.shape, strides, padding, dilation)
        if out is None:
            out = np.empty((n, oh, ow, cout), x.dtype)
        k = kh * kw * cin
        if bias is not None:  # kernel matrix with the bias as an extra last row
            weights = scratch_array(scratch, "conv_weights", (k + 1, cout), x.dtype)
            weights[:k] = kernel.reshape(k, cout)
            weights[k] = bias
        else:
            weights = kernel.reshape(k, cout)
        xp = padded(x, padding, 0, scratch, "conv_padded")
        chunk = n if save_for_backward else max(1, _INFERENCE_PATCH_ELEMENTS // max(1, oh * ow * (k + 1)))
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            patches, columns = self._patches(xp[start:stop], kernel.shape, oh, ow, strides, dilation,
                                             bias is not None, scratch)
            matmul(patches.T if columns else patches, weights, out[start:stop].reshape(-1, cout))
        saved = (patches, columns, bias is not None) if save_for_backward else None
        return out, saved

    # ----------------------------------------------------------- backward ---
    def conv2d_backward_kernel(self, dy, x, saved, kernel_shape, strides, padding, dilation, scratch=None,
                               out=None, bias_out=None):
        kh, kw, cin, cout = kernel_shape
        k = kh * kw * cin
        if out is None:
            out = np.empty(tuple(kernel_shape), dy.dtype)
        if saved is None:  # forward kept nothing: gather the patches again
            oh, ow = self._geometry(x.shape, kernel_shape, strides, padding, dilation)
            xp = padded(x, padding, 0, scratch, "conv_padded")
            saved = (*self._patches(xp, kernel_shape, oh, ow, strides, dilation, False, scratch), False)
        patches, columns, with_ones = saved
        dy2 = dy.reshape(-1, cout)
        if bias_out is not None and with_ones:  # one gemm gives the kernel and the bias gradient
            grad = scratch_array(scratch, "conv_weights_grad", (k + 1, cout), dy.dtype)
            matmul(patches if columns else patches.T, dy2, grad)
            out.reshape(k, cout)[...] = grad[:k]
            bias_out[...] = grad[k]
            return out
        used = (patches[:k] if columns else patches[:, :k]) if with_ones else patches
        matmul(used if columns else used.T, dy2, out.reshape(k, cout))
        if bias_out is not None:
            np.sum(dy2, axis=0, out=bias_out)
        return out

    def conv2d_backward_input(self, dy, kernel, x_shape, strides, padding, dilation, scratch=None, out=None):
        n, h, w, cin = x_shape
        kh, kw, _, cout = kernel.shape
        oh, ow = self._geometry(x_shape, kernel.shape, strides, padding, dilation)
        (top, bottom), (left, right) = padding
        m = n * oh * ow
        # One gemm per kernel tap, each writing a contiguous (M, Cin) block.
        taps = scratch_array(scratch, "conv_dpatches", (kh * kw, m, cin), dy.dtype)
        matmul(dy.reshape(1, m, cout), kernel.reshape(kh * kw, cin, cout).transpose(0, 2, 1), taps)
        if out is None:
            out = np.empty(tuple(x_shape), dy.dtype)
        pad = top or bottom or left or right
        dxp = scratch_array(scratch, "conv_dpadded", (n, h + top + bottom, w + left + right, cin),
                            dy.dtype) if pad else out
        taps4 = taps.reshape(kh * kw, n, oh, ow, cin)

        def add_rows(start, stop):  # col2im for samples start..stop-1
            rows = dxp[start:stop]
            rows.fill(0)
            for a in range(kh):
                for b in range(kw):
                    dst = window_view(rows, (a * dilation[0], b * dilation[1]), (stop - start, oh, ow, cin),
                                      strides)
                    np.add(dst, taps4[a * kw + b, start:stop], out=dst)

        over_batch(add_rows, n, dxp.size)
        if pad:
            np.copyto(out, dxp[:, top:top + h, left:left + w])
        return out
