"""Fused in-place optimizer updates on numpy.

Each update works on one flat parameter vector (the whole model, see
ParameterArena), with as few full passes over memory as the rule allows: at
this size (10⁵–10⁷ elements) every pass costs about the same, so the pass
count is the cost. Scratch space is one cached vector per size and dtype.
"""
import math

import numpy as np


class OptimizerOps:
    def _scratch(self, like, index=0):
        cache = self.__dict__.setdefault("_optimizer_scratch", {})
        key = (like.size, like.dtype.str, index)
        buf = cache.get(key)
        if buf is None:
            buf = cache[key] = np.empty(like.size, like.dtype)
        return buf.reshape(like.shape)

    def scale_(self, a, factor):
        a *= a.dtype.type(factor)
        return a

    def flush_denormals_(self, a, threshold):
        np.copyto(a, 0, where=np.abs(a) < threshold)
        return a

    def adam_update(self, p, g, m, v, v_max, lr, beta_1, beta_2, epsilon, step):
        t = self._scratch(p)
        f = p.dtype.type
        # m ← β₁m + (1−β₁)g and v ← β₂v + (1−β₂)g², as "x += (1−β)(y − x)": 2 passes
        # each and no rounding of β·x + (1−β)·y into two products.
        np.subtract(g, m, out=t)
        t *= f(1.0 - beta_1)
        m += t
        np.multiply(g, g, out=t)
        t -= v
        t *= f(1.0 - beta_2)
        v += t
        if v_max is not None:
            np.maximum(v_max, v, out=v_max)
            v = v_max
        # lr·m̂/(√v̂ + ε) = (lr/bc₁)·m / (√v/√bc₂ + ε) = (lr·√bc₂/bc₁)·m / (√v + ε·√bc₂)
        bc1, bc2 = 1.0 - beta_1**step, 1.0 - beta_2**step
        np.sqrt(v, out=t)
        t += f(epsilon * math.sqrt(bc2))
        np.divide(m, t, out=t)
        t *= f(lr * math.sqrt(bc2) / bc1)
        p -= t
        return p
