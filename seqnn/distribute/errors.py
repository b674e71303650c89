"""What goes wrong in a data-parallel job, as exceptions.

* :class:`MPIUnavailableError` (a :class:`~seqnn.errors.BackendUnavailableError`,
  so a ``ValueError``): MPI was asked for where it cannot run; the message
  says what to install.
* :class:`ProcessMismatchError` (a ``ValueError``): the processes of one job
  do not hold the same model, or their data loaders disagree; a user mistake.
* :class:`DistributedError` (a ``RuntimeError``) and its kinds: another
  process stopped (:class:`PeerFailedError`) or did not arrive at a
  collective in time (:class:`CollectiveTimeoutError`). Every message names
  the rank it comes from and, where known, the rank at fault.
"""
from __future__ import annotations

from ..errors import BackendUnavailableError


class MPIUnavailableError(BackendUnavailableError):
    """mpi4py or an MPI library is missing, or the job's launcher and library do not match."""


class ProcessMismatchError(ValueError):
    """The processes of one job disagree on something that must be the same on every one."""


class DistributedError(RuntimeError):
    """A data-parallel job cannot go on: a process stopped, or the processes fell out of step."""


class PeerFailedError(DistributedError):
    """Another process of the job stopped with an error (it said so before leaving).

    Attributes:
        rank: the rank that stopped.
    """

    def __init__(self, message: str, rank: int):
        super().__init__(message)
        self.rank = rank


class CollectiveTimeoutError(DistributedError):
    """A collective operation waited longer than ``DataParallel(timeout=...)`` for the other processes."""
