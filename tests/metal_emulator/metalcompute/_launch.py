"""Runs a compiled kernel over its grid, with guard bytes around every buffer.

The bound buffers are copied into one arena where each sits between guard
regions filled with a known pattern; the kernel runs on the arena (aliasing
kept: a buffer bound twice is one region), the guards are checked, and the
data is copied back.  Reading a guard gives NaN for a float, so an unchecked
read past the end usually shows up in the results too.

How the grid is scheduled comes from a Schedule: the threadgroup size (what
metalcompute takes from the pipeline's maximum, 1024 for most kernels on
Apple GPUs) and the order in which fibers and groups are resumed.
"""
from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._errors import KernelFault, error
from ._source import KernelSig

ORDERS = {"forward": 0, "reverse": 1, "shuffle": 2}
# "compare" runs every order from the same inputs and fails if results differ.
ORDER_CHOICES = (*ORDERS, "compare")
DEFAULT_THREADGROUP = 1024
# Apple GPUs give a threadgroup at most 32 KiB of threadgroup memory.
MAX_THREADGROUP_MEMORY = 32768
_ALIGN = 64

# The threadgroup variables of a library are static storage; one launch at a time.
_LAUNCH_LOCK = threading.Lock()


class _LaunchConfig(ctypes.Structure):
    _fields_ = [("tg_size", ctypes.c_uint), ("order", ctypes.c_int), ("seed", ctypes.c_ulonglong)]


@dataclass(frozen=True)
class Schedule:
    """How to run a grid: threadgroup size, fiber order and shuffle seed."""

    threadgroup: int = DEFAULT_THREADGROUP
    order: str = "forward"
    seed: int = 0

    @classmethod
    def resolve(cls, threadgroup=None, order=None, seed=None) -> "Schedule":
        """Explicit values, else $SEQNN_MSL_THREADGROUP / $SEQNN_MSL_ORDER / $SEQNN_MSL_SEED."""
        env = os.environ
        threadgroup = threadgroup or env.get("SEQNN_MSL_THREADGROUP") or DEFAULT_THREADGROUP
        order = order or env.get("SEQNN_MSL_ORDER") or "forward"
        seed = seed if seed is not None else env.get("SEQNN_MSL_SEED", 0)
        try:
            threadgroup, seed = int(threadgroup), int(seed)
        except ValueError:
            raise ValueError(f"SEQNN_MSL_THREADGROUP and SEQNN_MSL_SEED must be integers, got "
                             f"{threadgroup!r} and {seed!r}") from None
        if threadgroup <= 0 or threadgroup % 32 or threadgroup > 1024:
            raise ValueError(f"threadgroup size must be a multiple of 32 up to 1024, got {threadgroup}")
        if order not in ORDER_CHOICES:
            raise ValueError(f"order must be one of {', '.join(ORDER_CHOICES)}, got {order!r}")
        return cls(threadgroup, order, seed)


class Library:
    """A compiled kernel source, loaded with ctypes."""

    def __init__(self, path: Path):
        self._dll = ctypes.CDLL(str(path))

    def launcher(self, kernel: str):
        fn = getattr(self._dll, f"msl_emu_launch_{kernel}")
        fn.argtypes = [ctypes.c_void_p, ctypes.c_ulonglong, ctypes.POINTER(_LaunchConfig),
                       ctypes.c_char_p, ctypes.c_uint]
        fn.restype = ctypes.c_int
        return fn

    def element_sizes(self, kernel: KernelSig) -> list[int]:
        n = len(kernel.buffer_params)
        return list((ctypes.c_ulonglong * max(n, 1)).in_dll(self._dll, f"msl_emu_elem_{kernel.name}"))[:n]

    def threadgroup_bytes(self, kernel: str) -> int:
        fn = getattr(self._dll, f"msl_emu_tg_bytes_{kernel}")
        fn.restype = ctypes.c_ulonglong
        return int(fn())


def _guard_pattern(nbytes: int) -> bytes:
    """Guard bytes: quiet-NaN words whose payload depends on the position, so
    that copying one guard's bytes into another (out[i] = a[i] past both
    ends) still changes the target guard."""
    words = np.arange(-(-nbytes // 4), dtype=np.uint32) * np.uint32(2654435761)
    return ((words >> np.uint32(10)) | np.uint32(0x7FC00001)).astype("<u4").tobytes()[:nbytes]


class _Arena:
    """Guarded copies of the distinct buffers of one call, 64-byte aligned."""

    def __init__(self, buffers: list[bytearray], guard: int):
        self.distinct: list[bytearray] = []
        for buf in buffers:
            if not any(buf is d for d in self.distinct):
                self.distinct.append(buf)
        self.spans = []  # (front guard start, data start, data end, back guard end)
        pos = 0
        for buf in self.distinct:
            start = -(-(pos + guard) // _ALIGN) * _ALIGN
            self.spans.append((pos, start, start + len(buf), start + len(buf) + guard))
            pos = start + len(buf) + guard
        self.raw = bytearray(pos + _ALIGN)
        address = ctypes.addressof(ctypes.c_char.from_buffer(self.raw))
        self.shift = -address % _ALIGN
        self.base = address + self.shift
        self._pattern = _guard_pattern(len(self.raw))
        self.raw[:] = self._pattern
        for buf, (_, start, end, _) in zip(self.distinct, self.spans):
            self.raw[self.shift + start:self.shift + end] = buf

    def pointers(self, buffers: list[bytearray]):
        pointers = (ctypes.c_void_p * len(buffers))()
        for i, buf in enumerate(buffers):
            k = next(j for j, d in enumerate(self.distinct) if d is buf)
            pointers[i] = self.base + self.spans[k][1]
        return pointers

    def snapshot(self) -> bytes:
        return bytes(self.raw)

    def restore(self, snapshot: bytes) -> None:
        self.raw[:] = snapshot

    def data(self, k: int) -> memoryview:
        _, start, end, _ = self.spans[k]
        return memoryview(self.raw)[self.shift + start:self.shift + end]

    def stray_write(self, k: int) -> tuple[str, int] | None:
        """('after', bytes past the end) or ('before', bytes before the start) of a guard write."""
        front, start, end, back = (self.shift + x for x in self.spans[k])
        for side, lo, hi in (("after", end, back), ("before", front, start)):
            region = self.raw[lo:hi]
            expected = self._pattern[lo:hi]
            if region != expected:
                bad = [i for i in range(hi - lo) if region[i] != expected[i]]
                return (side, bad[0]) if side == "after" else (side, (hi - lo) - bad[-1])
        return None

    def copy_back(self) -> None:
        for k, buf in enumerate(self.distinct):
            memoryview(buf)[:] = self.data(k)


def _check_bindings(kernel: KernelSig, buffers: list[bytearray], sizes: list[int]) -> None:
    for param, size in zip(kernel.buffer_params, sizes):
        if param.index >= len(buffers):
            raise error(f"kernel '{kernel.name}' reads [[buffer({param.index})]] ('{param.name}') but "
                        f"the call binds {len(buffers)} buffer(s)")
        have = len(buffers[param.index])
        if param.is_reference and have < size:
            raise error(f"kernel '{kernel.name}': buffer {param.index} ('{param.type} {param.name}') "
                        f"holds {have} bytes, the kernel reads {size}")


def _guard_fault(kernel: KernelSig, arena: _Arena, buffers, sizes) -> KernelFault | None:
    for k, buf in enumerate(arena.distinct):
        stray = arena.stray_write(k)
        if stray is None:
            continue
        side, distance = stray
        bound = [p for p in kernel.buffer_params if buffers[p.index] is buf]
        names = ", ".join(f"'{p.name}'" for p in bound) or "unused by the kernel"
        index = next(i for i, b in enumerate(buffers) if b is buf)
        elem = next((s for p, s in zip(kernel.buffer_params, sizes) if buffers[p.index] is buf), 1)
        if side == "after":
            what, element = "past the end", (len(buf) + distance) // elem
        else:  # distance bytes before the start: element -1 is the one just before
            what, element = "before the start", -((distance + elem - 1) // elem)
        return KernelFault(
            f"kernel '{kernel.name}' wrote {what} of buffer {index} ({names}, {len(buf)} bytes = "
            f"{len(buf) // elem} elements of {elem} bytes): first stray element {element}. "
            "A missing bounds check? The last threadgroup is padded, so threads with "
            "thread_position_in_grid >= count run too")
    return None


def _first_difference(a: memoryview, b: memoryview) -> int:
    return next(i for i in range(len(a)) if a[i] != b[i])


def launch(library: Library, kernel: KernelSig, count: int, buffers: list[bytearray],
           schedule: Schedule) -> None:
    """Run kernel over count threads with buffers bound to indices 0, 1, ...; raise on a fault."""
    sizes = library.element_sizes(kernel)
    _check_bindings(kernel, buffers, sizes)
    arena = _Arena(buffers, guard=max(4096, 64 * schedule.threadgroup))
    pointers = arena.pointers(buffers)
    fn = library.launcher(kernel.name)
    err = ctypes.create_string_buffer(4096)

    def run(order: str) -> None:
        config = _LaunchConfig(schedule.threadgroup, ORDERS[order], schedule.seed)
        with _LAUNCH_LOCK:
            rc = fn(pointers, count, ctypes.byref(config), err, len(err))
        if rc != 0:
            raise KernelFault(f"{err.value.decode(errors='replace')} "
                              f"[threadgroup size {schedule.threadgroup}, {order} order]")
        fault = _guard_fault(kernel, arena, buffers, sizes)
        if fault is not None:
            raise fault

    if schedule.order != "compare":
        run(schedule.order)
    else:
        inputs = arena.snapshot()
        run("forward")
        reference = arena.snapshot()
        for order in ("reverse", "shuffle"):
            arena.restore(inputs)
            run(order)
            for k, buf in enumerate(arena.distinct):
                now, then = arena.data(k), memoryview(reference)[arena.shift + arena.spans[k][1]:][:len(buf)]
                if now != then:
                    at = _first_difference(now, then)
                    index = next(i for i, b in enumerate(buffers) if b is buf)
                    raise KernelFault(
                        f"kernel '{kernel.name}': buffer {index} differs at byte {at} between the "
                        f"forward and {order} thread orders (threadgroup size {schedule.threadgroup}): "
                        "threads read memory that other threads write without a barrier in between")
        arena.restore(reference)
    arena.copy_back()
