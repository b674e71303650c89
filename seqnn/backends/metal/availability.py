"""Whether the Metal backend can run here: metalcompute imports, a device opens, a kernel runs.

A device that opens but computes wrong answers (a broken driver, a
metalcompute that cannot compile the sources) must not be picked by
``backend="auto"``, so the check runs a small kernel and compares.
"""
from __future__ import annotations

import functools

import numpy as np

from . import launch


def smoke_test(backend) -> None:
    """Raise RuntimeError unless one elementwise kernel gives numpy's answer on this backend."""
    x = backend.asarray(np.arange(33, dtype=np.float32), "float32")
    got = np.array(backend.to_numpy(backend.add(x, 0.5)))
    if not np.array_equal(got, np.arange(33, dtype=np.float32) + 0.5):
        raise RuntimeError(f"the elementwise kernel computed {got[:4]}... for arange(33) + 0.5")


@functools.cache
def unavailable_reason() -> str | None:
    """None when the installed metalcompute runs the backend's kernels, else why not (checked once)."""
    from .backend import MetalBackend

    try:
        device = launch.default_device()
    except ImportError as e:
        return str(e)
    except Exception as e:  # noqa: BLE001 - any failure to open the device is the reason itself
        return f"metalcompute could not open a Metal device: {type(e).__name__}: {e}"
    try:
        smoke_test(MetalBackend(device))
    except Exception as e:  # noqa: BLE001
        return f"a Metal smoke kernel failed: {type(e).__name__}: {e}"
    return None
