"""The Metal backend's arrays: numpy arrays whose memory is a Metal buffer.

Apple silicon has unified memory, so a numpy view of a Metal buffer is the
buffer itself: host code, the parameter arena's views and the numpy
fallback work on these arrays unchanged, and a kernel gets the same bytes
(``launch.Device.locate`` finds the buffer and the array's offset in it).
The rule that keeps this true: every array the backend returns lives in a
Metal buffer, so whatever an op returns can be handed to a kernel later.

Floating point is float32 only: Metal has no double. Integer and boolean
arrays (int64 labels, bool masks, int32 pooling indices) live in Metal
buffers too, and the kernels read them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

FLOAT_DTYPES = ("float32",)


def checked_dtype(dtype: Any, where: str) -> np.dtype:
    """``dtype`` as a numpy dtype, refused when it is a float Metal cannot compute in."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc" and dtype.name not in FLOAT_DTYPES:
        raise ValueError(f"{where}: dtype {dtype.name!r} is not supported by the Metal backend, which computes "
                         "in float32 (Metal has no double); use dtype='float32'")
    return dtype


class ArrayOps:
    """Allocation and transfer; ``self._device`` is a ``launch.Device``."""

    float_dtypes = FLOAT_DTYPES

    def asarray(self, x, dtype=None):
        """A Metal-backed copy of host data (``x`` itself when it already is one of that dtype)."""
        wanted = None if dtype is None else checked_dtype(dtype, "asarray")
        if self._device.locate(x) is not None and wanted in (None, x.dtype):
            return x
        host = np.asarray(x, dtype=wanted)
        checked_dtype(host.dtype, "asarray")
        return self._copy_to_device(host)

    def to_numpy(self, a):
        """The array itself: its Metal buffer is host memory (no copy, no wait: kernels have finished)."""
        return np.asarray(a)

    def empty(self, shape, dtype):
        return self._device.empty(shape, checked_dtype(dtype, "empty"))

    def zeros(self, shape, dtype):
        out = self.empty(shape, dtype)
        if out.dtype.name in FLOAT_DTYPES:
            return self.fill(out, 0.0)
        out.fill(0)
        return out

    def full(self, shape, value, dtype):
        out = self.empty(shape, dtype)
        if out.dtype.name in FLOAT_DTYPES:
            return self.fill(out, value)
        out.fill(value)
        return out

    def item(self, a):
        return float(np.asarray(a).reshape(-1)[0])

    # ------------------------------------------------------------ helpers ---
    def _kernel_ready(self, *arrays) -> bool:
        """Whether a kernel can take these arrays: float32, C-contiguous, in this device's buffers."""
        return all(isinstance(a, np.ndarray) and a.dtype == np.float32 and self._device.locate(a) is not None
                   for a in arrays)

    def _on_device(self, result):
        """``result`` with every numpy array in it living in a Metal buffer (copied there if not)."""
        if isinstance(result, tuple):
            return tuple(self._on_device(r) for r in result)
        if isinstance(result, list):
            return [self._on_device(r) for r in result]
        if isinstance(result, (np.ndarray, np.generic)):
            if isinstance(result, np.ndarray) and self._device.locate(result) is not None:
                return result
            return self._copy_to_device(np.asarray(result))
        return result

    def _copy_to_device(self, host: np.ndarray) -> np.ndarray:
        out = self._device.empty(host.shape, host.dtype)
        np.copyto(out, host)
        return out
