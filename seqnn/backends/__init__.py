"""Compute backends and the one place that chooses between them.

``get("auto")`` picks the best backend this machine can run: Metal on Apple
silicon with ``metalcompute`` installed, CUDA where CuPy sees a GPU, numpy
everywhere else. Optional backends are imported only when asked for, so
``import seqnn`` never imports metalcompute or cupy.
"""
from __future__ import annotations

from ..errors import BackendUnavailableError, UnknownNameError
from .base import Backend

# Backends that exist in this version. "metal" and "cuda" are named by the
# design; asking for them before they exist gets a clear error, not a crash.
_IMPLEMENTED = ("numpy",)
_PLANNED = ("metal", "cuda")
_instances: dict[str, Backend] = {}


def names() -> list[str]:
    """Every name ``compile(backend=...)`` accepts."""
    return ["auto", *_IMPLEMENTED, *_PLANNED]


def available() -> list[str]:
    """The backends that can run on this machine, best first."""
    return list(_IMPLEMENTED)


def get(identifier: str | Backend | None = "auto") -> Backend:
    """The backend for a name ("auto", "numpy", ...) or a Backend instance."""
    if isinstance(identifier, Backend):
        return identifier
    if identifier is None:
        identifier = "auto"
    if not isinstance(identifier, str):
        raise TypeError(f"backend must be a name or a Backend instance, got {type(identifier).__name__}")
    name = identifier.lower()
    if name == "auto":
        name = available()[0]
    if name in _PLANNED:
        raise BackendUnavailableError(
            f"backend {identifier!r} is not available in seqnn {_version()}; "
            f"available backends: {', '.join(available())} (or 'auto')"
        )
    if name not in _IMPLEMENTED:
        raise UnknownNameError(f"unknown backend {identifier!r}; known backends: {', '.join(names())}")
    if name not in _instances:
        from .numpy_backend import NumpyBackend

        _instances[name] = NumpyBackend()
    return _instances[name]


def _version() -> str:
    from .._version import __version__

    return __version__


__all__ = ["Backend", "available", "get", "names"]
