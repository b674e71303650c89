"""Layers that apply an activation: Activation and one class per common function."""
from __future__ import annotations

import inspect
from typing import Any

from .. import activations
from .activated import ActivatedLayer
from .base import Layer, register


class _ActivationLayer(ActivatedLayer, Layer):
    """y = act(x), elementwise (softmax: over the last axis)."""

    def forward(self, x, training=False):
        # Never write into x: it may be the previous layer's output, still needed
        # by that layer's backward, or the caller's batch.
        z = self.backend.copy_into(self.buffer("z", x.shape), x)
        return self.activate(z)

    def backward(self, dy, need_input_grad=True):
        return self.activation_backward(dy) if need_input_grad else None


@register()
class Activation(_ActivationLayer):
    """Applies an activation given by name or object: ``Activation("tanh")``."""

    def __init__(self, activation: Any, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation.serialize()}


def _fixed(cls_name: str, act_factory, doc: str, **arg_defaults):
    """A layer class for one activation, with its arguments as constructor arguments."""

    def __init__(self, *args, **kwargs):
        values = dict(zip(arg_defaults, args))
        for key in arg_defaults:
            if key in kwargs:
                values[key] = kwargs.pop(key)
        self._args = {k: values.get(k, d) for k, d in arg_defaults.items()}
        Layer.__init__(self, **kwargs)
        self.activation = act_factory(**self._args)

    def get_config(self):
        return {**Layer.get_config(self), **self._args}

    # The arguments are mapped by hand (positional too, as Keras takes them); the signature says which.
    __init__.__signature__ = inspect.Signature([
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *(inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d) for k, d in arg_defaults.items()),
        inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)])
    cls = type(cls_name, (_ActivationLayer,), {"__init__": __init__, "get_config": get_config,
                                               "__doc__": doc, "__module__": __name__})
    return register()(cls)


def _relu(negative_slope):
    return activations.LeakyReLU(negative_slope) if negative_slope else activations.ReLU()


ReLU = _fixed("ReLU", _relu, "max(x, 0); with ``negative_slope`` > 0, leaky.", negative_slope=0.0)
LeakyReLU = _fixed("LeakyReLU", activations.LeakyReLU,
                   "x for x > 0 else negative_slope·x (Keras's layer default 0.3).", negative_slope=0.3)
ELU = _fixed("ELU", activations.ELU, "x for x > 0 else alpha·(eˣ − 1).", alpha=1.0)
SELU = _fixed("SELU", activations.SELU, "Scaled ELU (Klambauer et al., 2017).")
GELU = _fixed("GELU", activations.GELU, "x·Φ(x); ``approximate=True`` for the tanh form.",
              approximate=False)
Sigmoid = _fixed("Sigmoid", activations.Sigmoid, "1 / (1 + e⁻ˣ).")
Tanh = _fixed("Tanh", activations.Tanh, "tanh(x).")


def _softmax(axis):
    if axis != -1:
        raise ValueError(f"Softmax supports axis=-1 (the last axis) only, got axis={axis!r}")
    return activations.Softmax()


Softmax = _fixed("Softmax", _softmax, "Softmax over the last axis.", axis=-1)
