"""The Loss base class: reduction, sample weights, forward/backward.

A loss maps predictions and targets to one number per sample (its mean over
the output features), then reduces over the batch. Reductions follow Keras:

* ``"sum_over_batch_size"`` (default): Σᵢ wᵢ·ℓᵢ / N, with N the batch size
  (not Σwᵢ), so a zero weight removes a sample without rescaling the others;
* ``"sum"``: Σᵢ wᵢ·ℓᵢ;
* ``"none"``: the per-sample losses (for direct calls; training needs a scalar).

Training calls ``forward(y_pred, y_true, sample_weight)`` on backend arrays,
then ``backward()`` for dL/dy_pred. Calling the loss like Keras,
``loss(y_true, y_pred)``, runs it on host data and returns a float.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import numpy as np

from ..argument_checks import check_name
from ..float_errors import ignores_underflow
from ..naming import snake_case
from ..registry import Configurable, Registry

REDUCTIONS = ("sum_over_batch_size", "sum", "none")


class Loss(Configurable):
    """Base class. Subclasses implement ``per_sample`` and ``per_sample_backward``.

    Args:
        reduction: how the per-sample losses become one number, as in Keras:
            ``"sum_over_batch_size"`` (the mean over the batch, sample weights
            included; the default), ``"sum"``, or ``"none"`` (one value per
            sample, for calling the loss directly).
        name: the loss's name (default: Keras's name for the class).
    """

    #: labels are integer class indices (SparseCategoricalCrossentropy)
    sparse_targets = False
    #: the activation name this loss can absorb when the model ends in it (see with_logits)
    fusable_activation: str | None = None
    #: the name an instance gets when none is given (Keras's); None: the class name in snake case
    default_name: str | None = None
    #: the N that "sum_over_batch_size" divides by; None: the rows given to forward. Data-parallel
    #: training with exact sums sets it, for each step, to the global batch's rows
    #: (seqnn.distribute.exact_sums): each process's rows then get the weight 1/N that one process
    #: gives them, not 1/Nᵣ and later Nᵣ/N, which would round differently
    batch_rows: int | None = None

    def __init__(self, reduction: str = "sum_over_batch_size", name: str | None = None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")
        self.reduction = reduction
        self.name = check_name(name, type(self).__name__) or self.default_name or snake_case(type(self).__name__)
        self.backend = None

    # ---------------------------------------------------------- subclass API ---
    def per_sample(self, y_pred, y_true):
        """ℓ of shape [N] (backend array) for a batch; keep what backward needs."""
        raise NotImplementedError

    def per_sample_backward(self, weights):
        """Σᵢ weights[i]·∂ℓᵢ/∂y_pred, a backend array shaped like y_pred."""
        raise NotImplementedError

    def validate_targets(self, y_true: np.ndarray, output_shape: tuple) -> np.ndarray:
        """Check host targets against the model's output shape (batch dim None).

        Returns the targets reshaped as the loss wants them; raises ValueError
        naming the problem. The default wants y_true shaped like the output,
        allowing (N,) for an output of (N, 1).
        """
        y = np.asarray(y_true)
        want = tuple(output_shape[1:])
        if y.ndim == 1 and want == (1,):
            y = y.reshape(-1, 1)
        if tuple(y.shape[1:]) != want:
            raise ValueError(f"y: expected targets of shape (n, {', '.join(map(str, want))}) to match the "
                             f"model output, got shape {tuple(y.shape)}")
        return y

    def target_dtype(self, dtype: str) -> str:
        return "int64" if self.sparse_targets else dtype

    def weigh_rows(self, grad, weights, factor: float = 1.0):
        """``grad`` with sample i's entries times ``weights[i]·factor``, in place (per_sample_backward's last step)."""
        b = self.backend
        w = b.multiply(weights, factor).reshape(-1, *([1] * (grad.ndim - 1)))
        return b.multiply(grad, w, out=grad)

    # ----------------------------------------------------------- training API ---
    def forward(self, y_pred, y_true, sample_weight=None):
        """Reduced loss (a 0-d backend array) for backend arrays; keeps what :meth:`backward` needs."""
        if self.backend is None:
            raise RuntimeError("loss.bind(backend) must be called before forward()")
        b = self.backend
        losses = self.per_sample(y_pred, y_true)
        n = losses.shape[0]
        if self.reduction == "none":
            self._weights = None
            return losses
        scale = 1.0 / (self.batch_rows or n) if self.reduction == "sum_over_batch_size" else 1.0
        if sample_weight is None:
            self._weights = b.full((n,), scale, losses.dtype)
            return b.multiply(b.sum(losses), scale)
        self._weights = b.multiply(sample_weight, scale)
        return b.multiply(b.sum(b.multiply(losses, sample_weight)), scale)

    def backward(self):
        if self._weights is None:
            raise ValueError("backward() needs a reduced loss; this loss has reduction='none'")
        return self.per_sample_backward(self._weights)

    def bind(self, backend) -> "Loss":
        self.backend = backend
        return self

    # ------------------------------------------------------------ Keras API ---
    @ignores_underflow
    def __call__(self, y_true, y_pred, sample_weight=None):
        from .. import backends

        if self.backend is None:
            self.bind(backends.get("numpy"))
        b = self.backend
        y_pred = np.asarray(y_pred)
        dtype = y_pred.dtype if y_pred.dtype in (np.float32, np.float64) else np.float64
        y_true = self.validate_targets(np.asarray(y_true), (None, *y_pred.shape[1:]))
        w = None if sample_weight is None else b.asarray(np.asarray(sample_weight).reshape(-1), dtype)
        out = self.forward(b.asarray(y_pred, dtype), b.asarray(y_true, self.target_dtype(dtype)), w)
        return b.to_numpy(out) if self.reduction == "none" else b.item(out)

    # --------------------------------------------------------------- fusion ---
    def with_logits(self) -> "Loss":
        """The same loss taking logits instead of ``fusable_activation`` outputs."""
        raise TypeError(f"{type(self).__name__} has no logits form")

    # --------------------------------------------------------------- config ---
    def get_config(self) -> dict:
        return {"reduction": self.reduction, "name": self.name}




class SampleMeanLoss(Loss):
    """ℓᵢ = the mean of the values :meth:`values` gives for sample i.

    The values are one per output element (``mean(f(y_pred, y_true), axis=-1)``
    in Keras) or one per row along a feature axis (the cross-row losses: the
    cosine similarity, the categorical hinge); for outputs of rank above 2 the
    mean runs over every remaining feature axis, so that
    ``"sum_over_batch_size"`` gives Keras's number. Subclasses implement
    ``values`` (keeping what the gradient needs) and ``values_grad``:
    ∂(Σ of sample i's values)/∂y_pred, a new array shaped like y_pred that
    :meth:`per_sample_backward` scales in place.
    """

    def values(self, y_pred, y_true):
        raise NotImplementedError

    def values_grad(self):
        raise NotImplementedError

    def per_sample(self, y_pred, y_true):
        values = self.values(y_pred, y_true)
        values = values.reshape(values.shape[0], -1)
        self._count = values.shape[1]
        return self.backend.mean(values, axis=-1)

    def per_sample_backward(self, weights):
        return self.weigh_rows(self.values_grad(), weights, 1.0 / self._count)


def within(b, x, lo: float, hi: float):
    """Where lo ≤ x ≤ hi: where ``clip(x, lo, hi)`` has slope one (Keras's gradient through a clip)."""
    return b.less_equal(b.abs(b.subtract(x, 0.5 * (lo + hi))), 0.5 * (hi - lo))


registry = Registry("loss", base=Loss)
register = registry.register

#: Keras's function-style losses (``losses.mean_squared_error``, see functions.py) → the class that computes them
function_classes: dict[Callable, type[Loss]] = {}


def computed_by(cls: type[Loss]) -> Callable[[Callable], Callable]:
    """Decorator: the function's values are ``cls(reduction="none")``'s, so ``get(function)`` gives ``cls()``."""

    def decorate(fn: Callable) -> Callable:
        function_classes[fn] = cls
        return fn

    return decorate


def get(identifier: Any) -> Loss | None:
    """A loss from None, a name, a config dict, a Loss class or instance, or one of seqnn's loss functions.

    A loss function (``losses.categorical_crossentropy``, as Keras 2 scripts
    pass to ``compile``) resolves to its class with the default arguments,
    which trains with the fused gradient and saves by name. Any other
    function is refused with a TypeError: training needs ∂ℓ/∂y_pred, which
    seqnn does not derive automatically.
    """
    if inspect.isroutine(identifier) or isinstance(identifier, functools.partial):
        cls = function_classes.get(identifier)
        if cls is None:
            raise TypeError(_not_a_loss_function(identifier))
        return cls()
    return registry.get(identifier)


def _not_a_loss_function(fn: Callable) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    known = sorted({f.__name__ for f in function_classes})
    if getattr(fn, "__name__", None) in known:  # e.g. seqnn.metrics.mean_squared_error, or Keras's own
        return (f"loss: got the function {name!r} from {getattr(fn, '__module__', None)!r}, which is not "
                f"seqnn.losses.{fn.__name__}; pass seqnn.losses.{fn.__name__} (or the name {fn.__name__!r})")
    known = ", ".join(known)
    return (f"loss: got the function {name!r}, which is not one of seqnn.losses' functions. seqnn has no automatic "
            f"differentiation, so it cannot train with an arbitrary function: subclass seqnn.losses.Loss and "
            f"implement per_sample(y_pred, y_true) (each sample's loss) and per_sample_backward(weights) (its "
            f"gradient with respect to y_pred). Expected a loss name (e.g. 'mse'), a config dict, a Loss class or "
            f"instance, or one of seqnn.losses' functions: {known}")


def serialize(loss: Loss) -> dict:
    """``{"class_name": ..., "config": ...}``: the plain-JSON form :func:`get` reads back.

    >>> sn.losses.serialize(sn.losses.Huber(delta=2.0))["class_name"]
    'Huber'
    """
    return {"class_name": type(loss).__name__, "config": loss.get_config()}
