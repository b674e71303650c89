"""Name → class registries, so that every string alias and every config is plain data.

Each kind of object (layers, losses, optimizers, metrics, activations,
initializers, regularizers, schedules) has one :class:`Registry`. ``get``
accepts what Keras's ``get`` functions accept::

    losses.get(None)                                  # -> None
    losses.get("MSE")                                 # name, case-insensitive
    losses.get({"class_name": "Huber", "config": {"delta": 2.0}})
    losses.get(losses.Huber(delta=2.0))               # an instance, returned as is

Custom classes register themselves with the decorator and then round-trip
through ``get_config`` / ``from_config`` like built-in ones::

    @seqnn.layers.register("MyLayer")
    class MyLayer(seqnn.layers.Layer): ...
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import types
from typing import Any, Callable, Iterator

from .errors import UnknownNameError

# Every Registry, so that custom_object_scope can offer a custom object to each kind.
_ALL: list["Registry"] = []


def _key(name: str) -> str:
    # "SparseCategoricalCrossentropy", "sparse_categorical_crossentropy" and
    # "sparsecategoricalcrossentropy" are one name.
    return name.replace("_", "").replace("-", "").lower()


class Registry:
    """A case-insensitive map from names to factories for one kind of object."""

    def __init__(self, kind: str, base: type | None = None, wrap_function: Callable | None = None):
        """``wrap_function(fn)``, when given, turns a plain function into an instance (metric functions)."""
        self.kind = kind
        self.base = base
        self.wrap_function = wrap_function
        self._entries: dict[str, Callable] = {}
        self._aliases: dict[str, dict[str, Any]] = {}
        self._display: dict[str, str] = {}
        _ALL.append(self)

    def accepts(self, obj: Any) -> bool:
        """Whether ``obj`` can stand for a name of this kind: a subclass of the base, or a function where
        the kind wraps functions (a metric ``fn(y_true, y_pred)``)."""
        if isinstance(obj, type):
            return self.base is None or issubclass(obj, self.base)
        return self.wrap_function is not None and _is_target_function(obj)

    def register(self, *names: str, **defaults: Any) -> Callable:
        """Class decorator: register under the class name and every alias in ``names``.

        ``defaults`` are constructor arguments bound to the aliases only, e.g.
        ``register("leaky_relu", negative_slope=0.2)``.
        """

        def decorate(cls):
            # Aliases first: the first name given for a key is the one listed in errors.
            for name in (*names, cls.__name__):
                self.add(name, cls, **(defaults if name in names else {}))
            return cls

        return decorate

    def add(self, name: str, factory: Callable, **defaults: Any) -> None:
        self._entries[_key(name)] = factory
        self._aliases[_key(name)] = defaults
        self._display.setdefault(_key(name), name)

    def _scoped(self) -> dict[str, tuple[str, Callable]]:
        """This kind's custom objects in the current :func:`custom_object_scope` (key → (name, factory))."""
        return (_SCOPE.get() or {}).get(id(self), {})

    def names(self) -> list[str]:
        names = set(self._display.values()) | {name for name, _ in self._scoped().values()}
        return sorted(names, key=str.lower)

    def __contains__(self, name: str) -> bool:
        return isinstance(name, str) and (_key(name) in self._scoped() or _key(name) in self._entries)

    def lookup(self, name: str) -> Callable:
        """The registered factory for ``name``; raises with the known names listed.

        Inside a :func:`custom_object_scope`, its objects come first, as in Keras.
        """
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} name must be a string, got {type(name).__name__}: {name!r}")
        scoped = self._scoped().get(_key(name))
        if scoped is not None:
            return scoped[1]
        try:
            return self._entries[_key(name)]
        except KeyError:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; known {self.kind} names: {', '.join(self.names())}"
            ) from None

    def create(self, name: str, **kwargs: Any) -> Any:
        factory = self.lookup(name)
        defaults = {} if _key(name) in self._scoped() else self._aliases[_key(name)]
        return factory(**{**defaults, **kwargs})

    def from_config(self, config: dict) -> Any:
        if not isinstance(config, dict) or "class_name" not in config:
            raise TypeError(
                f"{self.kind} config must be a dict with 'class_name' and 'config' keys, got {config!r}"
            )
        cls = self.lookup(config["class_name"])
        inner = config.get("config", {}) or {}
        if not isinstance(inner, dict):
            raise TypeError(f"{self.kind} {config['class_name']!r}: 'config' must be a dict of arguments, "
                            f"got {type(inner).__name__}")
        if hasattr(cls, "from_config"):
            return cls.from_config(inner)
        return cls(**inner)

    def get(self, identifier: Any) -> Any:
        """Resolve None, a name, a config dict or an instance to an instance (or None)."""
        if identifier is None:
            return None
        if isinstance(identifier, str):
            return self.create(identifier)
        if isinstance(identifier, dict):
            return self.from_config(identifier)
        if self.base is not None and not isinstance(identifier, self.base):
            if isinstance(identifier, type) and issubclass(identifier, self.base):
                return identifier()
            if self.wrap_function is not None and callable(identifier) and not isinstance(identifier, type):
                return self.wrap_function(identifier)
            raise TypeError(
                f"expected a {self.kind} name, config dict or {self.base.__name__} instance, "
                f"got {type(identifier).__name__}: {identifier!r}"
            )
        return identifier


def all_registries() -> list["Registry"]:
    """Every kind's registry (layers, losses, metrics, ...)."""
    return list(_ALL)


# The custom objects in force: id(registry) → {key: (name, factory)}. A context variable, so a scope
# holds for the code inside the ``with`` (in this thread or task) and never for a load running beside it.
_SCOPE: contextvars.ContextVar[dict[int, dict[str, tuple[str, Callable]]] | None] = contextvars.ContextVar(
    "seqnn_custom_objects", default=None)


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict[str, Any] | None) -> Iterator[None]:
    """Make ``{name: class}`` known to every registry that accepts it, inside the ``with`` only.

    ``load_model(path, custom_objects=...)`` uses it, so the names a file
    refers to resolve while it loads and nowhere else: not after the load,
    and not in another thread loading at the same time (Keras's
    ``custom_object_scope``). Scopes nest; the inner one wins.

    Only classes of a registered kind are accepted (a subclass of Layer,
    Loss, Metric, Optimizer, ...), and plain Python functions
    ``fn(y_true, y_pred)`` as metrics: nothing else can be reached by a name
    in a file.
    """
    if custom_objects is None:
        yield
        return
    if not isinstance(custom_objects, dict):
        raise TypeError(f"custom_objects must be a dict {{name: class}}, got {type(custom_objects).__name__}: "
                        f"{custom_objects!r}")
    scope = {registry_id: dict(entries) for registry_id, entries in (_SCOPE.get() or {}).items()}
    for name, obj in custom_objects.items():
        targets = [registry for registry in _ALL if registry.accepts(obj)]
        if not isinstance(name, str) or not name or not targets:
            kinds = sorted({r.base.__name__ for r in _ALL if r.base is not None})
            raise TypeError(f"custom_objects[{name!r}]: expected a name (str) mapped to a subclass of a seqnn "
                            f"{', '.join(kinds[:-1])} or {kinds[-1]}, or a metric function fn(y_true, y_pred), "
                            f"got {_describe(obj)}")
        for registry in targets:
            wrap = registry.wrap_function
            factory = obj if wrap is None or isinstance(obj, type) else functools.partial(wrap, obj)
            scope.setdefault(id(registry), {})[_key(name)] = (name, factory)
    token = _SCOPE.set(scope)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def _is_target_function(obj: Any) -> bool:
    """A plain Python function callable as ``fn(y_true, y_pred)``, with no ``*args`` to soak up more."""
    if not isinstance(obj, types.FunctionType):
        return False  # builtins, classes, partials and other callables: not what a metric function is
    params = list(inspect.signature(obj).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in params) or len(positional) < 2:
        return False
    return all(p.default is not p.empty for p in positional[2:])


def _describe(obj: Any) -> str:
    if isinstance(obj, type):
        return f"class {obj.__module__}.{obj.__qualname__}"
    if callable(obj):
        return f"{type(obj).__name__} {getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)!s}"
    return f"{type(obj).__name__}: {obj!r}"


class Configurable:
    """Objects described by their constructor arguments: ``get_config()`` returns them,
    ``from_config(config)`` calls the constructor with them, and ``repr`` shows them."""

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def serialize(obj: Any) -> dict:
    """``{"class_name": ..., "config": ...}`` for an object with ``get_config``."""
    return {"class_name": type(obj).__name__, "config": obj.get_config()}
