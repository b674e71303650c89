"""The cases a kernel does not take: the numpy backend's code on the shared memory.

Every op of the contract has a kernel, but each kernel covers the operands
Metal computes with (float32 arrays in this device's buffers, the broadcasts
and axes the layers use). For anything else (another dtype, host data, a
broadcast or axis no layer asks for, an ``out`` that partly overlaps an
input) an op calls :meth:`NumpyFallback._numpy_fallback`: the backend's
arrays are numpy arrays, so the numpy backend's implementation runs on them
unchanged, writing ``out=`` and ``scratch`` arrays in place, and raises its
own errors where it must. What numpy allocates is moved into a Metal buffer
before it is returned, so a later kernel can take it.
"""
from __future__ import annotations


class NumpyFallback:
    """Runs ops on ``self._numpy`` (a NumpyBackend) and returns Metal-backed results."""

    def _numpy_fallback(self, op: str, *args, **kwargs):
        return self._on_device(getattr(self._numpy, op)(*args, **kwargs))
