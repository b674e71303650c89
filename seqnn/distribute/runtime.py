"""The MPI job this process belongs to, found without importing mpi4py unless there is one.

A process counts as part of an MPI job when an MPI launcher started it: the
launchers of MPICH (hydra), Intel MPI, Open MPI and Slurm's PMI/PMIx set
``PMI_RANK``, ``PMIX_RANK`` or ``OMPI_COMM_WORLD_RANK``. Then, and only then,
``mpi4py`` is imported (which initialises MPI). A script run without a
launcher is one process, and never loads MPI.

MPI is initialised once per process, so the job (:class:`World`) is found once
and kept: the one piece of process-wide state here, mirroring MPI's own.
"""
from __future__ import annotations

import importlib.util
import os
from types import ModuleType

from .._optional import DISTRIBUTION
from .errors import MPIUnavailableError

_RANK_VARIABLES = ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK")
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")
INSTALL = (f"pip install mpi4py mpich (or seqnn's 'mpi' extra: pip install \"{DISTRIBUTION}[mpi]\", "
           "or \".[mpi]\" in a clone)")


def launched() -> bool:
    """Whether an MPI launcher (``mpiexec``, ``mpirun``, ``srun``) started this process."""
    return any(name in os.environ for name in _RANK_VARIABLES)


def launcher_size() -> int | None:
    """How many processes the launcher says the job has, where it says it."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return None


def require_mpi4py(feature: str) -> None:
    """Raise :class:`MPIUnavailableError` unless mpi4py is installed (without importing it)."""
    if importlib.util.find_spec("mpi4py") is None:
        raise MPIUnavailableError(f"{feature} needs MPI, through mpi4py, which is not installed: {INSTALL}; then "
                                  "start the script with mpiexec -n N python script.py")


def load_mpi(feature: str) -> ModuleType:
    """``mpi4py.MPI``, initialised; :class:`MPIUnavailableError` naming what to install when it cannot load."""
    require_mpi4py(feature)
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as error:  # mpi4py without an MPI library it can load
        raise MPIUnavailableError(f"{feature}: mpi4py is installed but cannot load an MPI library ({error}); "
                                  f"{INSTALL}") from None
    return MPI


class World:
    """This process's place in its job: ``rank`` of ``size``; ``comm`` is MPI's world (None for one process)."""

    def __init__(self, rank: int = 0, size: int = 1, comm=None, mpi: ModuleType | None = None):
        self.rank, self.size, self.comm, self.mpi = rank, size, comm, mpi
        self._private = None
        self.guards = None

    def private_comm(self):
        """A duplicate of the world communicator for seqnn's own traffic, apart from any the user sends."""
        if self._private is None:
            self._private = self.comm.Dup()
        return self._private


_world: World | None = None


def world(feature: str = "seqnn.distribute") -> World:
    """The job this process is in (one process when no MPI launcher started it)."""
    global _world
    if _world is not None:
        return _world
    if not launched():
        _world = World()
        return _world
    mpi = load_mpi(feature)
    comm = mpi.COMM_WORLD
    expected = launcher_size()
    if expected is not None and expected != comm.size:
        raise MPIUnavailableError(f"{feature}: the launcher started {expected} processes but MPI sees a job of "
                                  f"{comm.size}: mpiexec and the MPI library mpi4py loaded are from different MPI "
                                  f"installations; use the mpiexec of the library mpi4py uses ({INSTALL})")
    _world = World(comm.rank, comm.size, comm, mpi)
    return _world


def current_world() -> World | None:
    """The job found so far in this process (by a ``DataParallel`` or :func:`world`), or None if none was looked for."""
    return _world
