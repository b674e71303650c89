"""When one process of a job fails, the others stop too, and say which one failed.

MPI collectives wait for every process; a process that stops alone would
leave the others waiting forever. Three mechanisms close that gap:

* **notices**: a process whose ``fit`` raises sends a short message to every
  other one (:meth:`FailureNotices.send`); they check for it while they wait
  in a collective (:meth:`FailureNotices.check`) and raise
  :class:`~seqnn.distribute.PeerFailedError` naming the rank that stopped;
* **guards** (:class:`JobGuards`): an exception that nothing catches, or an
  exit after a failure, ends the whole job through ``MPI_Abort`` after a
  line naming this rank, instead of leaving the others waiting (the same
  policy as ``python -m mpi4py``);
* **timeouts** on every wait (:mod:`seqnn.distribute.collectives`), for a
  process that is stuck or went on without the others.

A process killed outright (SIGKILL, the out-of-memory killer) can say
nothing; the MPI launcher then ends the job at once and reports that
process's PID and signal.
"""
from __future__ import annotations

import atexit
import sys

from .errors import PeerFailedError

FAILURE_TAG = 27183  # any tag below MPI's guaranteed upper bound (32767), on seqnn's private communicator


class FailureNotices:
    """Point-to-point messages "rank r stopped: why" on the job's private communicator."""

    def __init__(self, comm, mpi, rank: int, size: int):
        self.comm, self.mpi, self.rank, self.size = comm, mpi, rank, size
        self._sent: list = []
        self._status = mpi.Status()

    def send(self, reason: str) -> None:
        """Tell every other process that this one stops, and why (does not wait for delivery)."""
        for dest in range(self.size):
            if dest != self.rank:
                self._sent.append(self.comm.isend(reason, dest=dest, tag=FAILURE_TAG))

    def check(self) -> None:
        """Raise :class:`PeerFailedError` if another process has sent a notice."""
        if self.comm.Iprobe(source=self.mpi.ANY_SOURCE, tag=FAILURE_TAG, status=self._status):
            source = self._status.Get_source()
            reason = self.comm.recv(source=source, tag=FAILURE_TAG)
            raise PeerFailedError(f"rank {self.rank} of {self.size} stops because rank {source} stopped: {reason}",
                                  source)


class JobGuards:
    """Abort the whole job, naming this rank, on an uncaught exception or an exit after a failure."""

    def __init__(self, world):
        self.world = world
        self.failure: str | None = None
        self._aborting = False
        self._previous_hook = sys.excepthook
        sys.excepthook = self._excepthook
        atexit.register(self._at_exit)

    def failed(self, reason: str) -> None:
        """Record that this process's training failed: if the process then exits, the job ends with it."""
        if self.failure is None:
            self.failure = reason

    def _say(self, reason: str) -> bool:
        """Print the line naming this rank (once; False when it was said already)."""
        if self._aborting:  # MPI_Abort may return while the launcher tears the job down: say it once
            return False
        self._aborting = True
        sys.stdout.flush()
        sys.stderr.write(f"seqnn.distribute: rank {self.world.rank} of {self.world.size} ends the job: {reason}\n")
        sys.stderr.flush()
        return True

    def _abort(self, reason: str) -> None:
        if self._say(reason):
            self.world.comm.Abort(1)

    def _excepthook(self, kind, value, traceback) -> None:
        # The line naming the rank goes out first: another rank's abort may end this process at any
        # moment, and a cut-off traceback is worth less than the one line that says what happened.
        said = self._say(f"uncaught {kind.__name__}: {value}"[:500] + " (traceback below)")
        self._previous_hook(kind, value, traceback)
        sys.stderr.flush()
        if said:
            self.world.comm.Abort(1)

    def _at_exit(self) -> None:
        if self.failure is not None:
            self._abort(f"the process is exiting after its training failed ({self.failure})")
