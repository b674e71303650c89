"""Weight penalties added to the loss: L1, L2 and L1L2 (elastic net).

A regularizer maps a weight array w to a penalty (a float added to the loss
the model reports and minimises) and adds the penalty's gradient to w's
gradient. Keras's conventions: L2 is l2·Σw² (no factor ½), so its gradient is
2·l2·w; L1 is l1·Σ|w| with subgradient l1·sign(w) (0 at 0).
"""
from __future__ import annotations

from typing import Any

from .registry import Configurable, Registry


class Regularizer(Configurable):
    """Base class: a penalty on a weight array, added to the loss, and its gradient.

    A subclass implements :meth:`penalty` and :meth:`add_gradient` on backend
    arrays (so it runs on every backend) and ``get_config``; registering it
    (``@seqnn.regularizers.register()``) makes it loadable by name. Calling a
    regularizer on a numpy array gives its penalty as a float.

    >>> sn.regularizers.L2(0.01)(np.array([1.0, -2.0]))
    0.05
    """

    def penalty(self, backend, w):
        """The penalty of weights ``w``, a 0-d array of ``backend``."""
        raise NotImplementedError

    def add_gradient(self, backend, w, grad) -> None:
        """grad += d penalty / d w, in place."""
        raise NotImplementedError

    def __call__(self, w) -> float:
        import numpy as np

        from . import backends

        backend = backends.get("numpy")
        return backend.item(self.penalty(backend, np.asarray(w, dtype=float)))

    def get_config(self) -> dict:
        return {}




registry = Registry("regularizer", base=Regularizer)
register = registry.register


def _check_factor(name: str, value: float) -> float:
    if not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)


@register("l1l2", "elastic_net")
class L1L2(Regularizer):
    """l1·Σ|w| + l2·Σw²."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _check_factor("l1", l1)
        self.l2 = _check_factor("l2", l2)

    def penalty(self, backend, w):
        b = backend
        l1 = b.multiply(b.sum(b.abs(w)), self.l1)
        return b.add(l1, b.multiply(b.sum(b.square(w)), self.l2)) if self.l2 else l1

    def add_gradient(self, backend, w, grad):
        if self.l1:
            backend.add(grad, backend.multiply(backend.sign(w), self.l1), out=grad)
        if self.l2:
            backend.add(grad, backend.multiply(w, 2.0 * self.l2), out=grad)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


@register("l1")
class L1(L1L2):
    """l1·Σ|w| (Keras's default l1 = 0.01)."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


@register("l2")
class L2(L1L2):
    """l2·Σw² (Keras's default l2 = 0.01)."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def get(identifier: Any) -> Regularizer | None:
    """A regularizer from None (none), a name, a config dict, a class or an instance (returned as is).

    Args:
        identifier: ``None``, ``"l2"`` (Keras's default factor 0.01; names are
            case-insensitive), ``{"class_name": "L1L2", "config": {...}}``, a
            Regularizer subclass or instance.

    Returns:
        The :class:`Regularizer`, or None for None.

    >>> sn.regularizers.get("l1")
    L1(l1=0.01)
    """
    return registry.get(identifier)


def serialize(regularizer: Regularizer | None) -> dict | None:
    """``{"class_name": ..., "config": ...}`` (None for None): the JSON form :func:`get` reads back.

    >>> sn.regularizers.serialize(sn.regularizers.L2(1e-4))
    {'class_name': 'L2', 'config': {'l2': 0.0001}}
    """
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
