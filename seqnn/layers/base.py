"""The Layer base class: parameters, build, forward/backward, config.

A layer computes ``y = forward(x, training)`` and, given the gradient of the
loss with respect to y, ``dx = backward(dy)``; ``backward`` also fills
``layer.grads`` with the gradient of each trainable parameter. It never
updates weights (the optimizer does). Layers call backend ops only, so one
implementation runs on every backend.

Writing a layer::

    @seqnn.layers.register()
    class Scale(seqnn.layers.Layer):
        def build(self, input_shape):
            self.add_weight("scale", (input_shape[-1],), initializer="ones")

        def forward(self, x, training=False):
            self.x = x
            return self.backend.multiply(x, self.params["scale"])

        def backward(self, dy, need_input_grad=True):
            b = self.backend
            b.bias_grad(b.multiply(dy, self.x), out=self.grads["scale"])
            return b.multiply(dy, self.params["scale"]) if need_input_grad else None

Shapes passed to ``build`` and ``compute_output_shape`` include the batch
dimension as ``None``, as in Keras.
"""
from __future__ import annotations

import functools
import inspect
import re
from typing import Any, Sequence

import numpy as np

from .. import initializers, regularizers
from ..argument_checks import check_bool, check_name
from ..errors import UserInputError
from ..float_errors import ignores_underflow
from ..naming import snake_case, unique_name
from ..registry import Registry
from .shape_args import sample_shape
from . import unallocated

Shape = tuple  # (None, d1, d2, ...)



class Layer:
    """Base class of every layer.

    The arguments below are accepted by every layer (after its own); a custom
    layer passes them on with ``super().__init__(**kwargs)``; writing one is
    shown in the layers guide (``build``, ``forward``, ``backward``).

    Args:
        name: the layer's name, unique within a model; by default the class
            name in snake case with a number that keeps it unique in the
            process (``dense``, ``dense_1``, ...).
        trainable: False freezes the layer's weights (the optimizer skips them).
        input_shape: Keras's shortcut for a first layer: one sample's shape,
            as if an ``Input(input_shape)`` came before it.
        dtype: accepted for Keras compatibility; the model's ``compile(dtype=...)``
            decides the dtype.
        input_dim: Keras 2's ``input_shape=(input_dim,)``.
    """

    #: Whether ``backward`` hands the batch sums of its weight gradients to :attr:`exact_sums` when that is
    #: set (Dense does): data-parallel training then computes them in float64 and rounds them once, so
    #: that N processes and one process get the same float32 gradient (seqnn.distribute.exact_sums).
    supports_exact_sums = False
    #: Set on such layers during a data-parallel fit with exact sums; None otherwise (the backend's ops).
    exact_sums = None

    def __init__(self, name: str | None = None, trainable: bool = True,
                 input_shape: Sequence[int] | None = None, dtype: Any = None, input_dim: int | None = None):
        self.name = check_name(name, type(self).__name__) or unique_name(self.default_name())
        self.trainable = check_bool(trainable, type(self).__name__, "trainable")
        # Keras's ``Dense(32, input_shape=(784,))`` shortcut for a first layer; Keras 2's
        # ``input_dim=784`` means the same.
        if input_dim is not None:
            if input_shape is not None:
                raise ValueError(f"{type(self).__name__}: pass input_shape or input_dim, not both")
            if isinstance(input_dim, bool) or not isinstance(input_dim, int) or input_dim <= 0:
                raise ValueError(f"{type(self).__name__}: input_dim must be a positive integer, got {input_dim!r}")
            input_shape = (input_dim,)
        self.input_shape_hint = None if input_shape is None else sample_shape(input_shape, type(self).__name__,
                                                                              "input_shape")
        self.dtype_policy = dtype
        self.built = False
        self.backend = None
        self.dtype = None
        self.input_shape: Shape | None = None
        self.output_shape: Shape | None = None
        self.params: dict[str, Any] = {}
        self.grads: dict[str, Any] = {}
        self.param_regularizers: dict[str, regularizers.Regularizer] = {}
        self._workspace: dict[str, Any] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _standalone_build(cls.__dict__["build"])
        if "__init__" in cls.__dict__:
            cls.__init__ = _naming_unknown_keywords(cls.__dict__["__init__"])

    # ------------------------------------------------------------ building ---
    def build(self, input_shape: Shape) -> None:
        """Create parameters with :meth:`add_weight`. Default: none.

        Called directly (``layer.build((None, 784))``, as Keras code does), a
        layer builds itself on the numpy backend in float32.
        """

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Output shape for an input shape (batch dimension None). Default: unchanged."""
        return input_shape

    def build_for(self, input_shape: Shape, backend, dtype: str) -> Shape:
        """Allocate on ``backend`` for ``input_shape``; returns the output shape."""
        input_shape = (None, *tuple(input_shape)[1:])
        self.backend, self.dtype = backend, np.dtype(dtype).name
        self.params, self.grads, self._workspace = {}, {}, {}
        self.input_shape = input_shape
        self.output_shape = tuple(self.compute_output_shape(input_shape))
        self.build(input_shape)
        self.built = True
        return self.output_shape

    def _unbuild(self) -> None:
        """Forget a build (parameters, shapes, backend), as if ``build_for`` had never run.

        A model calls it when a call that built it is then refused, so that the
        model stays as it was (see ``seqnn.models.build_rollback``).
        """
        self.built = False
        self.backend = self.dtype = None
        self.input_shape = self.output_shape = None
        self.params, self.grads, self._workspace = {}, {}, {}
        self.param_regularizers = {}

    def add_weight(self, name: str, shape: Sequence[int], initializer: Any = "zeros",
                   regularizer: Any = None, trainable: bool = True):
        """Create a parameter on the layer's backend and return it."""
        if name in self.params:
            raise ValueError(f"layer {self.name!r} already has a weight named {name!r}")
        if unallocated.active():  # a loader fills it from its file (see seqnn.layers.unallocated)
            initializers.get(initializer)  # a bad initializer name is still refused
            self.params[name] = unallocated.Unallocated(shape, self.dtype)
            if trainable:
                self.grads[name] = self.params[name]
        else:
            value = initializers.get(initializer)(tuple(shape), dtype=self.dtype)
            self.params[name] = self.backend.asarray(value, self.dtype)
            if trainable:
                self.grads[name] = self.backend.zeros(tuple(shape), self.dtype)
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            self.param_regularizers[name] = regularizer
        return self.params[name]

    def move_to(self, backend, dtype: str) -> None:
        """Re-home the parameters on another backend and/or dtype, keeping their values."""
        dtype = np.dtype(dtype).name
        old = self.backend
        self.params = {k: unallocated.Unallocated(v.shape, dtype) if isinstance(v, unallocated.Unallocated)
                       else backend.asarray(old.to_numpy(v), dtype) for k, v in self.params.items()}
        self.grads = {k: self.params[k] if isinstance(self.params[k], unallocated.Unallocated)
                      else backend.zeros(self.params[k].shape, dtype) for k in self.grads}
        self.backend, self.dtype, self._workspace = backend, dtype, {}

    def fill_weight(self, key: str, value: Any) -> None:
        """Give weight ``key`` the values of ``value`` (same shape), allocating it if it was unallocated.

        Loaders call it for every weight of a layer built inside
        :func:`seqnn.layers.unallocated.shapes_only`.
        """
        param = self.params[key]
        value = np.asarray(value)
        if tuple(value.shape) != tuple(param.shape):
            raise ValueError(f"layer {self.name!r} weight {key!r}: expected shape {tuple(param.shape)}, "
                             f"got {tuple(value.shape)}")
        if isinstance(param, unallocated.Unallocated):
            # A copy: loaders pass read-only views of the file's bytes, and weights are updated in place.
            self.params[key] = self.backend.asarray(np.array(value, dtype=self.dtype), self.dtype)
            if key in self.grads:
                self.grads[key] = self.backend.zeros(tuple(param.shape), self.dtype)
        else:
            self.backend.copy_into(param, value.astype(self.dtype, copy=False))

    # ------------------------------------------------------------- compute ---
    def forward(self, x, training: bool = False):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def backward(self, dy, need_input_grad: bool = True):
        """Fill ``self.grads`` and return dL/dx (None when not needed). May overwrite dy."""
        raise NotImplementedError(f"{type(self).__name__} does not implement backward()")

    @ignores_underflow
    def __call__(self, x, training: bool = False):
        """Run the layer alone on host data (builds on the numpy backend if needed)."""
        from .. import backends

        x = np.asarray(x)
        if not self.built:
            dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
            self.build_for((None, *x.shape[1:]), backends.get("numpy"), dtype)
        # Alone, a layer computes all of itself, even where a compiled model hands a step to a neighbour.
        self._calling_alone = True
        try:
            y = self.forward(self.backend.asarray(x, self.dtype), training=training)
        finally:
            self._calling_alone = False
        return np.array(self.backend.to_numpy(y))

    # --------------------------------------------------------- parameters ---
    @property
    def trainable_names(self) -> list[str]:
        return list(self.grads) if self.trainable else []

    @property
    def weights(self) -> list:
        """Parameters in creation order (Keras's order: kernel, bias, ...)."""
        return list(self.params.values())

    def get_weights(self) -> list[np.ndarray]:
        return [np.array(self.backend.to_numpy(v)) for v in self.params.values()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        weights = list(weights)
        if len(weights) != len(self.params):
            raise ValueError(f"layer {self.name!r} expects {len(self.params)} weight arrays "
                             f"({', '.join(self.params)}), got {len(weights)}")
        for (key, param), value in zip(self.params.items(), weights):
            value = np.asarray(value)
            if tuple(value.shape) != tuple(param.shape):
                raise ValueError(f"layer {self.name!r} weight {key!r}: expected shape "
                                 f"{tuple(param.shape)}, got {tuple(value.shape)}")
            self.backend.copy_into(param, value.astype(self.dtype, copy=False))

    def count_params(self) -> int:
        return int(sum(int(np.prod(v.shape)) for v in self.params.values()))

    def regularization_penalty(self):
        """Σ of the weights' penalties, a 0-d array of the layer's backend."""
        b = self.backend
        total = b.zeros((), self.dtype)  # 0 for a layer without regularizers
        for key, reg in self.param_regularizers.items():
            total = b.add(total, reg.penalty(b, self.params[key]))
        return total

    def add_regularization_gradients(self) -> None:
        for key, reg in self.param_regularizers.items():
            if key in self.grads:
                reg.add_gradient(self.backend, self.params[key], self.grads[key])

    # ---------------------------------------------------------- workspace ---
    def buffer(self, key: str, shape: Sequence[int], dtype: str | None = None):
        """A scratch array of ``shape`` (and ``dtype``, default the layer's) reused across batches.

        Buffers are sized for the largest batch seen and a smaller batch gets a
        view of the leading rows, so the last short batch of an epoch costs no
        allocation. A buffer's contents live until the next call with the key.
        Backend ops that need working memory take this method as ``scratch``.
        """
        buf = self._workspace.get(key)
        # The common case first, as cheaply as it can be checked: this runs for every layer at every step.
        if buf is not None and dtype is None and buf.shape == shape and buf.dtype == self.dtype:
            return buf
        shape = tuple(int(d) for d in shape)
        dtype = self.dtype if dtype is None else np.dtype(dtype).name
        if buf is None or buf.shape[1:] != shape[1:] or buf.shape[0] < shape[0] or buf.dtype != dtype:
            buf = self.backend.empty(shape, dtype)
            self._workspace[key] = buf
        return buf if buf.shape[0] == shape[0] else buf[: shape[0]]

    # ----------------------------------- fusing with the loss or a neighbour ---
    _calling_alone = False

    @property
    def output_activation(self):
        """The activation applied last by this layer, if any (see Sequential.compile)."""
        return None

    def defer_output_activation(self, defer: bool) -> None:
        """Skip the output activation in forward (the loss applies it, fused)."""
        raise TypeError(f"{type(self).__name__} has no output activation to defer")

    # -------------------------------------------------------------- config ---
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable}
        if self.input_shape_hint is not None:
            config["input_shape"] = list(self.input_shape_hint)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def default_name(self) -> str:
        return snake_case(type(self).__name__)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class UnknownArgumentError(UserInputError, TypeError):
    """A layer constructor got a keyword argument that it does not take."""


def _naming_unknown_keywords(init):
    """``__init__`` whose TypeError for an unknown keyword names the layer and the arguments it takes.

    A layer passes its ``**kwargs`` on to ``Layer.__init__``, so Python's own
    message would blame ``Layer.__init__()`` for ``Dense(3, unit=3)``.
    """

    @functools.wraps(init)  # keeps the signature (inspect follows __wrapped__)
    def init_naming_unknown_keywords(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except UnknownArgumentError:
            raise
        except TypeError as e:
            match = re.search(r"got an unexpected keyword argument '(\w+)'", str(e))
            if match is None:
                raise
            owner = type(self).__name__
            raise UnknownArgumentError(f"{owner}() got an unexpected keyword argument {match.group(1)!r}; "
                                       f"{owner} takes {', '.join(_keywords(type(self)))}") from None

    return init_naming_unknown_keywords


def _keywords(cls: type) -> list[str]:
    """The keyword arguments of ``cls(...)``, following ``**kwargs`` up to the base classes."""
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        parameters = list(inspect.signature(init).parameters.values())[1:]
        names += [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                  and p.name not in names]
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            break
    return names


def _standalone_build(build):
    """``build`` that, called on a layer no model or ``build_for`` has placed yet, places it first."""

    @functools.wraps(build)
    def build_or_place(self, *args, **kwargs):
        if getattr(self, "backend", None) is None and args:
            from .. import backends

            self.build_for(args[0], backends.get("numpy"), "float32")  # calls build_or_place again, placed
            return None
        return build(self, *args, **kwargs)

    return build_or_place


Layer.__init__ = _naming_unknown_keywords(Layer.__init__)  # Flatten(...) and other layers without their own


registry = Registry("layer", base=Layer)


def register(*names: str):
    """Class decorator registering a (custom) layer by its class name and aliases."""
    return registry.register(*names)


def get(identifier: Any) -> Layer:
    """A layer from a config dict, a class or an instance (returned as is).

    Args:
        identifier: ``{"class_name": "Dense", "config": {"units": 8}}`` (what
            :func:`serialize` writes; class names are case-insensitive), a
            Layer subclass (built with its defaults) or a Layer instance.

    Returns:
        The :class:`Layer`.

    Raises:
        ValueError: an unknown class name (the message lists the known ones).

    >>> layer = sn.layers.get({"class_name": "Dense", "config": {"units": 8, "activation": "relu"}})
    >>> type(layer).__name__, layer.units
    ('Dense', 8)
    """
    return registry.get(identifier)


def serialize(layer: Layer) -> dict:
    """``{"class_name": ..., "config": layer.get_config()}``: the plain-JSON form :func:`get` reads back.

    >>> sn.layers.serialize(sn.layers.Flatten(name="flat"))
    {'class_name': 'Flatten', 'config': {'name': 'flat', 'trainable': True}}
    """
    return {"class_name": type(layer).__name__, "config": layer.get_config()}
