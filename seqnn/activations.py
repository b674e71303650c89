"""Activation functions as small objects: a forward rule, a backward rule, a config.

Layers take them by name (``Dense(64, activation="relu")``) or as objects
(``activation=activations.LeakyReLU(0.1)``). Each calls its backend ops, so it
runs on every backend. Called directly on a numpy array, an activation runs on
the numpy backend, as ``keras.activations.relu(x)`` does::

    >>> import numpy as np, seqnn as sn
    >>> sn.activations.get("relu")(np.array([-1.0, 2.0]))
    array([0., 2.])

``needs_input`` tells a layer whether the backward rule needs the
pre-activation x; when it does not, the layer applies the activation in place.
"""
from __future__ import annotations

from typing import Any

from .argument_checks import check_bool, check_number
from .registry import Configurable, Registry


class Activation(Configurable):
    """Base class: y = f(x) and dx = f'(x) * dy."""

    needs_input = False  # backward uses x (else only y)
    name = "activation"

    def forward(self, backend, x, out=None):
        raise NotImplementedError

    def backward(self, backend, dy, x, y, out=None):
        raise NotImplementedError

    def serialize(self) -> Any:
        """A plain name when there are no arguments, else a class/config dict."""
        config = self.get_config()
        return self.name if not config else {"class_name": type(self).__name__, "config": config}

    def __call__(self, x):
        import numpy as np

        from . import backends

        return self.forward(backends.get("numpy"), np.asarray(x))



registry = Registry("activation", base=Activation)
register = registry.register


@register("linear", "identity")
class Linear(Activation):
    """f(x) = x. Forward returns x itself and backward returns dy itself."""

    name = "linear"

    def forward(self, backend, x, out=None):
        return x if out is None else backend.copy_into(out, x)

    def backward(self, backend, dy, x, y, out=None):
        return dy if out is None else backend.copy_into(out, dy)


@register("relu")
class ReLU(Activation):
    """f(x) = max(x, 0); f'(x) = 1 for x > 0 else 0 (0 at x = 0, as Keras and PyTorch)."""

    name = "relu"

    def forward(self, backend, x, out=None):
        return backend.relu(x, out=out)

    def backward(self, backend, dy, x, y, out=None):
        return backend.relu_backward(dy, x, y, out=out)


@register("leaky_relu")
class LeakyReLU(Activation):
    """f(x) = x for x > 0 else negative_slope·x (Keras's default slope 0.2)."""

    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.2):
        self.negative_slope = check_number(negative_slope, "LeakyReLU", "negative_slope", 0.0, 1.0)

    def forward(self, backend, x, out=None):
        return backend.leaky_relu(x, self.negative_slope, out=out)

    def backward(self, backend, dy, x, y, out=None):
        return backend.leaky_relu_backward(dy, x, y, self.negative_slope, out=out)

    def get_config(self):
        return {"negative_slope": self.negative_slope}


@register("elu")
class ELU(Activation):
    """f(x) = x for x > 0 else alpha·(eˣ − 1)."""

    name = "elu"
    scale = 1.0

    def __init__(self, alpha: float = 1.0):
        self.alpha = check_number(alpha, "ELU", "alpha", 0.0, low_open=True)

    def forward(self, backend, x, out=None):
        return backend.elu(x, self.alpha, self.scale, out=out)

    def backward(self, backend, dy, x, y, out=None):
        return backend.elu_backward(dy, x, y, self.alpha, self.scale, out=out)

    def get_config(self):
        return {"alpha": self.alpha}


@register("selu")
class SELU(ELU):
    """f(x) = λ·x for x > 0 else λ·α·(eˣ − 1), with Klambauer et al.'s α ≈ 1.6733, λ ≈ 1.0507."""

    name = "selu"
    scale = 1.0507009873554804934193349852946

    def __init__(self):
        super().__init__(alpha=1.6732632423543772848170429916717)

    def get_config(self):
        return {}


@register("gelu")
class GELU(Activation):
    """f(x) = x·Φ(x) (exact, the default) or its tanh approximation.

    ``approximate=True`` uses 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))).
    """

    name = "gelu"
    needs_input = True

    def __init__(self, approximate: bool = False):
        self.approximate = check_bool(approximate, "GELU", "approximate")

    def forward(self, backend, x, out=None):
        return backend.gelu(x, self.approximate, out=out)

    def backward(self, backend, dy, x, y, out=None):
        return backend.gelu_backward(dy, x, y, self.approximate, out=out)

    def get_config(self):
        return {"approximate": self.approximate} if self.approximate else {}


@register("sigmoid")
class Sigmoid(Activation):
    """f(x) = 1 / (1 + e⁻ˣ); f' = y(1 − y)."""

    name = "sigmoid"

    def forward(self, backend, x, out=None):
        return backend.sigmoid(x, out=out)

    def backward(self, backend, dy, x, y, out=None):
        return backend.sigmoid_backward(dy, x, y, out=out)


@register("tanh")
class Tanh(Activation):
    """f(x) = tanh(x); f' = 1 − y²."""

    name = "tanh"

    def forward(self, backend, x, out=None):
        return backend.tanh(x, out=out)

    def backward(self, backend, dy, x, y, out=None):
        return backend.tanh_backward(dy, x, y, out=out)


@register("softplus")
class Softplus(Activation):
    """f(x) = log(1 + eˣ); f' = sigmoid(x)."""

    name = "softplus"
    needs_input = True

    def forward(self, backend, x, out=None):
        return backend.softplus(x, out=out)

    def backward(self, backend, dy, x, y, out=None):
        return backend.softplus_backward(dy, x, y, out=out)


@register("silu", "swish")
class SiLU(Activation):
    """f(x) = x·sigmoid(x) (also called swish)."""

    name = "silu"
    needs_input = True

    def forward(self, backend, x, out=None):
        return backend.silu(x, out=out)

    def backward(self, backend, dy, x, y, out=None):
        return backend.silu_backward(dy, x, y, out=out)


@register("softmax")
class Softmax(Activation):
    """f(x)ᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} over the last axis; dx = y ⊙ (dy − ⟨dy, y⟩)."""

    name = "softmax"

    def forward(self, backend, x, out=None):
        return backend.softmax(x, out=out)

    def backward(self, backend, dy, x, y, out=None):
        return backend.softmax_backward(dy, x, y, out=out)


def get(identifier: Any) -> Activation:
    """An Activation from None (linear), a name, a config dict or an instance."""
    if identifier is None:
        return Linear()
    return registry.get(identifier)


def serialize(activation: Activation) -> Any:
    """The activation's name when it has no arguments, else ``{"class_name": ..., "config": ...}``.

    Either form goes back through :func:`get`, as it does in a layer's config.

    >>> sn.activations.serialize(sn.activations.ReLU()), sn.activations.serialize(sn.activations.LeakyReLU(0.1))
    ('relu', {'class_name': 'LeakyReLU', 'config': {'negative_slope': 0.1}})
    """
    return activation.serialize()


# Module-level instances so ``seqnn.activations.relu(x)`` works as in Keras.
linear = Linear()
relu = ReLU()
elu = ELU()
selu = SELU()
gelu = GELU()
sigmoid = Sigmoid()
tanh = Tanh()
softplus = Softplus()
silu = swish = SiLU()
softmax = Softmax()
leaky_relu = LeakyReLU()

