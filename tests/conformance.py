"""What every conformance module shares: the backends under test, their dtypes, references' helpers.

The fixtures ``b`` (the backend) and ``fp`` (a :class:`Floats`) reach every
test module through ``pytest_plugins`` in conftest.py. A conformance test
(tests/test_backend_conformance*.py) that takes them runs on every
registered backend that can run here, the core-only backend (the fused ops'
defaults) and the Metal backend on the emulated device (skipped without a
C++ compiler), in every float dtype the backend computes in.
"""
import numpy as np
import pytest
from core_only_backend import CoreOnly
from metal_device import emulated_backend

from seqnn import backends
from seqnn.backends.metal import MetalBackend

BUILDERS = {name: (lambda name=name: backends.get(name)) for name in backends.available()}
BUILDERS.update({"core-only": CoreOnly, "metal-emulator": emulated_backend})
FLOAT_DTYPES = {name: backends.get(name).float_dtypes for name in backends.available()}
FLOAT_DTYPES.update({"core-only": CoreOnly.float_dtypes, "metal-emulator": MetalBackend.float_dtypes})
CASES = [pytest.param((name, dtype), id=f"{name}-{dtype}") for name in BUILDERS for dtype in FLOAT_DTYPES[name]]


@pytest.fixture(params=CASES)
def case(request):
    name, dtype = request.param
    return BUILDERS[name](), dtype


@pytest.fixture
def b(case):
    return case[0]


class Floats:
    """The float dtype a run checks in: inputs exact in it, and tolerances scaled to it.

    ``close(got, want, rtol, atol)`` takes the float64 tolerances; a float32
    run uses ``f32=(rtol, atol)`` instead (about float32's epsilon, 6e-8,
    times the op's error growth), the default being right for ops that round
    a few times.
    """

    def __init__(self, b, dtype):
        self.b, self.dtype = b, dtype

    @property
    def single(self) -> bool:
        return self.dtype == "float32"

    def data(self, shape, seed=0, low=-2.0, high=2.0):
        """Random float64 values that the run's dtype holds exactly."""
        return data(shape, seed, low, high).astype(self.dtype).astype(np.float64)

    def put(self, x):
        return self.b.asarray(x, self.dtype)

    def close(self, got, want, rtol=1e-12, atol=1e-12, f32=(2e-6, 1e-6)):
        if self.single:
            rtol, atol = f32
        np.testing.assert_allclose(host(self.b, got), want, rtol=rtol, atol=atol)


@pytest.fixture
def fp(case):
    return Floats(*case)


def host(b, a):
    return np.array(b.to_numpy(a))


def data(shape, seed=0, low=-2.0, high=2.0, dtype="float64"):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)
