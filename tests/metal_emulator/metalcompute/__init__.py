"""metalcompute 0.2.9, emulated on any machine with a C++ compiler.

Put ``tests/metal_emulator`` first on ``sys.path`` and ``import metalcompute``
gets this module: the same API and semantics as the real one (Device, kernel,
function, buffer, calling a function with a count and buffers), but each MSL
source is compiled unchanged by the system C++ compiler through a prelude
header and run on the CPU, one threadgroup after another, the threads of a
group as cooperative fibers.  See README.md beside this package for what it
models and what it does not.

Usage, as on a Mac::

    import metalcompute as mc
    dev = mc.Device()
    fn = dev.kernel(source).function("add")
    out = dev.buffer(4 * n)
    fn(n, dev.buffer(a), dev.buffer(b), out)   # synchronous
    result = np.frombuffer(out, dtype=np.float32)

Emulator-only controls (the real module has none): the threadgroup size, the
order in which threads are resumed, and its seed, from ``Device(threadgroup=,
order=, seed=)`` or ``$SEQNN_MSL_THREADGROUP`` (32..1024, multiple of 32;
default 1024), ``$SEQNN_MSL_ORDER`` (forward, reverse, shuffle, or compare:
run all three and fail if they disagree) and ``$SEQNN_MSL_SEED``.
"""
from __future__ import annotations

import numbers
from collections import namedtuple

from ._build import build_library, find_compiler
from ._errors import CompileError, KernelFault, error
from ._launch import MAX_THREADGROUP_MEMORY, Library, Schedule, launch
from ._source import translation_unit

__all__ = ["Device", "get_devices", "error", "CompileError", "KernelFault", "find_compiler",
           "EMULATED"]
__version__ = "0.2.9+emulator"
EMULATED = True  # lets a test tell the emulator from the real module

DeviceInfo = namedtuple("metalcompute_device",
                        "deviceName recommendedWorkingSetSize maxTransferRate hasUnifiedMemory")
_DEVICE_NAME = "MSL emulator (C++ on the CPU)"


def get_devices() -> tuple:
    """The one emulated device, described as metalcompute describes devices."""
    return (DeviceInfo(_DEVICE_NAME, 0, 0, True),)


class Buffer(bytearray):
    """Device memory: numpy views it without a copy (``np.frombuffer(buf, dtype)``).

    A bytearray so that it has the buffer protocol; on Apple silicon the real
    buffer is unified memory, which the emulator's plain host memory matches.
    """

    def __str__(self) -> str:
        return f"metalcompute.Buffer(length={len(self)})"

    __repr__ = __str__


def _make_buffer(length_or_buffer) -> Buffer:
    """metalcompute's Buffer(dev, x): a copy of a buffer-protocol object, or x zeroed bytes."""
    try:
        view = memoryview(length_or_buffer)
    except TypeError:
        view = None
    if view is not None:
        if not view.c_contiguous:
            raise error("Unsupported input format")
        data = view.cast("B") if view.ndim else view.tobytes()
        length = len(data)
    elif isinstance(length_or_buffer, numbers.Real) and not isinstance(length_or_buffer, bool):
        data, length = None, int(length_or_buffer)
    else:
        raise error("Unsupported input format")
    if length <= 0:
        # Metal makes no empty buffer (newBufferWithLength:0 gives nil).
        raise error(f"Could not make buffer (length {length})")
    return Buffer(data) if data is not None else Buffer(length)


class Device:
    """The emulated Metal device.

    Args:
        device_index: as metalcompute: -1 (default) or 0, the only device.
        threadgroup, order, seed: emulator-only overrides of the environment
            variables that choose the schedule (see the module docstring).
    """

    def __init__(self, device_index: int = -1, *, threadgroup: int | None = None,
                 order: str | None = None, seed: int | None = None):
        if device_index not in (-1, 0):
            raise error("Device not found")
        self._overrides = dict(threadgroup=threadgroup, order=order, seed=seed)
        Schedule.resolve(**self._overrides)  # refuse bad overrides now

    def __str__(self) -> str:
        return f"metalcompute.Device({_DEVICE_NAME})"

    def kernel(self, source: str) -> "Kernel":
        """Compile source (raises error with the compiler's messages)."""
        return Kernel(self, source)

    def buffer(self, length_or_buffer) -> Buffer:
        """A zeroed buffer of that many bytes, or a copy of a buffer-protocol object."""
        return _make_buffer(length_or_buffer)

    def schedule(self) -> Schedule:
        """The schedule a call made now would use."""
        return Schedule.resolve(**self._overrides)


class Kernel:
    """A compiled MSL source with one or more kernel functions."""

    def __init__(self, device: Device, source: str):
        if not isinstance(device, Device):
            raise error("First argument should be a metalcompute.Device object")
        if not isinstance(source, str):
            raise TypeError(f"kernel source must be a str, not {type(source).__name__}")
        text, kernels = translation_unit(source)
        self.device = device
        self._library = Library(build_library(text))
        self._kernels = {k.name: k for k in kernels}

    def __str__(self) -> str:
        return "metalcompute.Kernel"

    def function(self, name: str) -> "Function":
        return Function(self, name)


class Function:
    """One kernel function; call it as ``fn(count, *buffers)``."""

    def __init__(self, kernel: Kernel, name: str):
        if name not in kernel._kernels:
            known = ", ".join(sorted(kernel._kernels)) or "none"
            raise error(f"Function not found: '{name}' (kernels in the source: {known})")
        self._kernel = kernel
        self._sig = kernel._kernels[name]
        used = kernel._library.threadgroup_bytes(name)
        if used > MAX_THREADGROUP_MEMORY:
            raise error(f"Cannot create pipeline state: kernel '{name}' declares {used} bytes of "
                        f"threadgroup memory, Apple GPUs allow {MAX_THREADGROUP_MEMORY}")

    def __str__(self) -> str:
        return "metalcompute.Function"

    def __call__(self, count, *buffers) -> "Run":
        """Run count threads with buffers bound to [[buffer(0)]], [[buffer(1)]], ...

        A Buffer is bound as is; anything else is copied into a temporary
        buffer first, so the kernel's writes to it are lost (as on a Mac).
        The emulator finishes before returning; the returned Run only keeps
        the buffers alive, as metalcompute's does.
        """
        if not buffers:
            raise error("Buffer not found")
        if not isinstance(count, numbers.Real) or isinstance(count, bool):
            raise error("First argument should be an integer kernel count")
        count = int(count)
        if count <= 0:
            raise error(f"kernel count must be at least 1, got {count} (Metal refuses an empty dispatch)")
        bound = [b if isinstance(b, Buffer) else _make_buffer(b) for b in buffers]
        launch(self._kernel._library, self._sig, count, bound, self._kernel.device.schedule())
        return Run(self, bound)


class Run:
    """A finished call.  On a Mac, dropping the handle waits for the GPU."""

    def __init__(self, function: Function, buffers: list[Buffer]):
        self.function = function
        self.buffers = tuple(buffers)

    def __str__(self) -> str:
        return "metalcompute.Run"
