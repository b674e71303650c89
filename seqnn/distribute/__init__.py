"""Data-parallel training over MPI: ``mpiexec -n N python train.py`` trains the model one process would.

::

    import seqnn as sn

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  distribution=sn.distribute.DataParallel())
    model.fit(x_train, y_train, batch_size=128, epochs=10)   # the global batch: 128 rows over N processes
    if sn.distribute.is_chief():
        print("done")

:class:`DataParallel` says how (see its module for the semantics);
:func:`rank`, :func:`size`, :func:`is_chief` and :func:`barrier` serve user
code. Importing this package never imports mpi4py: MPI is loaded when a
``DataParallel`` is made, or one of these functions is called, in a process
that an MPI launcher started.
"""
from __future__ import annotations

from .base import LOCAL, Distribution, get
from .errors import (CollectiveTimeoutError, DistributedError, MPIUnavailableError, PeerFailedError,
                     ProcessMismatchError)


def rank() -> int:
    """This process's rank in its MPI job: 0 .. size() − 1 (0 for a process no MPI launcher started)."""
    from . import runtime

    return runtime.world().rank


def size() -> int:
    """The number of processes in this MPI job (1 for a process no MPI launcher started)."""
    from . import runtime

    return runtime.world().size


def is_chief() -> bool:
    """Whether this is rank 0, the process that writes files and prints: ``if is_chief(): print(...)``."""
    return rank() == 0


def barrier(timeout: float | None = 600.0) -> None:
    """Wait until every process of the job has come here (e.g. before reading a file the chief wrote).

    Raises :class:`CollectiveTimeoutError` after ``timeout`` seconds (None: never).
    """
    if size() > 1:
        from .data_parallel import DataParallel

        DataParallel(timeout=timeout).barrier("seqnn.distribute.barrier()")


def __getattr__(name: str):
    # DataParallel's module is plain Python (mpi4py loads when one is made), but seqnn's own import
    # (models -> base) should not pay for it.
    if name == "DataParallel":
        from .data_parallel import DataParallel

        return DataParallel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), "DataParallel"])


__all__ = ["DataParallel", "Distribution", "rank", "size", "is_chief", "barrier", "DistributedError",
           "PeerFailedError", "CollectiveTimeoutError", "ProcessMismatchError", "MPIUnavailableError"]
