"""The Metal backend on the emulated device (tests/metal_emulator), for tests on any machine.

``emulated_backend()`` builds a ``MetalBackend`` whose ``launch.Device`` runs
the unchanged kernels/*.metal through the emulator's metalcompute module. It
is passed to ``compile(backend=...)`` as an instance, so ``backend="auto"``
never picks the emulator. Devices are cached per threadgroup size, so each
kernel family is translated and loaded once per test process (the emulator
caches the compiled libraries on disk across processes).
"""
from __future__ import annotations

import functools

import pytest
from metal_emulator import metalcompute as emulator

from seqnn.backends.metal import MetalBackend
from seqnn.backends.metal.launch import Device

NO_COMPILER = "the Metal backend's tests run its kernels on the MSL emulator, which needs a C++ compiler " \
              "(set CXX or install g++/clang++)"


def compiler_missing() -> bool:
    return emulator.find_compiler() is None


@functools.cache
def emulated_device(threadgroup: int | None = None, order: str | None = None) -> Device:
    """The emulated device; None follows $SEQNN_MSL_THREADGROUP (default 1024) and $SEQNN_MSL_ORDER."""
    return Device(module=emulator, threadgroup=threadgroup, order=order)


def emulated_backend(threadgroup: int | None = None, order: str | None = None) -> MetalBackend:
    """A MetalBackend on the emulator; skips the calling test when there is no C++ compiler."""
    if compiler_missing():
        pytest.skip(NO_COMPILER)
    return MetalBackend(emulated_device(threadgroup, order))


def record_fallbacks(backend: MetalBackend, monkeypatch) -> list[str]:
    """The list that every later numpy fallback of ``backend``'s class appends its op's name to (for the test)."""
    fallbacks: list[str] = []
    run_numpy = type(backend)._numpy_fallback

    def recorded(self, op, *args, **kwargs):
        fallbacks.append(op)
        return run_numpy(self, op, *args, **kwargs)

    monkeypatch.setattr(type(backend), "_numpy_fallback", recorded)
    return fallbacks
