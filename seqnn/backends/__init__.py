"""Compute backends, found by name behind one small contract (:class:`Backend`).

Each backend registers itself with :func:`register`: a name, a factory that
builds it, an availability check that returns None when it can run here or
the reason it cannot, and a rank for ``"auto"``. ``get``, ``available``,
``names`` and ``"auto"`` read the registry only, so adding a backend edits no
shared list. Optional backends import their dependencies only in their
checks and factories, so ``import seqnn`` never imports metalcompute.

``get("auto")`` (``compile(backend="auto")``) takes the best-ranked backend
that is available; the ``SEQNN_BACKEND`` environment variable names another.
"""
from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from typing import Callable

from ..errors import BackendUnavailableError, UnknownNameError
from .base import Backend


@dataclass(frozen=True)
class BackendEntry:
    name: str
    factory: Callable[[], Backend]
    unavailable_reason: Callable[[], str | None]
    rank: int  # higher wins "auto"


_registry: dict[str, BackendEntry] = {}
_instances: dict[str, Backend] = {}


def register(name: str, factory: Callable[[], Backend], unavailable_reason: Callable[[], str | None] = lambda: None,
             rank: int = 0) -> None:
    """Make ``compile(backend=name)`` build ``factory()`` where ``unavailable_reason()`` is None."""
    _registry[name.lower()] = BackendEntry(name.lower(), factory, unavailable_reason, rank)
    _instances.pop(name.lower(), None)


def names() -> list[str]:
    """Every name ``compile(backend=...)`` accepts."""
    return ["auto", *_registry]


def available() -> list[str]:
    """The backends that can run on this machine, best first."""
    return [entry.name for entry in _ranked() if entry.unavailable_reason() is None]


def unavailable_reason(name: str) -> str | None:
    """Why backend ``name`` cannot run here, or None when it can."""
    return _entry(name).unavailable_reason()


def get(identifier: str | Backend | None = "auto") -> Backend:
    """The backend for a name ("auto", "numpy", ...) or a Backend instance (returned as is)."""
    if isinstance(identifier, Backend):
        return identifier
    if identifier is None:
        identifier = "auto"
    if not isinstance(identifier, str):
        raise TypeError(f"backend must be a name or a Backend instance, got {type(identifier).__name__}")
    name = identifier.lower()
    if name == "auto" and os.environ.get("SEQNN_BACKEND"):
        try:
            return get(os.environ["SEQNN_BACKEND"])
        except ValueError as e:
            raise type(e)(f"SEQNN_BACKEND={os.environ['SEQNN_BACKEND']!r}: {e}") from None
    if name == "auto":
        name = available()[0]
    entry = _entry(name)
    if name not in _instances:
        reason = entry.unavailable_reason()
        if reason is not None:
            raise BackendUnavailableError(f"backend {name!r} is not available: {reason}; available backends: "
                                          f"{', '.join(available())} (or 'auto')")
        _instances[name] = entry.factory()
    return _instances[name]


def _entry(name: str) -> BackendEntry:
    try:
        return _registry[name.lower()]
    except KeyError:
        raise UnknownNameError(f"unknown backend {name!r}; known backends: {', '.join(names())}") from None


def _ranked() -> list[BackendEntry]:
    return sorted(_registry.values(), key=lambda entry: -entry.rank)


def _numpy_backend() -> Backend:
    from .numpy_backend import NumpyBackend

    return NumpyBackend()


def _metal_unavailable() -> str | None:
    here = f"{sys.platform}/{platform.machine()}"
    if sys.platform != "darwin" or platform.machine() != "arm64":
        return f"Metal needs macOS on Apple silicon with metalcompute installed; this is {here}"
    from .metal.availability import unavailable_reason as metal_unavailable_reason

    return metal_unavailable_reason()


def _metal_backend() -> Backend:
    from .metal import MetalBackend

    return MetalBackend()


register("numpy", _numpy_backend, rank=0)
register("metal", _metal_backend, _metal_unavailable, rank=2)

__all__ = ["Backend", "BackendEntry", "available", "get", "names", "register", "unavailable_reason"]
