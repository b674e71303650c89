"""Integer-factor upsampling of NHWC images on numpy: nearest and bilinear, with their adjoints.

Nearest: the output seen as (N, H, sh, W, sw, C) is x broadcast over the two
factor axes, and the gradient sums over them.

Bilinear (half-pixel centres) is separable, rows then columns. Along one axis
of length L upsampled by s, output q·s + r sits at source position
q + δ_r, δ_r = (r + ½)/s − ½ ∈ (−½, ½): it is (1 − |δ_r|)·x[q] plus |δ_r|
times the neighbour x[q ± 1] on δ_r's side, the neighbour clamped to the edge
(which is what clamping the source position to [0, L − 1] does). Each phase r
is a handful of whole-slice terms ``y[dst] += w·x[src]``; the backward pass
runs the same terms as ``dx[src] += w·dy[dst]``, so it is the exact adjoint.
"""
from __future__ import annotations

import numpy as np

_INTERPOLATIONS = ("nearest", "bilinear")


def _check(interpolation: str) -> None:
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"upsample2d interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")


def _blocks(a, size):
    """(N, H, sh, W, sw, C) view of an upsampled (N, H·sh, W·sw, C) array."""
    n, oh, ow, c = a.shape
    return a.reshape(n, oh // size[0], size[0], ow // size[1], size[1], c)


def _linear_terms(length: int, factor: int):
    """(phase, weight, source slice, destination slice) terms of linear upsampling along one axis.

    Destination slices index the phase's outputs q = 0 … length − 1; source
    slices index the input.
    """
    everything = slice(0, length)
    last = length - 1
    for r in range(factor):
        delta = (r + 0.5) / factor - 0.5
        yield r, 1.0 - abs(delta), everything, everything
        if delta > 0:    # neighbour q + 1, clamped to the last entry
            yield r, delta, slice(1, length), slice(0, last)
            yield r, delta, slice(last, length), slice(last, length)
        elif delta < 0:  # neighbour q − 1, clamped to the first entry
            yield r, -delta, slice(0, last), slice(1, length)
            yield r, -delta, slice(0, 1), slice(0, 1)


def _phased(a, axis: int, factor: int):
    """View of ``a`` with axis ``axis`` (length L·factor) split into (L, factor)."""
    shape = a.shape
    return a.reshape(*shape[:axis], shape[axis] // factor, factor, *shape[axis + 1:])


def _linear_axis(x, axis: int, factor: int, out, adjoint: bool):
    """Linear upsampling of x along ``axis`` into ``out`` (adjoint: out ← its transpose applied to x)."""
    lead = (slice(None),) * axis
    if adjoint:  # x is the upsampled gradient, out the input-sized one
        length, phased = out.shape[axis], _phased(x, axis, factor)
    else:
        length, phased = x.shape[axis], _phased(out, axis, factor)
    out.fill(0)
    for r, weight, src, dst in _linear_terms(length, factor):
        phase = phased[(*lead, slice(None), r)]
        if adjoint:
            out[(*lead, src)] += weight * phase[(*lead, dst)]
        else:
            phase[(*lead, dst)] += weight * x[(*lead, src)]
    return out


class ResamplingOps:
    def upsample2d(self, x, size, interpolation="nearest", out=None):
        _check(interpolation)
        n, h, w, c = x.shape
        sh, sw = size
        if out is None:
            out = np.empty((n, h * sh, w * sw, c), x.dtype)
        if interpolation == "nearest":
            np.copyto(_blocks(out, size), x[:, :, None, :, None, :])
            return out
        rows = _linear_axis(x, 1, sh, np.empty((n, h * sh, w, c), x.dtype), adjoint=False)
        return _linear_axis(rows, 2, sw, out, adjoint=False)

    def upsample2d_backward(self, dy, size, interpolation="nearest", out=None):
        _check(interpolation)
        n, oh, ow, c = dy.shape
        sh, sw = size
        if out is None:
            out = np.empty((n, oh // sh, ow // sw, c), dy.dtype)
        if interpolation == "nearest":
            return np.sum(_blocks(dy, size), axis=(2, 4), out=out)
        rows = _linear_axis(dy, 2, sw, np.empty((n, oh, ow // sw, c), dy.dtype), adjoint=True)
        return _linear_axis(rows, 1, sh, out, adjoint=True)
