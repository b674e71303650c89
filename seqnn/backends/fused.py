"""Fused fast paths of the backend contract, with defaults written in the core ops.

A new backend implements the core (``base.Backend``: arrays, elementwise
ops, reductions, gemm, random, and the layer families) and inherits these
defaults; it overrides one only where it has a faster kernel. The numpy
backend overrides them all. Each default is checked against the same
formulas as the numpy backend by the conformance suite (on a backend that
has only the core).

Activation backward ops take ``(dy, x, y)``: the upstream gradient and
whichever of the input and the output the rule needs.
"""
from __future__ import annotations

import math
from typing import Sequence


class FusedOps:
    """Default implementations; ``self`` provides the core ops."""

    # ----------------------------------------------------- reductions, bias ---
    def mean(self, a, axis: int | None = None, keepdims: bool = False):
        """Mean; with ``axis=None`` a 0-d array."""
        count = math.prod(a.shape) if axis is None else a.shape[axis]
        return self.divide(self.sum(a, axis=axis, keepdims=keepdims), float(count))

    def bias_add(self, x, bias, out=None):
        """x + bias broadcast over every axis but the last."""
        return self.add(x, bias, out=out)

    def bias_grad(self, dy, out=None):
        """Sum of dy over every axis but the last (the bias gradient)."""
        return self.sum(dy.reshape(math.prod(dy.shape[:-1]), dy.shape[-1]), axis=0, out=out)

    # ----------------------------------------------------------- activations ---
    def relu(self, x, out=None):
        return self.maximum(x, 0.0, out=out)

    # ReLU, leaky ReLU and ELU differentiate from y alone (their activations declare needs_input = False,
    # so a layer may pass x=None): y ≤ 0 exactly where x ≤ 0.
    def relu_backward(self, dy, x, y, out=None):
        return self.where(self.less_equal(y, 0.0), 0.0, dy, out=out)

    def leaky_relu(self, x, negative_slope: float, out=None):
        return self.where(self.less_equal(x, 0.0), self.multiply(x, negative_slope), x, out=out)

    def leaky_relu_backward(self, dy, x, y, negative_slope: float, out=None):
        return self.where(self.less_equal(y, 0.0), self.multiply(dy, negative_slope), dy, out=out)

    def elu(self, x, alpha: float, scale: float = 1.0, out=None):
        """scale * (x if x > 0 else alpha * (exp(x) - 1)); SELU is ELU with its constants."""
        negative = self.multiply(self.subtract(self.exp(self.minimum(x, 0.0)), 1.0), alpha)
        return self.multiply(self.where(self.less_equal(x, 0.0), negative, x), scale, out=out)

    def elu_backward(self, dy, x, y, alpha: float, scale: float = 1.0, out=None):
        # For x <= 0, dy/dx = scale·alpha·exp(x) = y + scale·alpha.
        slope = self.where(self.less_equal(y, 0.0), self.add(y, scale * alpha), scale)
        return self.multiply(dy, slope, out=out)

    def sigmoid(self, x, out=None):
        """1/(1 + e⁻ˣ), from e^(−|x|) so that nothing overflows."""
        e = self.exp(self.multiply(self.abs(x), -1.0))
        positive = self.divide(1.0, self.add(e, 1.0))
        return self.where(self.less_equal(x, 0.0), self.multiply(e, positive), positive, out=out)

    def sigmoid_backward(self, dy, x, y, out=None):
        return self.multiply(dy, self.multiply(y, self.subtract(1.0, y)), out=out)

    def tanh(self, x, out=None):
        """tanh x = 2·sigmoid(2x) − 1."""
        return self.subtract(self.multiply(self.sigmoid(self.multiply(x, 2.0)), 2.0), 1.0, out=out)

    def tanh_backward(self, dy, x, y, out=None):
        return self.multiply(dy, self.subtract(1.0, self.square(y)), out=out)

    def softplus(self, x, out=None):
        """log(1 + eˣ) = max(x, 0) + log(1 + e^(−|x|))."""
        tail = self.log(self.add(self.exp(self.multiply(self.abs(x), -1.0)), 1.0))
        return self.add(self.maximum(x, 0.0), tail, out=out)

    def softplus_backward(self, dy, x, y, out=None):
        return self.multiply(dy, self.sigmoid(x), out=out)

    def silu(self, x, out=None):
        return self.multiply(x, self.sigmoid(x), out=out)

    def silu_backward(self, dy, x, y, out=None):
        s = self.sigmoid(x)
        return self.multiply(dy, self.add(s, self.multiply(y, self.subtract(1.0, s))), out=out)

    def softmax(self, x, out=None):
        """Softmax over the last axis, max-subtracted (no overflow)."""
        e = self.exp(self.subtract(x, self.max(x, axis=-1, keepdims=True)))
        return self.divide(e, self.sum(e, axis=-1, keepdims=True), out=out)

    def softmax_backward(self, dy, x, y, out=None):
        """y ⊙ (dy − Σⱼ dyⱼ·yⱼ), row by row."""
        return self.multiply(y, self.subtract(dy, self.sum(self.multiply(dy, y), axis=-1, keepdims=True)), out=out)

    # ---------------------------------------------------------------- losses ---
    def sigmoid_cross_entropy(self, logits, targets):
        """Elementwise ``max(z,0) - z*t + log1p(exp(-|z|))`` and ``sigmoid(z)``."""
        loss = self.subtract(self.softplus(logits), self.multiply(logits, targets))
        return loss, self.sigmoid(logits)

    # ----------------------------------------------------- optimizer updates ---
    # One fused, in-place update of a flat parameter vector p (the whole
    # ParameterArena) from its gradient g and the optimizer's state slots,
    # which are updated in place too. A slot that the configuration does not
    # use is None. ``step`` is 1-based (the update being made). The rules,
    # with references and the differences from Keras and PyTorch, are in the
    # docstrings of seqnn/optimizers/*.py. These defaults allocate
    # temporaries, which a backend's own kernels avoid.
    def _moving_average_(self, average, value, decay: float):
        """average ← decay·average + (1 − decay)·value."""
        self.add(average, self.multiply(self.subtract(value, average), 1.0 - decay), out=average)

    def sgd_update(self, p, g, velocity, lr: float, momentum: float, nesterov: bool):
        """v ← μv − lr·g; p ← p + v (nesterov: p ← p + μv − lr·g); velocity None: p ← p − lr·g."""
        step = self.multiply(g, lr)
        if velocity is None:
            return self.subtract(p, step, out=p)
        self.subtract(self.multiply(velocity, momentum), step, out=velocity)
        if nesterov:
            return self.add(p, self.subtract(self.multiply(velocity, momentum), step), out=p)
        return self.add(p, velocity, out=p)

    def rmsprop_update(self, p, g, mean_square, mean_grad, momentum_buf, lr: float, rho: float,
                       momentum: float, epsilon: float):
        """RMSprop with ε inside the square root; centered when ``mean_grad``, with momentum when ``momentum_buf``."""
        self._moving_average_(mean_square, self.square(g), rho)
        denominator = mean_square
        if mean_grad is not None:
            self._moving_average_(mean_grad, g, rho)
            denominator = self.subtract(mean_square, self.square(mean_grad))
        step = self.multiply(self.divide(g, self.sqrt(self.add(denominator, epsilon))), lr)
        if momentum_buf is not None:
            step = self.add(self.multiply(momentum_buf, momentum), step, out=momentum_buf)
        return self.subtract(p, step, out=p)

    def adagrad_update(self, p, g, accumulator, lr: float, epsilon: float):
        """acc ← acc + g²; p ← p − lr·g/√(acc + ε)."""
        self.add(accumulator, self.square(g), out=accumulator)
        step = self.divide(g, self.sqrt(self.add(accumulator, epsilon)))
        return self.subtract(p, self.multiply(step, lr), out=p)

    def adadelta_update(self, p, g, mean_square_grad, mean_square_delta, lr: float, rho: float,
                        epsilon: float):
        """a ← ρa + (1 − ρ)g²; Δ = √(d + ε)/√(a + ε)·g; d ← ρd + (1 − ρ)Δ²; p ← p − lr·Δ."""
        self._moving_average_(mean_square_grad, self.square(g), rho)
        ratio = self.divide(self.add(mean_square_delta, epsilon), self.add(mean_square_grad, epsilon))
        delta = self.multiply(self.sqrt(ratio), g)
        self._moving_average_(mean_square_delta, self.square(delta), rho)
        return self.subtract(p, self.multiply(delta, lr), out=p)

    def adam_update(self, p, g, m, v, v_max, lr: float, beta_1: float, beta_2: float,
                    epsilon: float, step: int):
        """Adam with ε added to √v̂; ``v_max`` (AMSGrad) is set when amsgrad."""
        self._moving_average_(m, g, beta_1)
        self._moving_average_(v, self.square(g), beta_2)
        if v_max is not None:
            v = self.maximum(v_max, v, out=v_max)
        # lr·m̂/(√v̂ + ε) with the bias corrections folded into two scalars.
        root_bc2 = (1.0 - beta_2**step) ** 0.5
        denominator = self.add(self.sqrt(v), epsilon * root_bc2)
        step_size = lr * root_bc2 / (1.0 - beta_1**step)
        return self.subtract(p, self.multiply(self.divide(m, denominator), step_size), out=p)

    def adamax_update(self, p, g, m, u, lr: float, beta_1: float, beta_2: float,
                      epsilon: float, step: int):
        """Adamax: ``u ← max(β₂u, |g|); p ← p − lr/(1 − β₁ᵗ)·m/(u + ε)``."""
        self._moving_average_(m, g, beta_1)
        self.maximum(self.multiply(u, beta_2), self.abs(g), out=u)
        step_size = lr / (1.0 - beta_1**step)
        return self.subtract(p, self.multiply(self.divide(m, self.add(u, epsilon)), step_size), out=p)

    def nadam_update(self, p, g, m, v, lr: float, beta_1: float, beta_2: float, epsilon: float,
                     mu_t: float, mu_next: float, mu_product: float, step: int):
        """Nadam: p ← p − (c_m·m + c_g·g)/(√v̂ + ε), the momentum schedule kept by the caller."""
        self._moving_average_(m, g, beta_1)
        self._moving_average_(v, self.square(g), beta_2)
        root_bc2 = (1.0 - beta_2**step) ** 0.5
        c_g = lr * (1.0 - mu_t) / (1.0 - mu_product)
        c_m = lr * mu_next / (1.0 - mu_product * mu_next)
        numerator = self.add(self.multiply(m, c_m * root_bc2), self.multiply(g, c_g * root_bc2))
        denominator = self.add(self.sqrt(v), epsilon * root_bc2)
        return self.subtract(p, self.divide(numerator, denominator), out=p)

    # ---------------------------------------------------- scaling, clipping ---
    def scale_(self, a, factor: float):
        """``a *= factor``, in place (decoupled weight decay)."""
        return self.multiply(a, factor, out=a)

    def clip_by_global_norm_(self, g, max_norm: float):
        """``g *= min(1, max_norm / ‖g‖)`` in place, ‖·‖ over every element (Keras's ``global_clipnorm``)."""
        return self.clip_segments_by_norm_(g, [(0, math.prod(g.shape))], max_norm)

    def clip_segments_by_norm_(self, g, segments: Sequence[tuple[int, int]], max_norm: float):
        """For each ``(start, stop)`` of flat ``g``: ``g[start:stop] *= min(1, max_norm / ‖g[start:stop]‖)``.

        One tensor per segment (Keras's ``clipnorm``, which clips each weight's
        gradient on its own), in one call for the whole arena, with no norm
        read back to the host.
        """
        for start, stop in segments:
            piece = g[start:stop]
            norm = self.maximum(self.sqrt(self.sum(self.square(piece))), 1e-30)  # no 0/0 for a zero gradient
            self.multiply(piece, self.minimum(self.divide(max_norm, norm), 1.0), out=piece)
        return g

