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

from typing import Any, Callable

from .errors import UnknownNameError


def _key(name: str) -> str:
    # "SparseCategoricalCrossentropy", "sparse_categorical_crossentropy" and
    # "sparsecategoricalcrossentropy" are one name.
    return name.replace("_", "").replace("-", "").lower()


class Registry:
    """A case-insensitive map from names to factories for one kind of object."""

    def __init__(self, kind: str, base: type | None = None):
        self.kind = kind
        self.base = base
        self._entries: dict[str, Callable] = {}
        self._aliases: dict[str, dict[str, Any]] = {}
        self._display: dict[str, str] = {}

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
            raise TypeError(
                f"expected a {self.kind} name, config dict or {self.base.__name__} instance, "
                f"got {type(identifier).__name__}: {identifier!r}"
            )
        return identifier


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
