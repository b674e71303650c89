"""Activation functions and their gradients on numpy.

Backward rules are written in terms of the output y where the activation
allows it (ReLU, ELU, sigmoid, tanh, softmax), so a layer can apply those in
place and keep no copy of its pre-activation; GELU, softplus and SiLU need x.
"""
import math

import numpy as np

from .batch_threads import map_rows

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CLIP = 40.0


def _special():
    # scipy.special costs ~0.1 s to import; only the activations that need it pay.
    import scipy.special

    return scipy.special


def _relu(x, out):
    return np.maximum(x, 0, out=out)


def _relu_backward(dy, y, out):
    return np.multiply(dy, y > 0, out=out)


class ActivationOps:
    # ReLU is the activation of large convolutional feature maps, so its passes run split over threads.
    def relu(self, x, out=None):
        return map_rows(_relu, out, x)

    def relu_backward(self, dy, x, y, out=None):
        return map_rows(_relu_backward, out, dy, y)

    def leaky_relu(self, x, negative_slope, out=None):
        # max(x, s*x) is leaky ReLU for 0 <= s <= 1; the layer checks the range.
        return np.maximum(x, x * negative_slope, out=out)

    def leaky_relu_backward(self, dy, x, y, negative_slope, out=None):
        slope = np.where(y > 0, 1.0, negative_slope).astype(dy.dtype, copy=False)
        return np.multiply(dy, slope, out=out)

    def elu(self, x, alpha, scale=1.0, out=None):
        neg = np.expm1(np.minimum(x, 0))
        neg *= alpha
        y = np.where(x > 0, x, neg)
        if scale != 1.0:
            y *= scale
        if out is None:
            return y.astype(x.dtype, copy=False)
        np.copyto(out, y)
        return out

    def elu_backward(self, dy, x, y, alpha, scale=1.0, out=None):
        # d/dx [scale*alpha*(e^x - 1)] = scale*alpha*e^x = y + scale*alpha for x <= 0
        slope = np.where(y > 0, scale, y + scale * alpha)
        return np.multiply(dy, slope, out=out)

    def gelu(self, x, approximate, out=None):
        if approximate:
            # tanh(u) is exactly ±1 in floating point once |x| > 10, so clipping x inside u changes
            # nothing but keeps x³ from overflowing (and warning) for huge inputs.
            xc = np.clip(x, -_GELU_CLIP, _GELU_CLIP)
            inner = np.tanh(_SQRT_2_OVER_PI * (xc + 0.044715 * xc**3))
            y = 0.5 * x * (1.0 + inner)
        else:
            # Φ(x) = erfc(−x/√2)/2: unlike (1 + erf(x/√2))/2 it keeps full relative precision for x ≪ 0.
            y = 0.5 * x * _special().erfc(-x * _INV_SQRT_2)
        if out is None:
            return y.astype(x.dtype, copy=False)
        np.copyto(out, y)
        return out

    def gelu_backward(self, dy, x, y, approximate, out=None):
        # Clipped as in forward: beyond |x| = 40 tanh(u) is ±1 and exp(−x²/2) underflows to 0 anyway,
        # so the result is unchanged and x², x³ cannot overflow.
        xc = np.clip(x, -_GELU_CLIP, _GELU_CLIP)
        if approximate:
            u = _SQRT_2_OVER_PI * (xc + 0.044715 * xc**3)
            t = np.tanh(u)
            du = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * xc**2)
            slope = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
        else:
            cdf = 0.5 * _special().erfc(-x * _INV_SQRT_2)
            pdf = _INV_SQRT_2PI * np.exp(-0.5 * xc * xc)
            slope = cdf + x * pdf
        return np.multiply(dy, slope, out=out)

    def sigmoid(self, x, out=None):
        return _special().expit(x, out=out)

    def sigmoid_backward(self, dy, x, y, out=None):
        slope = y * (1.0 - y)
        return np.multiply(dy, slope, out=out)

    def tanh(self, x, out=None):
        return np.tanh(x, out=out)

    def tanh_backward(self, dy, x, y, out=None):
        slope = 1.0 - y * y
        return np.multiply(dy, slope, out=out)

    def softplus(self, x, out=None):
        # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|.
        y = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
        if out is None:
            return y
        np.copyto(out, y)
        return out

    def softplus_backward(self, dy, x, y, out=None):
        return np.multiply(dy, _special().expit(x), out=out)

    def silu(self, x, out=None):
        return np.multiply(x, _special().expit(x), out=out)

    def silu_backward(self, dy, x, y, out=None):
        s = _special().expit(x)
        slope = s * (1.0 + x * (1.0 - s))
        return np.multiply(dy, slope, out=out)

    def softmax(self, x, out=None):
        out = np.subtract(x, x.max(axis=-1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=-1, keepdims=True)
        return out

    def softmax_backward(self, dy, x, y, out=None):
        # J^T dy for J = diag(y) - y y^T, one row at a time.
        dot = np.sum(dy * y, axis=-1, keepdims=True)
        out = np.subtract(dy, dot, out=out)
        out *= y
        return out

