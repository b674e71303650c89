"""The numpy/scipy backend: the reference implementation of the backend contract.

Each op family lives in a module of its own and is mixed in here. Arrays are
plain C-contiguous ``numpy.ndarray``; ops work in place through ``out=``
wherever they can, so a training step allocates almost nothing.
"""
from ..base import Backend
from .activations import ActivationOps
from .arrays import ArrayOps
from .conv import ConvOps
from .linalg import LinalgOps
from .losses import LossOps
from .normalization import NormalizationOps
from .optimizers import OptimizerOps
from .pooling import PoolingOps
from .random import RandomOps
from .resampling import ResamplingOps
from .thread_tuning import ThreadTuningOps


class NumpyBackend(ArrayOps, LinalgOps, ActivationOps, LossOps, OptimizerOps, RandomOps, ConvOps, PoolingOps,
                   NormalizationOps, ResamplingOps, ThreadTuningOps, Backend):
    """Runs on any CPU through numpy's BLAS (OpenBLAS, Accelerate or MKL)."""

    name = "numpy"

    def __repr__(self) -> str:
        return "NumpyBackend()"
