"""The Metal backend (Apple GPUs through metalcompute).

``launch`` is the only module that talks to metalcompute; ``MetalBackend``
composes the array rules (``arrays``), one module per kernel family
(``elementwise``, ``select``, ``reduce``, ``linalg``, ``activations``,
``losses``, ``random``, ``optimizers``, ``conv``, ``pooling``,
``normalization``; sources in the repository's ``kernels/``) and the numpy
code for the operands no kernel takes (``fallback``). Importing this package
does not import metalcompute; building a backend does.
"""
from .backend import MetalBackend

__all__ = ["MetalBackend"]
