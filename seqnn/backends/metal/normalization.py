"""Normalization on Metal (kernels/normalization.metal): batch and layer normalization.

Both normalize x̂ = (x − μ)·r with r = 1/√(σ² + ε) and output y = γ·x̂ + β.
Batch normalization's statistics run down the rows of x[M, C] (M is N·H·W
for images, tens of thousands of rows), so they are computed per chunk of
rows (two passes: mean, then centred squares, of x less the channel's first
value) and the chunks merged (Chan's pairwise formula for the variance), in
three launches: chunk statistics, merge (which also updates the moving
statistics in place), and one thread per element for y and x̂. The gradient's
column sums Σ dy and Σ dy·x̂ (dβ and dγ, for layer normalization too) take
the same two steps before the per-element gradient. Layer normalization
gives each row one SIMD-group, in one launch forward and one backward.

``saved`` is (x̂, r) as the numpy backend keeps it (r of shape (C,) for batch
normalization, (M, 1) for layer normalization), x̂ in the caller's scratch
and r a view of a work array, so a forward on one side and the backward on
the other agree when an op falls back to numpy. Operands a kernel cannot take
(not float32 in a Metal buffer, other shapes, an empty batch, an ``out`` that
overlaps an input at another offset) run the numpy backend on the shared
memory; numpy raises its own errors where it must.
"""
from __future__ import annotations

import numpy as np

from .elementwise import SAME, _alias_ok

# Rows per chunk of the batch statistics: short float32 sums per lane, and many SIMD-groups for a large
# batch. Past _MAX_CHUNKS chunks the chunks grow instead, which keeps the merge (one SIMD-group per
# channel, each lane merging every 32nd chunk) short.
_CHUNK_ROWS = 64
_MAX_CHUNKS = 4096


def _chunking(rows: int) -> tuple[int, int]:
    """(rows per chunk, chunks) for statistics over ``rows`` rows."""
    chunk_rows = max(_CHUNK_ROWS, -(-rows // _MAX_CHUNKS))
    return chunk_rows, -(-rows // chunk_rows)


class NormalizationOps:
    # ---------------------------------------------------------- batch norm ---
    def batchnorm_train(self, x, gamma, beta, moving_mean, moving_variance, momentum, epsilon,
                        scratch=None, out=None):
        if not (self._rows_ready(x, out) and self._vectors_ready(x.shape[1], gamma, beta, moving_mean,
                                                                 moving_variance)):
            return self._numpy_fallback("batchnorm_train", x, gamma, beta, moving_mean, moving_variance,
                                        momentum, epsilon, scratch=scratch, out=out)
        m, c = x.shape
        chunk_rows, chunks = _chunking(m)
        xhat = self._work(scratch, "norm_xhat", m * c).reshape(m, c)
        # One work array: the statistics [μ | r] (r is kept in ``saved``), then the chunks' [means | q].
        work = self._work(scratch, "norm_stats", 2 * c * (1 + chunks))
        stats, partial = work[:2 * c], work[2 * c:]
        geometry = (m, c, chunk_rows, chunks)
        self._device.run("normalization", "channel_moments", chunks * _blocks(c) * 32, (x, partial), "IIII",
                         *geometry)
        self._device.run("normalization", "channel_moments_finish", c * 32,
                         (x, partial, stats, moving_mean, moving_variance), "IIIIfff", *geometry,
                         momentum, 1.0 - momentum, epsilon)
        mean, inv_std = stats[:c], stats[c:]
        out = self._device.empty(x.shape, np.float32) if out is None else out
        self._apply(x, mean, inv_std, False, gamma, beta, out, xhat, epsilon)
        return out, (xhat, inv_std)

    def batchnorm_infer(self, x, gamma, beta, moving_mean, moving_variance, epsilon, out=None):
        if not (self._rows_ready(x, out) and self._vectors_ready(x.shape[1], gamma, beta, moving_mean,
                                                                 moving_variance)):
            return self._numpy_fallback("batchnorm_infer", x, gamma, beta, moving_mean, moving_variance,
                                        epsilon, out=out)
        out = self._device.empty(x.shape, np.float32) if out is None else out
        return self._apply(x, moving_mean, moving_variance, True, gamma, beta, out, None, epsilon)

    def batchnorm_infer_backward(self, dy, x, gamma, moving_mean, moving_variance, epsilon, gamma_out=None,
                                 beta_out=None, out=None):
        c = dy.shape[-1] if getattr(dy, "ndim", 0) == 2 else -1
        if not (self._rows_ready(dy, out) and self._kernel_ready(x) and x.shape == dy.shape
                and self._vectors_ready(c, gamma, moving_mean, moving_variance, gamma_out, beta_out)):
            return self._numpy_fallback("batchnorm_infer_backward", dy, x, gamma, moving_mean, moving_variance,
                                        epsilon, gamma_out=gamma_out, beta_out=beta_out, out=out)
        if gamma_out is not None or beta_out is not None:
            # dγ = Σ dy·(x − μ)·r, dβ = Σ dy; before dx is written, as out may be dy.
            self._column_grad_sums(dy, x, moving_mean, moving_variance, epsilon, gamma_out, beta_out)
        out = self._device.empty(dy.shape, np.float32) if out is None else out
        return self._apply(dy, None, moving_variance, True, gamma, None, out, None, epsilon)

    def batchnorm_backward(self, dy, gamma, saved, gamma_out=None, beta_out=None, out=None):
        xhat, inv_std = saved
        c = dy.shape[-1] if getattr(dy, "ndim", 0) == 2 else -1
        if not (self._kernel_ready(xhat) and self._rows_ready(dy, out, xhat) and xhat.shape == dy.shape
                and self._vectors_ready(c, gamma, inv_std, gamma_out, beta_out)):
            return self._numpy_fallback("batchnorm_backward", dy, gamma, saved, gamma_out=gamma_out,
                                        beta_out=beta_out, out=out)
        sums = self._column_grad_sums(dy, xhat, None, None, 0.0, gamma_out, beta_out)
        out = self._device.empty(dy.shape, np.float32) if out is None else out
        self._device.run("normalization", "batchnorm_backward", dy.size,
                         (dy, xhat, inv_std, _or(gamma, dy), sums, out), "IIIf",
                         dy.size, c, gamma is not None, 1.0 / dy.shape[0])
        return out

    # ---------------------------------------------------------- layer norm ---
    def layernorm(self, x, gamma, beta, epsilon, scratch=None, out=None):
        if not (self._rows_ready(x, out) and self._vectors_ready(x.shape[1], gamma, beta)):
            return self._numpy_fallback("layernorm", x, gamma, beta, epsilon, scratch=scratch, out=out)
        m, d = x.shape
        xhat = self._work(scratch, "norm_xhat", m * d).reshape(m, d)
        inv_std = self._work(scratch, "norm_stats", m).reshape(m, 1)
        out = self._device.empty(x.shape, np.float32) if out is None else out
        self._device.run("normalization", "layernorm", m * 32, (x, _or(gamma, x), _or(beta, x), out, xhat, inv_std),
                         "IIIIf", m, d, gamma is not None, beta is not None, epsilon)
        return out, (xhat, inv_std)

    def layernorm_backward(self, dy, gamma, saved, gamma_out=None, beta_out=None, out=None):
        xhat, inv_std = saved
        d = dy.shape[-1] if getattr(dy, "ndim", 0) == 2 else -1
        if not (self._kernel_ready(xhat, inv_std) and self._rows_ready(dy, out, xhat) and xhat.shape == dy.shape
                and inv_std.size == dy.shape[0] and self._vectors_ready(d, gamma, gamma_out, beta_out)):
            return self._numpy_fallback("layernorm_backward", dy, gamma, saved, gamma_out=gamma_out,
                                        beta_out=beta_out, out=out)
        if gamma_out is not None or beta_out is not None:
            # dγ = Σ dy·x̂ and dβ = Σ dy over the rows; before dx is written, as out may be dy.
            self._column_grad_sums(dy, xhat, None, None, 0.0, gamma_out, beta_out)
        out = self._device.empty(dy.shape, np.float32) if out is None else out
        self._device.run("normalization", "layernorm_backward", dy.shape[0] * 32,
                         (dy, _or(gamma, dy), xhat, inv_std, out), "III", dy.shape[0], d, gamma is not None)
        return out

    # ------------------------------------------------------------- helpers ---
    def _apply(self, x, mean, spread, from_variance, gamma, beta, out, xhat, epsilon):
        """out = γ·(x − μ)·r + β per channel, x̂ = (x − μ)·r into ``xhat`` where given; returns out.

        r is ``spread``, or 1/√(spread + ε) with ``from_variance``; None for μ, γ, β leaves them out.
        """
        self._device.run("normalization", "batchnorm_apply", x.size,
                         (x, _or(mean, x), spread, _or(gamma, x), _or(beta, x), out, _or(xhat, out)), "IIIIIIIf",
                         x.size, x.shape[1], mean is not None, from_variance, gamma is not None,
                         beta is not None, xhat is not None, epsilon)
        return out

    def _column_grad_sums(self, dy, a, center, variance, epsilon, gamma_out, beta_out):
        """[Σ dy | Σ dy·(a − center)·s] per column of dy[M, C], s = 1/√(variance + ε) (center, variance
        None: 0 and 1), also written into ``beta_out`` and ``gamma_out`` where given."""
        m, c = dy.shape
        chunk_rows, chunks = _chunking(m)
        work = self._device.empty((2 * c * (1 + chunks),), np.float32)
        sums, partial = work[:2 * c], work[2 * c:]
        geometry = (m, c, chunk_rows, chunks)
        self._device.run("normalization", "column_grad_sums", chunks * _blocks(c) * 32,
                         (dy, a, _or(center, dy), partial), "IIIII", *geometry, center is not None)
        self._device.run("normalization", "column_grad_sums_finish", c * 32,
                         (partial, _or(variance, partial), _or(gamma_out, sums), _or(beta_out, sums), sums),
                         "IIIIIIIf", *geometry, variance is not None, gamma_out is not None, beta_out is not None,
                         epsilon)
        return sums

    def _rows_ready(self, x, out, *inputs) -> bool:
        """Whether the kernels take x[M, C] (M, C > 0) and ``out`` (None, or of x's shape and, for x and
        each of the other per-element ``inputs``, either that array itself or apart from it)."""
        return (self._kernel_ready(x) and x.ndim == 2 and x.size > 0
                and (out is None or (self._kernel_ready(out) and out.shape == x.shape
                                     and all(_alias_ok(out, a, SAME) for a in (x, *inputs)))))

    def _vectors_ready(self, channels: int, *vectors) -> bool:
        """Whether each per-channel array (None: absent) is float32 of shape (channels,) in a Metal buffer."""
        return all(v is None or (self._kernel_ready(v) and v.shape == (channels,)) for v in vectors)

    def _work(self, scratch, key: str, size: int):
        """A float32 work array of ``size`` elements: the caller's scratch (kept across batches), or new."""
        if scratch is not None:
            array = scratch(key, (size,), "float32")
            if self._kernel_ready(array):
                return array
        return self._device.empty((size,), np.float32)


def _blocks(channels: int) -> int:
    """SIMD-groups per chunk of rows: one for every 32 channels."""
    return -(-channels // 32)


def _or(array, stand_in):
    """``array``, or for an absent one the array bound in its place (a flag tells the kernel not to read it)."""
    return stand_in if array is None else array
