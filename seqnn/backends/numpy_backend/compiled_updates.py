"""Adam's update compiled into one pass over memory by numba, when numba is installed (the ``fast`` extra).

numpy runs Adam as twelve passes over the parameter-sized vectors (see
:mod:`.optimizers`); a compiled loop reads each vector once. For the MNIST
MLP (235,146 parameters) that is 69 µs against 290 µs a step, bit for bit the
same result: the loop performs the same float operations in the same order,
without fast-math, so no product is fused into an FMA and no division or
square root is approximated (tests/test_compiled_updates.py compares it with
the numpy passes).

The kernel is compiled on first use (about half a second; numba caches the
machine code on disk, so later processes load it in milliseconds) and only
for vectors of :data:`MIN_ELEMENTS` or more, where the 0.2 ms or more it saves
a step repays the compilation within a few thousand steps (sooner once cached). Without numba, or with
``SEQNN_COMPILED_UPDATES=0``, the numpy passes run.
"""
from __future__ import annotations

import math
import os

import numpy as np

MIN_ELEMENTS = 1 << 16

_kernels: dict = {}  # dtype -> the compiled kernel, or None where it cannot be had


def enabled() -> bool:
    return os.environ.get("SEQNN_COMPILED_UPDATES", "1").strip() != "0"


def adam_kernel(dtype):
    """The compiled ``adam(p, g, m, v, c1, c2, eps, rate)`` for ``dtype`` vectors, or None without numba.

    Compiled here, on a one-element vector, so that a failure (no numba, or no writable place for
    numba's cache, which ``cache=True`` raises on) means the numpy passes, not a failed update.
    """
    dtype = np.dtype(dtype)
    if dtype not in _kernels:
        _kernels[dtype] = _compiled_for(dtype)
    return _kernels[dtype]


def _compiled_for(dtype):
    try:
        import numba
    except ImportError:
        return None
    one = np.zeros(1, dtype)
    for cache in (True, False):
        try:
            kernel = _compile(numba, cache)
            kernel(one, one, one, one, *(dtype.type(0),) * 4)
            return kernel
        except Exception:  # noqa: BLE001, S112 (a kernel that will not compile means: the numpy passes)
            continue
    return None


def _compile(numba, cache: bool):
    # error_model="numpy": a division by zero gives inf as in numpy, instead of a check per element that
    # keeps the loop from being vectorized. nogil: seqnn's threads run blocks of a large update in parallel.
    @numba.njit(cache=cache, nogil=True, error_model="numpy")
    def adam(p, g, m, v, c1, c2, eps, rate):  # pragma: no cover (compiled)
        # The numpy passes, element by element: m += c1·(g − m); v += c2·(g·g − v); p −= rate·m/(√v + ε).
        for i in range(p.size):
            gi = g[i]
            mi = m[i] + (gi - m[i]) * c1
            vi = v[i] + (gi * gi - v[i]) * c2
            m[i] = mi
            v[i] = vi
            p[i] = p[i] - mi / (math.sqrt(vi) + eps) * rate

    return adam
