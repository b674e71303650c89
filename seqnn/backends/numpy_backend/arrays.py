"""Array transfer, allocation, elementwise math and reductions on numpy."""
import numpy as np


class ArrayOps:
    def asarray(self, x, dtype=None):
        return np.ascontiguousarray(x, dtype=dtype)

    def to_numpy(self, a):
        return np.asarray(a)

    def empty(self, shape, dtype):
        return np.empty(shape, dtype)

    def zeros(self, shape, dtype):
        return np.zeros(shape, dtype)

    def full(self, shape, value, dtype):
        return np.full(shape, value, dtype)

    def copy_into(self, dst, src):
        np.copyto(dst, src, casting="same_kind")
        return dst

    def fill(self, a, value):
        a.fill(value)
        return a

    def transpose(self, a, axes, out=None):
        if out is None:
            return np.ascontiguousarray(np.transpose(a, axes))
        np.copyto(out, np.transpose(a, axes))
        return out

    def add(self, a, b, out=None):
        return np.add(a, b, out=out)

    def subtract(self, a, b, out=None):
        return np.subtract(a, b, out=out)

    def multiply(self, a, b, out=None):
        return np.multiply(a, b, out=out)

    def divide(self, a, b, out=None):
        return np.divide(a, b, out=out)

    def maximum(self, a, b, out=None):
        return np.maximum(a, b, out=out)

    def minimum(self, a, b, out=None):
        return np.minimum(a, b, out=out)

    def square(self, a, out=None):
        return np.square(a, out=out)

    def sqrt(self, a, out=None):
        return np.sqrt(a, out=out)

    def abs(self, a, out=None):
        return np.abs(a, out=out)

    def sign(self, a, out=None):
        return np.sign(a, out=out)

    def exp(self, a, out=None):
        return np.exp(a, out=out)

    def log(self, a, out=None):
        return np.log(a, out=out)

    def clip(self, a, lo, hi, out=None):
        return np.clip(a, lo, hi, out=out)

    def where(self, cond, a, b, out=None):
        if out is None:
            return np.where(cond, a, b)
        np.copyto(out, np.where(cond, a, b))
        return out

    def less_equal(self, a, b):
        return np.less_equal(a, b)

    def sum(self, a, axis=None, keepdims=False, out=None):
        return np.asarray(np.sum(a, axis=axis, keepdims=keepdims, out=out))

    def mean(self, a, axis=None, keepdims=False):
        return np.asarray(np.mean(a, axis=axis, keepdims=keepdims))

    def max(self, a, axis=None, keepdims=False):
        return np.asarray(np.max(a, axis=axis, keepdims=keepdims))

    def item(self, a):
        return float(a)

    def argmax(self, a, axis=-1):
        return np.argmax(a, axis=axis)

