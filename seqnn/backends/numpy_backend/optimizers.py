"""Fused in-place optimizer updates on numpy.

Each update works on one flat parameter vector (the whole model, see
ParameterArena), with as few full passes over memory as the rule allows: at
this size (10⁵–10⁷ elements) every pass costs about the same, so the pass
count is the cost. Every pass is an in-place ufunc (``out=``) over the
vectors or one cached scratch vector per size and dtype, so a step allocates
no arrays. (Processing the vectors in cache-sized blocks was measured and
only pays off above ~10⁷ elements, so the code stays blockless.)

Scalars are cast to the array's dtype first: a float64 scalar must not
promote float32 work, and the cast makes the rounding explicit.

Exponential moving averages are written ``x += (1 − β)·(y − x)`` rather than
``x = β·x + (1 − β)·y``: three passes either way, but one rounding of a
product fewer. The rules themselves, and where Keras and PyTorch differ, are
documented in ``seqnn/optimizers/*.py``.
"""
import math

import numpy as np

from . import compiled_updates
from .batch_threads import over_batch

# A large update runs block by block, so that its dozen passes re-read a block from cache
# rather than the whole vectors from memory, and the blocks are shared out over seqnn's
# threads. Below BLOCKED_MIN_ELEMENTS (a model up to ~0.5 M parameters) one whole-vector
# pass per operation is as fast. BLOCK elements of the five vectors Adam touches stay well
# inside a core's L2 cache (5 × 128 KiB in float32).
BLOCKED_MIN_ELEMENTS = 1 << 19
BLOCK = 1 << 15


# Adam's moments of a parameter whose gradient is always 0 (a weight from one of MNIST's empty
# border pixels) decay into subnormal floats and stay there: x += (1 − β)·(0 − x) rounds to x once
# (1 − β)·x is below half a unit in the last place. Every pass over a vector with subnormals is
# then slower (40 % for a vector of them on an AMD EPYC, far more on many Intel cores). numpy
# cannot set the CPU's flush-to-zero mode, so the moments are flushed by hand every FLUSH_EVERY
# steps: a value below the smallest normal float (1.2e-38 in float32) moves a parameter by less
# than 1e-31·lr, nothing a float32 weight can register, so the trajectory is unchanged.
FLUSH_EVERY = 128


def flush_subnormals(*vectors) -> None:
    """Set the subnormal entries of each vector to 0 (in blocks, on seqnn's threads when large)."""
    for vec in vectors:
        tiny = np.finfo(vec.dtype).tiny

        def flush(s, vec=vec, tiny=tiny):
            part = vec[s]
            small = np.less(np.abs(part), tiny)
            np.copyto(part, 0, where=small)

        in_blocks(flush, vec)


def in_blocks(update, *vectors) -> None:
    """``update(slice)`` over the whole of same-shaped, contiguous ``vectors``: in cache-sized
    blocks on seqnn's threads when they are large, else as one call. Elementwise updates give
    bit-identical results either way."""
    size = vectors[0].size
    if size < BLOCKED_MIN_ELEMENTS or vectors[0].ndim != 1 or not all(
            v.flags.c_contiguous for v in vectors):
        update(slice(None))
        return
    blocks = -(-size // BLOCK)

    def run(first, last):
        for b in range(first, last):
            update(slice(b * BLOCK, min(size, (b + 1) * BLOCK)))

    over_batch(run, blocks, size)


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

    def clip_by_global_norm_(self, g, max_norm):
        return self.clip_segments_by_norm_(g, [(0, g.size)], max_norm)

    def clip_segments_by_norm_(self, g, segments, max_norm):
        for start, stop in segments:
            piece = g[start:stop]
            norm = float(np.sqrt(np.dot(piece, piece)))  # one BLAS call, no temporary
            if norm > max_norm:
                piece *= g.dtype.type(max_norm / norm)
        return g

    @staticmethod
    def _moving_average_(average, value, decay, scratch):
        """average ← decay·average + (1 − decay)·value, in 3 passes."""
        np.subtract(value, average, out=scratch)
        scratch *= average.dtype.type(1.0 - decay)
        average += scratch

    @staticmethod
    def _moving_average_of_square_(average, g, decay, scratch):
        """average ← decay·average + (1 − decay)·g², in 4 passes."""
        np.multiply(g, g, out=scratch)
        scratch -= average
        scratch *= average.dtype.type(1.0 - decay)
        average += scratch

    def sgd_update(self, p, g, velocity, lr, momentum, nesterov):
        t, f = self._scratch(p), p.dtype.type
        np.multiply(g, f(lr), out=t)            # lr·g
        if velocity is None:                    # plain SGD: 2 passes
            p -= t
            return p
        velocity *= f(momentum)                 # v ← μ·v − lr·g
        velocity -= t
        if nesterov:                            # p ← p + μ·v − lr·g
            p -= t
            np.multiply(velocity, f(momentum), out=t)
            p += t
        else:                                   # p ← p + v
            p += velocity
        return p

    def rmsprop_update(self, p, g, mean_square, mean_grad, momentum_buf, lr, rho, momentum, epsilon):
        t, f = self._scratch(p), p.dtype.type
        self._moving_average_of_square_(mean_square, g, rho, t)
        if mean_grad is not None:               # centered: √(E[g²] − E[g]² + ε)
            self._moving_average_(mean_grad, g, rho, t)
            np.multiply(mean_grad, mean_grad, out=t)
            np.subtract(mean_square, t, out=t)
            t += f(epsilon)
        else:                                   # √(E[g²] + ε)
            np.add(mean_square, f(epsilon), out=t)
        np.sqrt(t, out=t)
        np.divide(g, t, out=t)
        t *= f(lr)                              # the step lr·g/√(…)
        if momentum_buf is not None:
            momentum_buf *= f(momentum)
            momentum_buf += t
            p -= momentum_buf
        else:
            p -= t
        return p

    def adagrad_update(self, p, g, accumulator, lr, epsilon):
        t, f = self._scratch(p), p.dtype.type
        np.multiply(g, g, out=t)
        accumulator += t
        np.add(accumulator, f(epsilon), out=t)
        np.sqrt(t, out=t)
        np.divide(g, t, out=t)
        t *= f(lr)
        p -= t
        return p

    def adadelta_update(self, p, g, mean_square_grad, mean_square_delta, lr, rho, epsilon):
        t, s, f = self._scratch(p), self._scratch(p, 1), p.dtype.type
        self._moving_average_of_square_(mean_square_grad, g, rho, t)
        # Δ = √(d + ε)/√(a + ε)·g, taken as √((d + ε)/(a + ε))·g: one root fewer, same value to an ulp.
        np.add(mean_square_delta, f(epsilon), out=t)
        np.add(mean_square_grad, f(epsilon), out=s)
        t /= s
        np.sqrt(t, out=t)
        t *= g
        self._moving_average_of_square_(mean_square_delta, t, rho, s)
        t *= f(lr)
        p -= t
        return p

    def adam_update(self, p, g, m, v, v_max, lr, beta_1, beta_2, epsilon, step):
        f = p.dtype.type
        # lr·m̂/(√v̂ + ε) = (lr/bc₁)·m / (√v/√bc₂ + ε) = (lr·√bc₂/bc₁)·m / (√v + ε·√bc₂)
        bc1, bc2 = 1.0 - beta_1**step, 1.0 - beta_2**step
        eps, rate = f(epsilon * math.sqrt(bc2)), f(lr * math.sqrt(bc2) / bc1)
        kernel = compiled_updates.adam_kernel(p.dtype) if (
            v_max is None and p.size >= compiled_updates.MIN_ELEMENTS and compiled_updates.enabled()) else None
        if kernel is not None:  # one compiled pass, the same bits as the passes below
            c1, c2 = f(1.0 - beta_1), f(1.0 - beta_2)
            in_blocks(lambda s: kernel(p[s], g[s], m[s], v[s], c1, c2, eps, rate), p, g, m, v)
        else:
            t = self._scratch(p)

            def update(s):
                ps, gs, ms, vs, ts = p[s], g[s], m[s], v[s], t[s]
                self._moving_average_(ms, gs, beta_1, ts)
                self._moving_average_of_square_(vs, gs, beta_2, ts)
                if v_max is not None:
                    vm = v_max[s]
                    np.maximum(vm, vs, out=vm)
                    vs = vm
                np.sqrt(vs, out=ts)
                ts += eps
                np.divide(ms, ts, out=ts)
                ts *= rate
                ps -= ts

            in_blocks(update, p, g, m, v, t, *(() if v_max is None else (v_max,)))
        if step % FLUSH_EVERY == 0:
            flush_subnormals(m, v, *(() if v_max is None else (v_max,)))
        return p

    def adamax_update(self, p, g, m, u, lr, beta_1, beta_2, epsilon, step):
        t, f = self._scratch(p), p.dtype.type
        self._moving_average_(m, g, beta_1, t)
        u *= f(beta_2)                          # u ← max(β₂·u, |g|)
        np.abs(g, out=t)
        np.maximum(u, t, out=u)
        np.add(u, f(epsilon), out=t)
        np.divide(m, t, out=t)
        t *= f(lr / (1.0 - beta_1**step))
        p -= t
        return p

    def nadam_update(self, p, g, m, v, lr, beta_1, beta_2, epsilon, mu_t, mu_next, mu_product, step):
        t, s, f = self._scratch(p), self._scratch(p, 1), p.dtype.type
        self._moving_average_(m, g, beta_1, t)
        self._moving_average_of_square_(v, g, beta_2, t)
        # p ← p − (c_m·m + c_g·g) / (√(v/bc₂) + ε); scaling numerator and
        # denominator by √bc₂ folds the bias correction into the scalars. The
        # two terms share one denominator, so they are summed before dividing.
        root_bc2 = math.sqrt(1.0 - beta_2**step)
        c_g = lr * (1.0 - mu_t) / (1.0 - mu_product)
        c_m = lr * mu_next / (1.0 - mu_product * mu_next)
        np.multiply(m, f(c_m * root_bc2), out=s)
        np.multiply(g, f(c_g * root_bc2), out=t)
        s += t
        np.sqrt(v, out=t)
        t += f(epsilon * root_bc2)
        s /= t
        p -= s
        return p
