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
import functools
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
        """Whether ``obj`` (a class or a function) can be registered here."""
        if isinstance(obj, type):
            return self.base is None or issubclass(obj, self.base)
        return callable(obj) and (self.base is None or self.wrap_function is not None)

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

    def names(self) -> list[str]:
        return sorted(self._display.values(), key=str.lower)

    def __contains__(self, name: str) -> bool:
        return isinstance(name, str) and _key(name) in self._entries

    def lookup(self, name: str) -> Callable:
        """The registered factory for ``name``; raises with the known names listed."""
        try:
            return self._entries[_key(name)]
        except KeyError:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; known {self.kind} names: {', '.join(self.names())}"
            ) from None

    def create(self, name: str, **kwargs: Any) -> Any:
        factory = self.lookup(name)
        return factory(**{**self._aliases[_key(name)], **kwargs})

    def from_config(self, config: dict) -> Any:
        if not isinstance(config, dict) or "class_name" not in config:
            raise TypeError(
                f"{self.kind} config must be a dict with 'class_name' and 'config' keys, got {config!r}"
            )
        cls = self.lookup(config["class_name"])
        inner = config.get("config", {}) or {}
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


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict[str, Any] | None) -> Iterator[None]:
    """Make ``{name: class}`` known to every registry that accepts it, inside the ``with`` only.

    ``load_model(path, custom_objects=...)`` uses it, so the names a file
    refers to resolve while it loads without staying registered afterwards
    (Keras's ``custom_object_scope``).
    """
    saved = [(registry, dict(registry._entries), dict(registry._aliases), dict(registry._display))
             for registry in _ALL]
    try:
        for name, obj in (custom_objects or {}).items():
            targets = [registry for registry in _ALL if registry.accepts(obj)]
            if not isinstance(name, str) or not targets:
                raise TypeError(f"custom_objects: expected {{name: class}} with a seqnn Layer, Loss, Metric, "
                                f"Optimizer, ... subclass, got {name!r}: {obj!r}")
            for registry in targets:
                wrap = registry.wrap_function
                registry.add(name, obj if wrap is None or isinstance(obj, type) else functools.partial(wrap, obj))
        yield
    finally:
        for registry, entries, aliases, display in saved:
            registry._entries, registry._aliases, registry._display = entries, aliases, display


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
