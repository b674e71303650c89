"""The Metal backend (Apple GPUs through metalcompute).

``launch`` is the only module that talks to metalcompute; ``MetalBackend``
composes the array rules (``arrays``), the ops with kernels (``elementwise``,
``select``, ``reduce``, ``linalg``, ``activations``, ``losses``, ``random``;
sources in the repository's ``kernels/``) and the numpy code for the rest
(``fallback``). Importing this package does not
import metalcompute; building a backend does.
"""
from .backend import MetalBackend

__all__ = ["MetalBackend"]
