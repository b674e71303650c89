"""Batch and layer normalization on numpy (x viewed as rows × features).

Both normalize x̂ = (x − μ)·r with r = 1/√(σ² + ε) and output y = γ·x̂ + β;
they differ in which axis the statistics run over (batch normalization: down
the rows, per feature; layer normalization: along each row). Forward keeps
x̂ and r as ``saved``. With g = γ·dy, the input gradient is

    dx = r · (g − mean(g) − x̂·mean(g·x̂)),

the means taken along the same axis as the statistics, and dγ = Σ dy·x̂,
dβ = Σ dy over the rows. Column sums are one BLAS call (onesᵀ·a), which is
both faster and more accurate in float32 than numpy's row-by-row reduction.
"""
from __future__ import annotations

import numpy as np

from .conv import scratch_array


class NormalizationOps:
    def _column_sums(self, a):
        """Σ over rows of a 2-D array, as one matrix-vector product."""
        cache = self.__dict__.setdefault("_ones_cache", {})
        ones = cache.get(a.dtype.str)
        if ones is None or ones.size < a.shape[0]:
            ones = cache[a.dtype.str] = np.ones(max(a.shape[0], 1024), a.dtype)
        return np.matmul(ones[:a.shape[0]], a)

    @staticmethod
    def _moving_update(moving, value, momentum):
        f = moving.dtype.type
        moving *= f(momentum)
        moving += f(1.0 - momentum) * value.astype(moving.dtype, copy=False)

    # ---------------------------------------------------------- batch norm ---
    def batchnorm_train(self, x, gamma, beta, moving_mean, moving_variance, momentum, epsilon,
                        scratch=None, out=None):
        m = x.shape[0]
        f = x.dtype.type
        if out is None:
            out = np.empty_like(x)
        mean = self._column_sums(x) * f(1.0 / m)
        xhat = scratch_array(scratch, "norm_xhat", x.shape, x.dtype)
        np.subtract(x, mean, out=xhat)
        np.multiply(xhat, xhat, out=out)
        var = self._column_sums(out) * f(1.0 / m)
        inv_std = 1.0 / np.sqrt(var + f(epsilon))
        xhat *= inv_std
        self._affine(xhat, gamma, beta, out)
        self._moving_update(moving_mean, mean, momentum)
        self._moving_update(moving_variance, var, momentum)
        return out, (xhat, inv_std)

    @staticmethod
    def _affine(xhat, gamma, beta, out):
        if gamma is not None:
            np.multiply(xhat, gamma, out=out)
        else:
            np.copyto(out, xhat)
        if beta is not None:
            out += beta
        return out

    def batchnorm_infer(self, x, gamma, beta, moving_mean, moving_variance, epsilon, out=None):
        f = x.dtype.type
        scale = 1.0 / np.sqrt(moving_variance + f(epsilon))
        if gamma is not None:
            scale = scale * gamma
        shift = -moving_mean * scale
        if beta is not None:
            shift = shift + beta
        out = np.multiply(x, scale, out=out)
        out += shift
        return out

    def batchnorm_infer_backward(self, dy, x, gamma, moving_mean, moving_variance, epsilon, gamma_out=None,
                                 beta_out=None, out=None):
        f = dy.dtype.type
        inv_std = 1.0 / np.sqrt(moving_variance + f(epsilon))
        if out is None:
            out = np.empty_like(dy)
        if gamma_out is not None:
            np.subtract(x, moving_mean, out=out)
            out *= dy
            gamma_out[...] = self._column_sums(out) * inv_std
        if beta_out is not None:
            beta_out[...] = self._column_sums(dy)
        return np.multiply(dy, inv_std if gamma is None else inv_std * gamma, out=out)

    def batchnorm_backward(self, dy, gamma, saved, gamma_out=None, beta_out=None, out=None):
        xhat, inv_std = saved
        f = dy.dtype.type
        m = xhat.shape[0]
        if out is None:
            out = np.empty_like(dy)
        dbeta = self._column_sums(dy)
        np.multiply(dy, xhat, out=out)
        dgamma = self._column_sums(out)
        if gamma_out is not None:
            gamma_out[...] = dgamma
        if beta_out is not None:
            beta_out[...] = dbeta
        scale = inv_std if gamma is None else inv_std * gamma
        # dx = r·γ·(dy − (Σdy + x̂·Σdy·x̂)/m)
        np.multiply(xhat, dgamma * f(1.0 / m), out=out)
        out += dbeta * f(1.0 / m)
        np.subtract(dy, out, out=out)
        out *= scale
        return out

    # ---------------------------------------------------------- layer norm ---
    def layernorm(self, x, gamma, beta, epsilon, scratch=None, out=None):
        f = x.dtype.type
        if out is None:
            out = np.empty_like(x)
        xhat = scratch_array(scratch, "norm_xhat", x.shape, x.dtype)
        np.subtract(x, x.mean(axis=1, keepdims=True), out=xhat)
        np.multiply(xhat, xhat, out=out)
        inv_std = 1.0 / np.sqrt(out.mean(axis=1, keepdims=True) + f(epsilon))
        xhat *= inv_std
        self._affine(xhat, gamma, beta, out)
        return out, (xhat, inv_std)

    def layernorm_backward(self, dy, gamma, saved, gamma_out=None, beta_out=None, out=None):
        xhat, inv_std = saved
        if out is None:
            out = np.empty_like(dy)
        if gamma_out is not None:
            np.multiply(dy, xhat, out=out)
            gamma_out[...] = self._column_sums(out)
        if beta_out is not None:
            beta_out[...] = self._column_sums(dy)
        g = dy if gamma is None else np.multiply(dy, gamma, out=dy)
        mean_g = g.mean(axis=1, keepdims=True)
        np.multiply(g, xhat, out=out)
        mean_gx = out.mean(axis=1, keepdims=True)
        np.multiply(xhat, mean_gx, out=out)
        out += mean_g
        np.subtract(g, out, out=out)
        out *= inv_std
        return out
