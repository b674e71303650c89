"""Max and average pooling (NHWC) on numpy, with stored argmax indices.

A pooling window has PH·PW entries; entry (a, b) of every window at once is
one strided view of the input, so pooling is PH·PW whole-array ufunc calls
(no loop over pixels or samples). Max pooling keeps a running maximum and,
in an int8 array shaped like the output, the offset a·PW + b of the entry
that won (strict ``>``: the first maximum wins ties, as in PyTorch). Its
backward writes dy through the same views, masked by ``indices == offset``;
when windows do not overlap that is a plain write, so dx is written once.
"""
from __future__ import annotations

import numpy as np

from .batch_threads import over_batch
from .conv import out_size, padded, scratch_array, window_view


def _geometry(x_shape, pool_size, strides, padding):
    n, h, w, c = x_shape
    (top, bottom), (left, right) = padding
    oh = out_size(h, pool_size[0], strides[0], 1, top, bottom)
    ow = out_size(w, pool_size[1], strides[1], 1, left, right)
    if oh < 1 or ow < 1:
        raise ValueError(f"pool2d: a {pool_size[0]}x{pool_size[1]} window does not fit a {h}x{w} input "
                         f"padded by {tuple(map(tuple, padding))}")
    return oh, ow


def _index_dtype(pool_size):
    return np.int8 if pool_size[0] * pool_size[1] <= 127 else np.int16


def _offsets(pool_size):
    return [(a, b) for a in range(pool_size[0]) for b in range(pool_size[1])]


def _has_padding(padding) -> bool:
    return any(p for pair in padding for p in pair)


def _inverse_counts(x_shape, pool_size, strides, padding, oh, ow, dtype):
    """1 / (number of real inputs) of each window, shaped (OH, OW, 1) to broadcast over N and C."""
    (top, _), (left, _) = padding

    def counts(size, pool, stride, before, n_out):
        start = np.arange(n_out) * stride - before
        return np.minimum(start + pool, size) - np.maximum(start, 0)

    rows = counts(x_shape[1], pool_size[0], strides[0], top, oh)
    cols = counts(x_shape[2], pool_size[1], strides[1], left, ow)
    return (1.0 / np.outer(rows, cols)).astype(dtype)[:, :, None]


def _gradient_target(x_shape, padding, scratch, key, dtype, out):
    """Where a pooling backward accumulates: ``out`` itself, or a padded scratch array to crop from."""
    if out is None:
        out = np.empty(tuple(x_shape), dtype)
    if not _has_padding(padding):
        return out, out
    (top, bottom), (left, right) = padding
    n, h, w, c = x_shape
    return out, scratch_array(scratch, key, (n, h + top + bottom, w + left + right, c), dtype)


def _crop_into(out, dxp, padding):
    if dxp is not out:
        (top, _), (left, _) = padding
        np.copyto(out, dxp[:, top:top + out.shape[1], left:left + out.shape[2]])
    return out


class PoolingOps:
    # ------------------------------------------------------------ max pool ---
    def maxpool2d(self, x, pool_size, strides, padding, scratch=None, out=None):
        n, _, _, c = x.shape
        oh, ow = _geometry(x.shape, pool_size, strides, padding)
        xp = padded(x, padding, -np.inf, scratch, "pool_padded")
        shape = (n, oh, ow, c)
        y = np.empty(shape, x.dtype) if out is None else out
        index_type = _index_dtype(pool_size)
        indices = scratch_array(scratch, "pool_indices", shape, index_type)
        won = scratch_array(scratch, "pool_mask", shape, np.bool_)
        label = scratch_array(scratch, "pool_label", shape, index_type)
        offsets = _offsets(pool_size)

        def pool_rows(start, stop):
            part = (stop - start, *shape[1:])
            rows = xp[start:stop]
            y_, indices_, won_, label_ = y[start:stop], indices[start:stop], won[start:stop], label[start:stop]
            np.copyto(y_, window_view(rows, offsets[0], part, strides))
            indices_.fill(0)
            for k, offset in enumerate(offsets[1:], start=1):
                v = window_view(rows, offset, part, strides)
                np.greater(v, y_, out=won_)
                np.maximum(y_, v, out=y_)
                # k grows, so a later winner's k is also the larger one: indices ← max(indices, k·won).
                # (A masked copy, copyto(indices, k, where=won), is ~20x slower on mixed masks.)
                np.multiply(won_, index_type(k), out=label_)
                np.maximum(indices_, label_, out=indices_)

        over_batch(pool_rows, n, xp.size)
        return y, indices

    def maxpool2d_backward(self, dy, indices, x_shape, pool_size, strides, padding, scratch=None, out=None):
        oh, ow = dy.shape[1], dy.shape[2]
        shape = dy.shape
        out, dxp = _gradient_target(x_shape, padding, scratch, "pool_dpadded", dy.dtype, out)
        won = scratch_array(scratch, "pool_mask", shape, np.bool_)
        ph, pw = pool_size
        disjoint = strides[0] >= ph and strides[1] >= pw
        tiled = disjoint and strides[0] == ph and strides[1] == pw
        part_buffer = None if disjoint else scratch_array(scratch, "pool_part", shape, dy.dtype)

        def scatter_rows(start, stop):
            rows = (stop - start, *shape[1:])
            dx_, dy_, won_, indices_ = dxp[start:stop], dy[start:stop], won[start:stop], indices[start:stop]
            if tiled:  # windows tile dx: every covered entry is written once; clear only the uncovered rim
                dx_[:, oh * ph:] = 0
                dx_[:, :oh * ph, ow * pw:] = 0
            else:
                dx_.fill(0)
            for k, offset in enumerate(_offsets(pool_size)):
                dst = window_view(dx_, offset, rows, strides)
                np.equal(indices_, k, out=won_)
                if disjoint:
                    np.multiply(dy_, won_, out=dst)
                else:
                    part = part_buffer[start:stop]
                    np.multiply(dy_, won_, out=part)
                    np.add(dst, part, out=dst)

        over_batch(scatter_rows, shape[0], dxp.size)
        return _crop_into(out, dxp, padding)

    # -------------------------------------------------------- average pool ---
    def avgpool2d(self, x, pool_size, strides, padding, scratch=None, out=None):
        n, _, _, c = x.shape
        oh, ow = _geometry(x.shape, pool_size, strides, padding)
        xp = padded(x, padding, 0, scratch, "pool_padded")
        shape = (n, oh, ow, c)
        y = np.empty(shape, x.dtype) if out is None else out
        offsets = _offsets(pool_size)
        np.copyto(y, window_view(xp, offsets[0], shape, strides))
        for offset in offsets[1:]:
            v = window_view(xp, offset, shape, strides)
            np.add(y, v, out=y)
        if _has_padding(padding):
            y *= _inverse_counts(x.shape, pool_size, strides, padding, oh, ow, x.dtype)
        else:
            y *= x.dtype.type(1.0 / (pool_size[0] * pool_size[1]))
        return y

    def avgpool2d_backward(self, dy, x_shape, pool_size, strides, padding, scratch=None, out=None):
        oh, ow = dy.shape[1], dy.shape[2]
        if _has_padding(padding):
            dy *= _inverse_counts(x_shape, pool_size, strides, padding, oh, ow, dy.dtype)
        else:
            dy *= dy.dtype.type(1.0 / (pool_size[0] * pool_size[1]))
        out, dxp = _gradient_target(x_shape, padding, scratch, "pool_dpadded", dy.dtype, out)
        ph, pw = pool_size
        tiled = strides[0] == ph and strides[1] == pw
        if tiled:
            dxp[:, oh * ph:] = 0
            dxp[:, :oh * ph, ow * pw:] = 0
        else:
            dxp.fill(0)
        for offset in _offsets(pool_size):
            dst = window_view(dxp, offset, dy.shape, strides)
            if tiled:
                np.copyto(dst, dy)
            else:
                np.add(dst, dy, out=dst)
        return _crop_into(out, dxp, padding)

    # ------------------------------------------------------------- global ---
    def global_avgpool(self, x, out=None):
        out = np.sum(x, axis=1, out=out)
        out *= x.dtype.type(1.0 / x.shape[1])
        return out

    def global_avgpool_backward(self, dy, spatial, out=None):
        n, c = dy.shape
        if out is None:
            out = np.empty((n, spatial, c), dy.dtype)
        np.multiply(dy[:, None, :], dy.dtype.type(1.0 / spatial), out=out)
        return out

    def global_maxpool(self, x, out=None):
        indices = np.argmax(x, axis=1)
        out = np.max(x, axis=1, out=out)
        return out, indices

    def global_maxpool_backward(self, dy, indices, spatial, out=None):
        n, c = dy.shape
        if out is None:
            out = np.empty((n, spatial, c), dy.dtype)
        out.fill(0)
        np.put_along_axis(out, indices[:, None, :], dy[:, None, :], axis=1)
        return out

