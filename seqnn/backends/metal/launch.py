"""The one module that talks to metalcompute: device, kernel cache, memory, dispatch.

Everything Metal-specific that a binding provides goes through here, so that
moving to another binding (PyObjC, a C extension) rewrites this module only.
The rest of the backend sees numpy arrays whose memory is a Metal buffer
(Apple silicon has unified memory: the CPU and the GPU read the same bytes)
and calls :meth:`Device.run` with those arrays.

Calling convention of every kernel (kernels/*.metal): each array argument is
bound as the *whole* Metal buffer that owns its memory, to ``[[buffer(0)]]``,
``[[buffer(1)]]``, … in order, and the last buffer is the kernel's params
struct, ``constant P& p``, whose first fields are one ``uint`` element offset
per bound array (in binding order), followed by the kernel's own ``uint`` and
``float`` fields. So a view (``flat[i:j].reshape(...)``, ``buf[:n]``) runs
through a kernel without a copy.

metalcompute 0.2.9 waits for a kernel when the handle its call returns is
dropped; :meth:`Device.run` drops it at once, so when ``run`` returns the
results are in memory and numpy may read them.
"""
from __future__ import annotations

import functools
import importlib
import struct
from collections.abc import Sequence
from types import ModuleType

import numpy as np

from .sources import kernel_source

_UINT_LIMIT = 2**32  # offsets and counts travel as 32-bit uints


def import_metalcompute() -> ModuleType:
    """The installed metalcompute module (ImportError with the install hint when absent)."""
    try:
        return importlib.import_module("metalcompute")
    except ImportError as e:
        raise ImportError("the Metal backend needs metalcompute: pip install metalcompute (the 'metal' extra) "
                          f"(macOS on Apple silicon); importing it failed with: {e}") from e


class Device:
    """One Metal device: compiles each kernel family once and owns the buffers it allocates.

    Args:
        module: a metalcompute-compatible module; None imports metalcompute.
            Tests pass the emulator (``tests/metal_emulator``) here.
        threadgroup, order: the emulator's schedule (threadgroup size 32…1024,
            a multiple of 32; the order threads are resumed in, "compare" to
            run every order and fail on a difference); None follows its
            environment variables. Real metalcompute has no such controls: it
            uses the pipeline's maximum threadgroup, and the GPU's own order.
    """

    def __init__(self, module: ModuleType | None = None, *, threadgroup: int | None = None,
                 order: str | None = None):
        self.module = import_metalcompute() if module is None else module
        options = {key: value for key, value in (("threadgroup", threadgroup), ("order", order))
                   if value is not None}
        if options and not self.emulated:
            raise TypeError(f"{', '.join(options)} = {', '.join(map(repr, options.values()))}: emulator controls; "
                            "metalcompute runs the pipeline's maximum threadgroup in the GPU's order")
        self._device = self.module.Device(**options)
        self._buffer_type = type(self._device.buffer(4))
        self._kernels: dict[str, object] = {}
        self._functions: dict[tuple[str, str], object] = {}

    def __repr__(self) -> str:
        return f"Device({self._device})"

    @property
    def emulated(self) -> bool:
        """True on the emulator (tests), False on a real GPU."""
        return bool(getattr(self.module, "EMULATED", False))

    # ----------------------------------------------------------- memory ---
    def empty(self, shape: Sequence[int], dtype) -> np.ndarray:
        """An uninitialized C-contiguous array living in a new Metal buffer."""
        dtype = np.dtype(dtype)
        shape = tuple(int(d) for d in shape)
        size = int(np.prod(shape, dtype=np.int64))
        # Metal makes no empty buffer; an empty array still gets a few bytes to live in.
        buffer = self._device.buffer(max(size * dtype.itemsize, 16))
        return np.frombuffer(buffer, dtype, count=size).reshape(shape)

    def locate(self, array: np.ndarray) -> tuple[object, int] | None:
        """(Metal buffer, element offset) of a C-contiguous array living in one, else None."""
        if not isinstance(array, np.ndarray) or not array.flags.c_contiguous:
            return None
        owner = array
        while isinstance(owner, np.ndarray):
            owner = owner.base
        if isinstance(owner, memoryview):
            owner = owner.obj
        if not isinstance(owner, self._buffer_type):
            return None
        start = np.frombuffer(owner, np.uint8).__array_interface__["data"][0]
        offset, rest = divmod(array.__array_interface__["data"][0] - start, array.itemsize)
        if rest or offset + array.size >= _UINT_LIMIT:
            return None
        return owner, offset

    # ---------------------------------------------------------- kernels ---
    def function(self, family: str, name: str):
        """Kernel ``name`` of kernels/<family>.metal, compiled once per device."""
        key = (family, name)
        if key not in self._functions:
            if family not in self._kernels:
                self._kernels[family] = self._device.kernel(kernel_source(family))
            self._functions[key] = self._kernels[family].function(name)
        return self._functions[key]

    def run(self, family: str, name: str, count: int, arrays: Sequence[np.ndarray], fields: str,
            *values) -> None:
        """Run ``count`` threads of a kernel on ``arrays`` (each living in a Metal buffer).

        ``fields`` is the struct format (``"I"`` uint, ``"f"`` float) of the
        params after the offsets, which this method puts first; ``values``
        fill those fields. Returns when the kernel has finished.
        """
        if count <= 0:
            return  # Metal refuses an empty dispatch, and there is nothing to do
        if count >= _UINT_LIMIT:
            raise ValueError(f"{family}.{name}: {count} threads is more than a 32-bit grid holds")
        buffers, offsets = [], []
        for index, array in enumerate(arrays):
            located = self.locate(array)
            if located is None:
                raise ValueError(f"{family}.{name}: array argument {index} does not live in a Metal buffer "
                                 "of this device (or is not C-contiguous)")
            buffers.append(located[0])
            offsets.append(located[1])
        if len(fields) != len(values):
            raise TypeError(f"{family}.{name}: {len(values)} values for the {len(fields)} fields {fields!r}")
        with np.errstate(over="ignore"):  # a float beyond float32 becomes inf, as numpy's float32 cast makes it
            values = [float(np.float32(v)) if field == "f" else int(v) for field, v in zip(fields, values)]
        params = struct.pack("<" + "I" * len(offsets) + fields, *offsets, *values)
        # A numpy array, as metalcompute's examples pass inputs: it is copied into a buffer for the call.
        self.function(family, name)(count, *buffers, np.frombuffer(params, np.uint8).copy())


@functools.cache
def default_device() -> Device:
    """The process's Device on the installed metalcompute (created once: kernels compile once)."""
    return Device()
