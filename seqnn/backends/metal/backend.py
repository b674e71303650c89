"""MetalBackend: the backend contract on Apple GPUs through metalcompute.

Arrays are numpy arrays whose memory is a Metal buffer (see ``arrays``).
Every core op has a kernel, in the module of its family (``elementwise``,
``select``, ``reduce``, ``linalg``, ``activations``, ``losses``, ``random``,
``conv``, ``pooling``, ``normalization``), and runs it when its operands
allow; operands no kernel takes run the numpy backend's code on the same
memory (``fallback``). Of the fused ops, the optimizer updates have kernels
(``optimizers``); the others (activations but GELU, bias add and gradient,
mean, clipping) take their defaults from ``seqnn.backends.fused``, written
in the core ops, so they run on those kernels.
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
