"""Pooling and resampling on Metal: max, average and global pooling (kernels/pooling.metal), upsampling
(kernels/resampling.metal), forward and backward.

Forward kernels run a thread per output element; backward kernels are
gathers, a thread per input element summing the outputs that read it, so no
two threads write one element and nothing needs atomics.

Max pooling's indices are int32 window offsets a·pw + b (global max
pooling's: the position s), in a Metal buffer; they mean what the numpy
backend's int8/int16 (int64) indices mean, so either backend's backward reads
the Metal forward's indices. The Metal backward runs its kernel on int32
indices only: indices from a numpy forward (a fallback) take the numpy
backward.

What the kernels do not take runs the numpy backend's code on the shared
memory: float64 or host arrays, an ``out`` of another shape or overlapping an
input, a window entirely in the padding (padding as large as the pool, which
Keras's padding modes never make: numpy gives its −∞ max and 0/0 mean), empty
images, and geometries numpy refuses (it raises its own error).
"""
from __future__ import annotations

import math

import numpy as np

_WINDOW = "I" * 12  # the Window struct of kernels/pooling.metal
_IMAGE = "IIIf"     # the Image struct
_RESAMPLE = "I" * 6  # ResampleParams after the offsets
_INTERPOLATIONS = ("nearest", "bilinear")


class PoolingOps:
    # ---------------------------------------------------------- windowed ---
    def maxpool2d(self, x, pool_size, strides, padding, scratch=None, out=None):
        fields = self._window_fields(x, pool_size, strides, padding, out)
        if fields is None:
            return self._numpy_fallback("maxpool2d", x, pool_size, strides, padding, scratch=scratch, out=out)
        shape = _output_shape(fields)
        y = self._device.empty(shape, np.float32) if out is None else out
        indices = self._int32_scratch(scratch, "pool_indices", shape)
        self._device.run("pooling", "maxpool2d", y.size, (x, y, indices), _WINDOW, *fields)
        return y, indices

    def maxpool2d_backward(self, dy, indices, x_shape, pool_size, strides, padding, scratch=None, out=None):
        fields = self._window_backward_fields(dy, x_shape, pool_size, strides, padding, out)
        if fields is None or not self._int32_ready(indices, dy.shape):
            return self._numpy_fallback("maxpool2d_backward", dy, indices, x_shape, pool_size, strides, padding,
                                        scratch=scratch, out=out)
        dx = self._device.empty(x_shape, np.float32) if out is None else out
        self._device.run("pooling", "maxpool2d_backward", dx.size, (dy, indices, dx), _WINDOW, *fields)
        return dx

    def avgpool2d(self, x, pool_size, strides, padding, scratch=None, out=None):
        fields = self._window_fields(x, pool_size, strides, padding, out)
        if fields is None:
            return self._numpy_fallback("avgpool2d", x, pool_size, strides, padding, scratch=scratch, out=out)
        y = self._device.empty(_output_shape(fields), np.float32) if out is None else out
        self._device.run("pooling", "avgpool2d", y.size, (x, y), _WINDOW, *fields)
        return y

    def avgpool2d_backward(self, dy, x_shape, pool_size, strides, padding, scratch=None, out=None):
        fields = self._window_backward_fields(dy, x_shape, pool_size, strides, padding, out)
        if fields is None:
            return self._numpy_fallback("avgpool2d_backward", dy, x_shape, pool_size, strides, padding,
                                        scratch=scratch, out=out)
        dx = self._device.empty(x_shape, np.float32) if out is None else out
        self._device.run("pooling", "avgpool2d_backward", dx.size, (dy, dx), _WINDOW, *fields)
        return dx

    # ------------------------------------------------------------ global ---
    def global_avgpool(self, x, out=None):
        fields = self._image_fields(x, out)
        if fields is None:
            return self._numpy_fallback("global_avgpool", x, out=out)
        y = self._device.empty((x.shape[0], x.shape[2]), np.float32) if out is None else out
        self._device.run("pooling", "global_avgpool", y.size, (x, y), _IMAGE, *fields)
        return y

    def global_avgpool_backward(self, dy, spatial, out=None):
        fields = self._image_backward_fields(dy, spatial, out)
        if fields is None:
            return self._numpy_fallback("global_avgpool_backward", dy, spatial, out=out)
        dx = self._device.empty((dy.shape[0], spatial, dy.shape[1]), np.float32) if out is None else out
        self._device.run("pooling", "global_avgpool_backward", dx.size, (dy, dx), _IMAGE, *fields)
        return dx

    def global_maxpool(self, x, out=None):
        fields = self._image_fields(x, out)
        if fields is None:
            return self._numpy_fallback("global_maxpool", x, out=out)
        shape = (x.shape[0], x.shape[2])
        y = self._device.empty(shape, np.float32) if out is None else out
        indices = self._device.empty(shape, np.int32)
        self._device.run("pooling", "global_maxpool", y.size, (x, y, indices), _IMAGE, *fields)
        return y, indices

    def global_maxpool_backward(self, dy, indices, spatial, out=None):
        fields = self._image_backward_fields(dy, spatial, out)
        if fields is None or not self._int32_ready(indices, dy.shape):
            return self._numpy_fallback("global_maxpool_backward", dy, indices, spatial, out=out)
        dx = self._device.empty((dy.shape[0], spatial, dy.shape[1]), np.float32) if out is None else out
        self._device.run("pooling", "global_maxpool_backward", dx.size, (dy, indices, dx), _IMAGE, *fields)
        return dx

    # -------------------------------------------------------- resampling ---
    def upsample2d(self, x, size, interpolation="nearest", out=None):
        _check_interpolation(interpolation)
        sh, sw = size
        ready = self._kernel_ready(x) and x.ndim == 4 and sh >= 1 and sw >= 1
        shape = (x.shape[0], x.shape[1] * sh, x.shape[2] * sw, x.shape[3]) if ready else None
        if not (ready and self._out_ready(out, shape, x)):
            return self._numpy_fallback("upsample2d", x, size, interpolation, out=out)
        y = self._device.empty(shape, np.float32) if out is None else out
        self._device.run("resampling", f"upsample_{interpolation}", y.size, (x, y), _RESAMPLE, *x.shape, sh, sw)
        return y

    def upsample2d_backward(self, dy, size, interpolation="nearest", out=None):
        _check_interpolation(interpolation)
        sh, sw = size
        ready = self._kernel_ready(dy) and dy.ndim == 4 and sh >= 1 and sw >= 1
        if ready and (dy.shape[1] % sh or dy.shape[2] % sw):
            raise ValueError(f"upsample2d_backward: dy's height and width {dy.shape[1]}x{dy.shape[2]} are not "
                             f"multiples of size {sh}x{sw}")
        shape = (dy.shape[0], dy.shape[1] // sh, dy.shape[2] // sw, dy.shape[3]) if ready else None
        if not (ready and self._out_ready(out, shape, dy)):
            return self._numpy_fallback("upsample2d_backward", dy, size, interpolation, out=out)
        dx = self._device.empty(shape, np.float32) if out is None else out
        self._device.run("resampling", f"upsample_{interpolation}_backward", dx.size, (dy, dx), _RESAMPLE,
                         *shape, sh, sw)
        return dx

    # ------------------------------------------------------------ helpers ---
    def _window_fields(self, x, pool_size, strides, padding, out) -> tuple | None:
        """The Window fields of a forward pooling of x that the kernels take, else None."""
        if not (self._kernel_ready(x) and x.ndim == 4):
            return None
        fields = _window(x.shape, pool_size, strides, padding)
        if fields is None or not self._out_ready(out, _output_shape(fields), x):
            return None
        return fields

    def _window_backward_fields(self, dy, x_shape, pool_size, strides, padding, out) -> tuple | None:
        """The Window fields of a pooling gradient into x_shape that the kernels take, else None."""
        if not (self._kernel_ready(dy) and len(x_shape) == 4):
            return None
        fields = _window(x_shape, pool_size, strides, padding)
        if fields is None or not self._out_ready(out, tuple(x_shape), dy):
            return None
        if tuple(dy.shape) != _output_shape(fields):
            raise ValueError(f"pooling backward: dy has shape {tuple(dy.shape)}, but a {pool_size[0]}x"
                             f"{pool_size[1]} pool with strides {tuple(strides)} and padding "
                             f"{tuple(map(tuple, padding))} gives {_output_shape(fields)} for x of shape "
                             f"{tuple(x_shape)}")
        return fields

    def _image_fields(self, x, out) -> tuple | None:
        """The Image fields of a global pooling of x[N, S, C] (S ≥ 1) that the kernels take, else None."""
        if not (self._kernel_ready(x) and x.ndim == 3 and x.shape[1] >= 1
                and self._out_ready(out, (x.shape[0], x.shape[2]), x)):
            return None
        n, s, c = x.shape
        return n, s, c, 1.0 / s

    def _image_backward_fields(self, dy, spatial, out) -> tuple | None:
        """The Image fields of a global pooling gradient dy[N, C] → dx[N, spatial, C], else None."""
        if not (self._kernel_ready(dy) and dy.ndim == 2 and spatial >= 1
                and self._out_ready(out, (dy.shape[0], spatial, dy.shape[1]), dy)):
            return None
        n, c = dy.shape
        return n, spatial, c, 1.0 / spatial

    def _out_ready(self, out, shape, *inputs) -> bool:
        """Whether a kernel can write ``out`` (None: it allocates): that shape, in Metal, apart from the inputs.

        The kernels read their inputs while other threads write: an ``out``
        sharing memory with an input would race, so numpy takes that call.
        """
        if out is None:
            return True
        return (self._kernel_ready(out) and tuple(out.shape) == tuple(shape)
                and not any(np.may_share_memory(out, a) for a in inputs))

    def _int32_ready(self, indices, shape) -> bool:
        """Whether ``indices`` are a Metal forward's: int32 of ``shape`` in this device's memory."""
        return (isinstance(indices, np.ndarray) and indices.dtype == np.int32
                and tuple(indices.shape) == tuple(shape) and self._device.locate(indices) is not None)

    def _int32_scratch(self, scratch, key, shape) -> np.ndarray:
        """An int32 array of ``shape`` from ``scratch`` (reused across calls) or newly allocated."""
        if scratch is not None:
            indices = scratch(key, (math.prod(shape),), "int32").reshape(shape)
            if self._device.locate(indices) is not None:
                return indices
        return self._device.empty(shape, np.int32)


def _check_interpolation(interpolation) -> None:
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"upsample2d interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")


def _window(x_shape, pool_size, strides, padding) -> tuple | None:
    """The Window fields (kernels/pooling.metal) of pooling an x of x_shape, or None where numpy must run.

    None when the pool does not fit (numpy raises its error) or a window holds
    no real entry: the windows' starts grow, so it is enough that the first
    one ends past the top padding and the last one starts before the bottom
    (columns alike).
    """
    n, h, w, c = (int(d) for d in x_shape)
    (ph, pw), (sh, sw) = pool_size, strides
    (top, bottom), (left, right) = padding
    if min(ph, pw, sh, sw) < 1 or min(top, bottom, left, right) < 0:
        return None
    oh = (h + top + bottom - ph) // sh + 1
    ow = (w + left + right - pw) // sw + 1
    if oh < 1 or ow < 1 or top >= ph or left >= pw or (oh - 1) * sh - top >= h or (ow - 1) * sw - left >= w:
        return None
    return n, h, w, c, oh, ow, ph, pw, sh, sw, top, left


def _output_shape(fields) -> tuple:
    n, _, _, c, oh, ow = fields[:6]
    return n, oh, ow, c
