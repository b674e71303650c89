"""MetalBackend: the backend contract on Apple GPUs through metalcompute.

Arrays are numpy arrays whose memory is a Metal buffer (see ``arrays``), so
the backend is the numpy backend with kernels substituted op by op: the ops
that have a kernel (``elementwise``, ``select``, ``reduce``, ``linalg``,
``activations``, ``losses``, ``random``) run it when their operands allow,
and every other core op runs the numpy backend's code on the same memory
(``fallback``). The fused ops (activations but GELU, bias add and gradient,
mean, optimizer updates, clipping) take their defaults from
``seqnn.backends.fused``, written in the core ops, so they run on the
kernels that exist.
"""
from __future__ import annotations

from ..base import Backend
from ..numpy_backend import NumpyBackend
from . import launch
from .activations import ActivationOps
from .arrays import ArrayOps
from .conv import ConvOps
from .elementwise import ElementwiseOps
from .fallback import NumpyFallback
from .linalg import LinalgOps
from .losses import LossOps
from .normalization import NormalizationOps
from .optimizers import OptimizerOps
from .pooling import PoolingOps
from .random import RandomOps
from .reduce import ReduceOps
from .select import SelectOps


class MetalBackend(ArrayOps, ElementwiseOps, SelectOps, ReduceOps, LinalgOps, ActivationOps, LossOps,
                   OptimizerOps, RandomOps, ConvOps, PoolingOps, NormalizationOps, NumpyFallback, Backend):
    """Runs on an Apple GPU (or on the test suite's emulator, given its ``launch.Device``).

    Args:
        device: the ``launch.Device`` to run on; None takes the process's
            device on the installed metalcompute.
    """

    name = "metal"

    def __init__(self, device: launch.Device | None = None):
        self._device = launch.default_device() if device is None else device
        self._numpy = NumpyBackend()

    @property
    def device(self) -> launch.Device:
        return self._device

    def __repr__(self) -> str:
        return f"MetalBackend({self._device!r})"
