"""Shared mechanics of layers whose last step is an activation.

The layer computes a pre-activation z, then y = act(z). When the activation's
backward rule needs only y it runs in place on z's buffer; otherwise z is
kept. ``defer_output_activation(True)`` makes forward stop at z, which is how
``Sequential.compile`` hands softmax/sigmoid to a fused, stable cross-entropy
and a ReLU to the max pooling after it (see ``Sequential._prepare``). A layer
called alone, ``layer(x)``, always applies its activation.
"""
from __future__ import annotations

from .. import activations


class ActivatedLayer:
    """Mixin for a Layer with an ``activation`` attribute."""

    activation: activations.Activation
    _deferred = False

    def activate(self, z):
        """y = act(z), recording what backward needs."""
        self._z = z
        act = self.activation
        if self._is_deferred() or isinstance(act, activations.Linear):
            self._y = z
        elif act.needs_input:
            self._y = act.forward(self.backend, z, out=self.buffer("activation_out", z.shape))
        else:
            self._y = act.forward(self.backend, z, out=z)
        return self._y

    def activation_backward(self, dy):
        """dL/dz from dL/dy (may overwrite dy)."""
        act = self.activation
        if self._is_deferred() or isinstance(act, activations.Linear):
            return dy
        return act.backward(self.backend, dy, self._z, self._y, out=dy)

    @property
    def output_activation(self):
        return None if isinstance(self.activation, activations.Linear) else self.activation

    def defer_output_activation(self, defer: bool) -> None:
        self._deferred = bool(defer)

    def _is_deferred(self) -> bool:
        return self._deferred and not self._calling_alone
