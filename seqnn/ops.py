"""Keras's ``keras.ops`` for the array work that scripts do around a model, on numpy arrays.

seqnn has no tensor type of its own: models take and return numpy arrays, so
these are numpy's functions under Keras's names (``keras.ops`` follows numpy's
API), plus Keras's conversions::

    x = ops.ones((1, 4))          # numpy.ones
    y = model(x)                  # a numpy array
    ops.convert_to_numpy(y)       # y itself

Only the names below exist; anything else is an AttributeError.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from numpy import (
    abs, absolute, add, all, any, arange, argmax, argmin, argsort, clip, concatenate, cos, cumsum, divide,
    dot, equal, exp, expand_dims, eye, full, full_like, greater, greater_equal, less, less_equal, linspace,
    log, logical_and, logical_not, logical_or, matmul, maximum, mean, minimum, multiply, not_equal, ones,
    ones_like, power, reshape, sign, sin, sort, split, sqrt, square, squeeze, stack, std, subtract, sum,
    tanh, tile, transpose, var, where, zeros, zeros_like,
)
from numpy import amax as max
from numpy import amin as min


def convert_to_tensor(x: Any, dtype: Any = None) -> np.ndarray:
    """A numpy array of ``x`` (seqnn's tensors are numpy arrays).

    Args:
        x: an array, a nested list or a number.
        dtype: the dtype to convert to; None keeps numpy's choice.

    >>> sn.ops.convert_to_tensor([1, 2], dtype="float32")
    array([1., 2.], dtype=float32)
    """
    return np.asarray(x, dtype=dtype)


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a numpy array: a model's outputs already are one, and come back as they are.

    >>> y = np.ones(3)
    >>> sn.ops.convert_to_numpy(y) is y
    True
    """
    return np.asarray(x)


def cast(x: Any, dtype: Any) -> np.ndarray:
    """A copy of ``x`` converted to ``dtype``.

    >>> sn.ops.cast([0.7, 1.2], "int32")
    array([0, 1], dtype=int32)
    """
    return np.asarray(x).astype(dtype)


def shape(x: Any) -> tuple:
    """The shape of ``x`` as a tuple of ints (Keras's ``ops.shape``).

    >>> sn.ops.shape(np.zeros((2, 3)))
    (2, 3)
    """
    return tuple(np.shape(x))


__all__ = [
    "abs", "absolute", "add", "all", "any", "arange", "argmax", "argmin", "argsort", "cast", "clip", "concatenate",
    "convert_to_numpy", "convert_to_tensor", "cos", "cumsum", "divide", "dot", "equal", "exp", "expand_dims", "eye",
    "full", "full_like", "greater", "greater_equal", "less", "less_equal", "linspace", "log", "logical_and",
    "logical_not", "logical_or", "matmul", "max", "maximum", "mean", "min", "minimum", "multiply", "not_equal",
    "ones", "ones_like", "power", "reshape", "shape", "sign", "sin", "sort", "split", "sqrt", "square", "squeeze",
    "stack", "std", "subtract", "sum", "tanh", "tile", "transpose", "var", "where", "zeros", "zeros_like",
]
